#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The live IPS end to end: the real daemon with rules in IPS mode, real pods
# through the real CNI chain (ptp + host-local, then podwall), real HTTP.
# A client pod's request matching a rule the drop policy turns into `drop`
# is blocked mid-flow in the datapath (the server's answer never arrives),
# the alert is in eve.json naming the pod and its pcap, that pcap holds the
# request and opens in tshark, another flow of the same pod is unaffected,
# and a policy-denied flow shows up in the denied pod's capture.
#
# Private world (unshare -n -m): own host netns, bpffs, /run/netns, tmp dir.
# Environment: PODWALLD, PODWALLCTL, PW_CNI_PLUGIN, CNI_PATH (/usr/lib/cni).
# V=1 shows the daemon's log. Needs root, ip, socat, nc, jq, tshark.

set -u

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (netns, bpffs, CAP_BPF)"
	exit 0
fi
for t in ip socat nc jq tshark curl unshare; do
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
: "${PODWALLD:?}" "${PODWALLCTL:?}" "${PW_CNI_PLUGIN:?}"

if [ -z "${PW_IPS_TEST_WORLD:-}" ]; then
	exec env PW_IPS_TEST_WORLD=1 unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-ips-test.XXXXXX)
PIN=/sys/fs/bpf/podwall-ips-$$
SOCK=$TMP/run/podwalld.sock
MAN=$TMP/manifests
LOG=$TMP/podwalld.log
EVE=$TMP/eve.json
CAP=$TMP/captures
NET=10.99.70.0/24
DPID=
PIDS=()
export PODWALL_SOCKET=$SOCK

cleanup() {
	local p
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for p in a b c; do ip netns del "pwi-$p" 2>/dev/null; done
	umount /run/netns 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	if [ "${V:-0}" = 1 ] && [ -f "$LOG" ]; then sed 's/^/# log: /' "$LOG"; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p /run/netns "$MAN" "$TMP/queue"
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
	[ -f "$LOG" ] && tail -n 15 "$LOG" | sed 's/^/#   /'
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
diag() { echo "# $*"; }
# Bounded wait for a condition (generous: a loaded 2-core machine).
wait_for() { local i; for i in $(seq 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# ---- rules, drop policy, manifests ----------------------------------------

# Shipped as alert, like a public rule set; the drop policy makes 1000001 a drop.
cat >"$TMP/test.rules" <<'EOF'
alert http any any -> any any (msg:"PODWALL TEST evil URI"; flow:established,to_server; http.uri; content:"/evil-payload"; classtype:web-application-attack; sid:1000001; rev:1;)
alert http any any -> any any (msg:"PODWALL TEST harmless marker"; flow:established,to_server; http.uri; content:"/marker"; sid:1000002; rev:1;)
EOF
cat >"$TMP/drop.conf" <<'EOF'
# turn the evil-URI rule into a drop
1:1000001
EOF

cat >"$MAN/00.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: demo, labels: {role: client}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: demo, labels: {role: server}}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: demo, labels: {role: other}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-ingress, namespace: demo}
spec:
  podSelector: {matchLabels: {role: server}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports: [{protocol: TCP, port: 8080}]
EOF

# ---- daemon and pods -------------------------------------------------------

start_daemon() { # extra podwalld flags
	"$PODWALLD" -v "$@" --manifests "$MAN" --node-name pwi-node --pin-root "$PIN" --socket "$SOCK" \
		--queue-dir "$TMP/queue" --state-dir "$TMP/state" --rules "$TMP/test.rules" \
		--drop-policy "$TMP/drop.conf" --ips-mode ips --eve "$EVE" --capture-dir "$CAP" \
		--capture policy,ips,alerts --flow-idle 5 >>"$LOG" 2>&1 &
	DPID=$!
	wait_for '[ "$("$PODWALLCTL" status -j 2>/dev/null | jq -r .ready)" = true ]'
}

declare -A IP CID
cni() { # cni CMD pod plugin conf
	local args="IgnoreUnknown=1;K8S_POD_NAMESPACE=demo;K8S_POD_NAME=$2;K8S_POD_UID=$2"
	echo "$4" | env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="${CID[$2]}" \
		CNI_NETNS="/run/netns/pwi-$2" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH" \
		CNI_ARGS="$args" "$3"
}
add_pod() {
	local pod=$1 prev out
	CID[$pod]=pwitest$pod$$
	ip netns add "pwi-$pod" || return 1
	ip -n "pwi-$pod" link set lo up
	prev=$(cni ADD "$pod" "$CNI_PATH/ptp" "$(printf '{"cniVersion":"1.0.0","name":"pwi-test","type":"ptp","ipam":{"type":"host-local","subnet":"%s","dataDir":"%s"}}' "$NET" "$TMP/ipam")") ||
		{ diag "ptp ADD $pod: $prev"; return 1; }
	out=$(cni ADD "$pod" "$PW_CNI_PLUGIN" "$(printf '{"cniVersion":"1.0.0","name":"pwi-test","type":"podwall","socket":"%s","queueDir":"%s","timeoutMs":5000,"prevResult":%s}' "$SOCK" "$TMP/queue" "$prev")") ||
		{ diag "podwall ADD $pod: $out"; return 1; }
	IP[$pod]=$(echo "$prev" | jq -r '.ips[0].address' | cut -d/ -f1)
}

# An HTTP server that answers after a second: the IPS has its verdict in place by then.
# (-t: socat must not close the answer when the client half-closes first.)
serve_http() {
	cat >"$TMP/http.sh" <<'EOF'
read -r line
while read -r h && [ "${#h}" -gt 1 ]; do :; done
sleep 1
printf 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n'
EOF
	ip netns exec "pwi-$1" socat -t 10 TCP-LISTEN:8080,reuseaddr,fork EXEC:"sh $TMP/http.sh" \
		2>/dev/null &
	PIDS+=($!)
}

# GET path from pod $1 to pod b; prints the answer's body line, if any.
get() {
	printf 'GET %s HTTP/1.1\r\nHost: b.demo\r\nUser-Agent: podwall-test\r\n\r\n' "$2" |
		ip netns exec "pwi-$1" timeout 8 nc -w 5 -q 5 "${IP[b]}" 8080 2>/dev/null | tail -n 1
}

echo "TAP version 13"
echo "1..18"
check "podwalld starts with rules, a drop policy and --ips-mode ips" start_daemon
check "rules loaded, the drop policy applied" \
	eval 'grep -q "drop policy .* turned 1 alert rule" "$LOG" &&
		"$PODWALLCTL" status -j | jq -e ".ips.enabled and .ips.mode == \"ips\" and .ips.rules == 2" >/dev/null'
for p in a b c; do add_pod "$p" || diag "pod $p failed"; done
diag "pods: a=${IP[a]:-} b=${IP[b]:-} c=${IP[c]:-}"
if [ -z "${IP[a]:-}" ] || [ -z "${IP[b]:-}" ] || [ -z "${IP[c]:-}" ]; then
	for _ in $(seq 3 15); do fail "(no pods)"; done
	exit 1
fi
serve_http b
wait_for 'ip netns exec pwi-b ss -ltn | grep -q :8080'

check "a harmless request is answered (and alerts, IDS-style)" \
	eval '[ "$(get a /marker)" = hello ]'
check "the request matching the drop rule gets no answer: blocked mid-flow" \
	eval '[ -z "$(get a /evil-payload)" ]'
check "another flow of the same pod is unaffected" eval '[ "$(get a /index.html)" = hello ]'

alert() { jq -c "select(.event_type == \"alert\" and .alert.signature_id == $1)" "$EVE" 2>/dev/null | head -n 1; }
check "eve.json: the drop alert, blocked, naming pod demo/a and its pcap" \
	wait_for 'alert 1000001 | jq -e ".alert.action == \"blocked\" and .podwall.namespace == \"demo\" and
		.podwall.pod == \"a\" and .podwall.direction == \"egress\" and .podwall.blocked == \"flow\" and
		(.podwall.pcap | test(\"^demo_a\\\\.[0-9]+\\\\.pcap$\")) and .http.url == \"/evil-payload\" and
		.dest_port == 8080" >/dev/null'
check "eve.json: the harmless alert is allowed, not blocked" \
	eval 'alert 1000002 | jq -e ".alert.action == \"allowed\" and .podwall.blocked == null" >/dev/null'
PCAP=$CAP/$(alert 1000001 | jq -r .podwall.pcap)
check "the alert's pcap opens in tshark and holds the blocked request" \
	eval 'tshark -r "$PCAP" -Y "http.request.uri contains \"evil-payload\"" 2>/dev/null | grep -q GET'
check "the server's answers on the blocked flow were dropped as ips-blocked" \
	wait_for '"$PODWALLCTL" endpoints -j | jq -e "[.. | objects | .[\"ips-blocked\"]? | numbers] |
		add > 0" >/dev/null'

check "a policy-denied flow (c -> b) is refused" eval '[ -z "$(get c /index.html)" ]'
# b's ingress policy dropped it: the packets land in b's capture.
check "... and its packets are in the capture of b (whose policy denied it), for tshark" \
	wait_for 'ls "$CAP"/demo_b.*.pcap >/dev/null 2>&1 &&
		tshark -r "$(ls "$CAP"/demo_b.*.pcap | head -n 1)" \
			-Y "tcp.flags.syn == 1 && ip.src == ${IP[c]} && tcp.dstport == 8080" 2>/dev/null |
		grep -q .'
check "podwallctl captures lists both pods' files" \
	eval '"$PODWALLCTL" captures --dir "$CAP" -j | jq -e "[.captures[].pod] | index(\"demo/a\") and index(\"demo/b\")" >/dev/null'
metrics_ok() {
	curl -s --max-time 5 http://127.0.0.1:9464/metrics | awk '
		$1 == "podwall_ips_blocks_total" && $2 >= 1 { b = 1 }
		$1 == "podwall_ips_samples_sent_total" && $2 > 0 { s = 1 }
		END { exit !(b && s) }'
}
check "/metrics counts the block and the samples" metrics_ok
blocks() { "$PODWALLCTL" ips blocks --pin-root "$PIN" -j 2>/dev/null; }
check "podwallctl ips blocks: both directions of the flow, with the sid and a TTL" \
	eval 'blocks | jq -e "[.[] | select(.sid == 1000001 and .proto == \"tcp\" and .ttl_s > 0 and
		((.src == \"${IP[a]}\" and .dport == 8080) or (.dst == \"${IP[a]}\" and .sport == 8080)))] |
		length == 2" >/dev/null'
unblock_it() {
	local b
	b=$(blocks | jq -r '[.[] | select(.sid == 1000001)][0] | "\(.proto) \(.src) \(.sport) \(.dst) \(.dport)"')
	# shellcheck disable=SC2086
	"$PODWALLCTL" ips unblock --pin-root "$PIN" $b >/dev/null &&
		blocks | jq -e "[.[] | select(.sid == 1000001)] | length == 0" >/dev/null
}
check "podwallctl ips unblock lifts both directions" unblock_it

# --block-by src: the matched request's source (pod a) goes on the blocklist, owner ips.
restart_src() {
	kill "$DPID" && wait "$DPID" 2>/dev/null
	DPID=
	start_daemon --block-by src --block-ttl 60
}
check "podwalld restarts with --block-by src (pods re-adopted)" restart_src
# (The answer to that request still arrives: it comes from b, which is not blocked.)
src_blocked() {
	get a /evil-payload >/dev/null
	wait_for '"$PODWALLCTL" blocklist list --pin-root "$PIN" -j 2>/dev/null |
			jq -e ".[] | select(.cidr == \"${IP[a]}\" and .owner == \"ips\" and .ttl_s <= 60)" \
			>/dev/null'
}
check "a drop verdict puts the source on the blocklist for the TTL" src_blocked
check "... and every flow from it is then dropped (ips-blocked), until the entry goes" \
	eval '[ -z "$(get a /index.html)" ] &&
		"$PODWALLCTL" blocklist del --pin-root "$PIN" "${IP[a]}" >/dev/null &&
		[ "$(get a /index.html)" = hello ]'
[ "$NFAIL" = 0 ]
