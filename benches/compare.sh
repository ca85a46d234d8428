#!/usr/bin/env bash
# Runs the benchmark comparisons of benches/README.md in one go, same machine, same run:
#  a) in-process PAdES B-B of examples/sample.pdf: shomei (criterion) vs pyHanko
#  b) software-key sign operations: shomei-keys (criterion) vs `openssl speed`
#  c) a large PDF: whole process vs sha256sum + cp (benches/large-pdf.sh)
# Needs the conformance kit's venv for pyHanko (../shared/conformance/setup).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sig-conformance/venv}"
[ -x "$VENV/bin/python" ] || { echo "run ../shared/conformance/setup first (pyHanko venv)" >&2; exit 2; }
P=fixtures/pki
echo "== a) in-process PAdES B-B, one-page PDF"
cargo bench --bench sign -- --warm-up-time 1 --measurement-time 5 2>&1 | grep -E "^pades|time:|thrpt:"
for k in ec rsa; do
  echo -n "signer-$k: "
  "$VENV/bin/python" benches/pyhanko_inprocess.py "$P/signer-$k.key.pem" "$P/signer-$k.cert.pem" "$P/chain.pem" 5
done
echo "== b) sign operations: shomei-keys vs openssl speed"
cargo bench -p shomei-keys --bench sign_ops -- --warm-up-time 1 --measurement-time 3 2>&1 | grep -E "^[a-z_/0-9-]+$|time:|thrpt:" || true
openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null | grep -E "^rsa 2048|256 bits ecdsa|sign/s"
echo "== c) large PDF"
benches/large-pdf.sh ${LARGE_SIZES:-50 200}
