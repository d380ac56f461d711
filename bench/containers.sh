#!/usr/bin/env bash
# Container benchmarks, side by side in one run: vaina, Podman (its own temp store, the same
# runc, containers.conf with default_ulimits = []) and bare `runc run` on a prepared bundle.
#
#   sudo bench/containers.sh            # needs root, hyperfine, podman, runc, busybox-static, jq
#   BENCH_BIG=1 sudo bench/containers.sh  # also `ps -a` with 10000 containers (vaina only, slow)
#
# Uses target/release/vaina (build it with `cargo build --release -p vaina`), or $VAINA.
# Results are printed as markdown tables and written under $OUT (default /tmp/vaina-bench-out).
set -euo pipefail
cd "$(dirname "$0")/.."
VAINA=${VAINA:-$PWD/target/release/vaina}
OUT=${OUT:-/tmp/vaina-bench-out}
RUNS=${RUNS:-20}
# Sections to run (default all): run exec rund ps rss
SECTIONS=${SECTIONS:-run exec rund ps rss}
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for t in hyperfine podman runc jq; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
[ -x "$VAINA" ] || { echo "build vaina first: cargo build --release -p vaina" >&2; exit 1; }
BUSYBOX=$(command -v busybox)

W=$(mktemp -d /tmp/vaina-bench.XXXXXX)
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
  runc --root "$W/runc" delete -f execctr >/dev/null 2>&1
  grep -o " $W[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$W"
}
trap cleanup EXIT

echo "== preparing images and a runc bundle in $W"
mkdir -p "$W/rootfs"/{bin,etc,proc,sys,dev,tmp}
cp "$BUSYBOX" "$W/rootfs/bin/busybox"
for a in sh true sleep echo cat; do ln -s busybox "$W/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$W/rootfs/etc/passwd"
echo 'root:x:0:' >"$W/rootfs/etc/group"
tar -C "$W/rootfs" -cf "$W/bb.tar" .
$V import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb:latest >/dev/null
$P import --change 'CMD ["/bin/sh"]' "$W/bb.tar" localhost/bb:latest >/dev/null 2>&1
mkdir -p "$W/bundle" && cp -a "$W/rootfs" "$W/bundle/rootfs"
(cd "$W/bundle" && runc spec && jq '.process.terminal=false | .process.args=["true"]' config.json >c && mv c config.json)
mkdir -p "$W/bundle2" && cp -a "$W/rootfs" "$W/bundle2/rootfs"
(cd "$W/bundle2" && runc spec && jq '.process.terminal=false | .process.args=["sleep","100000"]' config.json >c && mv c config.json)

# The same bundle with the spec vaina generates (Podman's seccomp profile, capabilities,
# masked paths): runc's own cost for that security setup, without any engine.
ref=$($V create --network none localhost/bb true)
mkdir -p "$W/bundle3" && cp -a "$W/rootfs" "$W/bundle3/rootfs"
jq --arg r "$W/bundle3/rootfs" '.root.path=$r | .linux.cgroupsPath="/vaina-bench/runc"' \
  "$W/v-root/containers/$ref/config.json" >"$W/bundle3/config.json"

if want run; then
echo "== run --rm --network none IMG true"
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$OUT/run.md" \
  -n vaina "$V run --rm --network none localhost/bb true" \
  -n podman "$P run --rm --network none localhost/bb true" \
  -n "runc run (runc spec)" "runc --root $W/runc run -b $W/bundle benchctr" \
  -n "runc run (vaina's spec)" "runc --root $W/runc run -b $W/bundle3 benchctr3"
fi
$V rm "$ref" >/dev/null

if want exec; then
echo "== exec CTR true"
$V run -d --name ex localhost/bb sleep 100000 >/dev/null
$P run -d --name ex --network none localhost/bb sleep 100000 >/dev/null
runc --root "$W/runc" run -d -b "$W/bundle2" execctr </dev/null >/dev/null 2>&1
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$OUT/exec.md" \
  -n vaina "$V exec ex true" \
  -n podman "$P exec ex true" \
  -n "runc exec (runc spec)" "runc --root $W/runc exec execctr true" \
  -n "runc exec (vaina's container)" "runc --root $W/v-run/runtime exec $($V inspect -f '{{.Id}}' ex) true"
$V rm -f -t 0 ex >/dev/null
$P rm -f -t 0 ex >/dev/null
runc --root "$W/runc" delete -f execctr
fi

if want rund; then
echo "== 100 x run -d, then rm -f"
hyperfine --runs 1 --export-markdown "$OUT/run-d-100.md" \
  -n vaina "for i in \$(seq 100); do $V run -d --network none localhost/bb sleep 100000 >/dev/null; done; $V rm -af -t 0 >/dev/null" \
  -n podman "for i in \$(seq 100); do $P run -d --network none localhost/bb sleep 100000 >/dev/null; done; $P rm -af -t 0 >/dev/null"
fi

if want ps; then
echo "== ps -a with N created containers"
create_n() { # tool n
  local have want=$2
  have=$($1 ps -aq | wc -l)
  seq $((want - have)) | xargs -P 2 -I{} sh -c "$1 create --network none localhost/bb true >/dev/null"
}
: >"$OUT/ps.md"
sizes="10 1000"
[ "${BENCH_BIG:-0}" = 1 ] && sizes="$sizes 10000"
for n in $sizes; do
  create_n "$V" "$n"
  if [ "$n" -le 1000 ]; then
    create_n "$P" "$n"
    hyperfine -N --warmup 2 --runs "$RUNS" --export-markdown "$OUT/ps-$n.md" \
      -n "vaina ($n)" "$V ps -a" -n "podman ($n)" "$P ps -a"
  else
    hyperfine -N --warmup 2 --runs "$RUNS" --export-markdown "$OUT/ps-$n.md" -n "vaina ($n)" "$V ps -a"
  fi
  cat "$OUT/ps-$n.md" >>"$OUT/ps.md"
done
fi

if want rss; then
echo "== peak RSS of the vaina run process (11 runs; it varies with how much of the binary the"
echo "   page cache holds, since most of it is resident program text)"
: >"$OUT/rss.txt"
for _ in $(seq 11); do
  /usr/bin/time -v $V run --rm --network none localhost/bb true 2>&1 >/dev/null |
    awk '/Maximum resident/ {print $6}' >>"$OUT/rss.txt"
done
sort -n "$OUT/rss.txt" | awk '{v[NR]=$1} END {printf "peak RSS (kB): min %d, median %d, max %d\n", v[1], v[int((NR+1)/2)], v[NR]}' |
  tee "$OUT/rss.md"
fi

echo
for f in run exec run-d-100 ps rss; do [ -f "$OUT/$f.md" ] && { echo "### $f"; cat "$OUT/$f.md"; echo; }; done; true
