#!/usr/bin/env bash
# Runs vaina's whole test suite: formatting, lints, unit and integration tests (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "the integration tests need root: sudo $0" >&2
  exit 1
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace
cargo test --workspace -- --test-threads="${VAINA_TEST_THREADS:-4}"
