#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# deploy/install-cni.sh on a throwaway node layout: it installs the plugin
# binary, chains the ConfigMap's podwall entry after the node's own plugins in
# the lexically first configuration, converts a single-plugin .conf, and
# re-running changes nothing (no second podwall entry).
set -u
command -v jq >/dev/null || { echo "1..0 # SKIP jq not installed"; exit 0; }
: "${DEPLOY_DIR:?}"
TMP=$(mktemp -d /tmp/pw-install-cni.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
N=0
FAILED=0
check() {
	local name=$1; shift
	N=$((N + 1))
	if "$@"; then echo "ok $N - $name"; else echo "not ok $N - $name"; FAILED=1; fi
}

mkdir -p "$TMP/bin" "$TMP/conf" "$TMP/etc"
printf '#!/bin/sh\necho podwall-plugin\n' >"$TMP/plugin"
# The ConfigMap's entry, taken from the manifest itself.
python3 - "$DEPLOY_DIR/kubernetes/configmap.yaml" >"$TMP/etc/cni-plugin.json" <<'PY' ||
import sys, yaml
print(yaml.safe_load(open(sys.argv[1]))["data"]["cni-plugin.json"])
PY
	jq -n '{type: "podwall", socket: "/run/podwall/podwalld.sock"}' >"$TMP/etc/cni-plugin.json"
cp "$DEPLOY_DIR/10-podwall.conflist" "$TMP/conf/10-main.conflist"
# The node's own config without podwall, plus a later file that must be left alone.
jq '.plugins = [.plugins[] | select(.type != "podwall")]' "$DEPLOY_DIR/10-podwall.conflist" \
	>"$TMP/conf/10-main.conflist"
echo '{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"bridge"}]}' \
	>"$TMP/conf/20-other.conflist"
cp "$TMP/conf/20-other.conflist" "$TMP/other.orig"

run() {
	CNI_BIN_DIR=$TMP/bin CNI_CONF_DIR=$TMP/conf PLUGIN_CONF=$TMP/etc/cni-plugin.json \
		PLUGIN_BIN=$TMP/plugin sh "$DEPLOY_DIR/install-cni.sh" >/dev/null
}

check "installer runs" run
check "plugin binary installed, executable" eval '[ -x "$TMP/bin/podwall" ] && [ "$("$TMP/bin/podwall")" = podwall-plugin ]'
check "podwall chained last in the first conflist" eval \
	'jq -e "[.plugins[].type] == [\"ptp\", \"podwall\"]" "$TMP/conf/10-main.conflist" >/dev/null'
check "the entry is the ConfigMap's" eval \
	'jq -e ".plugins[1].socket == \"/run/podwall/podwalld.sock\"" "$TMP/conf/10-main.conflist" >/dev/null'
check "other configurations untouched" cmp -s "$TMP/other.orig" "$TMP/conf/20-other.conflist"
cp "$TMP/conf/10-main.conflist" "$TMP/first.conflist"
check "re-run" run
check "re-run is idempotent" cmp -s "$TMP/first.conflist" "$TMP/conf/10-main.conflist"
check "no temporary files left" eval '[ -z "$(ls -A "$TMP/conf" | grep "^\.")" ] && [ ! -e "$TMP/bin/.podwall.tmp" ]'

rm -f "$TMP"/conf/*
echo '{"cniVersion":"0.4.0","name":"solo","type":"bridge","bridge":"cni0"}' >"$TMP/conf/05-solo.conf"
check "single-plugin .conf" run
check "  ... becomes a conflist with podwall chained" eval \
	'[ ! -e "$TMP/conf/05-solo.conf" ] && jq -e "(.name == \"solo\") and (.cniVersion == \"0.4.0\") and ([.plugins[].type] == [\"bridge\", \"podwall\"]) and (.plugins[0].bridge == \"cni0\")" "$TMP/conf/05-solo.conflist" >/dev/null'

rm -f "$TMP"/conf/*
check "no CNI configuration yet: fails" eval '! run 2>/dev/null'
echo "1..$N"
exit $FAILED
