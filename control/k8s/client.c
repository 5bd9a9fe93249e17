// SPDX-License-Identifier: GPL-2.0-only
/*
 * List + watch over libcurl's multi interface. Each resource cycles through
 *
 *   LIST (paginated: limit/continue) -> WATCH from the list's resourceVersion
 *     -> WATCH again (timeoutSeconds ended, or the stream broke: from the last
 *        resourceVersion seen, bookmarks included)
 *     -> LIST again on 410 Gone (status or ERROR event), an over-long or
 *        unparseable event line (the stream is out of step: we cannot know
 *        what we missed)
 *
 * with an exponential, jittered backoff between failed attempts (connection
 * errors, 401/403, 429, 5xx). The client's sockets and two timerfds (curl's
 * timeout, retries) sit in a private epoll fd that the daemon's loop polls,
 * so every step runs from the daemon's loop and nothing blocks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cleanup.h"
#include "k8s.h"
#include "log.h"

#define LIST_BODY_MAX  (512u << 20) /* one list page; limit keeps it far below */
#define ERR_BODY_MAX   4096
#define QUICK_WATCH_MS 1000 /* a watch that ends sooner without data counts as a failure */

enum phase { PH_IDLE, PH_LIST, PH_WATCH, PH_BACKOFF };
static const char *const phase_names[] = { "idle", "listing", "watching", "backoff" };

static const struct {
	const char *name, *kind, *api_version, *path;
} res_info[_PW_K8S_RES_MAX] = {
	[PW_K8S_NAMESPACES] = { "namespaces", "Namespace", "v1", "/api/v1/namespaces" },
	[PW_K8S_PODS] = { "pods", "Pod", "v1", "/api/v1/pods" },
	[PW_K8S_POLICIES] = { "networkpolicies", "NetworkPolicy", "networking.k8s.io/v1",
			      "/apis/networking.k8s.io/v1/networkpolicies" },
};

const char *pw_k8s_res_name(enum pw_k8s_res r)
{
	return r < _PW_K8S_RES_MAX ? res_info[r].name : "?";
}

const char *pw_k8s_res_kind(enum pw_k8s_res r)
{
	return r < _PW_K8S_RES_MAX ? res_info[r].kind : "?";
}

struct pw_k8s_client;

struct res {
	struct pw_k8s_client *c;
	enum pw_k8s_res r;
	enum phase phase;
	CURL *easy;
	struct curl_slist *hdrs;
	bool relist;	  /* the next request is a list, from scratch */
	bool want_relist; /* the current watch found the stream out of step */
	bool synced;	  /* first list done */
	bool got_data;	  /* the current watch delivered an event or bookmark */

	/* List in progress. */
	char *body;
	size_t body_len, body_cap;
	json_t *items;
	char *cont;

	/* Watch in progress. */
	struct pw_k8s_linebuf lb;
	char *rv;
	uint64_t started_ms, last_contact_ms, retry_at_ms;
	long http;

	struct pw_k8s_backoff bo;  /* failed requests; reset by a list or a watch that works */
	struct pw_k8s_backoff rbo; /* relists after streams that never worked; reset by data */
	char last_error[512];
	uint64_t n_lists, n_watches, n_events, n_bookmarks, n_errors, n_relists, n_skipped;
};

struct pw_k8s_client {
	struct pw_k8s_config cfg;
	struct pw_k8s_client_opts o;
	struct pw_k8s_ops ops;
	void *ctx;
	CURLM *multi;
	int epfd, curl_tfd, retry_tfd;
	struct res res[_PW_K8S_RES_MAX];
	bool delivered; /* lists or events went to ops since the last batch_end */

	/* The bearer token, re-read when its file changes (rotated service account tokens). */
	char *token;
	struct timespec token_mtime;
	ino_t token_ino;
	off_t token_size;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_error(struct res *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(struct res *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
	va_end(ap);
	s->n_errors++;
	pr_warn("k8s %s: %s", res_info[s->r].name, s->last_error);
}

static void arm(int tfd, uint64_t ms)
{
	struct itimerspec its = {};

	if (ms != UINT64_MAX) {
		/* 0 would disarm: "now" is one nanosecond from now. */
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = ms % 1000 ? (long)(ms % 1000) * 1000000L : 1;
	}
	timerfd_settime(tfd, 0, &its, NULL);
}

/* Re-reads the token file if it changed; keeps the old token if it cannot be read. */
static void token_refresh(struct pw_k8s_client *c)
{
	struct stat st;
	char buf[16384];
	ssize_t n;
	int fd;

	if (!c->cfg.token_file || stat(c->cfg.token_file, &st) < 0)
		return;
	if (c->token && st.st_ino == c->token_ino && st.st_size == c->token_size &&
	    st.st_mtim.tv_sec == c->token_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == c->token_mtime.tv_nsec)
		return;
	fd = open(c->cfg.token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	free(c->token);
	c->token = strdup(buf);
	c->token_ino = st.st_ino;
	c->token_size = st.st_size;
	c->token_mtime = st.st_mtim;
	pr_info("k8s: bearer token (re)read from %s", c->cfg.token_file);
}

/* ---- curl plumbing ---- */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct pw_k8s_client *c = userp;
	struct epoll_event ev = { .data.fd = fd };

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct pw_k8s_client *c = userp;

	(void)multi;
	arm(c->curl_tfd, timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms);
	return 0;
}

static void start_next(struct res *s);

/* ---- list ---- */

static size_t on_list_data(char *p, size_t size, size_t nmemb, void *userp)
{
	struct res *s = userp;
	size_t n = size * nmemb, max;

	if (!s->http)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http);
	max = s->http == 200 ? LIST_BODY_MAX : ERR_BODY_MAX;
	if (s->body_len + n > max) {
		if (s->http != 200)
			return n; /* an error body: keep its beginning */
		return 0;
	}
	if (s->body_len + n + 1 > s->body_cap) {
		size_t cap = s->body_cap ? s->body_cap : 65536;
		char *b;

		while (cap < s->body_len + n + 1)
			cap *= 2;
		b = realloc(s->body, cap);
		if (!b)
			return 0;
		s->body = b;
		s->body_cap = cap;
	}
	memcpy(s->body + s->body_len, p, n);
	s->body_len += n;
	s->body[s->body_len] = '\0';
	return n;
}

/* Every item and event object gets its kind: list items come without one. */
static void stamp(struct res *s, json_t *obj)
{
	json_object_set_new(obj, "kind", json_string(res_info[s->r].kind));
	json_object_set_new(obj, "apiVersion", json_string(res_info[s->r].api_version));
}

static const char *meta(json_t *obj, const char *field)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static void set_rv(struct res *s, const char *rv)
{
	char *n;

	if (!rv || !*rv || (s->rv && !strcmp(s->rv, rv)))
		return;
	n = strdup(rv);
	if (!n)
		return;
	free(s->rv);
	s->rv = n;
}

static void list_done(struct res *s)
{
	json_error_t je;
	json_t *root, *items, *it;
	const char *cont;
	size_t i;

	root = json_loadb(s->body ?: "", s->body_len, 0, &je);
	items = json_object_get(root, "items");
	if (!json_is_object(root) || !(json_is_array(items) || json_is_null(items))) {
		set_error(s, "list: response is not a %sList: %s", res_info[s->r].kind,
			  root ? "no items" : je.text);
		json_decref(root);
		s->relist = true;
		s->phase = PH_BACKOFF;
		return;
	}
	json_array_foreach (items, i, it) {
		if (!json_is_object(it)) {
			s->n_skipped++;
			continue;
		}
		stamp(s, it);
		json_array_append(s->items, it);
	}
	cont = meta(root, "continue");
	free(s->cont);
	s->cont = cont && *cont ? strdup(cont) : NULL;
	if (s->cont) {
		/* Next page, right away. */
		json_decref(root);
		s->phase = PH_IDLE;
		return;
	}
	set_rv(s, meta(root, "resourceVersion"));
	json_decref(root);
	pr_info("k8s %s: listed %zu object(s) at resourceVersion %s", res_info[s->r].name,
		json_array_size(s->items), s->rv ?: "?");
	s->c->ops.relist(s->c->ctx, s->r, s->items);
	s->c->delivered = true;
	json_array_clear(s->items);
	s->synced = true;
	s->relist = false;
	s->last_contact_ms = now_ms();
	s->last_error[0] = '\0';
	pw_k8s_backoff_reset(&s->bo);
	s->phase = PH_IDLE;
}

/* ---- watch ---- */

static int on_line(void *userp, char *line, size_t len)
{
	struct res *s = userp;
	json_error_t je;
	json_t *ev = json_loadb(line, len, 0, &je), *obj;
	const char *type;

	obj = json_object_get(ev, "object");
	type = json_string_value(json_object_get(ev, "type"));
	if (!json_is_object(ev) || !type || !json_is_object(obj)) {
		/* We cannot tell what this was: whatever it was, the next list has it. */
		set_error(s, "watch: malformed event line (%.60s%s): relisting", line,
			  len > 60 ? "..." : "");
		json_decref(ev);
		s->want_relist = true;
		return -EBADMSG;
	}
	s->last_contact_ms = now_ms();
	if (strcmp(type, "ERROR")) {
		/* The stream works: whatever failed before is over. */
		s->got_data = true;
		pw_k8s_backoff_reset(&s->bo);
		pw_k8s_backoff_reset(&s->rbo);
	}
	if (!strcmp(type, "BOOKMARK")) {
		s->n_bookmarks++;
		set_rv(s, meta(obj, "resourceVersion"));
	} else if (!strcmp(type, "ERROR")) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		const char *msg = json_string_value(json_object_get(obj, "message"));

		set_error(s, "watch: ERROR event %lld: %s", (long long)code, msg ?: "");
		/* 410: our resourceVersion is too old; anything else: start over as well. */
		s->want_relist = true;
		json_decref(ev);
		return -EPROTO;
	} else if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED") ||
		   !strcmp(type, "DELETED")) {
		const char *name = meta(obj, "name"), *ns = meta(obj, "namespace");

		if (!name || !*name) {
			s->n_skipped++;
			pr_err("k8s %s: %s event for %s %s/<no name>: metadata.name missing; skipped",
			       res_info[s->r].name, type, res_info[s->r].kind, ns ?: "");
		} else {
			stamp(s, obj);
			s->n_events++;
			s->c->ops.event(s->c->ctx, s->r, type, obj);
			s->c->delivered = true;
		}
		set_rv(s, meta(obj, "resourceVersion"));
	} else {
		s->n_skipped++;
		pr_warn("k8s %s: unknown watch event type \"%s\"; skipped", res_info[s->r].name,
			type);
	}
	json_decref(ev);
	return 0;
}

static size_t on_watch_data(char *p, size_t size, size_t nmemb, void *userp)
{
	struct res *s = userp;
	size_t n = size * nmemb;
	int err;

	if (!s->http)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->http);
	if (s->http != 200)
		return on_list_data(p, size, nmemb, userp);
	err = pw_k8s_linebuf_feed(&s->lb, p, n, on_line, s);
	if (err == -E2BIG) {
		set_error(s, "watch: an event line is longer than %zu bytes: relisting",
			  s->c->o.max_line);
		s->want_relist = true;
	}
	/* Returning less than n aborts the transfer (CURLE_WRITE_ERROR). */
	return err ? 0 : n;
}

/* ---- requests ---- */

static int start_request(struct res *s, bool list)
{
	struct pw_k8s_client *c = s->c;
	_cleanup_free_ char *url = NULL, *auth = NULL, *cont = NULL;
	CURL *e;
	int r;

	token_refresh(c);
	e = curl_easy_init();
	if (!e)
		return -ENOMEM;
	if (list) {
		if (s->cont)
			cont = curl_easy_escape(e, s->cont, 0);
		r = asprintf(&url, "%s%s?limit=%u%s%s", c->cfg.server, res_info[s->r].path,
			     c->o.page_limit, cont ? "&continue=" : "", cont ?: "");
	} else {
		_cleanup_free_ char *rv = curl_easy_escape(e, s->rv ?: "", 0);

		r = asprintf(&url,
			     "%s%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%u"
			     "&resourceVersion=%s",
			     c->cfg.server, res_info[s->r].path, c->o.watch_timeout_s, rv ?: "");
	}
	if (cont)
		curl_free(TAKE_PTR(cont));
	if (r < 0) {
		curl_easy_cleanup(e);
		return -ENOMEM;
	}
	s->hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (c->token || c->cfg.token) {
		if (asprintf(&auth, "Authorization: Bearer %s", c->token ?: c->cfg.token) < 0) {
			curl_easy_cleanup(e);
			return -ENOMEM;
		}
		s->hdrs = curl_slist_append(s->hdrs, auth);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "podwalld/0.1");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* A watch ends after timeoutSeconds; the margin catches a server that forgot. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, list ? 120L : (long)c->o.watch_timeout_s + 30L);
	if (c->cfg.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->cfg.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cfg.ca_file);
	if (c->cfg.ca_pem) {
		struct curl_blob b = { c->cfg.ca_pem, strlen(c->cfg.ca_pem), CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (c->cfg.cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cfg.cert_file);
	if (c->cfg.key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->cfg.key_file);
	if (c->cfg.cert_pem) {
		struct curl_blob b = { c->cfg.cert_pem, strlen(c->cfg.cert_pem), CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (c->cfg.key_pem) {
		struct curl_blob b = { c->cfg.key_pem, strlen(c->cfg.key_pem), CURL_BLOB_COPY };

		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, list ? on_list_data : on_watch_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	s->easy = e;
	s->http = 0;
	s->body_len = 0;
	s->got_data = false;
	s->want_relist = false;
	pw_k8s_linebuf_reset(&s->lb);
	s->started_ms = now_ms();
	s->phase = list ? PH_LIST : PH_WATCH;
	if (list)
		s->n_lists++;
	else
		s->n_watches++;
	pr_debug("k8s %s: GET %s", res_info[s->r].name, url);
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		s->easy = NULL;
		curl_slist_free_all(TAKE_PTR(s->hdrs));
		return -EIO;
	}
	return 0;
}

static void end_request(struct res *s)
{
	if (s->easy) {
		curl_multi_remove_handle(s->c->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
}

static void rearm_retry(struct pw_k8s_client *c)
{
	uint64_t first = UINT64_MAX, now = now_ms();

	for (int i = 0; i < _PW_K8S_RES_MAX; i++)
		if (c->res[i].phase == PH_BACKOFF && c->res[i].retry_at_ms < first)
			first = c->res[i].retry_at_ms;
	arm(c->retry_tfd, first == UINT64_MAX ? UINT64_MAX : first > now ? first - now : 0);
}

static void backoff_with(struct res *s, struct pw_k8s_backoff *bo)
{
	uint32_t ms = pw_k8s_backoff_next(bo);

	s->phase = PH_BACKOFF;
	s->retry_at_ms = now_ms() + ms;
	pr_info("k8s %s: retry in %u ms", res_info[s->r].name, ms);
}

static void backoff(struct res *s)
{
	backoff_with(s, &s->bo);
}

/*
 * 429 and 503 may say when to come back (Retry-After, seconds or an HTTP date;
 * curl parses both): wait at least that long, at most the backoff's cap.
 */
static void backoff_retry_after(struct res *s, curl_off_t after_s)
{
	uint32_t ms = pw_k8s_retry_after_ms(pw_k8s_backoff_next(&s->bo), (int64_t)after_s,
					    s->c->o.backoff_max_ms);

	s->phase = PH_BACKOFF;
	s->retry_at_ms = now_ms() + ms;
	pr_info("k8s %s: retry in %u ms (Retry-After: %lld s)", res_info[s->r].name, ms,
		(long long)after_s);
}

/* Starts whatever the resource does next: a (next page of a) list, or a watch. */
static void start_next(struct res *s)
{
	bool list = s->relist || !s->rv || !s->synced || s->cont;
	int err;

	if (list && !s->cont)
		json_array_clear(s->items);
	err = start_request(s, list);
	if (err) {
		set_error(s, "start a request: %s", strerror(-err));
		backoff(s);
	}
}

/*
 * Lists again from scratch: at once after a stream that worked for a while,
 * else after a backoff of its own (a list that works does not reset it), so
 * that a server answering every watch with 410 or garbage is not hammered
 * with full lists.
 */
static void relist(struct res *s, uint64_t lasted)
{
	s->relist = true;
	s->n_relists++;
	free(s->cont);
	s->cont = NULL;
	if (s->got_data || lasted >= QUICK_WATCH_MS)
		s->phase = PH_IDLE;
	else
		backoff_with(s, &s->rbo);
}

/* One transfer ended: decide what comes next. */
static void finished(struct res *s, CURLcode code)
{
	bool was_list = s->phase == PH_LIST;
	uint64_t lasted = now_ms() - s->started_ms;
	curl_off_t after_s = -1;
	long http = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &http);
	if ((http == 429 || http == 503) &&
	    curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &after_s) != CURLE_OK)
		after_s = -1;
	end_request(s);
	if (was_list) {
		if (code == CURLE_OK && http == 200) {
			list_done(s);
			if (s->phase == PH_BACKOFF)
				backoff(s);
			return;
		}
	} else if (s->want_relist) {
		/* 410 ERROR event, over-long or garbage line: the stream is out of step. */
		relist(s, lasted);
		return;
	} else if (code == CURLE_OK && http == 200) {
		/* timeoutSeconds ran out, or the server closed the stream cleanly. */
		s->last_contact_ms = now_ms();
		if (s->got_data || lasted >= QUICK_WATCH_MS) {
			pw_k8s_backoff_reset(&s->bo);
			s->phase = PH_IDLE;
			return;
		}
		set_error(s, "watch: the stream ended at once without data");
		backoff(s);
		return;
	}
	if (http == 410) {
		/* Our resourceVersion (or list continue token) is compacted away. */
		set_error(s, "%s: 410 Gone: relisting", was_list ? "list" : "watch");
		relist(s, lasted);
		return;
	}
	if (http && http != 200) {
		char snippet[160] = "";

		if (s->body_len) {
			snprintf(snippet, sizeof(snippet), ": %.*s", (int)s->body_len, s->body);
			for (char *q = snippet; *q; q++)
				if (*q == '\n' || *q == '\r')
					*q = ' ';
		}
		set_error(s, "%s: HTTP %ld%s", was_list ? "list" : "watch", http, snippet);
		if (after_s > 0) {
			if (was_list) {
				free(s->cont);
				s->cont = NULL;
			}
			backoff_retry_after(s, after_s);
			return;
		}
	} else {
		set_error(s, "%s: %s", was_list ? "list" : "watch", curl_easy_strerror(code));
	}
	/* A broken list starts over; a broken watch resumes from the last resourceVersion. */
	if (was_list) {
		free(s->cont);
		s->cont = NULL;
	}
	backoff(s);
}

static void run_due(struct pw_k8s_client *c)
{
	uint64_t now = now_ms();

	for (int i = 0; i < _PW_K8S_RES_MAX; i++) {
		struct res *s = &c->res[i];

		if (s->phase == PH_IDLE || (s->phase == PH_BACKOFF && s->retry_at_ms <= now))
			start_next(s);
	}
	rearm_retry(c);
}

static void check_done(struct pw_k8s_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct res *s = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s)
			finished(s, m->data.result);
	}
}

void pw_k8s_client_dispatch(struct pw_k8s_client *c)
{
	struct epoll_event evs[16];
	int n, running;

	n = epoll_wait(c->epfd, evs, ARRAY_SIZE(evs), 0);
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		uint64_t x;

		if (fd == c->curl_tfd) {
			if (read(fd, &x, sizeof(x)) > 0)
				curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		} else if (fd == c->retry_tfd) {
			if (read(fd, &x, sizeof(x)) < 0)
				continue;
		} else {
			int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				    (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

			curl_multi_socket_action(c->multi, fd, flags, &running);
		}
	}
	check_done(c);
	run_due(c);
	if (c->delivered) {
		c->delivered = false;
		if (c->ops.batch_end)
			c->ops.batch_end(c->ctx);
	}
}

int pw_k8s_client_start(struct pw_k8s_client *c)
{
	for (int i = 0; i < _PW_K8S_RES_MAX; i++)
		c->res[i].phase = PH_IDLE;
	run_due(c);
	return 0;
}

int pw_k8s_client_fd(const struct pw_k8s_client *c)
{
	return c->epfd;
}

bool pw_k8s_client_synced(const struct pw_k8s_client *c)
{
	for (int i = 0; i < _PW_K8S_RES_MAX; i++)
		if (!c->res[i].synced)
			return false;
	return true;
}

json_t *pw_k8s_client_status(const struct pw_k8s_client *c)
{
	json_t *o = json_object();
	uint64_t now = now_ms();

	for (int i = 0; i < _PW_K8S_RES_MAX; i++) {
		const struct res *s = &c->res[i];

		json_object_set_new(
			o, res_info[i].name,
			json_pack("{s:b, s:s, s:s?, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				  "synced", s->synced, "state", phase_names[s->phase],
				  "resourceVersion", s->rv, "last_error", s->last_error, "lag_ms",
				  (json_int_t)(s->last_contact_ms ? now - s->last_contact_ms : 0),
				  "lists", (json_int_t)s->n_lists, "watches",
				  (json_int_t)s->n_watches, "events", (json_int_t)s->n_events,
				  "bookmarks", (json_int_t)s->n_bookmarks, "relists",
				  (json_int_t)s->n_relists, "errors", (json_int_t)s->n_errors,
				  "skipped", (json_int_t)s->n_skipped));
	}
	return o;
}

static char *dup_opt(const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

int pw_k8s_client_new(struct pw_k8s_client **out, const struct pw_k8s_config *cfg,
		      const struct pw_k8s_client_opts *opts, const struct pw_k8s_ops *ops,
		      void *ctx)
{
	static bool curl_inited;
	struct pw_k8s_client *c;
	bool ok = true;
	int err = -ENOMEM;

	if (!cfg->server || !ops->relist || !ops->event)
		return -EINVAL;
	if (!curl_inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return -EIO;
		curl_inited = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->epfd = c->curl_tfd = c->retry_tfd = -1;
	c->ops = *ops;
	c->ctx = ctx;
	c->o = opts ? *opts : (struct pw_k8s_client_opts){};
	c->o.watch_timeout_s = c->o.watch_timeout_s ?: 300;
	c->o.page_limit = c->o.page_limit ?: 500;
	c->o.max_line = c->o.max_line ?: 8u << 20;
	c->o.backoff_base_ms = c->o.backoff_base_ms ?: 200;
	c->o.backoff_max_ms = c->o.backoff_max_ms ?: 30000;
	c->cfg.server = dup_opt(cfg->server, &ok);
	c->cfg.token = dup_opt(cfg->token, &ok);
	c->cfg.token_file = dup_opt(cfg->token_file, &ok);
	c->cfg.ca_file = dup_opt(cfg->ca_file, &ok);
	c->cfg.ca_pem = dup_opt(cfg->ca_pem, &ok);
	c->cfg.cert_file = dup_opt(cfg->cert_file, &ok);
	c->cfg.key_file = dup_opt(cfg->key_file, &ok);
	c->cfg.cert_pem = dup_opt(cfg->cert_pem, &ok);
	c->cfg.key_pem = dup_opt(cfg->key_pem, &ok);
	c->cfg.insecure = cfg->insecure;
	if (!ok)
		goto fail;
	for (int i = 0; i < _PW_K8S_RES_MAX; i++) {
		struct res *s = &c->res[i];

		s->c = c;
		s->r = (enum pw_k8s_res)i;
		s->items = json_array();
		if (!s->items)
			goto fail;
		pw_k8s_linebuf_init(&s->lb, c->o.max_line);
		pw_k8s_backoff_init(&s->bo, c->o.backoff_base_ms, c->o.backoff_max_ms,
				    (uint64_t)now_ms() * 2654435761u + (uint64_t)getpid() + (uint64_t)i);
		pw_k8s_backoff_init(&s->rbo, c->o.backoff_base_ms, c->o.backoff_max_ms,
				    s->bo.rnd * 31 + 7);
	}
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->curl_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	c->retry_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->epfd < 0 || c->curl_tfd < 0 || c->retry_tfd < 0) {
		err = -errno;
		goto fail;
	}
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->curl_tfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.fd = c->curl_tfd }) ||
	    epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->retry_tfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.fd = c->retry_tfd })) {
		err = -errno;
		goto fail;
	}
	c->multi = curl_multi_init();
	if (!c->multi) {
		err = -ENOMEM;
		goto fail;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*out = c;
	return 0;
fail:
	pw_k8s_client_free(&c);
	return err;
}

void pw_k8s_client_free(struct pw_k8s_client **cp)
{
	struct pw_k8s_client *c = *cp;

	if (!c)
		return;
	for (int i = 0; i < _PW_K8S_RES_MAX; i++) {
		struct res *s = &c->res[i];

		if (s->c)
			end_request(s);
		json_decref(s->items);
		free(s->body);
		free(s->cont);
		free(s->rv);
		pw_k8s_linebuf_free(&s->lb);
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->curl_tfd >= 0)
		close(c->curl_tfd);
	if (c->retry_tfd >= 0)
		close(c->retry_tfd);
	free(c->token);
	pw_k8s_config_clear(&c->cfg);
	free(c);
	*cp = NULL;
}
