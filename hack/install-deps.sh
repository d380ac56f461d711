#!/usr/bin/env bash
# Installs every Debian package vaina's build, tests, demo and benchmarks need. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential pkg-config ca-certificates git curl
  runc crun catatonit uidmap iproute2 nftables procps psmisc util-linux
  busybox-static docker-registry skopeo umoci apache2-utils openssl jq socat
  podman hyperfine
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian docker-registry package starts a system registry on :5000 where an init system runs;
# the tests start their own on random loopback ports and need nothing else.
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (rustup toolchain)" >&2
  exit 1
fi
