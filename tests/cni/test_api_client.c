// SPDX-License-Identifier: GPL-2.0-only
/*
 * pw_api_call() against real Unix sockets in a temporary directory: what the
 * CNI plugin and podwallctl see when podwalld is down, stuck, rude or fine.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"
#include "test.h"

static char dir[64];
static char path[96];

/* A one-connection server: reads one line, checks it, answers @answer verbatim. */
struct server {
	int lfd;
	pthread_t th;
	const char *answer; /* NULL: read, then hold the connection without answering */
	int hold_ms;
	char got[4096];
};

static void *server_main(void *arg)
{
	struct server *s = arg;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (len < sizeof(s->got) - 1 && (n = read(fd, s->got + len, sizeof(s->got) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(s->got, '\n', len))
			break;
	}
	s->got[len] = '\0';
	if (s->answer && write(fd, s->answer, strlen(s->answer)) < 0)
		perror("server write");
	if (!s->answer)
		poll(NULL, 0, s->hold_ms);
	close(fd);
	return NULL;
}

static int listen_at(const char *p, bool do_listen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	unlink(p);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (do_listen && listen(fd, 4) < 0))
		return -errno;
	return fd;
}

static bool server_start(struct server *s, const char *answer)
{
	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->hold_ms = 1500;
	s->lfd = listen_at(path, true);
	if (!ASSERT_GE(s->lfd, 0, "listen"))
		return false;
	return ASSERT_EQ(pthread_create(&s->th, NULL, server_main, s), 0, "server thread");
}

static void server_stop(struct server *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
	unlink(path);
}

static json_t *status_req(void)
{
	return json_pack("{s:s}", "cmd", PW_API_CMD_STATUS);
}

static void test_down(void)
{
	json_t *req = status_req(), *resp = NULL;
	int fd, err;

	err = pw_api_call(path, req, 500, &resp);
	ASSERT_EQ(err, -ENOENT, "no socket file");
	ASSERT_TRUE(pw_api_err_is_down(err), "ENOENT is down");
	/* A socket file nobody listens on: what a crashed daemon leaves behind. */
	fd = listen_at(path, false);
	ASSERT_GE(fd, 0, "bind");
	err = pw_api_call(path, req, 500, &resp);
	ASSERT_EQ(err, -ECONNREFUSED, "stale socket file");
	ASSERT_TRUE(pw_api_err_is_down(err), "ECONNREFUSED is down");
	ASSERT_TRUE(resp == NULL, "resp untouched on error");
	close(fd);
	unlink(path);
	json_decref(req);
}

static void test_ok(void)
{
	json_t *req = json_pack("{s:s, s:s}", "cmd", PW_API_CMD_ENDPOINT_CHECK, "container_id",
				"line\nbreak"),
	       *resp = NULL, *sent;
	struct server s;
	const char *msg = NULL;

	if (!server_start(&s, "{\"ok\":true,\"ready\":true}\n"))
		goto out;
	ASSERT_OK(pw_api_call(path, req, 2000, &resp), "call");
	server_stop(&s);
	ASSERT_TRUE(pw_api_resp_ok(resp, &msg, NULL), "ok answer");
	ASSERT_TRUE(json_is_true(json_object_get(resp, "ready")), "fields kept");
	/* One line: a newline inside a value must not end the request early. */
	ASSERT_EQ(strchr(s.got, '\n') - s.got, (long)strlen(s.got) - 1, "one line, newline-terminated");
	sent = json_loads(s.got, 0, NULL);
	ASSERT_TRUE(json_equal(sent, req), "request arrives intact");
	json_decref(sent);
out:
	json_decref(resp);
	json_decref(req);
}

static void test_error_answer(void)
{
	json_t *req = status_req(), *resp = NULL;
	const char *msg = NULL;
	struct server s;
	int code = 0;

	/* EOF without a newline still delivers the answer. */
	if (!server_start(&s, "{\"error\":\"endpoint abc/eth0 is not known\",\"code\":3}"))
		goto out;
	ASSERT_OK(pw_api_call(path, req, 2000, &resp), "call");
	server_stop(&s);
	ASSERT_FALSE(pw_api_resp_ok(resp, &msg, &code), "error answer");
	ASSERT_STREQ(msg, "endpoint abc/eth0 is not known", "message");
	ASSERT_EQ(code, 3, "code");
	json_decref(resp);
	resp = NULL;

	/* Neither ok nor error: a failure that says so, try again later. */
	if (!server_start(&s, "{\"ok\":false}\n"))
		goto out;
	ASSERT_OK(pw_api_call(path, req, 2000, &resp), "call");
	server_stop(&s);
	ASSERT_FALSE(pw_api_resp_ok(resp, &msg, &code), "not ok");
	ASSERT_HAS(msg, "neither ok nor error", "message");
	ASSERT_EQ(code, 11, "default code");
out:
	json_decref(resp);
	json_decref(req);
}

static void test_bad_answers(void)
{
	static const char *const bad[] = { "not json\n", "[1,2]\n", "\n", "" };
	json_t *req = status_req(), *resp = NULL;
	struct server s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!server_start(&s, bad[i]))
			break;
		ASSERT_EQ(pw_api_call(path, req, 2000, &resp), -EBADMSG, "bad answer");
		server_stop(&s);
		ASSERT_TRUE(resp == NULL, "no resp");
	}
	json_decref(req);
}

static void test_timeout(void)
{
	json_t *req = status_req(), *resp = NULL;
	struct timespec a, b;
	struct server s;
	long ms;

	if (!server_start(&s, NULL))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ASSERT_EQ(pw_api_call(path, req, 200, &resp), -ETIMEDOUT, "silent daemon");
	clock_gettime(CLOCK_MONOTONIC, &b);
	server_stop(&s);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ASSERT_GE(ms, 190, "waited the timeout");
	ASSERT_TRUE(ms < 1000, "and not much longer");
out:
	json_decref(req);
}

static void test_long_path(void)
{
	char p[200];
	json_t *req = status_req(), *resp = NULL;

	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	ASSERT_EQ(pw_api_call(p, req, 100, &resp), -ENAMETOOLONG, "path too long");
	ASSERT_EQ(pw_api_call(path, NULL, 100, &resp), -EINVAL, "no request");
	json_decref(req);
}

static const struct pw_test tests[] = {
	{ "down", test_down },
	{ "ok", test_ok },
	{ "error_answer", test_error_answer },
	{ "bad_answers", test_bad_answers },
	{ "timeout", test_timeout },
	{ "long_path", test_long_path },
};

int main(int argc, char **argv)
{
	int ret;

	snprintf(dir, sizeof(dir), "/tmp/pwapi-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/podwalld.sock", dir);
	signal(SIGPIPE, SIG_IGN);
	ret = pw_test_run(tests, ARRAY_SIZE(tests), argc, argv);
	unlink(path);
	rmdir(dir);
	return ret;
}
