#!/bin/sh
# `images` with 100 images in the store: vaina vs podman, side by side in one hyperfine run.
# Each engine gets its own temporary root; the 100 images are imports of one busybox tarball
# with a distinct label each (distinct IDs, one shared layer), made the same way for both.
#
# Usage: bench/images.sh [N]   (N images, default 100; needs root, podman, hyperfine, busybox)
set -eu
N=${1:-100}
cd "$(dirname "$0")/.."
[ -x target/release/vaina ] || cargo build --release -p vaina
VAINA=$PWD/target/release/vaina
W=$(mktemp -d /tmp/vaina-bench-images.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/rootfs/bin"
cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .
V="$VAINA --root $W/v-root --runroot $W/v-run"
P="podman --root $W/p-root --runroot $W/p-run --storage-driver overlay"
i=0
while [ "$i" -lt "$N" ]; do
    $V import -q -c "LABEL n=$i" "$W/rootfs.tar" "bench/img$i:v1" >/dev/null
    $P import -q -c "LABEL n=$i" "$W/rootfs.tar" "bench/img$i:v1" >/dev/null
    i=$((i + 1))
done
[ "$($V images -q | wc -l)" -eq "$N" ]
[ "$($P images -q | wc -l)" -eq "$N" ]
hyperfine -N --warmup 3 --runs 30 --export-json "$W/images.json" \
    -n vaina "$V images" \
    -n podman "$P images"
# Medians in ms and the ratio vaina/podman.
jq -r '.results | map({(.command): (.median * 1000)}) | add
    | "median vaina \(.vaina | . * 100 | round / 100) ms, podman \(.podman | . * 100 | round / 100) ms, ratio \(.vaina / .podman * 10000 | round / 10000)"' \
    "$W/images.json"
