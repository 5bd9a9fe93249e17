// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the CNI plugin's stdin parser (network configuration,
 * prevResult, cni.dev/valid-attachments) and its CNI_ARGS parser, on the
 * same bytes. Any input must give either a configuration or an error with a
 * CNI code and a message; never a crash, a leak or an error without a code.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_cni_conf *conf = NULL;
	struct pw_cni_err e = {};
	struct pw_cni_pod pod = {};
	char alias[PW_CNI_IFALIAS_MAX];
	char *args;
	int err;

	err = pw_cni_conf_parse((const char *)data, size, &conf, &e);
	assert((err == 0) == (conf != NULL));
	assert(err == 0 || (e.code > 0 && e.msg[0]));
	if (conf) {
		assert(conf->cni_version && conf->name && conf->type && conf->socket);
		pw_cni_conf_free(&conf);
		assert(!conf);
	}

	args = strndup((const char *)data, size);
	if (!args)
		return 0;
	memset(&e, 0, sizeof(e));
	err = pw_cni_args_parse(args, &pod, &e);
	assert(err == 0 || e.code == PW_CNI_E_ENV || err == -ENOMEM);
	if (!err && pod.namespace && pod.name) {
		pw_cni_ifalias(alias, sizeof(alias), pod.namespace, pod.name);
		assert(strlen(alias) < PW_CNI_IFALIAS_MAX);
	}
	pw_cni_pod_clear(&pod);
	free(args);
	return 0;
}
