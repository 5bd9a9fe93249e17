#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# podwallctl and podwalld as documented: man pages render without warnings and
# name every command and flag the binaries have; the bash completion knows
# every command; every command answers "help" with its usage and exit 0.
# Environment: PODWALLD, PODWALLCTL, SRC (source root).
set -u
: "${PODWALLD:?}" "${PODWALLCTL:?}" "${SRC:?}"
MAN_D=$SRC/docs/man/podwalld.8
MAN_C=$SRC/docs/man/podwallctl.8
COMP=$SRC/control/cli/podwallctl.bash

echo "TAP version 13"
N=0
NFAIL=0
ok() { N=$((N + 1)); echo "ok $N - $1"; }
fail() { N=$((N + 1)); NFAIL=$((NFAIL + 1)); echo "not ok $N - $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }

if command -v groff >/dev/null; then
	for m in "$MAN_D" "$MAN_C"; do
		w=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
		check "$(basename "$m") renders without warnings" test -z "$w"
		[ -n "$w" ] && echo "$w" | sed 's/^/# /'
	done
else
	ok "# SKIP groff not installed"
fi

# The top-level command table, as the binary prints it.
cmds=$("$PODWALLCTL" help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { on = 0 }
	on { print $1 }' | grep -vx help)
check "podwallctl help lists commands" test -n "$cmds"
for c in $cmds; do
	check "podwallctl.8 documents \"$c\"" grep -q "^\.B $c\b" "$MAN_C"
	check "the completion offers \"$c\"" grep -q "local top=\".*\b$c\b" "$COMP"
	out=$("$PODWALLCTL" "$c" help 2>&1)
	rc=$?
	check "podwallctl $c help: usage, exit 0" eval '[ $rc = 0 ] && grep -q "Usage: podwallctl" <<<"$out"'
done
# Second-level tables.
for g in policy dos blocklist ratelimit rules ips; do
	subs=$("$PODWALLCTL" "$g" help | awk '/^Commands:/ { on = 1; next } on && NF == 0 { on = 0 }
		on { print $1 }' | grep -vx help)
	for s in $subs; do
		check "podwallctl.8 documents \"$g $s\"" grep -q "$g\( \|.*\\\\fB\)$s" "$MAN_C"
		out=$("$PODWALLCTL" "$g" "$s" help 2>&1)
		rc=$?
		check "podwallctl $g $s help: usage, exit 0" eval '[ $rc = 0 ] && grep -q "Usage:" <<<"$out"'
	done
done
check "a unique prefix runs the command (po sh help)" \
	eval '"$PODWALLCTL" po sh help | grep -q "Usage: podwallctl policy show"'
"$PODWALLCTL" -j d >"${TMPDIR:-/tmp}/pwc-amb.$$" 2>/dev/null
rc=$?
check "an ambiguous prefix: {\"error\"} and exit 2" \
	eval '[ $rc = 2 ] && grep -q "\"error\"" "${TMPDIR:-/tmp}/pwc-amb.$$"'
rm -f "${TMPDIR:-/tmp}/pwc-amb.$$"

# Every long flag of podwalld is in its man page.
for f in $("$PODWALLD" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
	check "podwalld.8 documents $f" grep -q -- "$(sed 's/-/\\\\-/g' <<<"$f")\b" "$MAN_D"
done

# The completion itself, with minimal stand-ins for bash-completion's helpers.
complete_line() { # complete_line WORDS... -> the candidates, one a line
	(
		_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD;
			cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD - 1]}; }
		_filedir() { :; }
		podwallctl() { :; }
		complete() { :; }
		. "$COMP"
		COMP_WORDS=(podwallctl "$@")
		COMP_CWORD=$#
		_podwallctl
		printf '%s\n' "${COMPREPLY[@]}"
	)
}
check "completion: po -> policy" eval '[ "$(complete_line po)" = policy ]'
check "completion: policy s -> show" eval '[ "$(complete_line policy s)" = show ]'
check "completion: flows --verdict d -> denied" eval '[ "$(complete_line flows --verdict d)" = denied ]'
check "completion: flows --fo -> --follow" eval '[ "$(complete_line flows --fo)" = --follow ]'

echo "1..$N"
[ "$NFAIL" = 0 ]
