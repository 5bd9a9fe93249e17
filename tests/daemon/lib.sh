# SPDX-License-Identifier: GPL-2.0-only
#
# Shared pieces of the podwalld live tests (sourced): a private world
# (unshare -n -m, its own bpffs and /run/netns), the daemon, pods through the
# real CNI chain (ptp + host-local, then podwall), TAP helpers.
#
# The caller sets NET (a /24 for host-local), NS_PREFIX (netns names) and
# optionally DAEMON_ARGS (extra podwalld flags, set after sourcing when they
# name $TMP or $MAN) and POD_SERVERS=0 (pods without lib's servers), then calls
# world_setup. Used by tests/daemon and tests/netns/test_ips_live.sh.

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (netns, bpffs, CAP_BPF)"
	exit 0 # the TAP plan carries the skip (meson 1.0 counts 77 from TAP as an error)
fi
for t in ip socat nc jq unshare curl; do
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

# Re-run inside the private world; its network and mounts die with it.
if [ -z "${PW_DAEMON_TEST_WORLD:-}" ]; then
	exec env PW_DAEMON_TEST_WORLD=1 unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-daemon-test.XXXXXX)
PIN=/sys/fs/bpf/podwall-test-$$
SOCK=$TMP/run/podwalld.sock
STATE=$TMP/state
QUEUE=$TMP/queue
MAN=$TMP/manifests
LOG=$TMP/podwalld.log
DPID=
PIDS=()
DAEMON_ARGS=(${DAEMON_ARGS[@]+"${DAEMON_ARGS[@]}"})
export PODWALL_SOCKET=$SOCK

cleanup() {
	local p
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for p in /run/netns/"$NS_PREFIX"-*; do [ -e "$p" ] && ip netns del "${p##*/}"; done
	umount /run/netns 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	if [ "${V:-0}" = 1 ] && [ -f "$LOG" ]; then sed 's/^/# log: /' "$LOG"; fi
	rm -rf "$TMP"
}

world_setup() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	mkdir -p /run/netns "$MAN" "$QUEUE"
	mount -t tmpfs tmpfs /run/netns || exit 1
	# A private bpffs: the test's pins never meet a real podwall's.
	mount -t bpf bpf /sys/fs/bpf || { echo "1..0 # SKIP cannot mount bpffs"; exit 0; }
	ip link set lo up
	sysctl -qw net.ipv4.ip_forward=1
}

NTESTS=0
NFAIL=0
ok() { NTESTS=$((NTESTS + 1)); echo "ok $NTESTS - $1"; }
fail() {
	NTESTS=$((NTESTS + 1)); NFAIL=$((NFAIL + 1))
	echo "not ok $NTESTS - $1"
	[ -f "$LOG" ] && tail -n 15 "$LOG" | sed 's/^/#   /'
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
jqok() { jq -e "$@" >/dev/null; }
diag() { echo "# $*"; }
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
finish() {
	echo "1..$NTESTS"
	echo "# $NFAIL of $NTESTS failed"
	[ "$NFAIL" = 0 ]
}

# Polls "$@" every 0.1 s for up to $WAIT_S seconds (default 10): conditions, not sleeps.
wait_for() {
	local i
	for i in $(seq $((${WAIT_S:-10} * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

start_daemon() {
	${PW_DAEMON_WRAP:-} "$PODWALLD" -v --node-name pwd-node \
		--pin-root "$PIN" --socket "$SOCK" --queue-dir "$QUEUE" --state-dir "$STATE" \
		"${DAEMON_ARGS[@]}" "$@" >>"$LOG" 2>&1 &
	DPID=$!
	wait_ready
}

stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
}

status_json() { "$PODWALLCTL" status -j 2>/dev/null; }
status_field() { status_json | jq -r ".$1" 2>/dev/null; }

# Bounded wait until the daemon answers ready.
wait_ready() {
	local i
	for i in $(seq 100); do
		[ "$(status_field ready)" = true ] && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Bounded wait until the source generation passes $1.
wait_gen() {
	local i g
	for i in $(seq 100); do
		g=$(status_field generation)
		[ -n "$g" ] && [ "$g" != null ] && [ "$g" -gt "$1" ] && return 0
		sleep 0.05
	done
	diag "generation stuck at $(status_field generation) (waited for > $1)"
	return 1
}

# Installs a manifest with one rename (one inotify event) and waits until it is applied.
put_manifest() {
	local name=$1 g t0 r
	g=$(status_field generation)
	cat >"$TMP/$name.new"
	t0=$(date +%s%N)
	mv "$TMP/$name.new" "$MAN/$name"
	wait_gen "$g"
	r=$?
	diag "$name applied after $(ms_since "$t0") ms (50 ms debounce included)"
	return $r
}

declare -A IP CID PREV HOSTIF PODNS

cni() { # cni CMD pod plugin conf
	local cmd=$1 pod=$2 bin=$3 conf=$4
	local args="IgnoreUnknown=1;K8S_POD_NAMESPACE=${PODNS[$pod]};K8S_POD_NAME=$pod;K8S_POD_UID=$pod"
	echo "$conf" | env -i PATH="$PATH" CNI_COMMAND="$cmd" CNI_CONTAINERID="${CID[$pod]}" \
		CNI_NETNS="/run/netns/$NS_PREFIX-$pod" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH" \
		CNI_ARGS="$args" "$bin"
}

ptp_conf() {
	printf '{"cniVersion":"1.0.0","name":"pwd-test","type":"ptp",%s}' \
		"$(printf '"ipam":{"type":"host-local","subnet":"%s","dataDir":"%s"}' \
			"$NET" "$TMP/ipam")"
}

podwall_conf() { # podwall_conf prevResult
	printf '{"cniVersion":"1.0.0","name":"pwd-test","type":"podwall",%s,"prevResult":%s}' \
		"$(printf '"socket":"%s","queueDir":"%s","timeoutMs":5000' "$SOCK" "$QUEUE")" "$1"
}

# add_pod NAME [NAMESPACE]: a netns through ptp + podwall, with servers on
# 8080 (answers "hi" and closes) and 9090 (echo) unless POD_SERVERS=0.
add_pod() {
	local pod=$1 prev out t0
	PODNS[$pod]=${2:-demo}
	CID[$pod]=pwdtest$pod$$
	ip netns add "$NS_PREFIX-$pod" || return 1
	ip -n "$NS_PREFIX-$pod" link set lo up
	prev=$(cni ADD "$pod" "$CNI_PATH/ptp" "$(ptp_conf)") ||
		{ diag "ptp ADD $pod failed: $prev"; return 1; }
	t0=$(date +%s%N)
	out=$(cni ADD "$pod" "$PW_CNI_PLUGIN" "$(podwall_conf "$prev")") ||
		{ diag "podwall ADD $pod failed: $out"; return 1; }
	diag "podwall ADD of $pod (plugin + endpoint-add): $(ms_since "$t0") ms"
	IP[$pod]=$(echo "$prev" | jq -r '.ips[0].address' | cut -d/ -f1)
	HOSTIF[$pod]=$(echo "$prev" | jq -r '.interfaces[0].name')
	PREV[$pod]=$prev
	[ "${POD_SERVERS:-1}" = 1 ] || return 0
	ip netns exec "$NS_PREFIX-$pod" socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'echo hi' \
		2>/dev/null &
	PIDS+=($!)
	ip netns exec "$NS_PREFIX-$pod" socat TCP-LISTEN:9090,reuseaddr,fork EXEC:cat 2>/dev/null &
	PIDS+=($!)
	return 0
}

# The runtime's DEL: podwall first, then ptp, then the netns (two steps, so a
# test can take the daemon down in between).
del_podwall() { cni DEL "$1" "$PW_CNI_PLUGIN" "$(podwall_conf "${PREV[$1]}")" >/dev/null; }
del_ptp() { cni DEL "$1" "$CNI_PATH/ptp" "$(ptp_conf)" >/dev/null && ip netns del "$NS_PREFIX-$1"; }
del_pod() { del_podwall "$1" && del_ptp "$1"; }

# A new TCP connection src -> dst:port gets the server's answer.
tcp() { # tcp src dst [port]
	local out
	out=$(ip netns exec "$NS_PREFIX-$1" timeout 3 nc -w 1 "${IP[$2]}" "${3:-8080}" </dev/null \
		2>/dev/null)
	[ "$out" = hi ]
}
can() { tcp "$@"; }
cannot() { ! tcp "$@"; }

# One SYN, no retransmission inside the dedup window: exactly one new flow.
syn_once() { # syn_once src dst port
	ip netns exec "$NS_PREFIX-$1" timeout 0.5 nc -w 1 "${IP[$2]}" "$3" </dev/null \
		>/dev/null 2>&1
	return 0
}

ns_manifest() { # ns_manifest name [annotations as "k: v" flow map body]
	cat <<EOM
apiVersion: v1
kind: Namespace
metadata: {name: $1, labels: {team: $1}, annotations: {${2:-}}}
EOM
}

pod_manifest() { # pod_manifest name role [namespace]
	cat <<EOM
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: ${3:-demo}, labels: {role: $2}}
spec:
  containers:
  - name: main
    ports: [{containerPort: 8080, protocol: TCP}]
EOM
}

# Default deny into role=server; allow from role=client on 8080 and 9090 (rule 0),
# and from anywhere on 7070 (rule 1).
policy_manifest() { # policy_manifest [namespace]
	cat <<EOM
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: server-ingress, namespace: ${1:-demo}}
spec:
  podSelector: {matchLabels: {role: server}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: client}}
    ports: [{protocol: TCP, port: 8080}, {protocol: TCP, port: 9090}]
  - ports: [{protocol: TCP, port: 7070}]
EOM
}

METRICS=127.0.0.1:9464
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "http://$METRICS$1"; }
scrape() { curl -sf -m 5 "http://$METRICS/metrics"; }
# metric NAME{labels} -> the sample's value (0 when absent)
metric() {
	scrape | awk -v k="$1" 'index($0, k " ") == 1 { v = $2 } END { print v + 0 }'
}
