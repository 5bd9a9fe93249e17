#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian bookworm packages podwall needs to build, run and test.
# Idempotent: installs only what is missing. Run as root.
set -eu

BUILD="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev meson ninja-build pkg-config gcc
	libjansson-dev libyaml-dev libnl-3-dev libnl-route-3-dev libpcap-dev
	libvectorscan-dev libpcre2-dev libndpi-dev libcurl4-openssl-dev libmicrohttpd-dev"
# Tests: the real reference CNI plugins, netns tooling, traffic peers, JSON in
# shell tests, tshark to check generated packets, xdp-tools and ndpiReader (libndpi-bin)
# for the benchmark peers; iptables and nftables are the peers of the DoS benchmark,
# ethtool turns on veth GRO there.
TEST="containernetworking-plugins iproute2 iputils-ping netcat-openbsd socat jq tshark
	xdp-tools util-linux procps python3-yaml openssl curl python3 libndpi-bin iptables nftables
	ethtool"

missing=()
for p in $BUILD $TEST; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The pins live on bpffs; most systems mount it, containers and CI VMs may not.
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf
fi
