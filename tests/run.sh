#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The whole test suite, as CI runs it: installs what is missing, builds
# twice (plain, and AddressSanitizer + UndefinedBehaviorSanitizer for all
# user-space code), runs every meson test suite (the slow live conformance
# suite only in the plain build), and ends with "N passed, N failed,
# N skipped" counted over every TAP test point. Run as root: sudo tests/run.sh
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: run as root (BPF, network namespaces)" >&2
	exit 1
fi
deploy/deps.sh || exit 1

build() { # build DIR [meson options]
	local dir=$1
	shift
	if [ ! -d "$dir" ]; then
		meson setup "$dir" -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
			{ cat "$dir.setup.log"; return 1; }
	fi
	ninja -C "$dir" >"$dir.build.log" 2>&1 || { tail -50 "$dir.build.log"; return 1; }
}

status=0
logs=()
echo "== build: plain"
if build build; then
	echo "== test: plain"
	# The live bridge conformance run stays out (see tests/conformance/meson.build).
	meson test -C build --print-errorlogs --no-rebuild --no-suite conformance-live-bridge ||
		status=1
	logs+=(build/meson-logs/testlog.json)
else
	status=1
fi

echo "== build: asan+ubsan"
if build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
	echo "== test: asan+ubsan (all suites but the live conformance runs)"
	suites=$(meson test -C build-asan --list 2>/dev/null | sed -n 's/^podwall:\([^ ]*\) .*/\1/p' |
		tr '+' '\n' | sort -u | grep -v '^conformance-live' | sed 's/^/--suite /')
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --no-rebuild $suites || status=1
	logs+=(build-asan/meson-logs/testlog.json)
else
	status=1
fi

# The BPF helpers also built as BPF-to-BPF calls (-Dbpf-noinline=true): the verifier must
# accept that shape too, so a helper never silently depends on being inlined.
echo "== build: bpf-noinline"
if build build-noinline -Dbpf-noinline=true; then
	echo "== test: bpf-noinline (bpf suite)"
	meson test -C build-noinline --print-errorlogs --no-rebuild --suite bpf || status=1
	logs+=(build-noinline/meson-logs/testlog.json)
else
	status=1
fi

python3 tests/tap-summary.py "${logs[@]}" || status=1
exit $status
