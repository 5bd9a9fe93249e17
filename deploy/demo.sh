#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# podwall on a single node, end to end: installs what is missing, builds,
# starts podwalld on the example manifests in deploy/examples/, creates three
# pods (network namespaces) through the real CNI chain (ptp + host-local, then
# the podwall plugin), and shows real connections allowed and denied, the
# daemon's status and the per-pod verdict counters.
#
# Everything runs in a private network and mount namespace: the machine's own
# interfaces, routes and /run/netns are untouched, and it all disappears at
# the end. Run as root: sudo deploy/demo.sh   (KEEP=1 to leave it running
# until Enter is pressed, so you can look around with podwallctl.)
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (BPF, network namespaces)" >&2
	exit 1
fi

if [ -z "${PW_DEMO_WORLD:-}" ]; then
	"$TOP/deploy/deps.sh"
	[ -d "$BUILD" ] || meson setup "$BUILD" "$TOP" >/dev/null
	ninja -C "$BUILD" >/dev/null
	exec env PW_DEMO_WORLD=1 unshare -n -m --propagation private "$0" "$@"
fi

PODWALLD=$BUILD/control/daemon/podwalld
PODWALLCTL=$BUILD/control/cli/podwallctl
PLUGIN=$BUILD/cni-plugin/podwall
CNI_PATH=/usr/lib/cni
TMP=$(mktemp -d /tmp/podwall-demo.XXXXXX)
PIN=/sys/fs/bpf/podwall-demo-$$
SOCK=$TMP/podwalld.sock
NET=10.99.70.0/24
export PODWALL_SOCKET=$SOCK
DPID=
PIDS=()
PODS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	# The netns files live in the real /run/netns even though their mounts are private.
	for p in "${PODS[@]}"; do ip netns del "$p" 2>/dev/null; done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	"$PODWALLD" --uninstall --pin-root "$PIN" --state-dir "$TMP/state" >/dev/null 2>&1
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT

ip link set lo up
mkdir -p "$TMP/manifests" "$TMP/state" "$TMP/queue"
cp "$TOP"/deploy/examples/*.yaml "$TMP/manifests/"

echo "== starting podwalld on deploy/examples/ (a single node, policies from a manifest directory)"
"$PODWALLD" --manifests "$TMP/manifests" --node-name demo-node --pin-root "$PIN" \
	--socket "$SOCK" --state-dir "$TMP/state" --queue-dir "$TMP/queue" >"$TMP/podwalld.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do
	"$PODWALLCTL" status -j 2>/dev/null | jq -e .ready >/dev/null 2>&1 && break
	sleep 0.1
done

declare -A IP
cni() { # cni CMD ns pod plugin conf
	echo "$5" | env -i PATH="$PATH" CNI_COMMAND="$1" CNI_CONTAINERID="demo-$2-$3" \
		CNI_NETNS="/run/netns/$2-$3" CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$2;K8S_POD_NAME=$3;K8S_POD_UID=demo-$3" "$4"
}

add_pod() { # add_pod ns pod port...
	local ns=$1 pod=$2 prev ptp port
	shift 2
	ip netns del "$ns-$pod" 2>/dev/null || true
	ip netns add "$ns-$pod"
	PODS+=("$ns-$pod")
	ip -n "$ns-$pod" link set lo up
	ptp=$(printf '{"cniVersion":"1.0.0","name":"demo","type":"ptp","ipam":{"type":"host-local","subnet":"%s","dataDir":"%s"}}' \
		"$NET" "$TMP/ipam")
	prev=$(cni ADD "$ns" "$pod" "$CNI_PATH/ptp" "$ptp") || { echo "ptp ADD: $prev" >&2; return 1; }
	# The runtime hands the main plugin's result to the next plugin of the chain.
	cni ADD "$ns" "$pod" "$PLUGIN" \
		"$(printf '{"cniVersion":"1.0.0","name":"demo","type":"podwall","socket":"%s","queueDir":"%s","prevResult":%s}' \
			"$SOCK" "$TMP/queue" "$prev")" >/dev/null
	IP[$pod]=$(echo "$prev" | jq -r '.ips[0].address' | cut -d/ -f1)
	printf '   %-14s %-12s host veth %s, tagged "%s"\n' "$ns/$pod" "${IP[$pod]}" \
		"$(echo "$prev" | jq -r '.interfaces[0].name')" \
		"$(ip -j link show "$(echo "$prev" | jq -r '.interfaces[0].name')" | jq -r '.[0].ifalias')"
	for port in "$@"; do
		ip netns exec "$ns-$pod" socat TCP-LISTEN:"$port",reuseaddr,fork SYSTEM:'echo hello' \
			2>/dev/null &
		PIDS+=($!)
	done
}

echo "== creating pods through the CNI chain: ptp + host-local, then podwall"
add_pod shop web 8080
add_pod shop db 5432
add_pod guest visitor
sleep 0.3

probe() { # probe ns pod dst-pod port expected
	local got=denied
	if [ "$(ip netns exec "$1-$2" timeout 3 nc -w 1 "${IP[$3]}" "$4" </dev/null 2>/dev/null)" = hello ]
	then
		got=allowed
	fi
	printf '   %-22s -> %-10s %-6s %-8s (%s)\n' "$1/$2" "$3" "$4" "$got" \
		"$([ "$got" = "$5" ] && echo "as the policies say" || echo "UNEXPECTED")"
	[ "$got" = "$5" ]
}

echo "== real TCP connections"
ok=0
probe shop web db 5432 allowed || ok=1
probe guest visitor db 5432 denied || ok=1
probe guest visitor web 8080 allowed || ok=1
probe shop db web 8080 allowed || ok=1
probe shop web db 8080 denied || ok=1

echo "== why is guest/visitor -> shop/db:5432 denied?"
"$PODWALLCTL" policy explain -f "$TMP/manifests" --from guest/visitor --to shop/db --port 5432 |
	sed 's/^/   /'
echo "== podwallctl status"
"$PODWALLCTL" status | sed 's/^/   /'
echo "== podwallctl endpoints (verdict counters from the datapath)"
"$PODWALLCTL" endpoints | sed 's/^/   /'

if [ -n "${KEEP:-}" ]; then
	echo "== running; PODWALL_SOCKET=$SOCK; press Enter to tear down"
	read -r _
fi
[ $ok = 0 ] && echo "== demo passed" || echo "== demo FAILED: see $TMP/podwalld.log"
exit $ok
