#!/usr/bin/env bash
# Container filesystem benchmarks, side by side in one run: vaina and Podman (its own temp
# store, runc, containers.conf with default_ulimits = []).
#
#   sudo bench/fs.sh        # needs root, hyperfine, podman, runc, busybox-static
#
# - commit of a container with 10,000 changed files
# - cp of a 100 MB directory (100 files of 1 MB) into and out of a container
# - create on an image with 20 layers (an import plus 19 commits, made by each engine)
# Uses target/release/vaina (cargo build --release -p vaina) or $VAINA; tables go to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
VAINA=${VAINA:-$PWD/target/release/vaina}
OUT=${OUT:-/tmp/vaina-bench-fs}
RUNS=${RUNS:-3}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for t in hyperfine podman runc; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
[ -x "$VAINA" ] || { echo "build vaina first: cargo build --release -p vaina" >&2; exit 1; }
BUSYBOX=$(command -v busybox)

W=$(mktemp -d /tmp/vaina-bench-fs.XXXXXX)
mkdir -p "$OUT"
V="$VAINA --root $W/v-root --runroot $W/v-run"
P="podman --root $W/p-root --runroot $W/p-run --runtime runc --cgroup-manager cgroupfs"
export CONTAINERS_CONF=$W/containers.conf
printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"

cleanup() {
  set +e
  $V rm -af -t 0 >/dev/null 2>&1
  $V system reset -f >/dev/null 2>&1 # takes the store's subnet off the shared bridge vaina0
  $P rm -af -t 0 >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

echo "== preparing images in $W"
mkdir -p "$W/rootfs"/{bin,etc,proc,sys,dev,tmp}
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in sh true cat seq echo mkdir sleep; do ln -sf busybox "$W/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$W/rootfs/etc/passwd"
echo 'root:x:0:' >"$W/rootfs/etc/group"
tar -C "$W/rootfs" -cf "$W/bb.tar" .
for E in "$V" "$P"; do
  $E import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb >/dev/null
  # 10,000 changed files in a stopped container.
  $E run --name many localhost/bb sh -c 'mkdir /many; cd /many; for i in $(seq 1 10000); do echo $i > f$i; done' >/dev/null
  # An image with 20 layers: the import and 19 commits.
  prev=localhost/bb
  for i in $(seq 1 19); do
    $E run --name "l$i" "$prev" sh -c "echo $i > /layer$i" >/dev/null
    $E commit -q "l$i" "localhost/layers:$i" >/dev/null
    $E rm "l$i" >/dev/null
    prev="localhost/layers:$i"
  done
  $E run -d --name cpt localhost/bb sleep 100000 >/dev/null
done
mkdir -p "$W/data100"
for i in $(seq 1 100); do head -c 1000000 /dev/urandom >"$W/data100/f$i"; done
$V cp "$W/data100" cpt:/out100
$P cp "$W/data100" cpt:/out100

echo "== commit of 10,000 changed files"
hyperfine --runs "$RUNS" --export-markdown "$OUT/commit.md" \
  -n vaina "$V commit -q many localhost/many" \
  -n podman "$P commit -q many localhost/many"

echo "== cp of 100 MB into a running container"
hyperfine --runs "$RUNS" --export-markdown "$OUT/cp-in.md" \
  -n vaina "$V cp $W/data100 cpt:/in100" \
  -n podman "$P cp $W/data100 cpt:/in100"

echo "== cp of 100 MB out of a running container"
hyperfine --runs "$RUNS" --export-markdown "$OUT/cp-out.md" \
  --prepare "rm -rf $W/back" \
  -n vaina "$V cp cpt:/out100 $W/back" \
  -n podman "$P cp cpt:/out100 $W/back"

echo "== create on a 20-layer image"
hyperfine --runs "$RUNS" --export-markdown "$OUT/create20.md" \
  --prepare "$V rm -f c20 >/dev/null 2>&1; $P rm -f c20 >/dev/null 2>&1; true" \
  -n vaina "$V create --name c20 localhost/layers:19 true" \
  -n podman "$P create --name c20 localhost/layers:19 true"

for f in commit cp-in cp-out create20; do echo "### $f"; cat "$OUT/$f.md"; echo; done
