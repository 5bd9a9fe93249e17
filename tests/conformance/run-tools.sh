#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# podwallctl policy explain/matrix on tools/manifests (TAP).
#   run-tools.sh PODWALLCTL DIR
ctl=$1
m=$2/tools/manifests
n=0
fails=0
echo "TAP version 13"
echo "1..15"

# check NAME WANT_EXIT NEEDLE CMD...: stdout+stderr must contain NEEDLE, exit WANT_EXIT
check() {
	name=$1 want=$2 needle=$3
	shift 3
	n=$((n + 1))
	out=$("$@" 2>&1)
	rc=$?
	case "$out" in
	*"$needle"*)
		if [ "$rc" = "$want" ]; then
			echo "ok $n - $name"
			return
		fi ;;
	esac
	fails=$((fails + 1))
	echo "not ok $n - $name (exit $rc, want $want and \"$needle\")"
	echo "$out" | sed 's/^/# /'
}

# refute NAME NEEDLE CMD...: output must not contain NEEDLE
refute() {
	name=$1 needle=$2
	shift 2
	n=$((n + 1))
	out=$("$@" 2>&1)
	case "$out" in
	*"$needle"*)
		echo "not ok $n - $name"
		echo "$out" | sed 's/^/# /' ;;
	*) echo "ok $n - $name" ;;
	esac
}

check "allowed by a named port, attributed to its rule" 0 "ingress at x/a: allow-policy: x/web ingress rule 0" \
	"$ctl" policy explain -f "$m" --from x/b --to x/a --port 8080
check "other port: default deny names the policy" 1 "default deny: selected by x/web, no rule allows" \
	"$ctl" policy explain -f "$m" --from x/b --to x/a --port 8081
check "unisolated destination" 0 "no policy selects the destination for ingress" \
	"$ctl" policy explain -f "$m" --from x/a --to x/b --port 80
check "deny-all in another namespace" 1 "selected by y/deny-all" \
	"$ctl" policy explain -f "$m" --from x/a --to y/c --port 80
check "IPv6 addresses resolve to pods" 0 "allow-policy: x/web ingress rule 0" \
	"$ctl" policy explain -f "$m" --from fd00::2 --to fd00::1 --port 8080
check "an outside address" 1 "source is not a local endpoint" \
	"$ctl" policy explain -f "$m" --from 192.0.2.1 --to x/a --port 8080 --proto TCP
check "JSON explain" 1 '"verdict":"deny"' \
	"$ctl" -j policy explain -f "$m" --from x/b --to y/c --port 80
check "a rejected object names file, object and field" 0 "20-policies.json: NetworkPolicy y/broken: spec.ingress[0].ports[0].endPort" \
	"$ctl" policy explain -f "$m" --from x/b --to x/a --port 8080
check "matrix text" 0 "  2 y/c . 1 - " \
	"$ctl" policy matrix -f "$m" --port 8080
check "matrix JSON edges" 0 '"allowed":[["x/a","x/b"],["x/b","x/a"],["y/c","x/b"]]' \
	"$ctl" -j policy matrix -f "$m" --port 8080
check "matrix DOT clusters and edges" 0 '"x/b" -> "x/a";' \
	"$ctl" policy matrix -f "$m" --port 8080 --format dot
refute "DOT has no edge into the deny-all namespace" '-> "y/c"' \
	"$ctl" policy matrix -f "$m" --port 8080 --format dot
check "JSON-mode errors are {\"error\": ...} on stdout" 1 '{"error":"/nonexistent: No such file or directory"}' \
	"$ctl" -j policy matrix -f /nonexistent --port 80
check "the node's own address is host traffic" 0 "allow-host" \
	"$ctl" policy explain -f "$m" --from 10.0.0.9 --to y/c --port 80 --node-ip 10.0.0.9
check "unknown command" 2 'unknown command "frobnicate"' \
	"$ctl" policy frobnicate
exit 0
