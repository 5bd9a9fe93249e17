#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Kubernetes API sync: podwalld against the scripted API server
# (tests/k8s/apiserver.py, HTTPS + bearer token) holding a cluster of
# 10k pods, 1k namespaces and 1k NetworkPolicies.
#
#   sudo tests/bench/k8s.sh [-p PODS] [-s NAMESPACES] [-P POLICIES] [-l LOCAL] [-c CHANGES] [-j]
#
# 1. Initial sync: from podwalld's start to "ready" in its status (every
#    resource listed, paginated, compiled and written to the maps), and the
#    daemon's peak RSS (VmHWM) then.
# 2. Change to enforcement: LOCAL pods of namespace "bench" run on this node
#    (real netns, ptp + podwall CNI chain). CHANGES times a policy is modified
#    on the server (a new port each time) and bench_k8s_latency reads the
#    pinned pw_policy map (libbpf: outer map -> each pod's inner map) until the
#    new port is there; p50/p99 of the time from the POST to that moment, for
#    a policy selecting one local pod and for one selecting all LOCAL of them.
# Runs in a private world (unshare -n -m). Exit 0 whatever the figures, 77
# without root or tools, 1 if the setup fails.

set -u

NPODS=10000 NNS=1000 NPOL=1000 NLOCAL=20 NCHANGES=100 JSON=0
while getopts "p:s:P:l:c:jh" o; do
	case $o in
	p) NPODS=$OPTARG ;;
	s) NNS=$OPTARG ;;
	P) NPOL=$OPTARG ;;
	l) NLOCAL=$OPTARG ;;
	c) NCHANGES=$OPTARG ;;
	j) JSON=1 ;;
	*) echo "usage: k8s.sh [-p PODS] [-s NAMESPACES] [-P POLICIES] [-l LOCAL] [-c CHANGES] [-j]"
	   exit 2 ;;
	esac
done

skip() { echo "k8s.sh: SKIP: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
SRC=$(dirname "$(readlink -f "$0")")/../..
B=${BUILD:-$SRC/build}
CNI_PATH=${CNI_PATH:-/usr/lib/cni}
PODWALLD=${PODWALLD:-$B/control/daemon/podwalld}
PODWALLCTL=${PODWALLCTL:-$B/control/cli/podwallctl}
PW_CNI_PLUGIN=${PW_CNI_PLUGIN:-$B/cni-plugin/podwall}
LATENCY=${LATENCY:-$B/tests/bench/bench_k8s_latency}
FIXTURE=${FIXTURE:-$SRC/tests/k8s/apiserver.py}
for t in "$CNI_PATH/ptp" "$CNI_PATH/host-local" "$PODWALLD" "$PODWALLCTL" "$PW_CNI_PLUGIN" \
	"$LATENCY"; do
	[ -x "$t" ] || skip "$t not found"
done
for t in jq python3 openssl curl unshare; do command -v $t >/dev/null || skip "$t not installed"; done

if [ -z "${PW_BENCH_WORLD:-}" ]; then
	exec env PW_BENCH_WORLD=1 CNI_PATH="$CNI_PATH" PODWALLD="$PODWALLD" \
		PODWALLCTL="$PODWALLCTL" PW_CNI_PLUGIN="$PW_CNI_PLUGIN" LATENCY="$LATENCY" \
		FIXTURE="$FIXTURE" unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-bench-k8s.XXXXXX)
PIN=/sys/fs/bpf/podwall-bench-k8s
SOCK=$TMP/podwalld.sock
QUEUE=$TMP/queue
NODE=bench-node
DPID= FPID=
export PODWALL_SOCKET=$SOCK
cleanup() {
	local i
	for ((i = 0; i < NLOCAL; i++)); do ip netns del "pwbk-$i" 2>/dev/null; done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null && wait "$FPID" 2>/dev/null
	umount /run/netns 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { [ $JSON = 1 ] || echo "$@"; }
die() { echo "k8s.sh: $*" >&2; [ -f "$TMP/podwalld.log" ] && tail -5 "$TMP/podwalld.log" >&2; exit 1; }

mkdir -p /run/netns "$QUEUE"
mount -t tmpfs tmpfs /run/netns || exit 1
mount -t bpf bpf /sys/fs/bpf || skip "cannot mount bpffs"
ip link set lo up
sysctl -qw net.ipv4.ip_forward=1

# ---- the cluster ------------------------------------------------------------------

# Namespaces with team labels; pods spread over them and over 50 other nodes,
# each with app/tier labels and a named port; one policy per namespace (until
# POLICIES): ingress from an app in namespaces of a team, egress to an app and
# to an ipBlock, as a real cluster's default-deny-plus-exceptions look.
python3 - "$NPODS" "$NNS" "$NPOL" "$NLOCAL" "$NODE" >"$TMP/objects.json" <<'EOF' ||
import json, sys
npods, nns, npol, nlocal, node = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
items = []
for i in range(nns):
    items.append({"kind": "Namespace", "apiVersion": "v1", "metadata": {
        "name": "ns-%d" % i, "labels": {"kubernetes.io/metadata.name": "ns-%d" % i,
                                        "team": "t%d" % (i % 10)}}})
items.append({"kind": "Namespace", "apiVersion": "v1", "metadata": {
    "name": "bench", "labels": {"kubernetes.io/metadata.name": "bench", "team": "bench"}}})
for j in range(npods):
    ip = "10.%d.%d.%d" % (100 + j // 65536, (j // 256) % 256, j % 256)
    items.append({"kind": "Pod", "apiVersion": "v1", "metadata": {
        "name": "pod-%d" % j, "namespace": "ns-%d" % (j % nns),
        "labels": {"app": "a%d" % (j % 7), "tier": "x%d" % (j % 3)}},
        "spec": {"nodeName": "node-%d" % (j % 50), "containers": [{"name": "c", "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
for j in range(nlocal):
    items.append({"kind": "Pod", "apiVersion": "v1", "metadata": {
        "name": "bench-%d" % j, "namespace": "bench", "labels": {"app": "bench", "idx": str(j)}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]}})
for i in range(npol):
    items.append({"kind": "NetworkPolicy", "apiVersion": "networking.k8s.io/v1", "metadata": {
        "name": "np-%d" % i, "namespace": "ns-%d" % (i % nns)}, "spec": {
        "podSelector": {"matchLabels": {"app": "a%d" % (i % 7)}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "t%d" % (i % 10)}},
                               "podSelector": {"matchLabels": {"app": "a%d" % ((i + 1) % 7)}}}],
                     "ports": [{"protocol": "TCP", "port": "http"}]}],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"tier": "x%d" % (i % 3)}}}],
                    "ports": [{"protocol": "TCP", "port": 5432}]},
                   {"to": [{"ipBlock": {"cidr": "192.168.%d.0/24" % (i % 256)}}]}]}})
print(json.dumps({"kind": "List", "items": items}))
EOF
	die "cannot generate the objects"
# The two policies the latency runs modify: one local pod, every local pod.
policy() { # policy NAME SELECTOR-JSON
	printf '{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"%s","namespace":"bench"},"spec":{"podSelector":%s,"policyTypes":["Ingress"],"ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"team":"t1"}},"podSelector":{"matchLabels":{"app":"a1"}}}],"ports":[{"protocol":"TCP","port":@PORT@}]}]}}' "$1" "$2"
}
policy one '{"matchLabels":{"idx":"0"}}' >"$TMP/one.json"
policy all '{"matchLabels":{"app":"bench"}}' >"$TMP/all.json"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pw-bench-ca \
	-keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$TMP/srv.key" -out "$TMP/srv.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/ext" &&
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/ext" -out "$TMP/srv.pem" 2>/dev/null ||
	die "openssl could not make test certificates"
echo bench-token >"$TMP/token"
python3 "$FIXTURE" --port-file "$TMP/port" --control-port-file "$TMP/cport" \
	--cert "$TMP/srv.pem" --key "$TMP/srv.key" --token bench-token \
	--objects "$TMP/objects.json" 2>"$TMP/fixture.log" &
FPID=$!
for _ in $(seq 600); do [ -s "$TMP/port" ] && [ -s "$TMP/cport" ] && break; sleep 0.05; done
[ -s "$TMP/cport" ] || die "the fixture did not start"
CTL=http://127.0.0.1:$(cat "$TMP/cport")/_fixture

# ---- 1. initial sync -------------------------------------------------------------

status_field() { "$PODWALLCTL" status -j 2>/dev/null | jq -r ".$1" 2>/dev/null; }
t0=$(date +%s%N)
"$PODWALLD" --api-server "https://127.0.0.1:$(cat "$TMP/port")" --token-file "$TMP/token" \
	--ca-file "$TMP/ca.pem" --node-name $NODE --pin-root "$PIN" --socket "$SOCK" \
	--queue-dir "$QUEUE" --state-dir "$TMP/state" >"$TMP/podwalld.log" 2>&1 &
DPID=$!
ready=0
for _ in $(seq 3000); do
	[ "$(status_field ready)" = true ] && { ready=1; break; }
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.01
done
sync_ms=$((($(date +%s%N) - t0) / 1000000))
[ $ready = 1 ] || die "podwalld did not become ready"
rss_sync=$(awk '/^VmHWM/ {print $2}' "/proc/$DPID/status")
nobj=$(jq '.items | length' "$TMP/objects.json")
say "initial sync: $NPODS pods, $NNS namespaces, $NPOL policies ($nobj objects," \
	"$(($(stat -c %s "$TMP/objects.json") / 1024)) KiB of JSON): ready after $sync_ms ms," \
	"peak RSS $((rss_sync / 1024)) MiB"

# ---- 2. local pods through the CNI chain -------------------------------------------

cni() { # cni CMD i plugin conf
	local args="IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=bench-$2;K8S_POD_UID=u$2"
	echo "$4" | env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="pwbk$2x$$" \
		CNI_NETNS="/run/netns/pwbk-$2" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH" \
		CNI_ARGS="$args" "$3"
}
conf='{"cniVersion":"1.0.0","name":"pwbk","type":"ptp","ipam":{"type":"host-local","subnet":"10.250.0.0/16","dataDir":"'$TMP/ipam'"}}'
for ((i = 0; i < NLOCAL; i++)); do
	ip netns add "pwbk-$i" || die "netns"
	prev=$(cni ADD $i "$CNI_PATH/ptp" "$conf") || die "ptp ADD: $prev"
	out=$(cni ADD $i "$PW_CNI_PLUGIN" "$(printf '{"cniVersion":"1.0.0","name":"pwbk","type":"podwall","socket":"%s","queueDir":"%s","timeoutMs":10000,"prevResult":%s}' "$SOCK" "$QUEUE" "$prev")") ||
		die "podwall ADD: $out"
done
eps_json() { "$PODWALLCTL" endpoints -j 2>/dev/null; }
for _ in $(seq 500); do
	[ "$(eps_json | jq '[.[] | select(.ready)] | length')" = "$NLOCAL" ] && break
	sleep 0.02
done
mapfile -t EPS < <(eps_json | jq -r '.[] | select(.namespace == "bench") | "\(.pod) \(.id)"' |
	sort -V | awk '{print $2}')
[ ${#EPS[@]} = "$NLOCAL" ] || die "expected $NLOCAL endpoints, podwalld has ${#EPS[@]}"

# ---- 3. change to enforcement -------------------------------------------------------

run_latency() { # run_latency TEMPLATE EP...
	local tmpl=$1 g
	shift
	# The policy exists before the timed changes: each is a MODIFIED event.
	g=$(status_field generation)
	sed 's/@PORT@/19999/' "$tmpl" | curl -sf -X POST --data-binary @- "$CTL/apply" >/dev/null
	for _ in $(seq 500); do [ "$(status_field generation)" -gt "$g" ] && break; sleep 0.01; done
	"$LATENCY" "$PIN" "$CTL" "$tmpl" "$NCHANGES" "$@" >"$TMP/lat.$(basename "$tmpl")" || return 1
	[ -n "${KEEP_LATENCIES:-}" ] && cp "$TMP/lat.$(basename "$tmpl")" "$KEEP_LATENCIES.$(basename "$tmpl")"
	tail -n 1 "$TMP/lat.$(basename "$tmpl")"
}
one=$(run_latency "$TMP/one.json" "${EPS[0]}") || die "latency (one pod): $one"
all=$(run_latency "$TMP/all.json" "${EPS[@]}") || die "latency (all pods): $all"
rss_end=$(awk '/^VmHWM/ {print $2}' "/proc/$DPID/status")
say "change to enforcement, $NCHANGES changes each (pinned map read with libbpf):"
say "  policy selecting 1 local pod:       $one"
say "  policy selecting $NLOCAL local pods:      $all"
say "peak RSS at the end: $((rss_end / 1024)) MiB"
if [ $JSON = 1 ]; then
	f() { awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' <<<"$1"; }
	jq -n --argjson p "$NPODS" --argjson n "$NNS" --argjson pol "$NPOL" --argjson l "$NLOCAL" \
		--argjson c "$NCHANGES" --argjson s "$sync_ms" --argjson r1 "$rss_sync" \
		--argjson r2 "$rss_end" \
		--argjson o50 "$(f "$one" p50)" --argjson o99 "$(f "$one" p99)" \
		--argjson a50 "$(f "$all" p50)" --argjson a99 "$(f "$all" p99)" \
		--argjson om "$(f "$one" misses)" --argjson am "$(f "$all" misses)" \
		'{pods: $p, namespaces: $n, policies: $pol, local_pods: $l, changes: $c,
		  initial_sync_ms: $s, peak_rss_kib_after_sync: $r1, peak_rss_kib_end: $r2,
		  latency_one_pod_ms: {p50: $o50, p99: $o99, misses: $om},
		  latency_all_local_pods_ms: {p50: $a50, p99: $a99, misses: $am}}'
fi
exit 0
