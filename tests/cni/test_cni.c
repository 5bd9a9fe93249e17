// SPDX-License-Identifier: GPL-2.0-only
/*
 * The podwall CNI plugin, driven exactly as a runtime drives it: the real
 * binary, CNI_* environment and a configuration on stdin, chained after the
 * real ptp/bridge plugins (host-local IPAM in 10.99.241-242.0/24) in throwaway
 * network namespaces. Where the daemon must answer, a minimal API responder
 * in this process records each request and answers as configured.
 *
 * Needs root (netns, veth). PW_CNI_PLUGIN is the plugin; CNI plugins are
 * looked up in PW_CNI_PATH (default /usr/lib/cni).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <net/if.h>

#include <jansson.h>

#include "cleanup.h"
#include "test.h"

#define NET_PTP	   "10.99.241.0/24"
#define NET_BRIDGE "10.99.242.0/24"
#define BRIDGE	   "pwcnitest0"
#define ARGS_OK	   "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;K8S_POD_UID=0f1e2d3c-aaaa-bbbb-cccc-000000000001"

static const char *plugin;
static const char *cni_path = "/usr/lib/cni";
static char tmpdir[64];
static char sock_path[96];   /* where the responder listens */
static char down_path[96];   /* where nothing listens */
static char queue_dir[128];

/* ---- running a plugin binary like a runtime ---------------------------- */

struct run {
	int status; /* exit code, or 128+signal */
	char *out;
	char *err;
	json_t *json; /* stdout parsed, when it is JSON */
	double ms;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static char *read_fd_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t n;

	while (buf) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Child-side hook: run the plugin where /sys/fs/bpf is no bpffs. */
static bool hide_bpffs;

/* Runs @bin with exactly @env (NULL-terminated) and @in on stdin. */
static int run_bin(const char *bin, char *const env[], const char *in, struct run *r)
{
	int out[2], errfd, infd;
	double t0 = now_ms();
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	infd = memfd_create("stdin", MFD_CLOEXEC);
	errfd = memfd_create("stderr", MFD_CLOEXEC);
	if (infd < 0 || errfd < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if (in && write(infd, in, strlen(in)) != (ssize_t)strlen(in))
		return -EIO;
	lseek(infd, 0, SEEK_SET);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (hide_bpffs && (unshare(CLONE_NEWNS) < 0 ||
				   mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
				   mount("tmpfs", "/sys/fs/bpf", "tmpfs", 0, NULL) < 0))
			_exit(126);
		dup2(infd, 0);
		dup2(out[1], 1);
		dup2(errfd, 2);
		execve(bin, (char *[]){ (char *)bin, NULL }, env);
		_exit(127);
	}
	close(out[1]);
	r->out = read_fd_all(out[0]);
	close(out[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->ms = now_ms() - t0;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(errfd, 0, SEEK_SET);
	r->err = read_fd_all(errfd);
	close(errfd);
	close(infd);
	if (r->out && *r->out)
		r->json = json_loads(r->out, 0, NULL);
	return 0;
}

/* A NULL-terminated environment from "K=V" strings; NULL entries are skipped. */
#define ENV(...) ((char *const[]){ "PATH=/usr/sbin:/usr/bin:/sbin:/bin", __VA_ARGS__, NULL })

static int run_plugin(char *const env[], const char *in, struct run *r)
{
	return run_bin(plugin, env, in, r);
}

/* Checks a CNI error on stdout: exit 1, the spec's object, @code, @msg_has in msg. */
static bool expect_error(struct run *r, int code, const char *msg_has, const char *what)
{
	json_t *j = r->json;
	bool ok = true;

	ok &= ASSERT_EQ(r->status, 1, "exit status");
	ok &= ASSERT_TRUE(json_is_object(j), "stdout is a JSON error object");
	if (ok) {
		ok &= ASSERT_TRUE(json_is_string(json_object_get(j, "cniVersion")),
				  "error has cniVersion");
		ok &= ASSERT_EQ(json_integer_value(json_object_get(j, "code")), code, "error code");
		ok &= ASSERT_HAS(json_string_value(json_object_get(j, "msg")), msg_has, "error msg");
	}
	if (!ok)
		pw_test_diag("in %s: stdout: %s stderr: %s", what, r->out ?: "", r->err ?: "");
	return ok;
}

/* ---- throwaway pods through the real main plugins ----------------------- */

struct pod {
	char netns[48];
	char nspath[96];
	char cid[64];
	const char *kind; /* "ptp" or "bridge" */
	char main_conf[512];
	json_t *prev;	       /* the main plugin's result */
	char host_ifname[IF_NAMESIZE + 1];
	bool up;
};

#define MAX_PODS 16
static struct pod *pods[MAX_PODS];
static int pod_seq;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void main_plugin(struct pod *p, const char *cmd, struct run *r)
{
	char bin[256], ccmd[32], cid[96], ns[128], path[300];

	snprintf(bin, sizeof(bin), "%s/%s", cni_path, p->kind);
	snprintf(ccmd, sizeof(ccmd), "CNI_COMMAND=%s", cmd);
	snprintf(cid, sizeof(cid), "CNI_CONTAINERID=%s", p->cid);
	snprintf(ns, sizeof(ns), "CNI_NETNS=%s", p->nspath);
	snprintf(path, sizeof(path), "CNI_PATH=%s", cni_path);
	run_bin(bin, ENV(ccmd, cid, ns, "CNI_IFNAME=eth0", path, "CNI_ARGS=" ARGS_OK),
		p->main_conf, r);
}

static void pod_down(struct pod *p)
{
	struct run r;
	int i;

	if (!p->up)
		return;
	p->up = false;
	/* The main plugin's DEL frees the host-local lease and removes the veth. */
	main_plugin(p, "DEL", &r);
	run_free(&r);
	sh("ip netns del %s 2>/dev/null", p->netns);
	json_decref(p->prev);
	p->prev = NULL;
	for (i = 0; i < MAX_PODS; i++)
		if (pods[i] == p)
			pods[i] = NULL;
}

static void cleanup_all(void)
{
	int i;

	for (i = 0; i < MAX_PODS; i++)
		if (pods[i])
			pod_down(pods[i]);
	sh("ip link del " BRIDGE " 2>/dev/null");
	if (*tmpdir)
		sh("rm -rf %s", tmpdir);
}

static void on_signal(int sig)
{
	cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The host-side interface the main plugin reported: no sandbox, not the bridge. */
static const char *prev_host_ifname(json_t *prev)
{
	json_t *ifs = json_object_get(prev, "interfaces"), *f;
	size_t i;

	json_array_foreach(ifs, i, f) {
		const char *n = json_string_value(json_object_get(f, "name"));

		if (!json_object_get(f, "sandbox") && n && strcmp(n, BRIDGE))
			return n;
	}
	return NULL;
}

/* @main_conf: the main plugin's configuration, or NULL for the default of @kind. */
static bool pod_up_conf(struct pod *p, const char *kind, const char *main_conf)
{
	struct run r;
	int i;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	pod_seq++;
	snprintf(p->netns, sizeof(p->netns), "pwcni-%d-%d", getpid(), pod_seq);
	snprintf(p->nspath, sizeof(p->nspath), "/run/netns/%s", p->netns);
	snprintf(p->cid, sizeof(p->cid), "cafe%04x%08d", pod_seq, getpid());
	if (main_conf)
		snprintf(p->main_conf, sizeof(p->main_conf), "%s", main_conf);
	else if (!strcmp(kind, "ptp"))
		snprintf(p->main_conf, sizeof(p->main_conf),
			 "{\"cniVersion\":\"1.0.0\",\"name\":\"pwcni-test\",\"type\":\"ptp\",\"ipam\":{\"type\":\"host-local\",\"subnet\":\"" NET_PTP "\",\"dataDir\":\"%s/ipam\"}}",
			 tmpdir);
	else
		snprintf(p->main_conf, sizeof(p->main_conf),
			 "{\"cniVersion\":\"1.0.0\",\"name\":\"pwcni-test-br\",\"type\":\"bridge\",\"bridge\":\"" BRIDGE "\",\"isGateway\":true,\"ipam\":{\"type\":\"host-local\",\"subnet\":\"" NET_BRIDGE "\",\"dataDir\":\"%s/ipam\"}}",
			 tmpdir);
	if (!ASSERT_EQ(sh("ip netns add %s", p->netns), 0, "ip netns add"))
		return false;
	p->up = true;
	for (i = 0; i < MAX_PODS; i++)
		if (!pods[i]) {
			pods[i] = p;
			break;
		}
	main_plugin(p, "ADD", &r);
	if (!ASSERT_EQ(r.status, 0, "main plugin ADD") || !ASSERT_OK_PTR(r.json, "main plugin result")) {
		pw_test_diag("%s ADD: %s %s", kind, r.out ?: "", r.err ?: "");
		run_free(&r);
		return false;
	}
	p->prev = json_incref(r.json);
	pw_test_diag("%s ADD alone took %.1f ms", kind, r.ms);
	run_free(&r);
	if (!ASSERT_OK_PTR(prev_host_ifname(p->prev), "main plugin lists the host veth"))
		return false;
	snprintf(p->host_ifname, sizeof(p->host_ifname), "%s", prev_host_ifname(p->prev));
	return true;
}

static bool pod_up(struct pod *p, const char *kind)
{
	return pod_up_conf(p, kind, NULL);
}

/* The chained configuration a runtime gives podwall: ours + the main plugin's result. */
static char *chain_conf(const char *version, json_t *prev, const char *sock, const char *extra)
{
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "cniVersion", version, "name",
			      "pwcni-test", "type", "podwall", "socket", sock, "queueDir", queue_dir,
			      "timeoutMs", 2000);
	json_t *x = extra ? json_loads(extra, 0, NULL) : NULL;
	char *s;

	if (prev)
		json_object_set(c, "prevResult", prev);
	if (x)
		json_object_update(c, x);
	s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	json_decref(x);
	return s;
}

struct penv {
	char cmd[32], cid[96], ns[128], args[512];
};

static char *const *pod_env(struct penv *e, const char *cmd, struct pod *p, const char *args)
{
	static char *v[8];

	snprintf(e->cmd, sizeof(e->cmd), "CNI_COMMAND=%s", cmd);
	snprintf(e->cid, sizeof(e->cid), "CNI_CONTAINERID=%s", p->cid);
	snprintf(e->ns, sizeof(e->ns), "CNI_NETNS=%s", p->nspath);
	snprintf(e->args, sizeof(e->args), "CNI_ARGS=%s", args ?: "");
	v[0] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	v[1] = e->cmd;
	v[2] = e->cid;
	v[3] = e->ns;
	v[4] = "CNI_IFNAME=eth0";
	v[5] = "CNI_PATH=/usr/lib/cni";
	v[6] = e->args;
	v[7] = NULL;
	return v;
}

/* What `ip -j -d link` says about @ifname: its ifindex and ifalias ("" when none). */
static int ip_link(const char *ifname, char *alias, size_t alias_sz)
{
	char cmd[128];
	json_t *j, *l;
	FILE *f;
	int idx = -1;

	snprintf(cmd, sizeof(cmd), "ip -j -d link show dev %s 2>/dev/null", ifname);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	j = json_loadf(f, 0, NULL);
	pclose(f);
	l = json_array_get(j, 0);
	if (l) {
		idx = (int)json_integer_value(json_object_get(l, "ifindex"));
		if (alias)
			snprintf(alias, alias_sz, "%s",
				 json_string_value(json_object_get(l, "ifalias")) ?: "");
	}
	json_decref(j);
	return idx;
}

/* ---- a minimal podwalld API responder ---------------------------------- */

struct responder {
	int lfd;
	pthread_t th;
	atomic_bool stop;
	const char *answer; /* one JSON line to send; NULL: never answer */
	pthread_mutex_t lock;
	json_t *reqs;		 /* every request received, in order */
	char alias_seen[300];	 /* host veth ifalias when endpoint-add arrived */
};

static void *responder_main(void *arg)
{
	struct responder *s = arg;
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };
	char buf[65536], path[128];
	json_t *req;
	ssize_t n;
	size_t len;
	int fd;

	while (!atomic_load(&s->stop)) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		len = 0;
		while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			if (memchr(buf, '\n', len))
				break;
		}
		buf[len] = '\0';
		req = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
		pthread_mutex_lock(&s->lock);
		json_array_append_new(s->reqs, req ?: json_string(buf));
		if (req && json_is_string(json_object_get(req, "host_ifname"))) {
			/* What a daemon would see: the tag must be in place before it is asked. */
			snprintf(path, sizeof(path), "/sys/class/net/%s/ifalias",
				 json_string_value(json_object_get(req, "host_ifname")));
			FILE *f = fopen(path, "r");

			s->alias_seen[0] = '\0';
			if (f && fgets(s->alias_seen, sizeof(s->alias_seen), f))
				s->alias_seen[strcspn(s->alias_seen, "\n")] = '\0';
			if (f)
				fclose(f);
		}
		pthread_mutex_unlock(&s->lock);
		if (s->answer) {
			if (write(fd, s->answer, strlen(s->answer)) < 0 || write(fd, "\n", 1) < 0)
				pw_test_diag("responder: write: %s", strerror(errno));
		} else {
			while (!atomic_load(&s->stop) && poll(&(struct pollfd){ .fd = fd }, 1, 50) == 0)
				;
		}
		close(fd);
	}
	return NULL;
}

static bool responder_start(struct responder *s, const char *answer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->reqs = json_array();
	pthread_mutex_init(&s->lock, NULL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	unlink(sock_path);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_GE(s->lfd, 0, "responder socket") ||
	    !ASSERT_OK(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), "responder bind") ||
	    !ASSERT_OK(listen(s->lfd, 16), "responder listen"))
		return false;
	return ASSERT_EQ(pthread_create(&s->th, NULL, responder_main, s), 0, "responder thread");
}

static void responder_stop(struct responder *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	close(s->lfd);
	unlink(sock_path);
	json_decref(s->reqs);
	pthread_mutex_destroy(&s->lock);
}

static json_t *responder_req(struct responder *s, size_t i)
{
	json_t *r;

	pthread_mutex_lock(&s->lock);
	r = json_array_get(s->reqs, i);
	pthread_mutex_unlock(&s->lock);
	return r;
}

#define STR(obj, key) json_string_value(json_object_get(obj, key))

/* ---- tests -------------------------------------------------------------- */

static void test_version(void)
{
	struct run r;
	json_t *v;

	ASSERT_OK(run_plugin(ENV("CNI_COMMAND=VERSION"), "{\"cniVersion\":\"1.0.0\"}", &r), "run");
	ASSERT_EQ(r.status, 0, "VERSION exit");
	v = json_object_get(r.json, "supportedVersions");
	ASSERT_STREQ(STR(r.json, "cniVersion"), "1.1.0", "cniVersion");
	ASSERT_EQ(json_array_size(v), 2, "two versions");
	ASSERT_STREQ(json_string_value(json_array_get(v, 0)), "1.0.0", "1.0.0");
	ASSERT_STREQ(json_string_value(json_array_get(v, 1)), "1.1.0", "1.1.0");
	run_free(&r);
	/* Runtimes may probe with an empty stdin. */
	ASSERT_OK(run_plugin(ENV("CNI_COMMAND=VERSION"), "", &r), "run");
	ASSERT_EQ(r.status, 0, "VERSION, empty stdin");
	ASSERT_TRUE(json_is_array(json_object_get(r.json, "supportedVersions")), "versions");
	run_free(&r);
}

static void test_bad_versions(void)
{
	static const char *const bad[] = { "0.4.0", "0.3.1", "1.2.0", "2.0.0", "1.0" };
	char in[256];
	struct run r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(in, sizeof(in), "{\"cniVersion\":\"%s\",\"name\":\"n\",\"type\":\"podwall\"}",
			 bad[i]);
		run_plugin(ENV("CNI_COMMAND=DEL", "CNI_CONTAINERID=abc", "CNI_IFNAME=eth0"), in, &r);
		expect_error(&r, 1, "cniVersion", bad[i]);
		ASSERT_HAS(STR(r.json, "msg"), bad[i], "msg names the version");
		run_free(&r);
	}
	/* STATUS and GC are 1.1.0 verbs. */
	run_plugin(ENV("CNI_COMMAND=STATUS"),
		   "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"podwall\"}", &r);
	expect_error(&r, 1, "STATUS", "STATUS with 1.0.0");
	ASSERT_STREQ(STR(r.json, "cniVersion"), "1.0.0", "error speaks the config's version");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x",
		       "CNI_IFNAME=eth0", "CNI_ARGS=" ARGS_OK),
		   "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"podwall\",\"prevResult\":{\"cniVersion\":\"0.4.0\",\"interfaces\":[]}}",
		   &r);
	expect_error(&r, 1, "prevResult.cniVersion", "0.4.0 prevResult");
	run_free(&r);
}

#define CONF(rest) "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"podwall\"" rest "}"
#define PREV(ifs, ips) ",\"prevResult\":{\"cniVersion\":\"1.0.0\",\"interfaces\":" ifs ",\"ips\":" ips "}"
#define IFS_OK "[{\"name\":\"veth1\"},{\"name\":\"eth0\",\"sandbox\":\"/run/netns/x\"}]"

static void test_malformed_input(void)
{
	static const struct {
		const char *cmd, *in;
		int code;
		const char *has;
	} cases[] = {
		{ "ADD", "", 6, "not valid JSON" },
		{ "ADD", "{not json", 6, "not valid JSON" },
		{ "ADD", "[1,2]", 6, "expected a JSON object" },
		{ "ADD", "{\"cniVersion\":\"1.0.0\",\"cniVersion\":\"1.0.0\"}", 6, "duplicate" },
		{ "ADD", "{\"cniVersion\":1}", 7, "cniVersion: expected a string" },
		{ "ADD", "{\"cniVersion\":\"1.0.0\",\"type\":\"podwall\"}", 7, "name: missing" },
		{ "ADD", CONF(",\"timeoutMs\":-1"), 7, "timeoutMs" },
		{ "ADD", CONF(",\"logLevel\":\"loud\""), 7, "logLevel: \"loud\"" },
		{ "ADD", CONF(",\"queueDir\":\"relative/dir\""), 7, "queueDir" },
		{ "ADD", CONF(",\"socket\":7"), 7, "socket: expected a string" },
		{ "ADD", CONF(",\"allowMissingPodArgs\":\"yes\""), 7, "allowMissingPodArgs" },
		{ "ADD", CONF(), 7, "prevResult: missing" },
		{ "ADD", CONF(",\"prevResult\":\"x\""), 7, "prevResult: expected an object" },
		{ "ADD", CONF(PREV("{}", "[]")), 7, "prevResult.interfaces: expected an array" },
		{ "ADD", CONF(PREV("[{\"name\":\"veth1\"},{\"name\":5}]", "[]")), 7,
		  "prevResult.interfaces[1].name: expected a string" },
		{ "ADD", CONF(PREV("[{\"mac\":\"x\"}]", "[]")), 7,
		  "prevResult.interfaces[0].name: missing" },
		{ "ADD", CONF(PREV(IFS_OK, "[{\"address\":\"10.0.0.300/24\",\"interface\":1}]")), 7,
		  "prevResult.ips[0].address" },
		{ "ADD", CONF(PREV(IFS_OK, "[{\"address\":\"10.99.0.2/33\"}]")), 7,
		  "prevResult.ips[0].address" },
		{ "ADD", CONF(PREV(IFS_OK, "[{\"address\":\"10.99.0.2/24\",\"interface\":5}]")), 7,
		  "prevResult.ips[0].interface: 5" },
		{ "ADD", CONF(PREV(IFS_OK, "[{\"address\":\"10.99.0.2/24\",\"gateway\":\"nope\"}]")),
		  7, "prevResult.ips[0].gateway" },
		{ "ADD", CONF(",\"prevResult\":{\"routes\":[{\"gw\":\"10.99.0.1\"}]}"), 7,
		  "prevResult.routes[0].dst: missing" },
		{ "ADD", CONF(",\"prevResult\":{\"dns\":[]}"), 7, "prevResult.dns" },
		{ "ADD", CONF(PREV("[{\"name\":\"veth1\"}]", "[]")), 7,
		  "no interface named \"eth0\"" },
		{ "GC", "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"podwall\"}", 7,
		  "cni.dev/valid-attachments: missing" },
		{ "GC", "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"podwall\",\"cni.dev/valid-attachments\":[{\"containerID\":1,\"ifname\":\"eth0\"}]}",
		  7, "cni.dev/valid-attachments[0].containerID" },
		{ "GC", "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"podwall\",\"cni.dev/valid-attachments\":{}}",
		  7, "cni.dev/valid-attachments: expected an array" },
	};
	char cmd[32], what[64];
	struct run r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(cmd, sizeof(cmd), "CNI_COMMAND=%s", cases[i].cmd);
		snprintf(what, sizeof(what), "case %zu (%s)", i, cases[i].has);
		run_plugin(ENV(cmd, "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/pwcni-none",
			       "CNI_IFNAME=eth0", "CNI_ARGS=" ARGS_OK),
			   cases[i].in, &r);
		expect_error(&r, cases[i].code, cases[i].has, what);
		ASSERT_TRUE(r.status < 128, "no crash");
		run_free(&r);
	}
}

static void test_missing_env(void)
{
	static const char *const prev = CONF(PREV(IFS_OK, "[]"));
	struct run r;

	run_plugin(ENV("CNI_CONTAINERID=abc"), prev, &r);
	expect_error(&r, 4, "CNI_COMMAND: missing", "no CNI_COMMAND");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=FROB"), prev, &r);
	expect_error(&r, 4, "\"FROB\" is not one of", "unknown command");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_NETNS=/run/netns/x", "CNI_IFNAME=eth0"), prev, &r);
	expect_error(&r, 4, "CNI_CONTAINERID: missing", "ADD without container id");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_IFNAME=eth0"), prev, &r);
	expect_error(&r, 4, "CNI_NETNS: missing", "ADD without netns");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x"), prev,
		   &r);
	expect_error(&r, 4, "CNI_IFNAME: missing", "ADD without ifname");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=DEL", "CNI_CONTAINERID=../../etc", "CNI_IFNAME=eth0"), prev, &r);
	expect_error(&r, 4, "CNI_CONTAINERID: \"../../etc\" is not a container id", "bad id");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=DEL", "CNI_CONTAINERID=abc", "CNI_IFNAME=a/b"), prev, &r);
	expect_error(&r, 4, "CNI_IFNAME", "bad ifname");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x",
		       "CNI_IFNAME=eth0"),
		   prev, &r);
	expect_error(&r, 4, "K8S_POD_NAMESPACE and K8S_POD_NAME are required", "no pod args");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x",
		       "CNI_IFNAME=eth0", "CNI_ARGS=K8S_POD_NAMESPACE=a;garbage"),
		   prev, &r);
	expect_error(&r, 4, "CNI_ARGS: \"garbage\" is not a KEY=VALUE pair", "bad CNI_ARGS");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/x",
		       "CNI_IFNAME=eth0", "CNI_ARGS=K8S_POD_NAMESPACE=a;K8S_POD_NAME=Bad/Name"),
		   prev, &r);
	expect_error(&r, 4, "K8S_POD_NAME=\"Bad/Name\"", "pod name not a k8s name");
	run_free(&r);
	/* A valid request for a namespace that is gone: the container is unknown. */
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/run/netns/pwcni-gone",
		       "CNI_IFNAME=eth0", "CNI_ARGS=" ARGS_OK),
		   prev, &r);
	expect_error(&r, 3, "no such network namespace", "netns gone");
	run_free(&r);
	run_plugin(ENV("CNI_COMMAND=ADD", "CNI_CONTAINERID=abc", "CNI_NETNS=/etc/hostname",
		       "CNI_IFNAME=eth0", "CNI_ARGS=" ARGS_OK),
		   prev, &r);
	expect_error(&r, 4, "is not a network namespace", "netns not a netns");
	run_free(&r);
}

static void test_add_daemon_down(void)
{
	struct pod p;
	struct penv e;
	struct run r;
	char alias[300] = "x";
	_cleanup_free_ char *conf = NULL;

	if (!pod_up(&p, "ptp"))
		goto out;
	conf = chain_conf("1.0.0", p.prev, down_path, NULL);
	run_plugin(pod_env(&e, "ADD", &p, ARGS_OK), conf, &r);
	expect_error(&r, 11, "podwalld is not reachable at", "ADD, daemon down");
	ASSERT_HAS(STR(r.json, "msg"), down_path, "msg names the socket");
	ASSERT_STREQ(STR(r.json, "cniVersion"), "1.0.0", "error in the config's version");
	run_free(&r);
	ASSERT_GE(ip_link(p.host_ifname, alias, sizeof(alias)), 1, "host veth exists");
	ASSERT_STREQ(alias, "", "ifalias not left set");

	/* PODWALL_SOCKET overrides the configuration's socket. */
	{
		char *const *v = pod_env(&e, "ADD", &p, ARGS_OK);
		char ov[200];
		char *env2[10];
		int i;

		snprintf(ov, sizeof(ov), "PODWALL_SOCKET=%s/other.sock", tmpdir);
		for (i = 0; v[i]; i++)
			env2[i] = v[i];
		env2[i++] = ov;
		env2[i] = NULL;
		run_plugin(env2, conf, &r);
		expect_error(&r, 11, "other.sock", "PODWALL_SOCKET overrides");
		run_free(&r);
	}
out:
	pod_down(&p);
}

static void check_add_request(json_t *req, struct pod *p, const char *ns, const char *name)
{
	json_t *ips = json_object_get(req, "ips");
	json_t *pips = json_object_get(p->prev, "ips");
	int idx = ip_link(p->host_ifname, NULL, 0);

	ASSERT_STREQ(STR(req, "cmd"), "endpoint-add", "cmd");
	ASSERT_STREQ(STR(req, "container_id"), p->cid, "container_id");
	ASSERT_STREQ(STR(req, "netns"), p->nspath, "netns");
	ASSERT_STREQ(STR(req, "ifname"), "eth0", "ifname");
	ASSERT_STREQ(STR(req, "namespace"), ns, "namespace from CNI_ARGS");
	ASSERT_STREQ(STR(req, "pod"), name, "pod from CNI_ARGS");
	ASSERT_STREQ(STR(req, "host_ifname"), p->host_ifname, "host_ifname");
	ASSERT_GE(idx, 1, "ip -j link knows the host veth");
	ASSERT_EQ(json_integer_value(json_object_get(req, "host_ifindex")), idx,
		  "host_ifindex equals ip -j link's");
	ASSERT_EQ(json_array_size(ips), json_array_size(pips), "one address per prevResult IP");
	ASSERT_GE(json_array_size(ips), 1, "at least one IP");
	ASSERT_STREQ(json_string_value(json_array_get(ips, 0)),
		     STR(json_array_get(pips, 0), "address"), "IP from prevResult");
	ASSERT_STREQ(STR(req, "mac"),
		     STR(json_array_get(json_object_get(p->prev, "interfaces"),
					json_array_size(json_object_get(p->prev, "interfaces")) - 1),
			 "mac"),
		     "container mac");
}

static void add_ok_on(const char *kind)
{
	struct responder s;
	struct pod p;
	struct penv e;
	struct run r;
	char alias[300];
	_cleanup_free_ char *conf = NULL;
	json_t *req;

	if (!responder_start(&s, "{\"ok\":true}"))
		return;
	if (!pod_up(&p, kind))
		goto out;
	conf = chain_conf("1.0.0", p.prev, sock_path, NULL);
	run_plugin(pod_env(&e, "ADD", &p, ARGS_OK), conf, &r);
	if (!ASSERT_EQ(r.status, 0, "ADD exit"))
		pw_test_diag("ADD: %s %s", r.out ?: "", r.err ?: "");
	pw_test_diag("%s + podwall ADD (podwall part) took %.1f ms", kind, r.ms);
	ASSERT_TRUE(json_equal(r.json, p.prev), "stdout equals prevResult");
	run_free(&r);
	req = responder_req(&s, 0);
	ASSERT_EQ(json_array_size(s.reqs), 1, "one request");
	check_add_request(req, &p, "shop", "web-1");
	ASSERT_STREQ(STR(req, "uid"), "0f1e2d3c-aaaa-bbbb-cccc-000000000001", "uid");
	ASSERT_STREQ(s.alias_seen, "podwall:shop/web-1", "tagged before the daemon was asked");
	ip_link(p.host_ifname, alias, sizeof(alias));
	ASSERT_STREQ(alias, "podwall:shop/web-1", "ifalias of the host veth");

	/* CHECK with the daemon up: endpoint-check, then the tag. */
	run_plugin(pod_env(&e, "CHECK", &p, ARGS_OK), conf, &r);
	if (!ASSERT_EQ(r.status, 0, "CHECK exit"))
		pw_test_diag("CHECK: %s %s", r.out ?: "", r.err ?: "");
	ASSERT_STREQ(r.out, "", "CHECK prints nothing");
	run_free(&r);
	req = responder_req(&s, 1);
	ASSERT_STREQ(STR(req, "cmd"), "endpoint-check", "check cmd");
	ASSERT_STREQ(STR(req, "container_id"), p.cid, "check container_id");
	ASSERT_STREQ(STR(req, "ifname"), "eth0", "check ifname");

	/* Someone retagged the veth: CHECK must notice. */
	sh("ip link set dev %s alias tampered", p.host_ifname);
	run_plugin(pod_env(&e, "CHECK", &p, ARGS_OK), conf, &r);
	expect_error(&r, 100, "has ifalias \"tampered\", expected \"podwall:shop/web-1\"",
		     "CHECK tampered");
	run_free(&r);
	sh("ip link set dev %s alias podwall:shop/web-1", p.host_ifname);

	/* DEL with the daemon up: endpoint-del, tag removed, a stale queued file dropped. */
	{
		char qf[256];
		int fd;

		mkdir(queue_dir, 0700);
		snprintf(qf, sizeof(qf), "%s/%s.json", queue_dir, p.cid);
		fd = open(qf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		close(fd);
		run_plugin(pod_env(&e, "DEL", &p, ARGS_OK), conf, &r);
		ASSERT_EQ(r.status, 0, "DEL exit");
		ASSERT_STREQ(r.out, "", "DEL prints nothing");
		run_free(&r);
		req = responder_req(&s, 3);
		ASSERT_STREQ(STR(req, "cmd"), "endpoint-del", "del cmd");
		ASSERT_STREQ(STR(req, "namespace"), "shop", "del namespace");
		ASSERT_STREQ(STR(req, "pod"), "web-1", "del pod");
		ASSERT_EQ(access(qf, F_OK), -1, "stale queued deletion removed");
		ip_link(p.host_ifname, alias, sizeof(alias));
		ASSERT_STREQ(alias, "", "DEL untags the host veth");
	}
out:
	pod_down(&p);
	responder_stop(&s);
}

static void test_add_ok_ptp(void)
{
	add_ok_on("ptp");
}

static void test_add_ok_bridge(void)
{
	add_ok_on("bridge");
	sh("ip link del " BRIDGE " 2>/dev/null");
}

static void test_add_allow_missing_pod_args(void)
{
	struct responder s;
	struct pod p;
	struct penv e;
	struct run r;
	char alias[300], want[64];
	_cleanup_free_ char *conf = NULL;

	if (!responder_start(&s, "{\"ok\":true}"))
		return;
	if (!pod_up(&p, "ptp"))
		goto out;
	conf = chain_conf("1.1.0", p.prev, sock_path, "{\"allowMissingPodArgs\":true}");
	run_plugin(pod_env(&e, "ADD", &p, NULL), conf, &r);
	if (!ASSERT_EQ(r.status, 0, "ADD exit"))
		pw_test_diag("ADD: %s %s", r.out ?: "", r.err ?: "");
	run_free(&r);
	snprintf(want, sizeof(want), "%.12s", p.cid);
	check_add_request(responder_req(&s, 0), &p, "default", want);
	snprintf(want, sizeof(want), "podwall:default/%.12s", p.cid);
	ip_link(p.host_ifname, alias, sizeof(alias));
	ASSERT_STREQ(alias, want, "ifalias");
out:
	pod_down(&p);
	responder_stop(&s);
}

/* The daemon refuses or never answers: the CNI error, and no tag left behind. */
static void add_fails(const char *answer, int code, const char *has)
{
	struct responder s;
	struct pod p;
	struct penv e;
	struct run r;
	char alias[300];
	_cleanup_free_ char *conf = NULL;

	if (!responder_start(&s, answer))
		return;
	if (!pod_up(&p, "ptp"))
		goto out;
	conf = chain_conf("1.0.0", p.prev, sock_path, "{\"timeoutMs\":300}");
	run_plugin(pod_env(&e, "ADD", &p, ARGS_OK), conf, &r);
	expect_error(&r, code, has, has);
	if (!answer)
		ASSERT_TRUE(r.ms < 3000, "the timeout bounds ADD");
	run_free(&r);
	ASSERT_EQ(json_array_size(s.reqs), 1, "the daemon was asked");
	ip_link(p.host_ifname, alias, sizeof(alias));
	ASSERT_STREQ(alias, "", "ifalias rolled back");
out:
	pod_down(&p);
	responder_stop(&s);
}

static void test_add_daemon_refuses(void)
{
	add_fails("{\"error\":\"shop/web-1: policy map full\",\"code\":5}", 5,
		  "podwalld: shop/web-1: policy map full");
}

static void test_add_daemon_timeout(void)
{
	add_fails(NULL, 11, "did not answer within 300 ms");
}

static void test_check_daemon_down(void)
{
	struct pod p;
	struct penv e;
	struct run r;
	_cleanup_free_ char *conf = NULL;

	if (!pod_up(&p, "ptp"))
		goto out;
	conf = chain_conf("1.0.0", p.prev, down_path, NULL);
	run_plugin(pod_env(&e, "CHECK", &p, ARGS_OK), conf, &r);
	expect_error(&r, 11, "podwalld is not reachable", "CHECK, daemon down");
	run_free(&r);
out:
	pod_down(&p);
}

static void test_del_daemon_down(void)
{
	struct pod p;
	struct penv e;
	struct run r;
	struct stat st;
	char qf[256];
	_cleanup_free_ char *conf = NULL;
	json_t *q;

	if (!pod_up(&p, "ptp"))
		goto out;
	conf = chain_conf("1.0.0", p.prev, down_path, NULL);
	snprintf(qf, sizeof(qf), "%s/%s.json", queue_dir, p.cid);
	unlink(qf);
	run_plugin(pod_env(&e, "DEL", &p, ARGS_OK), conf, &r);
	if (!ASSERT_EQ(r.status, 0, "DEL, daemon down"))
		pw_test_diag("DEL: %s %s", r.out ?: "", r.err ?: "");
	ASSERT_STREQ(r.out, "", "DEL prints nothing");
	run_free(&r);
	q = json_load_file(qf, 0, NULL);
	if (ASSERT_OK_PTR(q, "queued deletion")) {
		ASSERT_STREQ(STR(q, "cmd"), "endpoint-del", "queued cmd");
		ASSERT_STREQ(STR(q, "container_id"), p.cid, "queued container_id");
		ASSERT_STREQ(STR(q, "ifname"), "eth0", "queued ifname");
		ASSERT_STREQ(STR(q, "namespace"), "shop", "queued namespace");
		ASSERT_STREQ(STR(q, "pod"), "web-1", "queued pod");
		ASSERT_GE(json_integer_value(json_object_get(q, "queued_at")), time(NULL) - 60,
			  "queued_at");
		ASSERT_OK(stat(qf, &st), "stat");
		ASSERT_EQ(st.st_mode & 0777, 0600, "queue file mode");
	}
	json_decref(q);

	/* Again: idempotent. */
	run_plugin(pod_env(&e, "DEL", &p, ARGS_OK), conf, &r);
	ASSERT_EQ(r.status, 0, "second DEL");
	run_free(&r);

	/* The main plugin's DEL and the netns are gone; DEL still succeeds. */
	{
		struct pod gone = p;

		gone.prev = NULL;
		pod_down(&p);
		run_plugin(pod_env(&e, "DEL", &gone, ARGS_OK), conf, &r);
		if (!ASSERT_EQ(r.status, 0, "DEL after netns deleted"))
			pw_test_diag("DEL: %s %s", r.out ?: "", r.err ?: "");
		run_free(&r);
		/* Runtimes may leave CNI_NETNS empty on DEL, and omit the pod. */
		run_plugin(ENV("CNI_COMMAND=DEL", e.cid, "CNI_IFNAME=eth0"), conf, &r);
		ASSERT_EQ(r.status, 0, "DEL without netns and pod args");
		run_free(&r);
		q = json_load_file(qf, 0, NULL);
		ASSERT_STREQ(STR(q, "pod"), "", "latest DEL wins, without pod");
		json_decref(q);
	}
out:
	pod_down(&p);
}

static void test_status(void)
{
	static const char *const conf = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"podwall\"}";
	struct responder s;
	char env_sock[200];
	struct run r;

	snprintf(env_sock, sizeof(env_sock), "PODWALL_SOCKET=%s", down_path);
	run_plugin(ENV("CNI_COMMAND=STATUS", env_sock), conf, &r);
	expect_error(&r, 50, "podwalld is not reachable", "STATUS, daemon down");
	run_free(&r);

	snprintf(env_sock, sizeof(env_sock), "PODWALL_SOCKET=%s", sock_path);
	if (!responder_start(&s, "{\"ok\":true,\"ready\":true}"))
		return;
	run_plugin(ENV("CNI_COMMAND=STATUS", env_sock), conf, &r);
	ASSERT_EQ(r.status, 0, "STATUS ready");
	ASSERT_STREQ(r.out, "", "STATUS prints nothing");
	run_free(&r);
	ASSERT_STREQ(STR(responder_req(&s, 0), "cmd"), "status", "status cmd");

	/* Same daemon, no bpffs: not ready either. */
	hide_bpffs = true;
	run_plugin(ENV("CNI_COMMAND=STATUS", env_sock), conf, &r);
	hide_bpffs = false;
	expect_error(&r, 50, "bpffs is not mounted at /sys/fs/bpf", "STATUS without bpffs");
	run_free(&r);
	responder_stop(&s);

	if (!responder_start(&s, "{\"ok\":true,\"ready\":false,\"reason\":\"policy sync pending\"}"))
		return;
	run_plugin(ENV("CNI_COMMAND=STATUS", env_sock), conf, &r);
	expect_error(&r, 50, "podwalld is not ready: policy sync pending", "STATUS not ready");
	run_free(&r);
	responder_stop(&s);

	if (!responder_start(&s, "{\"error\":\"shutting down\",\"code\":11}"))
		return;
	run_plugin(ENV("CNI_COMMAND=STATUS", env_sock), conf, &r);
	expect_error(&r, 50, "shutting down", "STATUS, daemon error");
	run_free(&r);
	responder_stop(&s);
}

static void test_gc(void)
{
	static const char *const conf =
		"{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"type\":\"podwall\",\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\",\"extra\":1},{\"containerID\":\"c2\",\"ifname\":\"net1\"}]}";
	struct responder s;
	char env_sock[200];
	struct run r;
	json_t *want;

	snprintf(env_sock, sizeof(env_sock), "PODWALL_SOCKET=%s", down_path);
	run_plugin(ENV("CNI_COMMAND=GC", "CNI_PATH=/usr/lib/cni", env_sock), conf, &r);
	expect_error(&r, 11, "podwalld is not reachable", "GC, daemon down");
	run_free(&r);

	snprintf(env_sock, sizeof(env_sock), "PODWALL_SOCKET=%s", sock_path);
	if (!responder_start(&s, "{\"ok\":true}"))
		return;
	run_plugin(ENV("CNI_COMMAND=GC", "CNI_PATH=/usr/lib/cni", env_sock), conf, &r);
	ASSERT_EQ(r.status, 0, "GC");
	ASSERT_STREQ(r.out, "", "GC prints nothing");
	run_free(&r);
	want = json_loads("{\"cmd\":\"gc\",\"valid\":[{\"containerID\":\"c1\",\"ifname\":\"eth0\"},{\"containerID\":\"c2\",\"ifname\":\"net1\"}]}",
			  0, NULL);
	ASSERT_TRUE(json_equal(responder_req(&s, 0), want), "gc request carries the valid list");
	json_decref(want);
	responder_stop(&s);
}

/* A deploy/ conflist, as a runtime would execute it (libcni's chaining). */
static json_t *load_conflist(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", getenv("PW_DEPLOY_DIR") ?: "deploy", name);
	return json_load_file(p, 0, NULL);
}

/* Plugin @i of @list with what libcni adds: name, cniVersion, prevResult. */
static char *conflist_plugin(json_t *list, size_t i, const char *version, json_t *prev)
{
	json_t *c = json_deep_copy(json_array_get(json_object_get(list, "plugins"), i));
	char *s;

	json_object_set(c, "name", json_object_get(list, "name"));
	json_object_set_new(c, "cniVersion", json_string(version));
	if (prev)
		json_object_set(c, "prevResult", prev);
	s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return s;
}

static void test_deploy_conflists(void)
{
	static const char *const files[] = { "10-podwall.conflist", "10-podwall-bridge.conflist" };
	_cleanup_free_ char *main_conf = NULL, *pw_conf = NULL;
	char env_sock[200], alias[300];
	struct responder s;
	json_t *list, *plugins, *m;
	struct pod p = {};
	struct penv e;
	struct run r;
	size_t i;

	/* Both parse, podwall comes last, and its settings are valid (STATUS reaches the socket step). */
	snprintf(env_sock, sizeof(env_sock), "PODWALL_SOCKET=%s", down_path);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *c = NULL;

		list = load_conflist(files[i]);
		if (!ASSERT_OK_PTR(list, "conflist parses"))
			return;
		plugins = json_object_get(list, "plugins");
		ASSERT_STREQ(STR(json_array_get(plugins, json_array_size(plugins) - 1), "type"),
			     "podwall", "podwall is chained last");
		c = conflist_plugin(list, json_array_size(plugins) - 1, "1.1.0", NULL);
		run_plugin(ENV("CNI_COMMAND=STATUS", env_sock), c, &r);
		expect_error(&r, 50, "podwalld is not reachable", files[i]);
		run_free(&r);
		json_decref(list);
	}

	/*
	 * The ptp chain end to end: the example's plugins in order, with only
	 * the addresses moved into the test range and masquerading off (no
	 * iptables rules on this host).
	 */
	list = load_conflist(files[0]);
	m = json_array_get(json_object_get(list, "plugins"), 0);
	json_object_set_new(m, "ipMasq", json_false());
	json_object_set_new(json_object_get(m, "ipam"), "ranges",
			    json_pack("[[{s:s}]]", "subnet", "10.99.243.0/24"));
	json_object_set_new(json_object_get(m, "ipam"), "dataDir",
			    json_sprintf("%s/ipam", tmpdir));
	main_conf = conflist_plugin(list, 0, "1.0.0", NULL);
	if (!responder_start(&s, "{\"ok\":true}"))
		goto out;
	if (!pod_up_conf(&p, "ptp", main_conf))
		goto stop;
	pw_conf = conflist_plugin(list, 1, "1.0.0", p.prev);
	snprintf(env_sock, sizeof(env_sock), "PODWALL_SOCKET=%s", sock_path);
	{
		char *const *v = pod_env(&e, "ADD", &p, ARGS_OK);
		char *env2[10];
		int k;

		for (k = 0; v[k]; k++)
			env2[k] = v[k];
		env2[k++] = env_sock;
		env2[k] = NULL;
		run_plugin(env2, pw_conf, &r);
	}
	if (!ASSERT_EQ(r.status, 0, "chained ADD"))
		pw_test_diag("ADD: %s %s", r.out ?: "", r.err ?: "");
	ASSERT_TRUE(json_equal(r.json, p.prev), "result passes through");
	run_free(&r);
	ip_link(p.host_ifname, alias, sizeof(alias));
	ASSERT_STREQ(alias, "podwall:shop/web-1", "host veth tagged");
	ASSERT_STREQ(STR(responder_req(&s, 0), "host_ifname"), p.host_ifname, "registered");
stop:
	pod_down(&p);
	responder_stop(&s);
out:
	json_decref(list);
}

static const struct pw_test tests[] = {
	{ "version", test_version },
	{ "bad_versions", test_bad_versions },
	{ "malformed_input", test_malformed_input },
	{ "missing_env", test_missing_env },
	{ "add_daemon_down", test_add_daemon_down },
	{ "add_ok_ptp_check_del", test_add_ok_ptp },
	{ "add_ok_bridge_check_del", test_add_ok_bridge },
	{ "add_allow_missing_pod_args", test_add_allow_missing_pod_args },
	{ "add_daemon_refuses", test_add_daemon_refuses },
	{ "add_daemon_timeout", test_add_daemon_timeout },
	{ "check_daemon_down", test_check_daemon_down },
	{ "del_daemon_down_queued_idempotent", test_del_daemon_down },
	{ "status", test_status },
	{ "gc", test_gc },
	{ "deploy_conflists", test_deploy_conflists },
};

int main(int argc, char **argv)
{
	char bin[300];

	pw_test_require_root();
	plugin = getenv("PW_CNI_PLUGIN");
	if (getenv("PW_CNI_PATH"))
		cni_path = getenv("PW_CNI_PATH");
	if (!plugin || access(plugin, X_OK))
		pw_test_skip_all("PW_CNI_PLUGIN does not name the built plugin");
	snprintf(bin, sizeof(bin), "%s/ptp", cni_path);
	if (access(bin, X_OK))
		pw_test_skip_all("no ptp plugin (apt-get install containernetworking-plugins)");
	if (system("ip -V >/dev/null 2>&1"))
		pw_test_skip_all("no iproute2");

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pwcni-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/podwalld.sock", tmpdir);
	snprintf(down_path, sizeof(down_path), "%s/down.sock", tmpdir);
	snprintf(queue_dir, sizeof(queue_dir), "%s/queue", tmpdir);
	atexit(cleanup_all);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	return pw_test_run(tests, ARRAY_SIZE(tests), argc, argv);
}
