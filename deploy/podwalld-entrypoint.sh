#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs podwalld with the DaemonSet's arguments plus the ConfigMap's extra flags
# (/etc/podwall/podwalld.flags: one argument per line, # comments).
set -eu
FLAGS=/etc/podwall/podwalld.flags
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf
if [ -f "$FLAGS" ]; then
	# One argument per line: no word splitting surprises inside a line.
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in '' | '#'*) continue ;; esac
		set -- "$@" "$line"
	done <"$FLAGS"
fi
exec /usr/local/sbin/podwalld "$@"
