#!/usr/bin/env bash
# The vfs graph driver side by side with Podman's vfs (each on its own temp store, runc,
# default_ulimits = []):
#   sudo bench/fs-vfs.sh
# - create on an image with 20 layers (an import plus 19 commits, made by each engine): a vfs
#   create copies the whole image
# - commit of a container with 10,000 changed files (vfs diffs the copy against the layers)
# Uses target/release/vaina or $VAINA; tables go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
VAINA=${VAINA:-$PWD/target/release/vaina}
OUT=${OUT:-/tmp/vaina-bench-fs-vfs}
RUNS=${RUNS:-5}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for t in hyperfine podman runc; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
BUSYBOX=$(command -v busybox)
W=$(mktemp -d /tmp/vaina-bench-vfs.XXXXXX)
mkdir -p "$OUT"
V="$VAINA --root $W/v-root --runroot $W/v-run --storage-driver vfs"
P="podman --root $W/p-root --runroot $W/p-run --storage-driver vfs --runtime runc --cgroup-manager cgroupfs"
export CONTAINERS_CONF=$W/containers.conf
printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"
cleanup() {
  set +e
  $V rm -af -t 0 >/dev/null 2>&1
  $P rm -af -t 0 >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/rootfs"/{bin,etc,proc,sys,dev,tmp}
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in sh true cat seq echo mkdir sleep; do ln -sf busybox "$W/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$W/rootfs/etc/passwd"
echo 'root:x:0:' >"$W/rootfs/etc/group"
tar -C "$W/rootfs" -cf "$W/bb.tar" .
for E in "$V" "$P"; do
  $E import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb >/dev/null
  $E run --name many localhost/bb sh -c 'mkdir /many; cd /many; for i in $(seq 1 10000); do echo $i > f$i; done' >/dev/null
  prev=localhost/bb
  for i in $(seq 1 19); do
    $E run --name "l$i" "$prev" sh -c "echo $i > /layer$i" >/dev/null
    $E commit -q "l$i" "localhost/layers:$i" >/dev/null
    $E rm "l$i" >/dev/null
    prev="localhost/layers:$i"
  done
done
echo "== vfs: create on an image of 20 layers"
hyperfine --runs "$RUNS" --export-markdown "$OUT/create20.md" \
  --prepare "$V rm -f c20 >/dev/null 2>&1; $P rm -f c20 >/dev/null 2>&1; true" \
  -n vaina "$V create --name c20 localhost/layers:19 true" \
  -n podman "$P create --name c20 localhost/layers:19 true"
echo "== vfs: commit of 10,000 changed files"
hyperfine --runs "$RUNS" --export-markdown "$OUT/commit.md" \
  -n vaina "$V commit -q many localhost/many" \
  -n podman "$P commit -q many localhost/many"
