#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# podwalld and the uplink DoS guards: settings from --dos-config at start,
# refused when bad; blocklist and limits changed live through the API socket,
# seen by podwallctl on the same pinned maps. Private world (unshare -n -m),
# private bpffs. Environment: PODWALLD, PODWALLCTL. Needs socat, jq.
set -u
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
for t in socat jq unshare; do
	command -v $t >/dev/null || { echo "1..0 # SKIP $t not installed"; exit 0; }
done
: "${PODWALLD:?}" "${PODWALLCTL:?}"
if [ -z "${PW_DOS_TEST_WORLD:-}" ]; then
	exec env PW_DOS_TEST_WORLD=1 unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-dos-test.XXXXXX)
PIN=/sys/fs/bpf/podwall-dos-$$
SOCK=$TMP/podwalld.sock
LOG=$TMP/podwalld.log
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	if [ "${V:-0}" = 1 ] && [ -f "$LOG" ]; then sed 's/^/# log: /' "$LOG"; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
mount -t bpf bpf /sys/fs/bpf || { echo "1..0 # SKIP cannot mount bpffs"; exit 0; }
ip link set lo up

N=0
NFAIL=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
fail() { N=$((N + 1)); NFAIL=$((NFAIL + 1)); echo "not ok $N - $1"; tail -n 5 "$LOG" | sed 's/^/#   /'; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
api() { socat -t 3 - UNIX-CONNECT:"$SOCK" 2>/dev/null; }
ctl() { "$PODWALLCTL" "$@" --pin-root "$PIN"; }
start() {
	"$PODWALLD" ${PW_DOS_DAEMON_FLAGS:-} --pin-root "$PIN" --socket "$SOCK" --state-dir "$TMP/state" \
		--queue-dir "$TMP/queue" --manifests "$TMP/man" --dos-config "$1" >>"$LOG" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$DPID" 2>/dev/null || { DPID=; return 1; }
		sleep 0.1
	done
	return 1
}

mkdir -p "$TMP/man"
pod_manifest() { # ingress-bandwidth egress-pps max-connections
	cat >"$TMP/man/web.json.tmp" <<J
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "demo",
  "labels": {"app": "web"}, "annotations": {"kubernetes.io/ingress-bandwidth": "$1",
  "podwall.io/egress-pps": "$2", "podwall.io/max-connections": "${3:-100}"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}]}
J
	mv "$TMP/man/web.json.tmp" "$TMP/man/web.json"
}
pod_manifest 10M 500
ip link add pwdv0 type veth peer name pwdv1 && ip link set pwdv0 up

echo "TAP version 13"
echo "1..18"
cat >"$TMP/bad.json" <<'J'
{"pps": 0}
J
check "a bad --dos-config (rate 0) stops the start, naming the key" \
	eval '! start "$TMP/bad.json" && grep -q "pps: .*at least 1" "$LOG"'
cat >"$TMP/dos.json" <<'J'
{"pps": "20k", "bandwidth": "200Mbit", "auto_block_after": "2s", "auto_block_ttl": "10m",
 "src_prefix4": 24, "syn_rate": "1k",
 "blocklist": [{"cidr": "198.51.100.0/24", "ttl": "1h"}, {"cidr": "2001:db8::66"}]}
J
check "podwalld starts with --dos-config" start "$TMP/dos.json"
check "settings from the file are in the maps" \
	eval 'ctl -j ratelimit list | jq -e ".enabled and .default.pps == 20000 and
		.default.bytes_per_sec == 25000000 and .src_prefix4 == 24 and .syn_pps == 1000 and
		.auto_block_ms == 2000 and .auto_block_ttl_s == 600" >/dev/null'
check "blocklist entries from the file, with their ttl" \
	eval 'ctl -j blocklist list | jq -e "length == 2 and
		(.[] | select(.cidr == \"198.51.100.0/24\") | .ttl_s > 3500 and .owner == \"operator\") and
		(.[] | select(.cidr == \"2001:db8::66\") | .ttl_s == 0)" >/dev/null'
check "API blocklist-add with a ttl" \
	eval 'echo "{\"cmd\":\"blocklist-add\",\"cidr\":\"192.0.2.7\",\"ttl\":\"30s\"}" | api |
		jq -e ".ok" >/dev/null'
check "API blocklist-list shows it" \
	eval 'echo "{\"cmd\":\"blocklist-list\"}" | api |
		jq -e ".entries[] | select(.cidr == \"192.0.2.7\") | .ttl_s <= 30" >/dev/null'
check "API blocklist-add refuses a bad CIDR, naming it" \
	eval 'echo "{\"cmd\":\"blocklist-add\",\"cidr\":\"192.0.2.0/40\"}" | api |
		jq -e ".code == 7 and (.error | test(\"192.0.2.0/40\"))" >/dev/null'
check "API blocklist-del" \
	eval 'echo "{\"cmd\":\"blocklist-del\",\"cidr\":\"192.0.2.7\"}" | api | jq -e ".ok" >/dev/null &&
		! ctl -j blocklist list | grep -q 192.0.2.7'
check "API ratelimit-set changes the limit live" \
	eval 'echo "{\"cmd\":\"ratelimit-set\",\"settings\":{\"pps\":5000,\"syn_rate\":\"2k\"}}" |
		api | jq -e ".ok" >/dev/null &&
		ctl -j ratelimit list | jq -e ".default.pps == 5000 and .syn_pps == 2000" >/dev/null'
check "API ratelimit-set refuses unknown units and negatives; nothing changes" \
	eval 'echo "{\"cmd\":\"ratelimit-set\",\"settings\":{\"pps\":7000,\"bandwidth\":\"3parsecs\"}}" |
		api | jq -e ".code == 7 and (.error | test(\"unknown unit\"))" >/dev/null &&
		echo "{\"cmd\":\"ratelimit-set\",\"settings\":{\"pps\":-1}}" |
		api | jq -e ".code == 7 and (.error | test(\"positive\"))" >/dev/null &&
		ctl -j ratelimit list | jq -e ".default.pps == 5000" >/dev/null'
check "API ratelimit-set per pod (ep_id)" \
	eval 'echo "{\"cmd\":\"ratelimit-set\",\"settings\":{\"ep_id\":3,\"pps\":\"100\"}}" |
		api | jq -e ".ok" >/dev/null &&
		ctl -j ratelimit list | jq -e ".pods[] | select(.ep_id == 3) | .pps == 100" >/dev/null'
check "API dos-status" \
	eval 'echo "{\"cmd\":\"dos-status\"}" | api | jq -e ".ok and .enabled and
		(.blocklisted | type == \"number\") and (.top_talkers | type == \"array\")" >/dev/null'
# A pod's own limits follow its annotations.
# The pod's own limits as one object; jq -s so that no entry is a failure, not an empty success.
pod_limits() { ctl -j ratelimit list | jq -c "[.pod_limits[]? | select(.ep_id == ${EP:-0})]"; }
has_limits() { pod_limits | jq -e "length == 1 and (.[0] | $1)" >/dev/null; }
wait_for() { for _ in $(seq 40); do eval "$1" && return 0; sleep 0.1; done; return 1; }
IFX=$(ip -j link show pwdv0 | jq '.[0].ifindex')
EP=$(jq -nc --argjson ifx "$IFX" '{cmd: "endpoint-add", container_id: "c1",
	netns: "/proc/1/ns/net", ifname: "eth0", namespace: "demo", pod: "web", uid: "",
	host_ifname: "pwdv0", host_ifindex: $ifx, ips: ["10.98.0.5/24"],
	mac: "02:00:00:00:00:05"}' | api | tee "$TMP/add.json" | jq -r '.id // empty')
[ -n "$EP" ] || echo "# endpoint-add: $(cat "$TMP/add.json")"
check "annotations set the pod's limits (10M = 1.25 MB/s in, 500 pps out)" \
	wait_for 'has_limits ".ingress.bytes_per_sec == 1250000 and .egress.pps == 500 and
		.ingress.pps == 0"'
pod_manifest 20M 800
check "changed annotations change the limits live" \
	wait_for 'has_limits ".ingress.bytes_per_sec == 2500000 and .egress.pps == 800"'
pod_manifest 20Mbps 800
bad_logged() { grep -q 'demo/web: kubernetes.io/ingress-bandwidth: .*unknown unit' "$LOG"; }
check "a bad annotation is refused, named, and the limits stay" \
	eval 'wait_for bad_logged && sleep 1.2 && has_limits ".ingress.bytes_per_sec == 2500000"'
# podwall.io/max-connections, live.
max_conns() { ctl -j ratelimit list | jq -e ".connections[]? | select(.ep_id == ${EP:-0}) |
	.max_connections == $1" >/dev/null; }
pod_manifest 20M 800 100
check "podwall.io/max-connections sets the pod's connection limit" wait_for 'max_conns 100'
pod_manifest 20M 800 2k
check "a changed max-connections applies live" wait_for 'max_conns 2000'
pod_manifest 20M 800 -3
conns_bad() { grep -q 'demo/web: podwall.io/max-connections: .*must be positive' "$LOG"; }
check "a bad max-connections is refused, named, and the limit stays" \
	eval 'wait_for conns_bad && sleep 1.2 && max_conns 2000'
[ "$NFAIL" = 0 ]
