#!/usr/bin/env bash
# Installs what bpfmerge's build and tests need on Debian/Ubuntu (run as root), and mounts
# bpffs at /sys/fs/bpf when it is not mounted. Idempotent: skips apt when all is installed.
# Both compilers of the fixtures: clang-14 (Debian 12's default clang) and clang-19 (apt).
set -euo pipefail
pkgs=(clang clang-14 clang-19 llvm bpftool libelf-dev zlib1g-dev pkg-config make iproute2 util-linux)
missing=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf
fi
