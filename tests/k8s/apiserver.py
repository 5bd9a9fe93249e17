#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A scripted Kubernetes API server for podwalld's tests (stdlib only).

It speaks the real list/watch protocol for Namespaces, Pods and
NetworkPolicies: paginated lists (limit/continue, resourceVersion), chunked
watch streams of ADDED/MODIFIED/DELETED/BOOKMARK/ERROR events, 410 Gone for
compacted resourceVersions, bearer-token checks, over HTTP or HTTPS. A second,
plain-HTTP control port lets a test change objects and inject faults:

  POST /_fixture/apply        an object (with kind)      -> ADDED or MODIFIED
  POST /_fixture/delete       {kind, namespace, name}    -> DELETED
  POST /_fixture/sync         a List of every object     -> the events that turn the current
                                                            state into it, one per changed
                                                            object (namespaces, pods, policies
                                                            added/modified first, deletions in
                                                            reverse order); answers the last
                                                            resourceVersion per resource touched
  POST /_fixture/fault        {fault, resource}          -> next on that resource's watch:
        disconnect | error410 | garbage | hugeline | slow | close
        expire_continue (the next list continue token is 410 Expired)
  POST /_fixture/http_errors  {count, code[, retry_after]} -> the next count API requests fail
                                                            (with a Retry-After header)
  POST /_fixture/compact                                 -> every resourceVersion seen so far
                                                            is gone; open watches end
  POST /_fixture/token        {token}                    -> only this token is accepted now;
                                                            open watches are cut
  GET  /_fixture/dump                                    -> every object, as a List
  GET  /_fixture/stats                                   -> request counters
  GET  /_fixture/requests                                -> every API request: {t (monotonic
                                                            seconds), resource, op, code}

--client-ca makes the HTTPS port require a client certificate signed by that
CA (kubeconfig client-certificate auth); with --token "" no token is asked.
"""
import argparse
import base64
import copy
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RESOURCES = {
    "/api/v1/namespaces": ("namespaces", "Namespace", "v1"),
    "/api/v1/pods": ("pods", "Pod", "v1"),
    "/apis/networking.k8s.io/v1/networkpolicies":
        ("networkpolicies", "NetworkPolicy", "networking.k8s.io/v1"),
}
KIND_RES = {kind: res for res, kind, _ in RESOURCES.values()}
RES_KIND = {res: (kind, ver) for res, kind, ver in RESOURCES.values()}


class World:
    def __init__(self, token):
        self.cv = threading.Condition()
        self.rv = 1
        self.min_rv = 0
        self.token = token
        self.token_gen = 0
        self.stream_gen = 0
        self.objs = {r: {} for r in RES_KIND}
        self.events = {r: [] for r in RES_KIND}
        self.faults = {r: [] for r in RES_KIND}
        self.http_errors = []
        self.requests = []
        self.snapshots = {}
        self.stats = {}

    def count(self, key):
        with self.cv:
            self.stats[key] = self.stats.get(key, 0) + 1

    def _key(self, obj):
        md = obj.get("metadata") or {}
        ns = "" if obj.get("kind") == "Namespace" else (md.get("namespace") or "default")
        return ns, md.get("name", "")

    def apply(self, obj):
        res = KIND_RES[obj["kind"]]
        with self.cv:
            self.rv += 1
            obj = copy.deepcopy(obj)
            md = obj.setdefault("metadata", {})
            if obj["kind"] != "Namespace":
                md.setdefault("namespace", "default")
            md["resourceVersion"] = str(self.rv)
            md.setdefault("uid", "uid-%s-%s" % self._key(obj))
            key = self._key(obj)
            typ = "MODIFIED" if key in self.objs[res] else "ADDED"
            self.objs[res][key] = obj
            self.events[res].append((self.rv, typ, obj))
            self.cv.notify_all()
            return self.rv

    def sync(self, items):
        """Applies what differs from items, deletes what items lack."""
        def bare(o):
            o = copy.deepcopy(o)
            md = o.setdefault("metadata", {})
            md.pop("resourceVersion", None)
            md.pop("uid", None)
            if o.get("kind") != "Namespace":
                md.setdefault("namespace", "default")
            return o
        want = {r: {} for r in RES_KIND}
        for o in items:
            want[KIND_RES[o["kind"]]][self._key(o)] = o
        order = ["namespaces", "pods", "networkpolicies"]
        last = {}
        with self.cv:
            for r in order:
                for key, o in sorted(want[r].items()):
                    cur = self.objs[r].get(key)
                    if cur is None or bare(cur) != bare(o):
                        last[r] = self.apply(o)
            for r in reversed(order):
                for key in sorted(set(self.objs[r]) - set(want[r])):
                    kind = RES_KIND[r][0]
                    last[r] = self.delete(kind, key[0], key[1])
        return {r: str(v) for r, v in last.items()}

    def delete(self, kind, ns, name):
        res = KIND_RES[kind]
        key = ("" if kind == "Namespace" else (ns or "default"), name)
        with self.cv:
            obj = self.objs[res].pop(key, None)
            if obj is None:
                return None
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self.events[res].append((self.rv, "DELETED", obj))
            self.cv.notify_all()
            return self.rv


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    world: World = None
    control = False

    def setup(self):
        super().setup()
        # As a real API server (Go's net/http) does: a small event must not
        # wait for the ACK of the previous one (Nagle + delayed ACK: 40 ms).
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if os.environ.get("V") == "1":
            sys.stderr.write("fixture: " + fmt % args + "\n")

    # -- plumbing --
    def reply(self, code, body, close=False, headers=None):
        data = json.dumps(body).encode() + b"\n"
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, msg, retry_after=None):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "message": msg, "reason": reason, "code": code},
                   headers={"Retry-After": str(retry_after)} if retry_after is not None else None)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def cut(self):
        """Drops the connection without ending the chunked body."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    # -- control port --
    def do_POST(self):
        w = self.world
        if not self.control:
            return self.status(405, "MethodNotAllowed", "read-only fixture")
        path = urlsplit(self.path).path
        b = self.body()
        if path == "/_fixture/apply":
            return self.reply(200, {"resourceVersion": str(w.apply(b))})
        if path == "/_fixture/delete":
            rv = w.delete(b["kind"], b.get("namespace"), b["name"])
            return self.reply(200 if rv else 404, {"resourceVersion": str(rv or "")})
        if path == "/_fixture/sync":
            return self.reply(200, w.sync(b.get("items") or []))
        if path == "/_fixture/fault":
            with w.cv:
                for r in RES_KIND if b.get("resource", "*") == "*" else [b["resource"]]:
                    w.faults[r].append(b["fault"])
                w.cv.notify_all()
            return self.reply(200, {})
        if path == "/_fixture/http_errors":
            with w.cv:
                w.http_errors += [(int(b.get("code", 500)), b.get("retry_after"))] * \
                    int(b.get("count", 1))
            return self.reply(200, {})
        if path == "/_fixture/compact":
            # Everything a client has seen is now too old; open watches end
            # (cleanly) before they can send a newer bookmark.
            with w.cv:
                w.rv += 1
                w.min_rv = w.rv
                w.snapshots.clear()
                w.stream_gen += 1
                w.cv.notify_all()
            return self.reply(200, {"min": w.min_rv})
        if path == "/_fixture/token":
            with w.cv:
                w.token = b["token"]
                w.token_gen += 1
                w.cv.notify_all()
            return self.reply(200, {})
        return self.status(404, "NotFound", path)

    def do_GET(self):
        w = self.world
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        if self.control:
            if u.path == "/_fixture/dump":
                with w.cv:
                    items = [o for r in RES_KIND for o in w.objs[r].values()]
                return self.reply(200, {"kind": "List", "apiVersion": "v1", "items": items})
            if u.path == "/_fixture/stats":
                with w.cv:
                    return self.reply(200, dict(w.stats, rv=w.rv))
            if u.path == "/_fixture/requests":
                with w.cv:
                    return self.reply(200, list(w.requests))
            return self.status(404, "NotFound", u.path)
        if u.path not in RESOURCES:
            return self.status(404, "NotFound", "the server could not find %s" % u.path)
        res = RESOURCES[u.path][0]
        watch = q.get("watch") in ("1", "true")
        w.count("%s %s" % (res, "watch" if watch else "list"))
        with w.cv:
            token = w.token
            err, after = w.http_errors.pop(0) if w.http_errors else (None, None)
        code = 401 if token and self.headers.get("Authorization") != "Bearer " + token else \
            err or 200
        with w.cv:
            w.requests.append({"t": time.monotonic(), "resource": res,
                               "op": "watch" if watch else "list", "code": code})
        if code == 401:
            w.count("401")
            return self.status(401, "Unauthorized", "Unauthorized")
        if err:
            w.count("injected %d" % err)
            return self.status(err, "InternalError" if err >= 500 else "TooManyRequests",
                               "injected error", retry_after=after)
        return self.watch(res, q) if watch else self.list(res, q)

    # -- list --
    def list(self, res, q):
        w = self.world
        kind, ver = RES_KIND[res]
        limit = int(q.get("limit") or 0)
        with w.cv:
            if q.get("continue") and "expire_continue" in w.faults[res]:
                w.faults[res].remove("expire_continue")
                w.snapshots.clear()
            if q.get("continue"):
                try:
                    tok = json.loads(base64.urlsafe_b64decode(q["continue"]))
                    rv, off, sid = tok["rv"], tok["off"], tok["sid"]
                    items = w.snapshots[sid]
                except (ValueError, KeyError):
                    w.count("410")
                    return self.status(410, "Expired",
                                       "The provided continue parameter is too old")
            else:
                rv, off = w.rv, 0
                items = [copy.deepcopy(o) for _, o in sorted(w.objs[res].items())]
                sid = "%s-%d-%d" % (res, rv, len(w.snapshots))
                w.snapshots[sid] = items
        page = items[off:off + limit] if limit else items[off:]
        md = {"resourceVersion": str(rv)}
        if limit and off + limit < len(items):
            md["continue"] = base64.urlsafe_b64encode(json.dumps(
                {"rv": rv, "off": off + limit, "sid": sid}).encode()).decode()
        for it in page:
            # A real list strips kind/apiVersion from items.
            it.pop("kind", None)
            it.pop("apiVersion", None)
        self.reply(200, {"kind": kind + "List", "apiVersion": ver, "metadata": md,
                         "items": page})

    # -- watch --
    def watch(self, res, q):
        w = self.world
        try:
            since = int(q.get("resourceVersion") or 0)
        except ValueError:
            return self.status(400, "BadRequest", "resourceVersion: not a number")
        timeout = float(q.get("timeoutSeconds") or 300)
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = time.monotonic() + timeout
        last_bm = time.monotonic()
        with w.cv:
            gen = w.token_gen
            sgen = w.stream_gen
            gone = since < w.min_rv
        if gone:
            w.count("watch gone")
            self.event("ERROR", {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                 "reason": "Expired", "code": 410,
                                 "message": "too old resource version: %d (%d)" %
                                 (since, w.min_rv)})
            self.chunk(b"")
            return
        poll = select.poll()
        poll.register(self.connection.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        try:
            while True:
                # A client that went away must not swallow the next fault.
                if poll.poll(0):
                    self.close_connection = True
                    return
                with w.cv:
                    todo = [e for e in w.events[res] if e[0] > since]
                    fault = self.take_fault(res)
                    if not todo and not fault and w.token_gen == gen and w.stream_gen == sgen:
                        w.cv.wait(0.2)
                        todo = [e for e in w.events[res] if e[0] > since]
                        fault = self.take_fault(res)
                    rotated = w.token_gen != gen
                    compacted = w.stream_gen != sgen
                    cur = w.rv
                if rotated:
                    return self.cut()
                if compacted:
                    self.chunk(b"")
                    return
                if fault:
                    w.count("fault " + fault)
                    if fault == "disconnect":
                        # Half an event, then the connection drops.
                        if todo:
                            line = self.line(todo[0][1], todo[0][2])
                            self.chunk(line[:len(line) // 2])
                        return self.cut()
                    if fault == "error410":
                        self.event("ERROR", {"kind": "Status", "apiVersion": "v1",
                                             "status": "Failure", "reason": "Expired",
                                             "code": 410, "message": "injected"})
                        self.chunk(b"")
                        return
                    # After garbage the client relists: end this stream so that
                    # the next queued fault meets the next stream.
                    if fault == "garbage":
                        self.chunk(b"this is not json {{{\n")
                        self.chunk(b"")
                        return
                    if fault == "hugeline":
                        blob = b'{"type":"MODIFIED","object":{"pad":"' + b"x" * (9 << 20)
                        for i in range(0, len(blob), 1 << 20):
                            self.chunk(blob[i:i + (1 << 20)])
                        self.chunk(b'"}}\n')
                        self.chunk(b"")
                        return
                    if fault == "close":
                        self.chunk(b"")
                        return
                    elif fault == "slow" and todo:
                        # One event dribbled out a few bytes at a time.
                        rv, typ, obj = todo.pop(0)
                        for b in [self.line(typ, obj)[i:i + 7]
                                  for i in range(0, len(self.line(typ, obj)), 7)]:
                            self.chunk(b)
                            time.sleep(0.002)
                        since = rv
                for rv, typ, obj in todo:
                    self.event(typ, obj)
                    since = rv
                now = time.monotonic()
                if bookmarks and now - last_bm >= 1.0:
                    kind, ver = RES_KIND[res]
                    self.event("BOOKMARK", {"kind": kind, "apiVersion": ver,
                                            "metadata": {"resourceVersion": str(cur)}})
                    since = max(since, cur)
                    last_bm = now
                if now >= end:
                    self.chunk(b"")
                    return
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def take_fault(self, res):
        """The next watch fault (caller holds the lock); list faults stay queued."""
        q = self.world.faults[res]
        for i, f in enumerate(q):
            if f != "expire_continue":
                return q.pop(i)
        return None

    def line(self, typ, obj):
        return json.dumps({"type": typ, "object": obj}).encode() + b"\n"

    def event(self, typ, obj):
        self.chunk(self.line(typ, obj))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--control-port-file", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--token", default="")
    ap.add_argument("--client-ca", help="require client certificates signed by this CA")
    ap.add_argument("--objects", help="a JSON List to start with")
    a = ap.parse_args()

    world = World(a.token)
    if a.objects:
        with open(a.objects) as f:
            for o in json.load(f)["items"]:
                world.apply(o)
    api = type("Api", (Handler,), {"world": world, "control": False})
    ctl = type("Ctl", (Handler,), {"world": world, "control": True})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), api)
    srv.daemon_threads = True
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(a.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    csrv = ThreadingHTTPServer(("127.0.0.1", 0), ctl)
    csrv.daemon_threads = True
    threading.Thread(target=csrv.serve_forever, daemon=True).start()
    for path, s in ((a.port_file, srv), (a.control_port_file, csrv)):
        with open(path + ".tmp", "w") as f:
            f.write(str(s.server_address[1]))
        os.rename(path + ".tmp", path)
    srv.serve_forever()


if __name__ == "__main__":
    main()
