#!/usr/bin/env bash
# Whole-process comparison for a large PDF: `shomei sign pdf` against `sha256sum` + `cp`
# of the same file (the floor for "read it all, hash it, write a copy"), with peak RSS
# from /usr/bin/time -v. Run from the repository root after `cargo build --release`.
#   benches/large-pdf.sh [SIZE_MB ...]      default: 50 200
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/shomei
[ -x "$BIN" ] || cargo build --release --bin shomei
cargo build --release -p shomei-test-support --bin make-large-pdf >/dev/null 2>&1
DIR="${BENCH_DIR:-$(mktemp -d)}"; mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(50 200)
source benches/lib.sh
for mb in "${sizes[@]}"; do
  in="$DIR/large-$mb.pdf"
  target/release/make-large-pdf "$in" "$mb" >/dev/null
  sync
  echo "$(du -h "$in" | cut -f1) PDF:"
  measure "sha256sum" sha256sum "$in"
  measure "cp" cp "$in" "$DIR/copy.pdf"
  measure "shomei sign pdf (EC)" "$BIN" sign pdf "$in" -o "$DIR/signed.pdf" \
      --key fixtures/pki/signer-ec.key.pem --cert fixtures/pki/signer-ec.cert.pem
  rm -f "$DIR/copy.pdf" "$DIR/signed.pdf" "$in"
done
