/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test pods: network namespaces wired by the real reference CNI plugins
 * (ptp + host-local), and real sockets inside them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pw_test_pod {
	char name[32];	      /* also the netns name under /run/netns */
	char ip[64];	      /* IPv4 address the CNI gave, without prefix */
	char host_ifname[32]; /* host-side veth */
	int host_ifindex;
	pid_t servers[8];
	int nservers;
};

/*
 * Enters a private network and mount namespace for the whole test: the
 * "node". Everything created later (veths, pod namespaces) dies with it.
 * Returns 0 or -errno.
 */
int pw_test_node_enter(void);

/**
 * pw_test_pod_add() - create netns `name` and run the real ptp plugin's ADD
 * on it, with host-local IPAM in subnet (e.g. "10.99.60.0/24") keeping its
 * state in ipam_dir. Returns 0 or -errno.
 */
int pw_test_pod_add(struct pw_test_pod *pod, const char *name, const char *subnet,
		    const char *ipam_dir);
/** Runs CNI DEL and removes the namespace; kills the pod's servers. */
void pw_test_pod_del(struct pw_test_pod *pod, const char *subnet, const char *ipam_dir);

/** Starts an echo server in the pod: TCP (echoes) or UDP (answers each datagram). */
int pw_test_pod_serve(struct pw_test_pod *pod, int proto, uint16_t port);

/**
 * pw_test_probe() - from inside pod `from`, a TCP connect + echo exchange or
 * a UDP request/response to ip:port, within timeout_ms. true if answered.
 */
bool pw_test_probe(const struct pw_test_pod *from, int proto, const char *ip, uint16_t port,
		   int timeout_ms);

/** ping -c1 from the pod; true if answered. */
bool pw_test_ping(const struct pw_test_pod *from, const char *ip);

/*
 * A TCP connection held open from inside pod `from` (a child process keeps
 * it): pw_test_conn_echo() sends one line and waits for its echo.
 */
struct pw_test_conn {
	pid_t pid;
	int ctl; /* socketpair to the child */
};
int pw_test_conn_open(struct pw_test_conn *c, const struct pw_test_pod *from, const char *ip,
		      uint16_t port, int timeout_ms);
bool pw_test_conn_echo(struct pw_test_conn *c, int timeout_ms);
void pw_test_conn_close(struct pw_test_conn *c);
