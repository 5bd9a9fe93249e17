#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# podwalld end to end: the real daemon, the real CNI chain (ptp + host-local,
# then the podwall plugin), real traffic between pods in network namespaces.
# Everything lives in a private world (unshare -n -m): its own host netns, its
# own bpffs pin root and /run/netns, a temporary directory; nothing leaks out.
#
# Environment: PODWALLD, PODWALLCTL, PW_CNI_PLUGIN (built binaries), CNI_PATH
# (default /usr/lib/cni). V=1 shows the daemon's log; PW_DAEMON_WRAP prefixes the
# daemon command (e.g. "valgrind --leak-check=full"). The world, the daemon and
# the pods come from lib.sh. Needs root, ip, socat, nc (netcat-openbsd), jq, curl.

set -u

NET=10.99.50.0/24
NS_PREFIX=pwd
. "$(dirname "$0")/lib.sh"
DAEMON_ARGS=(--manifests "$MAN" --uplink pwup0)
world_setup
# A stand-in uplink for the XDP program.
ip link add pwup0 type veth peer name pwup1 && ip link set pwup0 up && ip link set pwup1 up

rm_manifest() {
	local g
	g=$(status_field generation)
	rm -f "$MAN/$1"
	wait_gen "$g"
}

# Is a BPF program attached to the host veth's TC ingress?
tc_attached() { tc filter show dev "${HOSTIF[$1]}" ingress 2>/dev/null | grep -q bpf; }

# Default deny into role=server, allow from role=client on 8080 and 9090 (lib.sh's
# policy_manifest also opens 7070 to everyone).
server_policy() {
	cat <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-ingress, namespace: demo}
spec:
  podSelector: {matchLabels: {role: server}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports: [{protocol: TCP, port: 8080}, {protocol: TCP, port: 9090}]
EOF
}

# ---- the tests ---------------------------------------------------------------

echo "TAP version 13"

ns_manifest demo >"$MAN/00-ns.yaml"
pod_manifest a client >"$MAN/10-pod-a.yaml"
pod_manifest b server >"$MAN/10-pod-b.yaml"
pod_manifest c other >"$MAN/10-pod-c.yaml"

check "podwalld starts and answers ready" start_daemon
if [ "$(status_field ready)" != true ]; then
	diag "daemon not ready; giving up"
	exit 1
fi
check "socket is mode 0600" test "$(stat -c %a "$SOCK")" = 600
check "uplink pwup0 has the XDP program" eval 'ip link show pwup0 | grep -q xdp'
# A client that connects and never writes must not hold up anyone else.
sleep 5 | socat - UNIX-CONNECT:"$SOCK" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.2
check "a silent client does not block the API" eval 'timeout 2 "$PODWALLCTL" status -j >/dev/null'
add_three() { add_pod a && add_pod b && add_pod c; }
check "pods a, b, c added through ptp + podwall" add_three
check "three endpoints registered" test "$(status_field endpoints)" = 3
sleep 0.3 # the socat servers

# A runtime retrying ADD replaces the endpoint: same id, no duplicate.
id_of() { "$PODWALLCTL" endpoints -j | jq -r --arg p "$1" '.[] | select(.pod == $p) | .id'; }
id_a=$(id_of a)
check "a retried ADD of a succeeds" \
	eval 'cni ADD a "$PW_CNI_PLUGIN" "$(podwall_conf "${PREV[a]}")" >/dev/null'
check "a retried ADD keeps a's id and the endpoint count" \
	eval 'test "$(id_of a)" = "$id_a" && test "$(status_field endpoints)" = 3'

# 1. Policies from the manifest directory.
check "no policy: a -> b works" can a b
check "no policy: c -> b works" can c b
server_policy | put_manifest 20-policy.yaml
check "policy applied: status counts it" test "$(status_field policies)" = 1
check "policy: a (client) -> b works" can a b
check "policy: c (other) -> b denied" cannot c b
check "policy: b -> c still works (c not selected)" can b c
rm_manifest 20-policy.yaml
check "policy deleted: c -> b works again" can c b
server_policy | put_manifest 20-policy.yaml
check "policy back: c -> b denied" cannot c b

# 2. A label change in a Pod manifest moves the pod in and out of selection.
pod_manifest c client | put_manifest 10-pod-c.yaml
check "c relabelled client: c -> b works" can c b
pod_manifest c other | put_manifest 10-pod-c.yaml
check "c relabelled other: c -> b denied" cannot c b

# 5. Malformed input is rejected, naming file, object and field; enforcement stays.
server_policy | sed 's/- from:/- from:\n    - ipBlock: {cidr: 10.0.0.0\/33}/' |
	put_manifest 20-policy.yaml
err=$(status_field last_error)
diag "last_error: $err"
check "bad CIDR: error names the file" grep -q "20-policy.yaml" <<<"$err"
check "bad CIDR: error names the object" grep -q "demo/server-ingress" <<<"$err"
check "bad CIDR: error names the field" grep -q "cidr" <<<"$err"
check "bad CIDR: previous policy in force: a -> b works, c -> b denied" \
	eval 'can a b && cannot c b'
server_policy | put_manifest 20-policy.yaml

# 6. podwallctl status / endpoints.
st=$(status_json)
check "status -j has ok fields" jqok '.ready == true and .endpoints == 3 and .policies == 1 and
	(.epoch | type) == "number" and (.generation | type) == "number" and
	(.source | startswith("manifests:"))' <<<"$st"
eps=$("$PODWALLCTL" endpoints -j)
check "endpoints -j lists a, b, c ready with their addresses" jqok --arg ipb "${IP[b]}" \
	'length == 3 and all(.[]; .ready and (.id | type) == "number" and .interface != "") and
	 ([.[] | select(.pod == "b")][0].ips[0] == $ipb)' <<<"$eps"
check "endpoints -j counts b's ingress allowed and dropped packets" jqok \
	'[.[] | select(.pod == "b")][0].ingress | .allowed > 0 and .dropped > 0 and
	 .reasons["policy-denied-ingress"] > 0' <<<"$eps"
check "CNI CHECK of pod a passes (endpoint-check)" \
	eval 'cni CHECK a "$PW_CNI_PLUGIN" "$(podwall_conf "${PREV[a]}")" >/dev/null'
# Bad requests are answered with the CNI error codes and name the field.
api() { socat -t 3 - UNIX-CONNECT:"$SOCK" 2>/dev/null; }
check "API: a request that is not JSON gets code 7" \
	eval 'echo nope | api | jqok ".code == 7 and (.error | test(\"JSON\"))"'
check "API: endpoint-add without host_ifindex names the field" \
	eval 'echo "{\"cmd\":\"endpoint-add\",\"container_id\":\"x\",\"ifname\":\"eth0\",
		\"namespace\":\"demo\",\"pod\":\"x\"}" | api |
		jqok ".code == 7 and (.error | test(\"host_ifindex\"))"'
check "API: endpoint-del of an unknown container is ok (idempotent)" \
	eval 'echo "{\"cmd\":\"endpoint-del\",\"container_id\":\"nope\",\"ifname\":\"eth0\"}" |
		api | jqok ".ok == true"'
check "podwallctl status (text) works" eval '"$PODWALLCTL" status | grep -q "ready: *yes"'

# 3. SIGKILL during traffic: the datapath keeps enforcing; restart re-adopts.
coproc LL { ip netns exec pwd-a socat - TCP:"${IP[b]}":9090 2>/dev/null; }
PIDS+=("$LL_PID")
echo one >&"${LL[1]}"
read -r -t 3 line <&"${LL[0]}"
check "long-lived a -> b:9090 connection echoes" test "${line:-}" = one
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=
echo two >&"${LL[1]}"
line=
read -r -t 3 line <&"${LL[0]}"
check "daemon dead: the long-lived connection still works" test "${line:-}" = two
check "daemon dead: c -> b stays denied, a -> b still works" eval 'cannot c b && can a b'

# 4. CNI DEL while the daemon is down: queued, applied at restart. Only
# podwall's part of the chain runs now, so the veth still exists and only the
# queue can make the daemon forget the endpoint.
check "daemon dead: podwall DEL succeeds" del_podwall c
check "DEL with the daemon down is queued" test -f "$QUEUE/${CID[c]}.json"
start_daemon
check "restart: ready" test "$(status_field ready)" = true
check "restart: a and b re-adopted, queued DEL of c applied" eval \
	'"$PODWALLCTL" endpoints -j | jqok "length == 2 and ([.[].pod] | sort) == [\"a\", \"b\"]"'
check "restart: the queue is empty" test -z "$(ls "$QUEUE")"
check "restart: c's veth is detached, a's is attached" eval '! tc_attached c && tc_attached a'
del_ptp c
echo three >&"${LL[1]}"
line=
read -r -t 3 line <&"${LL[0]}"
check "restart: the long-lived connection survived" test "${line:-}" = three
check "after restart: pod c added again" add_pod c
check "after restart: c -> b denied (policy re-applied)" cannot c b
# A pod with no Pod manifest exists, with no labels.
check "pod d (no manifest) added" add_pod d
check "d has no labels: d -> b denied, b -> d works" eval 'cannot d b && can b d'
# Its veth vanishes without a CNI DEL: the daemon frees the endpoint.
ip link del "${HOSTIF[d]}"
wait_eps() {
	for _ in $(seq 50); do
		[ "$(status_field endpoints)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
check "d's veth deleted: its endpoint is reaped" wait_eps 3
rm_manifest 20-policy.yaml
check "after restart: a policy change takes effect (c -> b works)" can c b
kill "${LL_PID:-}" 2>/dev/null

# CNI GC: every endpoint not in the valid list goes.
gc_conf=$(printf '{"cniVersion":"1.1.0","name":"pwd-test","type":"podwall","socket":"%s",%s}' \
	"$SOCK" "$(printf '"cni.dev/valid-attachments":[{"containerID":"%s","ifname":"eth0"},%s]' \
		"${CID[a]}" "$(printf '{"containerID":"%s","ifname":"eth0"}' "${CID[b]}")")")
check "CNI GC keeping a and b succeeds" eval 'cni GC a "$PW_CNI_PLUGIN" "$gc_conf" >/dev/null'
check "CNI GC: c removed and detached, a and b kept" eval \
	'test "$(status_field endpoints)" = 2 && ! tc_attached c && tc_attached a && tc_attached b'

# Clean shutdown leaves enforcement in place; --uninstall removes it.
server_policy | put_manifest 20-policy.yaml
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=
check "SIGTERM: pins stay, c -> b stays denied" eval 'test -d "$PIN" && cannot c b'
check "podwallctl status -j with no daemon: {\"error\": ...}, exit 1" \
	eval '! "$PODWALLCTL" status -j >"$TMP/err.json" &&
		jqok ".error | test(\"podwalld\")" "$TMP/err.json"'
"$PODWALLD" --uninstall --pin-root "$PIN" --state-dir "$STATE" --uplink pwup0 >>"$LOG" 2>&1
check "--uninstall: pins removed, veths and uplink detached, c -> b open" \
	eval '! test -e "$PIN" && ! tc_attached b && ! ip link show pwup0 | grep -q xdp && can c b'

echo "1..$NTESTS"
echo "# $NFAIL of $NTESTS failed"
[ "$NFAIL" = 0 ]
