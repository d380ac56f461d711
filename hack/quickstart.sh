#!/usr/bin/env bash
# Fresh Debian machine to a running container: installs dependencies, builds vaina, makes a
# busybox image locally (no registry, no internet) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/install-deps.sh
cargo build --release
install -m 0755 target/release/vaina /usr/local/bin/vaina
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp /bin/busybox "$work/rootfs/bin/busybox"
for a in sh echo cat ls uname hostname id; do ln -sf busybox "$work/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
vaina import --change 'CMD ["/bin/sh"]' "$work/busybox.tar" localhost/demo:latest
vaina images
vaina run --rm localhost/demo:latest echo "hello from a vaina container on $(uname -r)"
