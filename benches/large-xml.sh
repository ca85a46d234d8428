#!/usr/bin/env bash
# Whole-process comparison for a large XML document: `shomei sign xml` (XAdES B-B
# enveloped, exclusive C14N, RSA-SHA256) against `xmlsec1 --sign` of the same content
# with the same transforms (the generator appends an XMLDSig template for xmlsec1), with
# wall time, CPU time (user + sys) and peak RSS from /usr/bin/time -v. Run from the
# repository root; binaries go to $CARGO_TARGET_DIR (default target/), or SHOMEI_BIN
# names an already built shomei to measure (another revision, say).
#   benches/large-xml.sh [SIZE_MB ...]      default: 50
# With TSA_URL set (the conformance kit's env file: TSA_URL, SIGNER_RSA_KEY,
# SIGNER_RSA_CERT, CHAIN, TRUST_ROOT), every run signs with the kit's RSA signer and
# `shomei sign xml --level B-LTA` (time-stamps from $TSA_URL, revocation data from the
# kit's responders) is measured as well, with its CPU and RSS ratios to B-B.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${SHOMEI_BIN:-$TARGET/release/shomei}"
[ -n "${SHOMEI_BIN:-}" ] || cargo build --release --bin shomei >/dev/null 2>&1
cargo build --release -p shomei-test-support --bin make-large-xml >/dev/null 2>&1
DIR="${BENCH_DIR:-$(mktemp -d)}"; mkdir -p "$DIR"
trap 'rm -rf "$DIR"' EXIT
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(50)
if [ -n "${TSA_URL:-}" ]; then
  KEY="$SIGNER_RSA_KEY" CERT="$SIGNER_RSA_CERT" UNTRUSTED="$CHAIN" ROOT="$TRUST_ROOT"
  CHAIN_ARGS=(--chain "$CHAIN")
else
  KEY=fixtures/pki/signer-rsa.key.pem CERT=fixtures/pki/signer-rsa.cert.pem
  UNTRUSTED=fixtures/pki/intermediate.cert.pem ROOT=fixtures/pki/root.cert.pem
  CHAIN_ARGS=()
fi
source benches/lib.sh
# Median of the numbers given (one per line on stdin).
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for mb in "${sizes[@]}"; do
  "$TARGET/release/make-large-xml" "$DIR/doc.xml" "$mb" >/dev/null
  "$TARGET/release/make-large-xml" "$DIR/tmpl.xml" "$mb" --xmlsec-template >/dev/null
  echo "$(du -h "$DIR/doc.xml" | cut -f1) XML:"
  bb_cpu=() bb_user=() bb_rss=() lta_cpu=() lta_user=() lta_rss=()
  for _ in 1 2 3; do
    measure "shomei sign xml (B-B)" "$BIN" sign xml "$DIR/doc.xml" -o "$DIR/signed.xml" \
        --key "$KEY" --cert "$CERT" "${CHAIN_ARGS[@]}"
    bb_cpu+=("$MEASURED_CPU") bb_user+=("$MEASURED_USER") bb_rss+=("$MEASURED_RSS")
    if [ -n "${TSA_URL:-}" ]; then
      measure "shomei sign xml (B-LTA)" "$BIN" sign xml "$DIR/doc.xml" -o "$DIR/lta.xml" \
          --level B-LTA --tsa "$TSA_URL" --key "$KEY" --cert "$CERT" "${CHAIN_ARGS[@]}"
      lta_cpu+=("$MEASURED_CPU") lta_user+=("$MEASURED_USER") lta_rss+=("$MEASURED_RSS")
    fi
    measure "xmlsec1 --sign" xmlsec1 --sign --privkey-pem "$KEY,$CERT" --output "$DIR/xmlsec.xml" "$DIR/tmpl.xml"
  done
  verify() {
    xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$ROOT" --untrusted-pem "$UNTRUSTED" \
        "$1" >/dev/null 2>&1 \
      && echo "  shomei's $2 output verifies with xmlsec1" || { echo "  shomei's $2 output does NOT verify"; exit 1; }
  }
  verify "$DIR/signed.xml" B-B
  if [ -n "${TSA_URL:-}" ]; then
    verify "$DIR/lta.xml" B-LTA
    bc_=$(printf '%s\n' "${bb_cpu[@]}" | median) lc=$(printf '%s\n' "${lta_cpu[@]}" | median)
    br=$(printf '%s\n' "${bb_rss[@]}" | median) lr=$(printf '%s\n' "${lta_rss[@]}" | median)
    bu=$(printf '%s\n' "${bb_user[@]}" | median) lu=$(printf '%s\n' "${lta_user[@]}" | median)
    printf '  B-LTA / B-B (medians): CPU %.2f s / %.2f s = %.2f (user alone %.2f / %.2f = %.2f), peak RSS %.1f / %.1f MiB = %.2f\n' \
      "$lc" "$bc_" "$(echo "$lc / $bc_" | bc -l)" "$lu" "$bu" "$(echo "$lu / $bu" | bc -l)" \
      "$(echo "$lr/1024" | bc -l)" "$(echo "$br/1024" | bc -l)" "$(echo "$lr / $br" | bc -l)"
  fi
done
