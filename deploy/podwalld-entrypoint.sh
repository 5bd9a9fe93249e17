#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Runs podwalld with the DaemonSet's arguments plus the ConfigMap's extra flags
# (/etc/podwall/podwalld.flags: one argument per line, # comments).
set -eu
FLAGS=/etc/podwall/podwalld.flags
# The pins must outlive this container, so bpffs is the host's (systemd mounts
# it); mounting one here would need CAP_SYS_ADMIN and vanish with the pod.
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
	echo "podwalld-entrypoint: /sys/fs/bpf is not a bpf filesystem on this node: mount it on the host (mount -t bpf bpf /sys/fs/bpf)" >&2
	exit 1
fi
if [ -f "$FLAGS" ]; then
	# One argument per line: no word splitting surprises inside a line.
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in '' | '#'*) continue ;; esac
		set -- "$@" "$line"
	done <"$FLAGS"
fi
exec /usr/local/sbin/podwalld "$@"
