#!/usr/bin/env bash
# Copies the seed inputs of one fuzz target into a directory: fixtures of this
# repository and of ../shared (never committed to fuzz/corpus). Shared by
# tests/fuzz-smoke.sh and fuzz/campaign.sh.
#   fuzz/seed.sh TARGET DIR
set -euo pipefail
cd "$(dirname "$0")/.."
target="$1"
out="$2"
SHARED="${SHOMEI_SHARED_DIR:-$(cd .. && pwd)/shared}"
mkdir -p "$out"
case "$target" in
  pdf_validate|pdf_changes) cp -n "$SHARED"/fixtures/pdf-signed/*.pdf "$out"/ 2>/dev/null || true ;;
  pdf*) cp -n "$SHARED"/fixtures/pdf-unsigned/*.pdf "$out"/ 2>/dev/null || true
        cp -n examples/sample.pdf "$out"/ 2>/dev/null || true ;;
  cert*) cp -n fixtures/pki/*.cert.pem fixtures/pki/chain.pem "$out"/ 2>/dev/null || true ;;
  cms*|timestamp*) for f in "$SHARED"/fixtures/pdf-signed/*.pdf; do
        python3 tests/conformance/last_signature.py "$f" "$out/$(basename "$f" .pdf)" 2>/dev/null || true
      done
      find "$out" -name last.content -delete 2>/dev/null || true ;;
  revocation*) cp -n crates/shomei-tsp/tests/data/* "$out"/ 2>/dev/null || true ;;
  csc*) cp -n crates/shomei-csc/tests/data/* "$out"/ 2>/dev/null || true ;;
  xades*) find "$SHARED/fixtures/xml-signed" \( -name '*.xml' -o -name '*.asice' \) -exec cp -n {} "$out"/ \; 2>/dev/null || true ;;
  xml*) find "$SHARED/fixtures/xml-unsigned" -name '*.xml' ! -name '*bomb*' -exec cp -n {} "$out"/ \; 2>/dev/null || true ;;
  stamp_png) find /usr/share/icons /usr/share/pixmaps -name '*.png' -size -64k 2>/dev/null | head -20 | xargs -r cp -t "$out"/ 2>/dev/null || true ;;
  key*) cp -n fixtures/pki/*.key.pem fixtures/pki/*.key.der fixtures/pki/*.p12 "$out"/ 2>/dev/null || true ;;
esac
