#!/usr/bin/env bash
# Pull benchmark (issue 2): a ~200 MB image with 6 gzip layers on a loopback docker-registry,
# pulled into an empty store by vaina, by podman (its own --root/--runroot) and by
# `skopeo copy` into an OCI directory, side by side in one hyperfine run.
#
# Usage: bench/pull.sh [RUNS]   (as root; needs docker-registry, skopeo, podman, hyperfine, jq)
# Writes the medians and ratios to the "pull" section of bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
LAYERS=6
LAYER_MB=33

cargo build --release -q -p vaina
VAINA=$PWD/target/release/vaina

W=$(mktemp -d /var/tmp/vaina-bench-pull.XXXXXX)
REG_PID=
cleanup() {
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
  umount -R "$W/p-root/overlay" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

# A free loopback port for the registry (docker-registry reads REGISTRY_* env: start it clean).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
cat >"$W/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/registry}}
http: {addr: $REG, secret: bench}
EOF
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null && break; sleep 0.1; done

# The image: busybox plus layers of random data, gzip-compressed, as an OCI layout.
L=$W/layout
mkdir -p "$L/blobs/sha256"
blob() { # file -> digest hex, moved into the layout
  local h; h=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$L/blobs/sha256/$h"; echo "$h"
}
layers_json=() diffs_json=()
for i in $(seq "$LAYERS"); do
  d=$W/l$i; mkdir -p "$d/data"
  if [ "$i" = 1 ]; then mkdir -p "$d/bin"; cp /bin/busybox "$d/bin/busybox"; fi
  head -c "${LAYER_MB}M" /dev/urandom >"$d/data/random-$i"
  tar -C "$d" -cf "$W/l$i.tar" .
  diff=$(sha256sum "$W/l$i.tar" | cut -d' ' -f1)
  gzip -1 -c "$W/l$i.tar" >"$W/l$i.tgz"; rm -rf "$d" "$W/l$i.tar"
  size=$(stat -c %s "$W/l$i.tgz"); h=$(blob "$W/l$i.tgz")
  layers_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$h\",\"size\":$size}")
  diffs_json+=("\"sha256:$diff\"")
done
join() { local IFS=,; echo "$*"; }
arch=$(case $(uname -m) in x86_64) echo amd64;; aarch64) echo arm64;; *) uname -m;; esac)
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/busybox","sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
  "$arch" "$(join "${diffs_json[@]}")" >"$W/config.json"
csize=$(stat -c %s "$W/config.json"); ch=$(blob "$W/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
  "$ch" "$csize" "$(join "${layers_json[@]}")" >"$W/manifest.json"
msize=$(stat -c %s "$W/manifest.json"); mh=$(blob "$W/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"big"}}]}' \
  "$mh" "$msize" >"$L/index.json"
skopeo copy -q --dest-tls-verify=false "oci:$L:big" "docker://$REG/bench/big:1"
TOTAL_MB=$(du -sm "$L/blobs" | cut -f1)

# Isolated configuration for vaina and podman: the registry is insecure (plain HTTP).
printf 'unqualified-search-registries = []\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" >"$W/registries.conf"
printf '{"default":[{"type":"insecureAcceptAnything"}]}' >"$W/policy.json"
export CONTAINERS_REGISTRIES_CONF=$W/registries.conf CONTAINERS_POLICY_JSON=$W/policy.json
echo '{"auths":{}}' >"$W/auth.json"
export REGISTRY_AUTH_FILE=$W/auth.json
IMG=$REG/bench/big:1

VCMD="$VAINA --root $W/v-root --runroot $W/v-run pull -q $IMG"
PCMD="podman --root $W/p-root --runroot $W/p-run pull --signature-policy $W/policy.json -q $IMG"
SCMD="skopeo copy -q --src-tls-verify=false --policy $W/policy.json docker://$IMG oci:$W/s-oci:big"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$W/pull.json" \
  -n vaina --prepare "rm -rf $W/v-root $W/v-run" "$VCMD" \
  -n podman --prepare "umount -R $W/p-root/overlay 2>/dev/null; rm -rf $W/p-root $W/p-run" "$PCMD" \
  -n skopeo --prepare "rm -rf $W/s-oci" "$SCMD"

med() { jq -r ".results[] | select(.command==\"$1\") | .median" "$W/pull.json"; }
V=$(med vaina) P=$(med podman) S=$(med skopeo)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
ms() { awk -v a="$1" 'BEGIN{printf "%.0f ms", a*1000}'; }
section=$(cat <<EOF
## pull

\`bench/pull.sh $RUNS\` ($(date -u +%Y-%m-%d), ${TOTAL_MB} MB image, $LAYERS gzip layers of random
data plus busybox, docker-registry 2.8 on loopback over plain HTTP, each tool into an empty store,
$RUNS runs after 1 warm-up, medians):

| tool | median | vs podman |
|---|---|---|
| vaina pull | $(ms "$V") | $(ratio "$V" "$P")x |
| podman pull | $(ms "$P") | 1.00x |
| skopeo copy to oci dir | $(ms "$S") | $(ratio "$S" "$P")x |

vaina and podman also unpack the layers into their stores; skopeo only writes the blobs. The
machine is shared (2 cores), so single runs vary by up to +-40%. Target: vaina <= 0.5x podman.
Commands (hyperfine \`--prepare\` empties each store before every run):
\`\`\`
$VCMD
$PCMD
$SCMD
\`\`\`
EOF
)
R=bench/RESULTS.md
python3 - "$R" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].rstrip() + "\n"
text = open(path).read()
text = text.replace("(No benchmarks recorded yet.)\n", "")
pat = re.compile(r"^## pull\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda m: section + "\n", text) if pat.search(text) else text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
echo "vaina $(ms "$V"), podman $(ms "$P"), skopeo $(ms "$S"): vaina/podman $(ratio "$V" "$P")"
