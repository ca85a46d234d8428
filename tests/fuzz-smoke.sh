#!/usr/bin/env bash
# Short coverage-guided fuzz run of every parser target, seeded with the PDF fixtures.
# cargo-fuzz needs nightly-only flags (-Zsanitizer); RUSTC_BOOTSTRAP lets the stable
# toolchain accept them, as this machine has no other toolchain.
#   tests/fuzz-smoke.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-${FUZZ_SECONDS:-20}}"
SHARED="${SHOMEI_SHARED_DIR:-$(cd .. && pwd)/shared}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list --fuzz-dir fuzz); do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  case "$target" in
    pdf_validate) cp -n "$SHARED"/fixtures/pdf-signed/*.pdf "$corpus"/ 2>/dev/null || true ;;
    pdf*) cp -n "$SHARED"/fixtures/pdf-unsigned/*.pdf "$corpus"/ 2>/dev/null || true
          cp -n examples/sample.pdf "$corpus"/ 2>/dev/null || true ;;
    cert*) cp -n fixtures/pki/*.cert.pem fixtures/pki/chain.pem "$corpus"/ 2>/dev/null || true ;;
    cms*|timestamp*) for f in "$SHARED"/fixtures/pdf-signed/*.pdf; do
          python3 tests/conformance/last_signature.py "$f" "$corpus/$(basename "$f" .pdf)" 2>/dev/null || true
        done
        find "$corpus" -name last.content -delete 2>/dev/null || true ;;
    revocation*) cp -n crates/shomei-tsp/tests/data/* "$corpus"/ 2>/dev/null || true ;;
    csc*) cp -n crates/shomei-csc/tests/data/* "$corpus"/ 2>/dev/null || true ;;
    xades*) find "$SHARED/fixtures/xml-signed" \( -name '*.xml' -o -name '*.asice' \) -exec cp -n {} "$corpus"/ \; 2>/dev/null || true ;;
    xml*) find "$SHARED/fixtures/xml-unsigned" -name '*.xml' ! -name '*bomb*' -exec cp -n {} "$corpus"/ \; 2>/dev/null || true ;;
    stamp_png) find /usr/share/icons /usr/share/pixmaps -name '*.png' -size -64k 2>/dev/null | head -20 | xargs -r cp -t "$corpus"/ 2>/dev/null || true ;;
    key*) cp -n fixtures/pki/*.key.pem fixtures/pki/*.key.der fixtures/pki/*.p12 "$corpus"/ 2>/dev/null || true ;;
  esac
  echo "fuzz: $target for ${SECS}s"
  cargo fuzz run --fuzz-dir fuzz "$target" "$corpus" -- \
    -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=1048576 -timeout=10
done
