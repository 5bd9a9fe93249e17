// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "cleanup.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for @events on @fd until @deadline (monotonic ms): 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r > 0)
			return 0;
	}
}

static int do_connect(int fd, const char *path, long long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(int);
	int err = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno == EINPROGRESS) {
		err = wait_fd(fd, POLLOUT, deadline);
		if (err)
			return err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return -errno;
		return -err;
	}
	/*
	 * A listener with a full backlog: a non-blocking Unix connect says
	 * EAGAIN and must be retried; poll() on an unconnected socket does not
	 * tell when, so retry on a short sleep until the deadline.
	 */
	while (errno == EAGAIN) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(5000);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
	}
	return -errno;
}

static int write_all(int fd, const char *buf, size_t len, long long deadline)
{
	ssize_t n;
	int err;

	while (len) {
		/* MSG_NOSIGNAL: a daemon that closed early must not kill the caller with SIGPIPE. */
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = wait_fd(fd, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to the first newline or EOF into a NUL-terminated buffer. */
static int read_line(int fd, char **out, long long deadline)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	char *nl, *tmp;
	ssize_t n;
	int err;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > PW_API_MAX_MSG + 1)
				cap = PW_API_MAX_MSG + 1;
			if (len + 1 >= cap)
				return -EMSGSIZE;
			tmp = realloc(buf, cap);
			if (!tmp)
				return -ENOMEM;
			buf = tmp;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			err = wait_fd(fd, POLLIN, deadline);
			if (err)
				return err;
			continue;
		}
		if (n == 0)
			break;
		buf[len + (size_t)n] = '\0';
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			len = (size_t)(nl - buf);
			break;
		}
	}
	if (!len)
		return -EBADMSG;
	buf[len] = '\0';
	*out = TAKE_PTR(buf);
	return 0;
}

int pw_api_call(const char *sock, json_t *req, int timeout_ms, json_t **resp)
{
	_cleanup_free_ char *txt = NULL, *line = NULL;
	_cleanup_close_ int fd = -1;
	long long deadline;
	json_t *ans;
	size_t len;
	int err;

	if (!req || !resp)
		return -EINVAL;
	if (!sock)
		sock = PW_API_SOCKET_DEFAULT;
	if (timeout_ms <= 0)
		timeout_ms = PW_API_TIMEOUT_MS_DEFAULT;
	deadline = now_ms() + timeout_ms;

	txt = json_dumps(req, JSON_COMPACT);
	if (!txt)
		return -ENOMEM;
	len = strlen(txt);
	/* Compact JSON escapes newlines in strings, so "\n" only ever ends the message. */
	txt[len] = '\n';

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	err = do_connect(fd, sock, deadline);
	if (err)
		return err;
	err = write_all(fd, txt, len + 1, deadline);
	if (err)
		return err;
	err = read_line(fd, &line, deadline);
	if (err)
		return err;
	ans = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
	if (!ans)
		return -EBADMSG;
	if (!json_is_object(ans)) {
		json_decref(ans);
		return -EBADMSG;
	}
	*resp = ans;
	return 0;
}

bool pw_api_resp_ok(const json_t *resp, const char **msg, int *code)
{
	const json_t *err = json_object_get(resp, "error");
	const json_t *c = json_object_get(resp, "code");

	if (json_is_true(json_object_get(resp, "ok")) && !err)
		return true;
	if (msg)
		*msg = json_is_string(err) ? json_string_value(err) :
					     "podwalld sent an answer with neither ok nor error";
	if (code)
		*code = json_is_integer(c) && json_integer_value(c) > 0 &&
					json_integer_value(c) < 1000 ?
				(int)json_integer_value(c) :
				PW_API_E_TRY_AGAIN;
	return false;
}
