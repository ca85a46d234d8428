#!/usr/bin/env bash
# Whole-process comparison for a large XML document: `shomei sign xml` (XAdES B-B
# enveloped, exclusive C14N, RSA-SHA256) against `xmlsec1 --sign` of the same content
# with the same transforms (the generator appends an XMLDSig template for xmlsec1), with
# wall time, CPU time and peak RSS from /usr/bin/time -v. Run from the repository root;
# the binaries are built in $CARGO_TARGET_DIR when it is set (else target/).
#   benches/large-xml.sh [SIZE_MB ...]      default: 50
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/shomei"
cargo build --release --bin shomei >/dev/null 2>&1
cargo build --release -p shomei-test-support --bin make-large-xml >/dev/null 2>&1
DIR="${BENCH_DIR:-$(mktemp -d)}"; mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(50)
KEY=fixtures/pki/signer-rsa.key.pem CERT=fixtures/pki/signer-rsa.cert.pem
source benches/lib.sh
for mb in "${sizes[@]}"; do
  "$TARGET/release/make-large-xml" "$DIR/doc.xml" "$mb" >/dev/null
  "$TARGET/release/make-large-xml" "$DIR/tmpl.xml" "$mb" --xmlsec-template >/dev/null
  echo "$(du -h "$DIR/doc.xml" | cut -f1) XML:"
  for _ in 1 2 3; do
    measure "shomei sign xml (B-B)" "$BIN" sign xml "$DIR/doc.xml" -o "$DIR/signed.xml" --key "$KEY" --cert "$CERT"
    measure "xmlsec1 --sign" xmlsec1 --sign --privkey-pem "$KEY,$CERT" --output "$DIR/xmlsec.xml" "$DIR/tmpl.xml"
  done
  xmlsec1 --verify --enabled-key-data x509 --trusted-pem fixtures/pki/root.cert.pem \
      --untrusted-pem fixtures/pki/intermediate.cert.pem "$DIR/signed.xml" >/dev/null 2>&1 \
      && echo "  shomei's output verifies with xmlsec1" || { echo "  shomei's output does NOT verify"; exit 1; }
done
