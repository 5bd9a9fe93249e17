// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one event loop: signals (signalfd), a 1 s tick (timerfd), the manifest
 * directory (inotify + a debounce timerfd), the API socket and its clients,
 * and the datapath's event ring buffer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cleanup.h"
#include "daemon.h"
#include "log.h"

static struct pw_source sig_src, tick_src, ino_src, debounce_src, rb_src;

int pw_loop_add(struct pw_daemon *d, int fd, uint32_t events, struct pw_source *s)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return pr_err_r(-errno, "epoll add fd %d", fd);
	return 0;
}

int pw_loop_mod(struct pw_daemon *d, int fd, uint32_t events, struct pw_source *s)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return pr_err_r(-errno, "epoll mod fd %d", fd);
	return 0;
}

void pw_loop_del(struct pw_daemon *d, int fd)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void on_signal(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)s;
	(void)events;
	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			pr_info("SIGHUP: reloading manifests");
			if (d->o.manifests)
				pw_source_reload(d);
			continue;
		}
		pr_info("%s: stopping (pins and attachments stay)", strsignal((int)si.ssi_signo));
		d->stop = true;
	}
}

static void on_tick(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	uint64_t n;

	(void)s;
	(void)events;
	/* Run after the batch: closing a client here could free one with an event still queued. */
	if (read(d->tickfd, &n, sizeof(n)) > 0)
		d->tick_pending = true;
}

static void on_inotify(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	(void)s;
	(void)events;
	pw_source_on_inotify(d);
}

static void on_debounce(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	uint64_t n;

	(void)s;
	(void)events;
	if (read(d->debouncefd, &n, sizeof(n)) < 0)
		return;
	pw_source_reload(d);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct pw_daemon *d = ctx;
	const struct pw_event *e = data;

	if (len < sizeof(*e)) {
		d->events_other++;
		return 0;
	}
	if (e->type == PW_EVENT_VERDICT)
		d->events_verdict++;
	else if (e->type == PW_EVENT_DROP)
		d->events_drop++;
	else
		d->events_other++;
	pr_debug("event: %s ep %u ifindex %u %s %s proto %u peer identity %u cookie %u",
		 e->type == PW_EVENT_VERDICT ? "verdict" : "drop", e->ep_id, e->ifindex,
		 e->dir == PW_DIR_INGRESS ? "ingress" : "egress", pw_reason_name(e->reason),
		 e->proto, e->peer_identity, e->cookie);
	if (e->type == PW_EVENT_VERDICT || e->type == PW_EVENT_DROP)
		pw_flowlog_event(d, e);
	return 0;
}

static void on_ringbuf(struct pw_daemon *d, struct pw_source *s, uint32_t events)
{
	(void)s;
	(void)events;
	/* Bounded: the datapath rate-limits what it writes, and consume() drains what is there. */
	ring_buffer__consume(d->rb);
}

int pw_loop_setup(struct pw_daemon *d)
{
	struct itimerspec its = { .it_interval.tv_sec = 1, .it_value.tv_sec = 1 };
	sigset_t mask;
	int err;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return pr_err_r(-errno, "epoll_create1");
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return pr_err_r(-errno, "sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return pr_err_r(-errno, "signalfd");
	sig_src.fn = on_signal;
	err = pw_loop_add(d, d->sigfd, EPOLLIN, &sig_src);
	if (err)
		return err;
	d->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->tickfd < 0 || timerfd_settime(d->tickfd, 0, &its, NULL) < 0)
		return pr_err_r(-errno, "timerfd");
	tick_src.fn = on_tick;
	err = pw_loop_add(d, d->tickfd, EPOLLIN, &tick_src);
	if (err)
		return err;
	if (d->inofd >= 0) {
		ino_src.fn = on_inotify;
		debounce_src.fn = on_debounce;
		err = pw_loop_add(d, d->inofd, EPOLLIN, &ino_src) ?:
			      pw_loop_add(d, d->debouncefd, EPOLLIN, &debounce_src);
		if (err)
			return err;
	}
	d->rb = ring_buffer__new(pw_datapath_map_fd(d->dp, PW_MAP_ID_EVENTS), on_record, d, NULL);
	if (!d->rb)
		return pr_err_r(-errno, "open the event ring buffer");
	rb_src.fn = on_ringbuf;
	return pw_loop_add(d, ring_buffer__epoll_fd(d->rb), EPOLLIN, &rb_src);
}

int pw_loop_run(struct pw_daemon *d)
{
	struct epoll_event evs[32];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_r(-errno, "epoll_wait");
		}
		for (int i = 0; i < n && !d->stop; i++) {
			struct pw_source *s = evs[i].data.ptr;

			s->fn(d, s, evs[i].events);
		}
		if (d->tick_pending) {
			d->tick_pending = false;
			pw_api_tick(d);
			pw_metrics_tick(d);
			pw_observe_sync(d);
			pw_registry_reap(d);
			pw_daemon_dos_tick(d);
			pw_daemon_ips_tick(d);
		}
	}
	return 0;
}
