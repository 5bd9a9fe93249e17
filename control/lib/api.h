/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The podwalld API: what the CNI plugin and podwallctl send to the daemon.
 *
 * Transport: a Unix stream socket, PW_API_SOCKET_DEFAULT, mode 0600 (root
 * only: whoever may talk to it may open any pod's traffic). One request per
 * connection: the client writes one JSON object followed by "\n"; the server
 * answers one JSON object followed by "\n" and closes the connection.
 *
 * Answers:
 *   success  {"ok": true, ...command-specific fields}
 *   failure  {"error": "<message naming the object and the field>", "code": <n>}
 * where code is CNI-compatible (PW_API_E_*), so that the CNI plugin can hand
 * it to the runtime unchanged: 11 (try again later) for transient conditions,
 * 3 for an unknown container, 7 for a bad request, 5 for an I/O failure.
 *
 * Requests ("cmd" selects the command; every other field is a string unless
 * said otherwise):
 *
 *   endpoint-add   container_id, netns, ifname, namespace, pod, uid (may be ""),
 *                  host_ifname, host_ifindex (integer, in the daemon's netns),
 *                  ips (array of "address/prefix" strings), mac (container side)
 *                  The daemon answers only once the TC programs are attached
 *                  to host_ifindex and the pod's policy (or default deny, when
 *                  any policy selects it and sync is pending) is installed:
 *                  the plugin returns the CNI result only after that. Adding an
 *                  endpoint that exists with the same container_id and ifname
 *                  replaces it (runtimes retry ADD).
 *   endpoint-del   container_id, ifname, namespace, pod (both may be "" when
 *                  the runtime gave no pod arguments on DEL)
 *                  Deleting an unknown endpoint succeeds: DEL is idempotent.
 *   endpoint-check container_id, ifname
 *                  ok only if the endpoint is known, attached and its policy
 *                  map entries are in place; otherwise an error (code 3 for
 *                  an unknown endpoint).
 *   status         -> {"ok": true, "ready": bool, "reason": "<why not ready>"}
 *   gc             valid (array of {"containerID": s, "ifname": s}, the CNI
 *                  cni.dev/valid-attachments list): the daemon removes every
 *                  endpoint, and its pins, not in the list.
 *   flows          namespace, pod, verdict (optional filters), limit (integer)
 *                  -> {"ok": true, "flows": [verdict records]}. With
 *                  "follow": true the one exception to one-answer-per-
 *                  connection: the daemon answers {"ok": true, "stream":
 *                  "flows"}, then writes each matching record as one JSON
 *                  line until the client closes (control/daemon/README.md).
 *
 * DEL queue (the daemon is down while a pod is deleted):
 *   The CNI plugin writes the endpoint-del request it could not send to
 *   "<queue dir>/<container_id>.json" (default dir PW_API_QUEUE_DIR_DEFAULT,
 *   mode 0700; file mode 0600), as one JSON object:
 *     {"cmd": "endpoint-del", "container_id", "ifname", "namespace", "pod",
 *      "queued_at": <integer, Unix seconds>}
 *   It writes "<dir>/.<container_id>.json.tmp" then rename()s, so a reader
 *   never sees a partial file; a later DEL of the same container overwrites.
 *   Container ids are restricted by the CNI spec to [A-Za-z0-9][A-Za-z0-9_.-]*,
 *   so the name is a safe file name. The daemon, on start and before it
 *   answers any request on the socket, applies every "*.json" file (names
 *   starting with "." are in-flight temporaries: ignore them) as an
 *   endpoint-del and unlinks it; a file that does not parse is logged and
 *   renamed to "<name>.bad". When the daemon is up, the plugin removes a stale
 *   queued file for the container after the daemon acknowledged its DEL.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include <jansson.h>

#define PW_API_SOCKET_DEFAULT	 "/run/podwall/podwalld.sock"
#define PW_API_QUEUE_DIR_DEFAULT "/var/lib/podwall/cni-queue"
#define PW_API_TIMEOUT_MS_DEFAULT 10000

/* Largest answer the client accepts: a status or endpoint list, not a dump. */
#define PW_API_MAX_MSG (4U << 20)

#define PW_API_CMD_ENDPOINT_ADD	  "endpoint-add"
#define PW_API_CMD_ENDPOINT_DEL	  "endpoint-del"
#define PW_API_CMD_ENDPOINT_CHECK "endpoint-check"
#define PW_API_CMD_STATUS	  "status"
#define PW_API_CMD_GC		  "gc"

/* Error codes in answers: the CNI spec's, so the plugin can pass them on. */
#define PW_API_E_CONTAINER_UNKNOWN 3
#define PW_API_E_IO		   5
#define PW_API_E_INVALID	   7
#define PW_API_E_TRY_AGAIN	   11

/**
 * pw_api_call() - send one request to podwalld and read its answer.
 * @sock: socket path; NULL means PW_API_SOCKET_DEFAULT.
 * @req: the request object (borrowed).
 * @timeout_ms: bound on the whole exchange (connect, write, read); <= 0 means
 *	PW_API_TIMEOUT_MS_DEFAULT.
 * @resp: on success, the answer object (owned by the caller, json_decref()).
 *
 * Return: 0 when a well-formed answer arrived, whether it says ok or error
 * (see pw_api_resp_ok()); -ENOENT or -ECONNREFUSED when no daemon listens,
 * -ETIMEDOUT, -ENAMETOOLONG for a path that does not fit sockaddr_un,
 * -EBADMSG for an answer that is not one JSON object, -EMSGSIZE past
 * PW_API_MAX_MSG, other -errno from the socket. *resp is untouched on error.
 */
int pw_api_call(const char *sock, json_t *req, int timeout_ms, json_t **resp);

/**
 * pw_api_resp_ok() - whether an answer is a success.
 * @resp: an answer from pw_api_call().
 * @msg: if not NULL and the answer is a failure, its message (borrowed from
 *	@resp), or a description of what is wrong with the answer.
 * @code: if not NULL and the answer is a failure, its code (PW_API_E_TRY_AGAIN
 *	when the answer gives none).
 *
 * Return: true for {"ok": true, ...}.
 */
bool pw_api_resp_ok(const json_t *resp, const char **msg, int *code);

/* Whether an error from pw_api_call() means "no daemon is there". */
static inline bool pw_api_err_is_down(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED;
}
