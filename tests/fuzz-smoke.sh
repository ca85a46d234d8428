#!/usr/bin/env bash
# Short coverage-guided fuzz run of every target, seeded with the committed corpora
# (fuzz/corpus/<target>) and the fixtures fuzz/seed.sh copies, in a temporary directory
# (the repository's corpora are not changed; fuzz/campaign.sh is the long run that
# updates them). cargo-fuzz needs nightly-only flags (-Zsanitizer); RUSTC_BOOTSTRAP
# lets the stable toolchain accept them, as this machine has no other toolchain.
#   tests/fuzz-smoke.sh [SECONDS_PER_TARGET]      (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-${FUZZ_SECONDS:-15}}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
export RUSTC_BOOTSTRAP=1
work="$(mktemp -d "${TMPDIR:-/tmp}/shomei-fuzz-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list --fuzz-dir fuzz); do
  corpus="$work/$target"
  fuzz/seed.sh "$target" "$corpus"
  cp fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $target for ${SECS}s"
  cargo fuzz run --fuzz-dir fuzz "$target" "$corpus" -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=1048576 -timeout=10
done
