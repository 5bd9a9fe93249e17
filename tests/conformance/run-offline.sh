#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs every policy case through `podwallctl policy test` (TAP).
#   run-offline.sh PODWALLCTL CASE_DIR       well-formed cases: exit 0 expected
#   run-offline.sh --malformed PODWALLCTL DIR each X.case.json must exit 2 and
#                                            print the text in X.expect
malformed=0
if [ "$1" = "--malformed" ]; then
	malformed=1
	shift
fi
ctl=$1
dir=$2
set -- "$dir"/*.case.json
echo "TAP version 13"
echo "1..$#"
n=0
for f in "$@"; do
	n=$((n + 1))
	name=$(basename "$f" .case.json)
	out=$("$ctl" policy test "$f" 2>&1)
	rc=$?
	if [ $malformed = 0 ]; then
		if [ $rc = 0 ]; then
			echo "ok $n - $name"
		else
			echo "not ok $n - $name (exit $rc)"
			echo "$out" | sed 's/^/# /'
		fi
		continue
	fi
	want=$(cat "$dir/$name.expect")
	case "$out" in
	*"$want"*)
		if [ $rc = 2 ]; then
			echo "ok $n - $name"
			continue
		fi ;;
	esac
	echo "not ok $n - $name (exit $rc, want 2 and \"$want\")"
	echo "$out" | sed 's/^/# /'
done
