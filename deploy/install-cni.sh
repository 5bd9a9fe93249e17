#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Init container: installs the podwall CNI plugin on the node and chains it
# after the node's own CNI plugins. Idempotent: re-running replaces the binary
# and the podwall entry (never adds a second one).
#
#   CNI_BIN_DIR   where the node's CNI binaries live (default /host/opt/cni/bin)
#   CNI_CONF_DIR  the node's CNI configuration (default /host/etc/cni/net.d)
#   PLUGIN_CONF   the podwall entry to chain (default /etc/podwall/cni-plugin.json)
set -eu
BIN_DIR=${CNI_BIN_DIR:-/host/opt/cni/bin}
CONF_DIR=${CNI_CONF_DIR:-/host/etc/cni/net.d}
PLUGIN_CONF=${PLUGIN_CONF:-/etc/podwall/cni-plugin.json}
PLUGIN_BIN=${PLUGIN_BIN:-/usr/local/lib/cni/podwall}

# Copy then rename: the runtime never executes a half-written binary.
cp "$PLUGIN_BIN" "$BIN_DIR/.podwall.tmp"
chmod 0755 "$BIN_DIR/.podwall.tmp"
mv -f "$BIN_DIR/.podwall.tmp" "$BIN_DIR/podwall"

# The runtime uses the lexically first configuration file: chain into that one.
conf=
for f in "$CONF_DIR"/*.conflist "$CONF_DIR"/*.conf "$CONF_DIR"/*.json; do
	[ -f "$f" ] || continue
	if [ -z "$conf" ] || [ "$(basename "$f")" \< "$(basename "$conf")" ]; then conf=$f; fi
done
if [ -z "$conf" ]; then
	echo "install-cni: no CNI configuration in $CONF_DIR yet; the main CNI must come first" >&2
	exit 1
fi

tmp="$CONF_DIR/.podwall.tmp"
case "$conf" in
*.conflist)
	jq --slurpfile p "$PLUGIN_CONF" \
		'.plugins = ([.plugins[] | select(.type != "podwall")] + $p)' "$conf" >"$tmp"
	mv -f "$tmp" "$conf"
	;;
*)
	# A single-plugin .conf becomes a list with podwall chained after it.
	out="${conf%.*}.conflist"
	jq --slurpfile p "$PLUGIN_CONF" \
		'{cniVersion: (.cniVersion // "1.0.0"), name: .name, plugins: ([del(.cniVersion, .name)] + $p)}' \
		"$conf" >"$tmp"
	mv -f "$tmp" "$out"
	rm -f "$conf"
	conf=$out
	;;
esac
echo "install-cni: podwall installed in $BIN_DIR and chained in $conf"
