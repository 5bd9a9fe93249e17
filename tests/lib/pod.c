// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "pod.h"

#define CNI_BIN "/usr/lib/cni"

int pw_test_node_enter(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS))
		return -errno;
	/* Keep our /run/netns mounts from propagating to the real host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (system("ip link set lo up"))
		return -EIO;
	return 0;
}

/* Runs a CNI plugin with env + stdin; returns its stdout (malloc'd) or NULL. */
static char *cni_exec(const char *plugin, const char *cmd, const char *netns, const char *cid,
		      const char *conf, int *status)
{
	int in[2], out[2];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	pid_t pid;

	if (pipe(in) || pipe(out))
		return NULL;
	pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		char path[256];

		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		setenv("CNI_COMMAND", cmd, 1);
		setenv("CNI_CONTAINERID", cid, 1);
		setenv("CNI_NETNS", netns, 1);
		setenv("CNI_IFNAME", "eth0", 1);
		setenv("CNI_PATH", CNI_BIN, 1);
		snprintf(path, sizeof(path), "%s/%s", CNI_BIN, plugin);
		execl(path, plugin, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (write(in[1], conf, strlen(conf)) < 0)
		perror("write to plugin");
	close(in[1]);
	for (;;) {
		ssize_t n;

		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
		}
		n = read(out[0], buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(out[0]);
	if (buf)
		buf[len] = '\0';
	waitpid(pid, status, 0);
	return buf;
}

static void ptp_conf(char *buf, size_t len, const char *subnet, const char *ipam_dir)
{
	snprintf(buf, len,
		 "{\"cniVersion\":\"1.0.0\",\"name\":\"pwtest\",\"type\":\"ptp\",\"ipMasq\":false,"
		 "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"%s\",\"dataDir\":\"%s\"}}",
		 subnet, ipam_dir);
}

int pw_test_pod_add(struct pw_test_pod *pod, const char *name, const char *subnet,
		    const char *ipam_dir)
{
	char cmd[128], netns[128], conf[512];
	json_t *res, *ifs, *ips, *x;
	const char *addr;
	char *out;
	int status = 0;
	size_t i;

	memset(pod, 0, sizeof(*pod));
	snprintf(pod->name, sizeof(pod->name), "%s", name);
	snprintf(cmd, sizeof(cmd), "ip netns add %s && ip -n %s link set lo up", name, name);
	if (system(cmd))
		return -EIO;
	snprintf(netns, sizeof(netns), "/run/netns/%s", name);
	ptp_conf(conf, sizeof(conf), subnet, ipam_dir);
	out = cni_exec("ptp", "ADD", netns, name, conf, &status);
	if (!out || status) {
		fprintf(stderr, "# ptp ADD failed (%d): %s\n", status, out ? out : "");
		free(out);
		return -EIO;
	}
	res = json_loads(out, 0, NULL);
	free(out);
	if (!res)
		return -EBADMSG;
	/* The host-side veth is the interface without a sandbox. */
	ifs = json_object_get(res, "interfaces");
	json_array_foreach(ifs, i, x) {
		if (!json_object_get(x, "sandbox")) {
			snprintf(pod->host_ifname, sizeof(pod->host_ifname), "%s",
				 json_string_value(json_object_get(x, "name")) ?: "");
			break;
		}
	}
	ips = json_object_get(res, "ips");
	addr = json_string_value(json_object_get(json_array_get(ips, 0), "address"));
	if (addr) {
		snprintf(pod->ip, sizeof(pod->ip), "%s", addr);
		*strchrnul(pod->ip, '/') = '\0';
	}
	json_decref(res);
	pod->host_ifindex = if_nametoindex(pod->host_ifname);
	return pod->host_ifindex > 0 && pod->ip[0] ? 0 : -ENOENT;
}

void pw_test_pod_del(struct pw_test_pod *pod, const char *subnet, const char *ipam_dir)
{
	char cmd[128], netns[128], conf[512];
	int i, status;

	for (i = 0; i < pod->nservers; i++) {
		/* The server's process group: it and its connection handlers. */
		kill(-pod->servers[i], SIGKILL);
		waitpid(pod->servers[i], NULL, 0);
	}
	pod->nservers = 0;
	snprintf(netns, sizeof(netns), "/run/netns/%s", pod->name);
	ptp_conf(conf, sizeof(conf), subnet, ipam_dir);
	free(cni_exec("ptp", "DEL", netns, pod->name, conf, &status));
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", pod->name);
	if (system(cmd))
		return;
}

static int enter_pod(const struct pw_test_pod *pod)
{
	char netns[128];
	int fd, err;

	snprintf(netns, sizeof(netns), "/run/netns/%s", pod->name);
	fd = open(netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return err;
}

static void serve_tcp(int ls)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		char buf[512];
		ssize_t n;

		if (c < 0)
			continue;
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, n) != n)
					break;
			_exit(0);
		}
		close(c);
	}
}

static void serve_udp(int s)
{
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		char buf[512];
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n > 0)
			sendto(s, buf, n, 0, (struct sockaddr *)&from, fl);
	}
}

int pw_test_pod_serve(struct pw_test_pod *pod, int proto, uint16_t port)
{
	int ready[2];
	char ok = 0;
	pid_t pid;

	if (pod->nservers >= (int)(sizeof(pod->servers) / sizeof(pod->servers[0])))
		return -ENOSPC;
	if (pipe(ready))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		int one = 1, s;

		close(ready[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (enter_pod(pod))
			_exit(1);
		s = socket(AF_INET, proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)))
			_exit(1);
		if (proto == IPPROTO_TCP && listen(s, 64))
			_exit(1);
		ok = 1;
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		close(ready[1]);
		if (proto == IPPROTO_TCP)
			serve_tcp(s);
		serve_udp(s);
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &ok, 1) != 1)
		ok = 0;
	close(ready[0]);
	pod->servers[pod->nservers++] = pid;
	return ok ? 0 : -EIO;
}

static bool wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, timeout_ms) == 1;
}

/* In the child: one exchange on an open socket. */
static bool exchange(int s, int timeout_ms)
{
	char buf[16];

	if (send(s, "ping\n", 5, MSG_NOSIGNAL) != 5)
		return false;
	if (!wait_readable(s, timeout_ms))
		return false;
	return recv(s, buf, sizeof(buf), 0) == 5 && memcmp(buf, "ping\n", 5) == 0;
}

static int connect_timeout(int s, const struct sockaddr_in *a, int timeout_ms)
{
	struct pollfd p = {.fd = s, .events = POLLOUT};
	socklen_t l = sizeof(int);
	int err = 0;

	fcntl(s, F_SETFL, O_NONBLOCK);
	if (connect(s, (const struct sockaddr *)a, sizeof(*a)) && errno != EINPROGRESS)
		return -errno;
	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l);
	fcntl(s, F_SETFL, 0);
	return -err;
}

bool pw_test_probe(const struct pw_test_pod *from, int proto, const char *ip, uint16_t port,
		   int timeout_ms)
{
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		int s;

		if (enter_pod(from) || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
			_exit(2);
		s = socket(AF_INET, proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
		if (s < 0)
			_exit(2);
		if (proto == IPPROTO_TCP) {
			if (connect_timeout(s, &a, timeout_ms))
				_exit(1);
		} else if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
			_exit(1);
		}
		_exit(exchange(s, timeout_ms) ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool pw_test_ping(const struct pw_test_pod *from, const char *ip)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip netns exec %s ping -c1 -W1 %s >/dev/null 2>&1", from->name,
		 ip);
	return system(cmd) == 0;
}

int pw_test_conn_open(struct pw_test_conn *c, const struct pw_test_pod *from, const char *ip,
		      uint16_t port, int timeout_ms)
{
	int sp[2];
	char r = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		char cmd;
		int s;

		close(sp[0]);
		if (enter_pod(from) || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
			_exit(2);
		s = socket(AF_INET, SOCK_STREAM, 0);
		r = connect_timeout(s, &a, timeout_ms) == 0;
		if (write(sp[1], &r, 1) != 1 || !r)
			_exit(1);
		/* Each byte from the parent asks for one exchange; answer 1 or 0. */
		while (read(sp[1], &cmd, 1) == 1) {
			r = exchange(s, cmd * 100);
			if (write(sp[1], &r, 1) != 1)
				break;
		}
		_exit(0);
	}
	close(sp[1]);
	c->ctl = sp[0];
	if (read(c->ctl, &r, 1) != 1 || !r) {
		pw_test_conn_close(c);
		return -ECONNREFUSED;
	}
	return 0;
}

bool pw_test_conn_echo(struct pw_test_conn *c, int timeout_ms)
{
	char cmd = timeout_ms / 100 ?: 1, r = 0;

	if (write(c->ctl, &cmd, 1) != 1)
		return false;
	if (!wait_readable(c->ctl, timeout_ms + 1000))
		return false;
	return read(c->ctl, &r, 1) == 1 && r;
}

void pw_test_conn_close(struct pw_test_conn *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
	if (c->ctl >= 0)
		close(c->ctl);
	c->pid = -1;
	c->ctl = -1;
}
