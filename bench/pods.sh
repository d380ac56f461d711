#!/usr/bin/env bash
# Pod benchmark, side by side: vaina and Podman (its own temp store, runc, cgroupfs,
# containers.conf with default_ulimits = []). One cycle is
#   pod create + two `run -d --pod` (busybox sleep) + `pod rm -f -t 0`
# with `--network none` on the pod (so neither engine's bridge setup is measured; set
# POD_NET= to use each engine's default network instead).
#
#   sudo bench/pods.sh        # needs root, hyperfine, podman, runc, busybox-static
#
# Uses target/release/vaina (cargo build --release -p vaina), or $VAINA. Podman builds its
# pause image (localhost/podman-pause, from catatonit) on first use; the warmup runs cover it
# for both engines. Results: markdown under $OUT (default /tmp/vaina-bench-out).
set -euo pipefail
cd "$(dirname "$0")/.."
VAINA=${VAINA:-$PWD/target/release/vaina}
OUT=${OUT:-/tmp/vaina-bench-out}
RUNS=${RUNS:-15}
POD_NET=${POD_NET---network none}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for t in hyperfine podman runc; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
[ -x "$VAINA" ] || { echo "build vaina first: cargo build --release -p vaina" >&2; exit 1; }
BUSYBOX=$(command -v busybox)

W=$(mktemp -d /tmp/vaina-bench-pods.XXXXXX)
mkdir -p "$OUT"
V="$VAINA --root $W/v-root --runroot $W/v-run"
P="podman --root $W/p-root --runroot $W/p-run --runtime runc --cgroup-manager cgroupfs"
export CONTAINERS_CONF=$W/containers.conf
printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"

cleanup() {
  set +e
  $V pod rm -af -t 0 >/dev/null 2>&1
  $P pod rm -af -t 0 >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/rootfs"/{bin,etc,proc,sys,dev,tmp}
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$W/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$W/rootfs/etc/passwd"
echo 'root:x:0:' >"$W/rootfs/etc/group"
tar -C "$W/rootfs" -cf "$W/bb.tar" .
$V import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb:latest >/dev/null
$P import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb:latest >/dev/null 2>&1

for e in V P; do
  cat >"$W/cycle-$e.sh" <<SCRIPT
set -e
E="${!e}"
\$E pod create --name bp $POD_NET >/dev/null
\$E run -d --pod bp localhost/bb sleep 1000 >/dev/null
\$E run -d --pod bp localhost/bb sleep 1000 >/dev/null
\$E pod rm -f -t 0 bp >/dev/null
SCRIPT
done

echo "== pod create + 2 x run -d --pod + pod rm -f ($POD_NET)"
hyperfine --warmup 2 --runs "$RUNS" --export-markdown "$OUT/pods.md" --export-json "$OUT/pods.json" \
  -n vaina "bash $W/cycle-V.sh" \
  -n podman "bash $W/cycle-P.sh"
cat "$OUT/pods.md"
if command -v jq >/dev/null; then
  echo "medians:"
  jq -r '.results[] | "\(.command): \(.median * 1000 | floor) ms"' "$OUT/pods.json"
fi
