// SPDX-License-Identifier: GPL-2.0-only
/* nDPI 4.2 classification: one detection module per inspector (not thread-safe). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

#include "flow.h"

#define DPI_MAX_PKTS 32 /* packets per flow handed to nDPI before giving up */

struct dpi {
	struct ndpi_detection_module_struct *mod;
};

int dpi_new(struct dpi **out)
{
	NDPI_PROTOCOL_BITMASK all;
	struct dpi *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (!d->mod) {
		free(d);
		return -ENOMEM;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(d->mod, &all);
	ndpi_finalize_initialization(d->mod);
	*out = d;
	return 0;
}

void dpi_free(struct dpi **dp)
{
	if (!*dp)
		return;
	ndpi_exit_detection_module((*dp)->mod);
	free(*dp);
	*dp = NULL;
}

static void set_name(struct dpi *d, struct flow *f, ndpi_protocol p)
{
	char buf[64];

	if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN)
		return;
	snprintf(f->ndpi_name, sizeof(f->ndpi_name), "%s",
		 ndpi_protocol2name(d->mod, p, buf, sizeof(buf)));
}

void dpi_packet(struct dpi *d, struct flow *f, const uint8_t *l3, size_t len, uint64_t usec)
{
	ndpi_protocol p;

	if (!d || f->ndpi_done)
		return;
	if (!f->ndpi_flow) {
		f->ndpi_flow = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
		if (!f->ndpi_flow) {
			f->ndpi_done = true;
			return;
		}
	}
	p = ndpi_detection_process_packet(d->mod, f->ndpi_flow, l3, len > 65535 ? 65535 : len,
					  usec / 1000);
	if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
		set_name(d, f, p);
		if (!ndpi_extra_dissection_possible(d->mod, f->ndpi_flow))
			f->ndpi_done = true;
	}
	if (++f->ndpi_pkts >= DPI_MAX_PKTS && !f->ndpi_done)
		dpi_flow_end(d, f);
}

void dpi_flow_end(struct dpi *d, struct flow *f)
{
	if (!d || !f->ndpi_flow)
		return;
	if (!f->ndpi_done) {
		uint8_t guessed = 0;
		ndpi_protocol p = ndpi_detection_giveup(d->mod, f->ndpi_flow, 1, &guessed);

		if (!f->ndpi_name[0])
			set_name(d, f, p);
	}
	f->ndpi_done = true;
	ndpi_free_flow(f->ndpi_flow);
	f->ndpi_flow = NULL;
}
