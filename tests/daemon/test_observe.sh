#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Observability end to end, with the real daemon, the real CNI chain and real
# traffic in a private world (see lib.sh): the metrics and health endpoint,
# verdict records (dedup, policy and rule, matching policy explain), their
# log files and live stream, per-namespace log levels, audit mode, a flood.
#
# Environment: PODWALLD, PODWALLCTL, PW_CNI_PLUGIN; V=1 shows the daemon's log.
set -u
NET=10.99.60.0/24
NS_PREFIX=pwo
. "$(dirname "$0")/lib.sh"
world_setup

echo "TAP version 13"

# ---- /healthz, /readyz, /metrics --------------------------------------------
check "no daemon: nothing listens on $METRICS" test "$(http_code /healthz)" = 000
ns_manifest demo >"$MAN/00-ns.yaml"
pod_manifest a client >"$MAN/10-pod-a.yaml"
pod_manifest b server >"$MAN/10-pod-b.yaml"
pod_manifest c other >"$MAN/10-pod-c.yaml"
policy_manifest >"$MAN/20-policy.yaml"
check "podwalld starts (manifests)" start_daemon --manifests "$MAN"
check "/healthz: 200 ok" test "$(http_code /healthz)" = 200
check "/readyz: 200 with no endpoints" test "$(http_code /readyz)" = 200
check "unknown path: 404" test "$(http_code /nope)" = 404
check "POST /metrics: 405" \
	test "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST "http://$METRICS/metrics")" = 405
add_three() { add_pod a && add_pod b && add_pod c; }
check "pods a, b, c added through ptp + podwall" add_three
check "/readyz: 200 with three attached endpoints" test "$(http_code /readyz)" = 200
check "podwall_endpoints{state=\"ready\"} is 3" test "$(metric 'podwall_endpoints{state="ready"}')" = 3
check "podwall_policies is 1" test "$(metric podwall_policies)" = 1
sleep 0.3 # the socat servers
for i in 1 2 3; do can a b; cannot c b; done
check "traffic: a -> b allowed, c -> b denied" eval 'can a b && cannot c b'
# The counters and the scrape at rest, both read after the traffic.
sleep 0.5
denied_dp=$("$PODWALLCTL" endpoints -j |
	jq '[.[] | .ingress.reasons["policy-denied-ingress"] // 0] | add')
allowed_dp=$("$PODWALLCTL" endpoints -j |
	jq '[.[] | .ingress.reasons["allow-policy"] // 0] | add')
denied_m=$(metric 'podwall_packets_total{namespace="demo",direction="ingress",reason="policy-denied-ingress",verdict="dropped"}')
allowed_m=$(metric 'podwall_packets_total{namespace="demo",direction="ingress",reason="allow-policy",verdict="allowed"}')
diag "denied: datapath $denied_dp, metrics $denied_m; allowed: datapath $allowed_dp, metrics $allowed_m"
check "metrics: denied ingress packets of demo match the datapath counters (> 0)" \
	eval '[ "$denied_dp" -gt 0 ] && [ "$denied_m" = "$denied_dp" ]'
check "metrics: allowed-by-policy packets of demo match the datapath counters (> 0)" \
	eval '[ "$allowed_dp" -gt 0 ] && [ "$allowed_m" = "$allowed_dp" ]'
check "metrics: the scrape is valid exposition text (HELP/TYPE before samples)" eval \
	'scrape | awk "/^# TYPE/ { t[\$3] = 1; next } /^#/ { next }
		{ n = \$1; sub(/\\{.*/, \"\", n); if (!(n in t)) bad = 1;
		  if (\$2 !~ /^[0-9]+(\\.[0-9]+)?$/) bad = 1 } END { exit bad }"'
check "metrics: no pod label unless --metrics-per-pod" eval '! scrape | grep -q "pod=\""'
check "metrics: ringbuf and DoS counters are exported" eval \
	'scrape | grep -q "^podwall_datapath_events_lost_total " &&
	 scrape | grep -q "^podwall_dos_blocklist_drops_total "'
check "metrics: flow log counters are exported" eval \
	'scrape | grep -q "^podwall_flow_log_records_total "'

# /readyz flips when an endpoint loses its programs, and back after a restart.
tc filter del dev "${HOSTIF[b]}" ingress 2>/dev/null
check "b's TC ingress program removed: /readyz 503 naming b" eval \
	'[ "$(http_code /readyz)" = 503 ] &&
	 curl -s -m 5 "http://$METRICS/readyz" | grep -q "demo/b"'
check "... while /healthz stays 200" test "$(http_code /healthz)" = 200
check "... and podwall_ready is 0" test "$(metric podwall_ready)" = 0
stop_daemon
check "daemon stopped: /healthz does not answer" test "$(http_code /healthz)" = 000
check "restart (--metrics-per-pod) re-attaches b: /readyz 200" \
	eval 'start_daemon --manifests "$MAN" --metrics-per-pod && WAIT_S=10 wait_for \
		eval "[ \"\$(http_code /readyz)\" = 200 ]"'
cannot c b
check "--metrics-per-pod: series labelled with the pod" eval \
	'scrape | grep -q "podwall_packets_total{namespace=\"demo\",pod=\"b\",direction=\"ingress\""'
stop_daemon

# The API source before its first list: alive but not ready.
check "API source unreachable: podwalld starts" eval \
	'"$PODWALLD" --node-name pwd-node --pin-root "$PIN" --socket "$SOCK" \
		--queue-dir "$QUEUE" --state-dir "$STATE" --api-server https://127.0.0.1:1 \
		--insecure >>"$LOG" 2>&1 & DPID=$!; WAIT_S=10 wait_for eval \
		"[ \"\$(http_code /healthz)\" = 200 ]"'
check "... /readyz 503: initial sync not done" eval \
	'[ "$(http_code /readyz)" = 503 ] &&
	 curl -s -m 5 "http://$METRICS/readyz" | grep -q "initial sync"'
check "... podwall_initial_sync_done is 0" test "$(metric podwall_initial_sync_done)" = 0
stop_daemon
check "--metrics-address off: nothing listens" eval \
	'start_daemon --manifests "$MAN" --metrics-address off &&
	 [ "$(http_code /healthz)" = 000 ]'
stop_daemon
check "--metrics-address with a bad value: exit 2 naming the flag" eval \
	'"$PODWALLD" --metrics-address nonsense 2>&1 | grep -q "metrics-address";
	 [ "${PIPESTATUS[0]}" = 2 ]'

# ---- verdict records -----------------------------------------------------------
FLOWS_J=$TMP/flows.json
FLOWS_T=$TMP/flows.txt
flows() { "$PODWALLCTL" flows -j --limit 4096 "$@"; }
nflows() { flows "$@" | jq length; }
ns_set() { # ns_set "annotations" : rewrite the demo Namespace, wait for the flags (1 s tick)
	ns_manifest demo "$1" | put_manifest 00-ns.yaml && sleep 1.5
}
check "podwalld with flow logs (JSON and text, 2 s window)" \
	start_daemon --manifests "$MAN" --flow-log "$FLOWS_J" --flow-log-text "$FLOWS_T" \
		--flow-log-window 2000 --flow-log-max-size 64k --flow-log-keep 2
WAIT_S=10 wait_for eval '[ "$(http_code /readyz)" = 200 ]'
# Three SYNs of one flow (same source port) inside the window: one record, count 3.
for i in 1 2 3; do
	ip netns exec "$NS_PREFIX-c" timeout 0.3 nc -p 40001 -w 1 "${IP[b]}" 8080 </dev/null \
		>/dev/null 2>&1
done
has_denied() { [ "$(nflows --pod demo/b --verdict denied)" -ge 1 ]; }
check "c -> b denied: a record appears once the window closes" wait_for has_denied
sleep 2.5 # a second window, to see that nothing else comes
rec=$(flows --pod demo/b --verdict denied)
diag "record: $(jq -c '.[0]' <<<"$rec")"
check "exactly one record for the flow, count 3" \
	jqok 'length == 1 and .[0].count == 3' <<<"$rec"
check "the record names node, pod, direction, 5-tuple, verdict and reason" jqok \
	--arg c "${IP[c]}" --arg b "${IP[b]}" '.[0] | .node == "pwd-node" and
	 .namespace == "demo" and .pod == "b" and .direction == "ingress" and .proto == "tcp" and
	 .src == $c and .sport == 40001 and .dst == $b and .dport == 8080 and
	 .verdict == "denied" and .reason == "policy-denied-ingress" and .policy == null and
	 (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' <<<"$rec"
explain=$("$PODWALLCTL" policy explain -f "$MAN" --from demo/c --to demo/b --port 8080 -j)
diag "explain: $(jq -c .ingress <<<"$explain")"
check "the record's why is policy explain's for the same flow (default deny)" \
	test "$(jq -r '.[0].why' <<<"$rec")" = "$(jq -r .ingress.why <<<"$explain")"
check "... which names the selecting policy" \
	test "$(jq -r '.[0].why' <<<"$rec")" = \
		"default deny: selected by demo/server-ingress, no rule allows"
check "default level (denied): the allowed a -> b is not recorded" \
	eval 'can a b && sleep 2.5 && [ "$(nflows --verdict allowed)" = 0 ]'
check "JSON log: one line per record, each parses, with the record" eval \
	'jq -s -e "length >= 1 and all(.[]; .reason != null) and
		any(.[]; .pod == \"b\" and .count == 3)" "$FLOWS_J" >/dev/null'
check "text log: the record as a line" \
	grep -q "demo/b ingress tcp ${IP[c]}:40001 -> ${IP[b]}:8080 denied policy-denied-ingress x3 default deny" "$FLOWS_T"

# log-verdicts: all -> allowed flows too, with the policy and rule that allowed them.
check "demo annotated log-verdicts: all" ns_set '"podwall.io/log-verdicts": all'
can a b
ip netns exec "$NS_PREFIX-c" timeout 1 nc -w 1 "${IP[b]}" 7070 </dev/null >/dev/null 2>&1
has_allowed() { [ "$(nflows --pod demo/b --verdict allowed)" -ge 2 ]; }
check "allowed a -> b:8080 and c -> b:7070 recorded" wait_for has_allowed
rec=$(flows --pod demo/b --verdict allowed)
r8080=$(jq -c '[.[] | select(.dport == 8080)][0]' <<<"$rec")
r7070=$(jq -c '[.[] | select(.dport == 7070)][0]' <<<"$rec")
diag "8080: $r8080"
ex8080=$("$PODWALLCTL" policy explain -f "$MAN" --from demo/a --to demo/b --port 8080 -j)
ex7070=$("$PODWALLCTL" policy explain -f "$MAN" --from demo/c --to demo/b --port 7070 -j)
check "a -> b:8080 names demo/server-ingress ingress rule 0, as policy explain does" eval \
	'jqok ".policy == {\"namespace\":\"demo\",\"name\":\"server-ingress\",\"direction\":\"ingress\",\"rule\":0} and .reason == \"allow-policy\"" <<<"$r8080" &&
	 [ "$(jq -r .why <<<"$r8080")" = "$(jq -r .ingress.why <<<"$ex8080")" ] &&
	 [ "$(jq -r .ingress.rule.index <<<"$ex8080")" = 0 ]'
check "c -> b:7070 names rule 1, as policy explain does" eval \
	'[ "$(jq -r .policy.rule <<<"$r7070")" = 1 ] &&
	 [ "$(jq -r .why <<<"$r7070")" = "$(jq -r .ingress.why <<<"$ex7070")" ]'

# policy show: the compiled rows of b with the rules and their hits.
ps=$("$PODWALLCTL" policy show demo/b -j)
diag "policy show: $(jq -c '[.rules[] | {peer, ports, verdict, policy, hits}]' <<<"$ps")"
check "policy show: b isolated for ingress by demo/server-ingress, not for egress" jqok \
	'.isolation.ingress.isolated and .isolation.ingress.selected_by == "demo/server-ingress"
	 and (.isolation.egress.isolated | not)' <<<"$ps"
check "policy show: client peers allowed on 8080 by rule 0, with hits from a -> b" jqok \
	'any(.rules[]; .direction == "ingress" and (.peer | test("role=client")) and
	     .proto == "TCP" and .ports == "8080" and .verdict == "allow" and
	     .policy.name == "server-ingress" and .policy.rule == 0 and .hits >= 1)' <<<"$ps"
check "policy show: any peer on 7070 by rule 1, one hit (c -> b:7070)" jqok \
	'any(.rules[]; .peer == "any" and .ports == "7070" and .policy.rule == 1 and
	     .hits == 1)' <<<"$ps"
check "policy show (text): a table with the rule" eval \
	'"$PODWALLCTL" policy show demo/b | grep -qE "^ingress .*8080 +allow +demo/server-ingress rule 0"'

# The live stream.
"$PODWALLCTL" flows --follow -j --pod demo/b --verdict denied >"$TMP/follow.out" 2>&1 &
FOLLOW=$!
PIDS+=($FOLLOW)
sleep 0.3
syn_once c b 9090
streamed() { jq -e -s 'any(.[]; .dport == 9090 and .verdict == "denied")' "$TMP/follow.out" \
	>/dev/null 2>&1; }
check "flows --follow streams the new denied record" wait_for streamed
check "... and only what matches its filter" \
	jqok -s 'all(.[]; .pod == "b" and .verdict == "denied")' "$TMP/follow.out"
kill "$FOLLOW" 2>/dev/null
check "the daemon stays responsive after a follower left" eval '"$PODWALLCTL" status -j >/dev/null'

dr=$("$PODWALLCTL" drops -j --window 5m)
diag "drops: $(jq -c . <<<"$dr")"
check "drops: policy-denied-ingress on top, demo/b among the pods, the default deny named" \
	jqok '.reasons[0].name == "policy-denied-ingress" and .packets >= 4 and
	 any(.pods[]; .name == "demo/b") and
	 any(.policies[]; .name | test("default deny: selected by demo/server-ingress"))' <<<"$dr"

# ---- every podwallctl command's JSON -------------------------------------------------
ctl_json() { # ctl_json JQ-FILTER COMMAND... : exit 0 and JSON with the documented fields
	local out
	out=$("$PODWALLCTL" "${@:2}") || { diag "$* failed: $out"; return 1; }
	jq -e "$1" <<<"$out" >/dev/null || { diag "$*: $out"; return 1; }
}
check "status -j" ctl_json '.ready and .node == "pwd-node" and (.endpoints | type) == "number" and
	(.policies | type) == "number" and (.epoch | type) == "number" and .source != null' status -j
check "endpoints -j" ctl_json 'length == 3 and all(.[]; (.id | type) == "number" and .namespace and
	.pod and .interface and (.ips | type) == "array" and (.ready | type) == "boolean" and
	(.ingress.allowed | type) == "number" and (.egress.dropped | type) == "number")' endpoints -j
check "flows -j" ctl_json 'length > 0 and all(.[]; .time and .node and .direction and .proto and
	.src and (.sport | type) == "number" and .dst and (.dport | type) == "number" and .verdict
	and .reason and (.count | type) == "number" and .why and has("policy"))' flows -j
check "drops -j" ctl_json '(.window | type) == "number" and (.records | type) == "number" and
	(.packets | type) == "number" and all(.reasons[], .pods[], .policies[]; .name and .count)' \
	drops -j
check "policy show -j (options after the pod too)" ctl_json '.namespace == "demo" and .pod == "b"
	and (.identity | type) == "number" and .isolation.ingress and
	all(.rules[]; .direction and .peer and .proto and .ports and .verdict and
	(.hits | type) == "number" and has("policy"))' policy show demo/b -p
check "policy explain -j" ctl_json '.ingress.reason and .ingress.why and
	(.ingress.allowed | type) == "boolean"' policy explain -j -f "$MAN" --from demo/a --to demo/b \
	--port 8080
check "policy matrix -j" ctl_json 'type == "object" or type == "array"' -j policy matrix \
	-f "$MAN" --port 8080
check "dos status -j" ctl_json 'type == "object"' -j dos status --pin-root "$PIN"
check "blocklist list -j" ctl_json 'type == "array" or type == "object"' -j blocklist list \
	--pin-root "$PIN"
check "ratelimit list -j" ctl_json 'type == "array" or type == "object"' -j ratelimit list \
	--pin-root "$PIN"
printf 'alert tcp any any -> any 80 (msg:"x"; content:"GET"; sid:1;)\n' >"$TMP/r.rules"
check "rules check -j" ctl_json 'type == "object"' -j rules check "$TMP/r.rules"
err_json() { # err_json EXIT COMMAND...: {"error": ...} on stdout and the documented exit code
	local out rc
	out=$("$PODWALLCTL" "${@:2}" 2>/dev/null)
	rc=$?
	[ "$rc" = "$1" ] && jq -e '.error | type == "string"' <<<"$out" >/dev/null ||
		{ diag "$*: exit $rc: $out"; return 1; }
}
check "-j unknown command: {\"error\"}, exit 2" err_json 2 -j nosuchcommand
check "-j ambiguous prefix: {\"error\"}, exit 2" err_json 2 -j d
check "-j flows --verdict bogus: exit 2" err_json 2 -j flows --verdict bogus
check "-j policy show of an unknown pod: exit 1" err_json 1 -j policy show demo/nope
check "-j status with no daemon at the socket: exit 1" err_json 1 -j status -s "$TMP/nope.sock"
# Malformed requests on the API socket: rejected naming the field; nothing else changes.
api() { socat -t 3 - UNIX-CONNECT:"$SOCK" 2>/dev/null; }
bad_req() { # bad_req REQUEST FIELD
	echo "$1" | api | jq -e --arg f "$2" '.code == 7 and (.error | test($f))' >/dev/null ||
		{ diag "$1: $(echo "$1" | api)"; return 1; }
}
check "API flows with a verdict that is not a string: names verdict" \
	bad_req '{"cmd":"flows","verdict":5}' verdict
check "API flows --follow with a bad verdict: an answer naming it, then closed" \
	bad_req '{"cmd":"flows","follow":true,"verdict":"maybe"}' verdict
check "API drops without a window: names window" bad_req '{"cmd":"drops","window":"x"}' window
check "API policy-show without a pod: names the fields" bad_req '{"cmd":"policy-show"}' pod
check "API flows with a huge limit is clamped, not refused" eval \
	'echo "{\"cmd\":\"flows\",\"limit\":99999999999}" | api | jq -e ".ok" >/dev/null'
check "the daemon still answers after them" eval '"$PODWALLCTL" status -j | jq -e .ready >/dev/null'
check "help at every level: podwallctl policy show help" eval \
	'"$PODWALLCTL" policy show help | grep -q "Usage: podwallctl policy show"'

# ---- audit mode --------------------------------------------------------------------
check "demo annotated enforcement: audit" \
	ns_set '"podwall.io/enforcement": audit, "podwall.io/log-verdicts": denied'
check "audit: c -> b passes" can c b
has_audit() { [ "$(nflows --pod demo/b --verdict audit-denied)" -ge 1 ]; }
check "audit: recorded as audit-denied" wait_for has_audit
rec=$(flows --pod demo/b --verdict audit-denied)
check "audit: reason audit-denied, why names the default deny it would have been" \
	jqok '.[0].reason == "audit-denied" and
	 (.[0].why | test("default deny: selected by demo/server-ingress"))' <<<"$rec"
check "audit: metrics count audit-denied under allowed" eval \
	'[ "$(metric "podwall_packets_total{namespace=\"demo\",direction=\"ingress\",reason=\"audit-denied\",verdict=\"allowed\"}")" -gt 0 ]'
check "back to enforce: c -> b denied again (no restart)" \
	eval 'ns_set "\"podwall.io/enforcement\": enforce" && cannot c b'

# log-verdicts: none -> the datapath writes nothing for demo.
check "demo annotated log-verdicts: none" ns_set '"podwall.io/log-verdicts": none'
sent0=$(metric podwall_datapath_events_sent_total)
n0=$(nflows)
for p in 9001 9002 9003; do syn_once c b $p; done
can a b
sleep 2.5
check "none: no record, and no event left the datapath" eval \
	'[ "$(nflows)" = "$n0" ] && [ "$(metric podwall_datapath_events_sent_total)" = "$sent0" ]'
check "none: the drops are still counted" eval \
	'[ "$(metric "podwall_packets_total{namespace=\"demo\",direction=\"ingress\",reason=\"policy-denied-ingress\",verdict=\"dropped\"}")" -gt "$denied_m" ]'

# ---- a flood of distinct denied flows ------------------------------------------------
check "demo back to log-verdicts: denied" ns_set '"podwall.io/log-verdicts": denied'
sent0=$(metric podwall_datapath_events_sent_total)
recs0=$(metric podwall_flow_log_records_total)
ip netns exec "$NS_PREFIX-c" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 4
n = 0
while time.time() < end:
	for p in range(1024, 65535, 7):
		try:
			s.sendto(b"x", (sys.argv[1], p))
		except OSError:
			pass
		n += 1
		if n % 5000 == 0 and time.time() >= end:
			break
print(n)' "${IP[b]}" >"$TMP/flood.n" 2>/dev/null &
FLOOD=$!
PIDS+=($FLOOD)
sleep 1
t0=$(date +%s%N)
check "flood: podwalld answers status meanwhile" eval 'timeout 5 "$PODWALLCTL" status -j >/dev/null'
diag "status during the flood: $((($(date +%s%N) - t0) / 1000000)) ms"
check "flood: /healthz answers meanwhile" test "$(http_code /healthz)" = 200
wait "$FLOOD"
sleep 2.5
sent=$(( $(metric podwall_datapath_events_sent_total) - sent0 ))
recs=$(( $(metric podwall_flow_log_records_total) - recs0 ))
supp=$(metric podwall_datapath_events_suppressed_total)
diag "flood: $(cat "$TMP/flood.n") packets sent; $sent events, $supp suppressed in all; $recs records"
check "flood: the datapath held events back (per-CPU rate)" test "$supp" -gt 0
check "flood: records <= events (<= rate x CPUs x seconds)" eval \
	'[ "$recs" -le "$sent" ] && [ "$sent" -le $((2000 * $(nproc) * 8)) ]'
size=$(cat "$FLOWS_J"* | wc -c)
diag "flood: JSON logs $(ls "$FLOWS_J"* | wc -l) file(s), $size bytes"
check "flood: the JSON log rotated, at most 2 kept, total bounded" eval \
	'[ -f "$FLOWS_J.1" ] && [ ! -e "$FLOWS_J.3" ] && [ "$size" -le $((3 * 65536 + 4096)) ]'

# A deleted pod's packets stay in its namespace's sums (counters never go down).
key='podwall_packets_total{namespace="demo",direction="ingress",reason="policy-denied-ingress",verdict="dropped"}'
before=$(metric "$key")
check "pod b deleted through the CNI chain" del_pod b
after=$(metric "$key")
diag "demo denied ingress: $before before b's deletion, $after after"
check "metrics: the namespace's counter did not fall with b gone" \
	eval '[ "$before" -gt 0 ] && [ "$after" -ge "$before" ]'
stop_daemon

finish
