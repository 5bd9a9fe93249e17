#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Observability end to end, with the real daemon, the real CNI chain and real
# traffic in a private world (see lib.sh): the metrics and health endpoint.
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

finish
