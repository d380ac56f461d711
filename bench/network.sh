#!/usr/bin/env bash
# Network benchmarks, side by side in one run: vaina and Podman (its own temp store, runc,
# cgroupfs, netavark, containers.conf with default_ulimits = []).
#
#   sudo bench/network.sh        # needs root, hyperfine, podman, netavark, busybox-static
#
# 1. `run --rm IMG true` on each engine's default bridge network (hyperfine).
# 2. N containers (`run -d`, default 50) started in parallel on one user network of each
#    engine: total wall time, and a check that every container got its own address.
#
# Uses target/release/vaina (build it with `cargo build --release -p vaina`), or $VAINA.
# Results are written under $OUT (default /tmp/vaina-bench-out).
set -euo pipefail
cd "$(dirname "$0")/.."
VAINA=${VAINA:-$PWD/target/release/vaina}
OUT=${OUT:-/tmp/vaina-bench-out}
RUNS=${RUNS:-20}
N=${N:-50}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for t in hyperfine podman; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
[ -x "$VAINA" ] || { echo "build vaina first: cargo build --release -p vaina" >&2; exit 1; }
BUSYBOX=$(command -v busybox)

W=$(mktemp -d /tmp/vaina-bench-net.XXXXXX)
mkdir -p "$OUT" "$W/p-nets"
V="$VAINA --root $W/v-root --runroot $W/v-run"
P="podman --root $W/p-root --runroot $W/p-run --runtime runc --cgroup-manager cgroupfs"
export CONTAINERS_CONF=$W/containers.conf
printf '[containers]\ndefault_ulimits = []\n[network]\nnetwork_backend = "netavark"\nnetwork_config_dir = "%s"\n' \
  "$W/p-nets" >"$CONTAINERS_CONF"
# Subnets of the benchmark's own networks (free on this host, not Podman's 10.88/16).
VSUB=${VSUB:-10.233.1.0/24}
PSUB=${PSUB:-10.233.2.0/24}

cleanup() {
  set +e
  $V rm -af -t 0 >/dev/null 2>&1
  $P rm -af -t 0 >/dev/null 2>&1
  $V network rm -f vbench >/dev/null 2>&1
  $V system reset -f >/dev/null 2>&1 # also this store's part of the default network
  $P network rm -f pbench >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

echo "== preparing images in $W"
mkdir -p "$W/rootfs"/{bin,etc,proc,sys,dev,tmp}
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in sh true sleep echo cat ip; do ln -s busybox "$W/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$W/rootfs/etc/passwd"
echo 'root:x:0:' >"$W/rootfs/etc/group"
tar -C "$W/rootfs" -cf "$W/bb.tar" .
$V import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb:latest >/dev/null
$P import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb:latest >/dev/null 2>&1

echo "== run --rm IMG true on the default bridge network"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$OUT/network-run.md" \
  -n vaina "$V run --rm localhost/bb true" \
  -n podman "$P run --rm localhost/bb true"

echo "== $N containers started in parallel (run -d) on one network"
$V network create --subnet "$VSUB" --interface-name vbench0 vbench >/dev/null
$P network create --subnet "$PSUB" pbench >/dev/null
parallel_run() { # engine command, network
  local eng=$1 net=$2 start end
  start=$(date +%s%N)
  for i in $(seq 1 "$N"); do
    $eng run -d --network "$net" localhost/bb sleep 100000 >/dev/null &
  done
  wait
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
vms=$(parallel_run "$V" vbench)
vips=$($V ps -q | xargs $V inspect --format '{{.NetworkSettings.IPAddress}}' | sort)
pms=$(parallel_run "$P" pbench)
pips=$($P ps -q | xargs $P inspect --format '{{(index .NetworkSettings.Networks "pbench").IPAddress}}' | sort)
vcount=$(echo "$vips" | grep -c .) vuniq=$(echo "$vips" | sort -u | grep -c .)
pcount=$(echo "$pips" | grep -c .) puniq=$(echo "$pips" | sort -u | grep -c .)
{
  echo "| engine | $N × run -d, total | running | distinct addresses |"
  echo "|---|---:|---:|---:|"
  echo "| vaina | $vms ms | $vcount | $vuniq |"
  echo "| podman | $pms ms | $pcount | $puniq |"
} | tee "$OUT/network-parallel.md"
[ "$vcount" = "$N" ] && [ "$vuniq" = "$N" ] || { echo "vaina: not $N distinct addresses" >&2; exit 1; }
cat "$OUT/network-run.md"
