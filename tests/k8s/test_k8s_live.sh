#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# podwalld in API mode, end to end: the scripted API server (HTTPS, token)
# holds the Namespace, Pods and NetworkPolicies; pods are wired by the real
# CNI chain (ptp + host-local, then the podwall plugin); real TCP between
# them. Covers isolation before the first sync, policies changing through
# watch events, convergence after faults, and a restart with the API down
# (the pinned datapath keeps enforcing). Private world as tests/daemon.
#
# Environment: PODWALLD, PODWALLCTL, PW_CNI_PLUGIN, FIXTURE, CNI_PATH. V=1: logs.

set -u

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (netns, bpffs, CAP_BPF)"
	exit 0
fi
for t in ip socat nc jq unshare python3 openssl curl; do
	if ! command -v "$t" >/dev/null; then
		echo "1..0 # SKIP $t not installed"
		exit 0
	fi
done
CNI_PATH=${CNI_PATH:-/usr/lib/cni}
if [ ! -x "$CNI_PATH/ptp" ] || [ ! -x "$CNI_PATH/host-local" ]; then
	echo "1..0 # SKIP ptp/host-local CNI plugins not in $CNI_PATH"
	exit 0
fi
: "${PODWALLD:?}" "${PODWALLCTL:?}" "${PW_CNI_PLUGIN:?}" "${FIXTURE:?}"

if [ -z "${PW_K8S_LIVE_WORLD:-}" ]; then
	exec env PW_K8S_LIVE_WORLD=1 unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-k8s-live.XXXXXX)
PIN=/sys/fs/bpf/podwall-k8s-live
SOCK=$TMP/podwalld.sock
QUEUE=$TMP/queue
LOG=$TMP/podwalld.log
NET=10.99.70.0/24
NODE=pwl-node
DPID=
FPID=
PIDS=()
export PODWALL_SOCKET=$SOCK

cleanup() {
	local p
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for p in a b c; do ip netns del "pwl-$p" 2>/dev/null; done
	umount /run/netns 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	if [ "${V:-0}" = 1 ] && [ -f "$LOG" ]; then grep -v '^libbpf' "$LOG" | sed 's/^/# log: /'; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p /run/netns "$QUEUE"
mount -t tmpfs tmpfs /run/netns || exit 1
mount -t bpf bpf /sys/fs/bpf || { echo "1..0 # SKIP cannot mount bpffs"; exit 0; }
ip link set lo up
sysctl -qw net.ipv4.ip_forward=1

NTESTS=0
NFAIL=0
ok() { NTESTS=$((NTESTS + 1)); echo "ok $NTESTS - $1"; }
fail() {
	NTESTS=$((NTESTS + 1)); NFAIL=$((NFAIL + 1))
	echo "not ok $NTESTS - $1"
	[ -f "$LOG" ] && grep -v '^libbpf' "$LOG" | tail -n 12 | sed 's/^/#   /'
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
diag() { echo "# $*"; }

# ---- the API server ----------------------------------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pwl-ca \
	-keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$TMP/srv.key" -out "$TMP/srv.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/ext" &&
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/ext" -out "$TMP/srv.pem" 2>/dev/null ||
	{ echo "1..0 # SKIP openssl could not make test certificates"; exit 0; }

pod_obj() { # name role
	printf '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"%s","namespace":"demo","labels":{"role":"%s"}},"spec":{"nodeName":"%s","containers":[{"name":"main","ports":[{"containerPort":8080,"protocol":"TCP"}]}]}}' "$1" "$2" "$NODE"
}
policy_obj() { # allowed-role: default deny into role=server, allow from role=$1 on 8080
	printf '{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"server-ingress","namespace":"demo"},"spec":{"podSelector":{"matchLabels":{"role":"server"}},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{"matchLabels":{"role":"%s"}}}],"ports":[{"protocol":"TCP","port":8080}]}]}}' "$1"
}
{
	echo '{"kind":"List","items":['
	echo '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"demo","labels":{"team":"demo"}}},'
	pod_obj a client; echo ,; pod_obj b server; echo ,; pod_obj c other; echo ,
	policy_obj client
	echo ']}'
} >"$TMP/objects.json"

python3 "$FIXTURE" --port-file "$TMP/port" --control-port-file "$TMP/cport" \
	--cert "$TMP/srv.pem" --key "$TMP/srv.key" --token live-token \
	--objects "$TMP/objects.json" 2>"$TMP/fixture.log" &
FPID=$!
for _ in $(seq 100); do [ -s "$TMP/port" ] && [ -s "$TMP/cport" ] && break; sleep 0.05; done
CTL=http://127.0.0.1:$(cat "$TMP/cport")/_fixture
fx() { curl -sf -X POST --data-binary @- "$CTL/$1" >/dev/null; }

start_daemon() {
	"$PODWALLD" -v --api-server "https://127.0.0.1:$(cat "$TMP/port")" \
		--token-file "$TMP/token" --ca-file "$TMP/ca.pem" --node-name $NODE \
		--pin-root "$PIN" --socket "$SOCK" --queue-dir "$QUEUE" --state-dir "$TMP/state" \
		>>"$LOG" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do status_json >/dev/null && return 0; sleep 0.05; done
	return 1
}
status_json() { "$PODWALLCTL" status -j 2>/dev/null; }
status_field() { status_json | jq -r ".$1"; }
wait_ready() {
	for _ in $(seq 100); do
		[ "$(status_field ready)" = true ] && return 0
		sleep 0.1
	done
	return 1
}
# Waits until the daemon applied one more batch of API events.
wait_gen() {
	for _ in $(seq 100); do
		[ "$(status_field generation)" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
apply() { local g; g=$(status_field generation); fx apply; wait_gen "$g"; }
delete() {
	local g
	g=$(status_field generation)
	printf '{"kind":"%s","namespace":"demo","name":"%s"}' "$1" "$2" | fx delete
	wait_gen "$g"
}

# ---- pods through the real CNI chain (as tests/daemon) ------------------------

declare -A IP CID PREV
cni() {
	local cmd=$1 pod=$2 bin=$3 conf=$4
	local args="IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=$pod;K8S_POD_UID=$pod"
	echo "$conf" | env -i PATH="$PATH" CNI_COMMAND="$cmd" CNI_CONTAINERID="${CID[$pod]}" \
		CNI_NETNS="/run/netns/pwl-$pod" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH" \
		CNI_ARGS="$args" "$bin"
}
ptp_conf() {
	printf '{"cniVersion":"1.0.0","name":"pwl-test","type":"ptp",%s}' \
		"$(printf '"ipam":{"type":"host-local","subnet":"%s","dataDir":"%s"}' \
			"$NET" "$TMP/ipam")"
}
podwall_conf() {
	printf '{"cniVersion":"1.0.0","name":"pwl-test","type":"podwall",%s,"prevResult":%s}' \
		"$(printf '"socket":"%s","queueDir":"%s","timeoutMs":5000' "$SOCK" "$QUEUE")" "$1"
}
add_pod() {
	local pod=$1 prev out
	CID[$pod]=pwltest$pod$$
	ip netns add "pwl-$pod" || return 1
	ip -n "pwl-$pod" link set lo up
	prev=$(cni ADD "$pod" "$CNI_PATH/ptp" "$(ptp_conf)") ||
		{ diag "ptp ADD $pod failed: $prev"; return 1; }
	out=$(cni ADD "$pod" "$PW_CNI_PLUGIN" "$(podwall_conf "$prev")") ||
		{ diag "podwall ADD $pod failed: $out"; return 1; }
	IP[$pod]=$(echo "$prev" | jq -r '.ips[0].address' | cut -d/ -f1)
	PREV[$pod]=$prev
	ip netns exec "pwl-$pod" socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'echo hi' 2>/dev/null &
	PIDS+=($!)
	return 0
}
tcp() {
	local out
	out=$(ip netns exec "pwl-$1" timeout 3 nc -w 1 "${IP[$2]}" 8080 </dev/null 2>/dev/null)
	[ "$out" = hi ]
}
can() { tcp "$@"; }
cannot() { ! tcp "$@"; }

# ---- the tests -------------------------------------------------------------------

echo "TAP version 13"

# 1. Before the first list completes (the token is wrong), pods are isolated.
echo wrong >"$TMP/token"
check "podwalld starts; not ready while the API refuses it" eval \
	'start_daemon && sleep 0.5 && [ "$(status_field reason)" = "initial sync" ]'
add_three() { add_pod a && add_pod b && add_pod c; }
check "pods a, b, c added through ptp + podwall during the initial sync" add_three
sleep 0.3 # the socat servers
check "before the first sync: a -> b dropped (b's policies unknown)" cannot a b
check "before the first sync: b -> a dropped too (isolated both ways)" cannot b a
check "  ... endpoints not ready" eval \
	'[ "$("$PODWALLCTL" endpoints -j | jq "[.[] | select(.ready)] | length")" = 0 ]'

# 2. The token fixed: the first sync applies the API's policy.
echo live-token >"$TMP/token.new" && mv "$TMP/token.new" "$TMP/token"
check "token fixed: initial sync, ready" wait_ready
check "policy from the API: a (client) -> b works" can a b
check "policy from the API: c (other) -> b denied" cannot c b
check "b -> c works (c not selected)" can b c

# 3. Changes through watch events.
policy_obj other | apply
check "policy MODIFIED: c -> b works" can c b
check "policy MODIFIED: a -> b denied" cannot a b
delete NetworkPolicy server-ingress
check "policy DELETED: a -> b works" can a b
policy_obj client | apply
check "policy ADDED: c -> b denied again" cannot c b
pod_obj c client | apply
check "Pod c relabelled through the watch: c -> b works" can c b
pod_obj c other | apply
check "Pod c relabelled back: c -> b denied" cannot c b
# Audit mode from a Namespace annotation through the watch, live; and back.
ns_obj() { # annotations (JSON object body)
	printf '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"demo","labels":{"team":"demo"},"annotations":{%s}}}' "$1"
}
# The endpoint flags follow within the daemon's 1 s tick.
eventually() { for _ in $(seq 30); do "$@" && return 0; sleep 0.2; done; return 1; }
ns_obj '"podwall.io/enforcement":"audit"' | apply
check "Namespace annotated enforcement=audit: c -> b passes" eventually can c b
check "  ... recorded as audit-denied" eventually eval \
	'"$PODWALLCTL" flows -j --pod demo/b --verdict audit-denied | jq -e "length > 0" >/dev/null'
ns_obj '"podwall.io/enforcement":"enforce"' | apply
check "Namespace back to enforce: c -> b denied" eventually cannot c b

# 4. Faults, then the traffic follows the final state.
printf '{"fault":"disconnect","resource":"*"}' | fx fault
printf '{"count":3,"code":503}' | fx http_errors
policy_obj other | fx apply
curl -sf -X POST "$CTL/compact" >/dev/null
settled() {
	for _ in $(seq 100); do
		can c b && cannot a b && return 0
		sleep 0.2
	done
	return 1
}
check "after a disconnect, 503s and a compaction: traffic follows the final policy" settled

# 5. Restart with the API down: the pinned datapath keeps enforcing.
kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
echo wrong >"$TMP/token"
check "podwalld killed: c -> b still allowed, a -> b still denied" eval 'can c b && cannot a b'
start_daemon
sleep 0.5
check "restarted without API access: not ready, enforcement unchanged" eval \
	'[ "$(status_field reason)" = "initial sync" ] && can c b && cannot a b'
echo live-token >"$TMP/token.new" && mv "$TMP/token.new" "$TMP/token"
check "API back: ready, same enforcement" eval 'wait_ready && can c b && cannot a b'

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
echo "1..$NTESTS"
[ "$NFAIL" = 0 ]
