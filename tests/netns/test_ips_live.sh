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
# V=1 shows the daemon's log. The world, the daemon and the pods come from
# tests/daemon/lib.sh. Needs root, ip, socat, nc, jq, curl, tshark.

set -u

if ! command -v tshark >/dev/null; then
	echo "1..0 # SKIP tshark not installed"
	exit 0
fi
NET=10.99.70.0/24
NS_PREFIX=pwi
POD_SERVERS=0 # serve_http below is b's server
. "$(dirname "$0")/../daemon/lib.sh"
EVE=$TMP/eve.json
CAP=$TMP/captures
DAEMON_ARGS=(--manifests "$MAN" --rules "$TMP/test.rules" --drop-policy "$TMP/drop.conf"
	--ips-mode ips --eve "$EVE" --capture-dir "$CAP" --capture policy,ips,alerts --flow-idle 5)
world_setup

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
wait_for eval 'ip netns exec pwi-b ss -ltn | grep -q :8080'

check "a harmless request is answered (and alerts, IDS-style)" \
	eval '[ "$(get a /marker)" = hello ]'
check "the request matching the drop rule gets no answer: blocked mid-flow" \
	eval '[ -z "$(get a /evil-payload)" ]'
check "another flow of the same pod is unaffected" eval '[ "$(get a /index.html)" = hello ]'

alert() { jq -c "select(.event_type == \"alert\" and .alert.signature_id == $1)" "$EVE" 2>/dev/null | head -n 1; }
check "eve.json: the drop alert, blocked, naming pod demo/a and its pcap" \
	wait_for eval 'alert 1000001 | jq -e ".alert.action == \"blocked\" and .podwall.namespace == \"demo\" and
		.podwall.pod == \"a\" and .podwall.direction == \"egress\" and .podwall.blocked == \"flow\" and
		(.podwall.pcap | test(\"^demo_a\\\\.[0-9]+\\\\.pcap$\")) and .http.url == \"/evil-payload\" and
		.dest_port == 8080" >/dev/null'
check "eve.json: the harmless alert is allowed, not blocked" \
	eval 'alert 1000002 | jq -e ".alert.action == \"allowed\" and .podwall.blocked == null" >/dev/null'
PCAP=$CAP/$(alert 1000001 | jq -r .podwall.pcap)
check "the alert's pcap opens in tshark and holds the blocked request" \
	eval 'tshark -r "$PCAP" -Y "http.request.uri contains \"evil-payload\"" 2>/dev/null | grep -q GET'
check "the server's answers on the blocked flow were dropped as ips-blocked" \
	wait_for eval '"$PODWALLCTL" endpoints -j | jq -e "[.. | objects | .[\"ips-blocked\"]? | numbers] |
		add > 0" >/dev/null'

check "a policy-denied flow (c -> b) is refused" eval '[ -z "$(get c /index.html)" ]'
# b's ingress policy dropped it: the packets land in b's capture.
check "... and its packets are in the capture of b (whose policy denied it), for tshark" \
	wait_for eval 'ls "$CAP"/demo_b.*.pcap >/dev/null 2>&1 &&
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
	stop_daemon
	start_daemon --block-by src --block-ttl 60
}
check "podwalld restarts with --block-by src (pods re-adopted)" restart_src
# (The answer to that request still arrives: it comes from b, which is not blocked.)
src_blocked() {
	get a /evil-payload >/dev/null
	wait_for eval '"$PODWALLCTL" blocklist list --pin-root "$PIN" -j 2>/dev/null |
			jq -e ".[] | select(.cidr == \"${IP[a]}\" and .owner == \"ips\" and .ttl_s <= 60)" \
			>/dev/null'
}
check "a drop verdict puts the source on the blocklist for the TTL" src_blocked
check "... and every flow from it is then dropped (ips-blocked), until the entry goes" \
	eval '[ -z "$(get a /index.html)" ] &&
		"$PODWALLCTL" blocklist del --pin-root "$PIN" "${IP[a]}" >/dev/null &&
		[ "$(get a /index.html)" = hello ]'
[ "$NFAIL" = 0 ]
