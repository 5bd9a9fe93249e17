#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# CNI ADD and DEL latency: the ptp plugin alone vs ptp with podwall chained
# after it (podwalld running, a default-deny policy in the pods' namespace so
# that every ADD builds a policy map). Runs in a private world (unshare -n -m).
#
#   PODWALLD=... PODWALLCTL=... PW_CNI_PLUGIN=... tests/bench/cni.sh [-n PODS] [-j]
#
# Each latency is the wall time of the plugin processes a runtime would run
# (ptp; ptp then podwall for ADD, podwall then ptp for DEL), process start
# included. The two kinds of pod are interleaved (pod i alone, then pod i
# chained) so that drift in the machine's load hits both alike.
# Exit 0 whatever the figures, 77 without root or the plugins, 1 if setup fails.

set -u

N=100
JSON=0
while getopts "n:jh" o; do
	case $o in
	n) N=$OPTARG ;;
	j) JSON=1 ;;
	*) echo "usage: cni.sh [-n PODS] [-j]"; exit 2 ;;
	esac
done

[ "$(id -u)" = 0 ] || { echo "cni.sh: SKIP: needs root" >&2; exit 77; }
CNI_PATH=${CNI_PATH:-/usr/lib/cni}
B=$(dirname "$(readlink -f "$0")")/../../build
PODWALLD=${PODWALLD:-$B/control/daemon/podwalld}
PODWALLCTL=${PODWALLCTL:-$B/control/cli/podwallctl}
PW_CNI_PLUGIN=${PW_CNI_PLUGIN:-$B/cni-plugin/podwall}
for t in "$CNI_PATH/ptp" "$CNI_PATH/host-local" "$PODWALLD" "$PODWALLCTL" "$PW_CNI_PLUGIN"; do
	[ -x "$t" ] || { echo "cni.sh: SKIP: $t not found" >&2; exit 77; }
done
command -v jq >/dev/null || { echo "cni.sh: SKIP: jq not installed" >&2; exit 77; }

if [ -z "${PW_BENCH_WORLD:-}" ]; then
	exec env PW_BENCH_WORLD=1 CNI_PATH="$CNI_PATH" PODWALLD="$PODWALLD" \
		PODWALLCTL="$PODWALLCTL" PW_CNI_PLUGIN="$PW_CNI_PLUGIN" \
		unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-bench-cni.XXXXXX)
SOCK=$TMP/podwalld.sock
MAN=$TMP/manifests
QUEUE=$TMP/queue
DPID=
export PODWALL_SOCKET=$SOCK
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	umount /run/netns 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p /run/netns "$MAN" "$QUEUE"
mount -t tmpfs tmpfs /run/netns || exit 1
mount -t bpf bpf /sys/fs/bpf || { echo "cni.sh: SKIP: cannot mount bpffs" >&2; exit 77; }
ip link set lo up
ip link add pwup0 type veth peer name pwup1 && ip link set pwup0 up && ip link set pwup1 up

cat >"$MAN/bench.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: bench, labels: {team: bench}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: bench}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
EOF
"$PODWALLD" --manifests "$MAN" --node-name bench --pin-root /sys/fs/bpf/podwall-bench-cni \
	--socket "$SOCK" --queue-dir "$QUEUE" --state-dir "$TMP/state" --uplink pwup0 \
	>"$TMP/podwalld.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do
	"$PODWALLCTL" status -j 2>/dev/null | jq -e '.ready' >/dev/null && break
	sleep 0.1
done
"$PODWALLCTL" status -j 2>/dev/null | jq -e '.ready' >/dev/null ||
	{ echo "cni.sh: podwalld not ready" >&2; cat "$TMP/podwalld.log" >&2; exit 1; }

PTP_CONF=$(printf '{"cniVersion":"1.0.0","name":"bench","type":"ptp","ipam":%s}' \
	"$(printf '{"type":"host-local","subnet":"10.98.0.0/16","dataDir":"%s"}' "$TMP/ipam")")

cni() { # cni CMD POD PLUGIN CONF
	echo "$4" | env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="bench-$2" \
		CNI_NETNS="/run/netns/$2" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=$2;K8S_POD_UID=$2" \
		"$3"
}
pw_conf() {
	printf '{"cniVersion":"1.0.0","name":"bench","type":"podwall","socket":"%s",%s}' "$SOCK" \
		"$(printf '"queueDir":"%s","timeoutMs":5000,"prevResult":%s' "$QUEUE" "$1")"
}
now() { date +%s%N; }

declare -A PREV
: >"$TMP/add-ptp" >"$TMP/add-chain" >"$TMP/del-ptp" >"$TMP/del-chain"
: >"$TMP/add-podwall" >"$TMP/del-podwall"
for i in $(seq "$N"); do
	for kind in ptp chain; do
		p=$kind-$i
		ip netns add "$p" || exit 1
		t0=$(now)
		prev=$(cni ADD "$p" "$CNI_PATH/ptp" "$PTP_CONF") || { echo "ptp ADD: $prev"; exit 1; }
		if [ $kind = chain ]; then
			t1=$(now)
			out=$(cni ADD "$p" "$PW_CNI_PLUGIN" "$(pw_conf "$prev")") ||
				{ echo "podwall ADD: $out"; exit 1; }
			echo $(($(now) - t1)) >>"$TMP/add-podwall"
		fi
		echo $(($(now) - t0)) >>"$TMP/add-$kind"
		PREV[$p]=$prev
	done
done
eps=$("$PODWALLCTL" status -j | jq .endpoints)
[ "$eps" = "$N" ] || { echo "cni.sh: podwalld has $eps endpoints, not $N" >&2; exit 1; }
for i in $(seq "$N"); do
	for kind in ptp chain; do
		p=$kind-$i
		t0=$(now)
		if [ $kind = chain ]; then
			cni DEL "$p" "$PW_CNI_PLUGIN" "$(pw_conf "${PREV[$p]}")" >/dev/null ||
				{ echo "podwall DEL failed"; exit 1; }
			echo $(($(now) - t0)) >>"$TMP/del-podwall"
		fi
		cni DEL "$p" "$CNI_PATH/ptp" "$PTP_CONF" >/dev/null || { echo "ptp DEL failed"; exit 1; }
		echo $(($(now) - t0)) >>"$TMP/del-$kind"
		ip netns del "$p"
	done
done

# median and p99 (nearest rank) in ms
stat() { sort -n "$1" | awk '{v[NR] = $1} END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	r = int(NR * 0.99 + 0.999999); if (r < 1) r = 1
	printf "%.2f %.2f\n", m / 1e6, v[r] / 1e6 }'; }

read -r addpm addpp < <(stat "$TMP/add-ptp")
read -r addcm addcp < <(stat "$TMP/add-chain")
read -r delpm delpp < <(stat "$TMP/del-ptp")
read -r delcm delcp < <(stat "$TMP/del-chain")
read -r addwm addwp < <(stat "$TMP/add-podwall")
read -r delwm delwp < <(stat "$TMP/del-podwall")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
if [ $JSON = 1 ]; then
	jq -n --argjson n "$N" --argjson a "[$addpm, $addpp, $addcm, $addcp]" \
		--argjson d "[$delpm, $delpp, $delcm, $delcp]" \
		--argjson w "[$addwm, $addwp, $delwm, $delwp]" '{pods: $n,
		add: {ptp: {median_ms: $a[0], p99_ms: $a[1]}, chain: {median_ms: $a[2], p99_ms: $a[3]},
		      ratio_median: ($a[2] / $a[0]), ratio_p99: ($a[3] / $a[1])},
		del: {ptp: {median_ms: $d[0], p99_ms: $d[1]}, chain: {median_ms: $d[2], p99_ms: $d[3]},
		      ratio_median: ($d[2] / $d[0]), ratio_p99: ($d[3] / $d[1])},
		podwall_part: {add: {median_ms: $w[0], p99_ms: $w[1]},
			       del: {median_ms: $w[2], p99_ms: $w[3]}}}'
else
	echo "CNI latency, $N pods each (ms; chain = ptp + podwall, podwalld running)"
	printf '%-4s %12s %12s %12s %12s %8s %8s\n' op ptp-median ptp-p99 chain-median chain-p99 \
		x-median x-p99
	printf '%-4s %12s %12s %12s %12s %8s %8s\n' ADD "$addpm" "$addpp" "$addcm" "$addcp" \
		"$(ratio "$addcm" "$addpm")" "$(ratio "$addcp" "$addpp")"
	printf '%-4s %12s %12s %12s %12s %8s %8s\n' DEL "$delpm" "$delpp" "$delcm" "$delcp" \
		"$(ratio "$delcm" "$delpm")" "$(ratio "$delcp" "$delpp")"
	echo "podwall's part of the chain (its plugin process, daemon round trip included):"
	echo "  ADD median $addwm ms, p99 $addwp ms; DEL median $delwm ms, p99 $delwp ms"
fi
exit 0
