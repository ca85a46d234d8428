#!/usr/bin/env bash
# Regression tests of issue 9 ("never a silent wrong result"), one section per point,
# each on inputs made here by tools that are not shomei (signxml, lxml + xmlsec1,
# pyHanko, and tests/conformance/make_inputs.py for tampering and BER re-encoding) and
# judged by xmlsec1, pyHanko (validate-pdf) and the exit code and output of shomei.
# Needs the kit PKI running (its env sourced).
#
#   tests/conformance/issue9.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: issue9.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}" "${SIGNER_RSA_KEY:?}"
source "$HERE/common.sh"
PY="$VENV_PY"
PYHANKO="$(dirname "$PY")/pyhanko"
MAKE=("$PY" "$HERE/make_inputs.py")
ROOT="$(cd "$HERE/../.." && pwd)"
OWN_KEY="$ROOT/fixtures/pki/signer-rsa.key.pem"      # the repo's test PKI: no OCSP, no CRL
OWN_CERT="$ROOT/fixtures/pki/signer-rsa.cert.pem"
OWN_CHAIN="$ROOT/fixtures/pki/chain.pem"
PKI_LOG="${CONFORMANCE_STATE:-${TMPDIR:-/tmp}/sig-conformance-$(id -u)}/pki-${PKI_PORT:-9321}/animator.log"
for tool in xmlsec1 "$KIT/validate-pdf" "$BIN" "$PY" "$PYHANKO"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
[ -f "$PKI_LOG" ] || { echo "missing the kit PKI's request log $PKI_LOG" >&2; exit 2; }
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/issue9"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
DSIG="http://www.w3.org/2000/09/xmldsig#"
xmlsec_ok() { xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$TRUST_ROOT" --untrusted-pem "$CHAIN" "$@" >/dev/null 2>&1; }
# expect_refusal RC OUTPUT "LABEL" PATTERN... -- runs the rest; the exit code must be RC,
# OUTPUT must not exist, and every PATTERN must appear in what shomei printed.
expect_refusal() {
  local rc="$1" out="$2" label="$3"; shift 3
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done; shift
  rm -f "$out"
  local msg got; msg="$("$@" 2>&1)"; got=$?
  if [ "$got" != "$rc" ]; then bad "$label: exit $got (expected $rc): $msg"; return; fi
  if [ -e "$out" ]; then bad "$label: an output was written"; return; fi
  if ls "$(dirname "$out")"/.shomei-*.part >/dev/null 2>&1; then bad "$label: a temporary file was left"; return; fi
  for p in "${patterns[@]}"; do
    echo "$msg" | grep -qF -- "$p" || { bad "$label: the message does not say \"$p\": $msg"; return; }
  done
  ok "$label: exit $rc, nothing written: $(echo "$msg" | tail -1 | cut -c1-220)"
}
pdf_verdict() { # FILE -> "intact valid" of the first signature, by pyHanko
  "$KIT/validate-pdf" "$1" --trust "$TRUST_ROOT" --no-pdfsig 2>/dev/null | "$PY" -c '
import json, sys
s = json.load(sys.stdin)["signatures"][0]
print(s["intact"], s["valid"])'
}

echo "--- inputs"
"$PY" "$KIT/lib/sign_xades.py" "$SIGNER_RSA_KEY" "$SIGNER_RSA_CERT" "$CHAIN" signxml.xml >/dev/null
"${MAKE[@]}" xpath-enveloped "$SIGNER_RSA_KEY" "$SIGNER_RSA_CERT" xpath.xml
"${MAKE[@]}" xades-manifest "$SIGNER_RSA_KEY" "$SIGNER_RSA_CERT" "$CHAIN" manifest.xml
MANIFEST_IDS=(--id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" --id-attr:Id "$DSIG:Manifest" --id-attr:Id "urn:example:order:data")
xmlsec_ok signxml.xml && xmlsec_ok xpath.xml && xmlsec_ok "${MANIFEST_IDS[@]}" manifest.xml \
  && ok "inputs made by signxml and xmlsec1 verify" || bad "the inputs do not verify before the tests"
SIGNXML_ID="$(grep -o '<ds:Signature [^>]*Id="[^"]*"' signxml.xml | head -1 | sed 's/.*Id="//;s/"$//')"

echo "--- 1. sign xml (enveloped) never breaks an existing enveloped signature"
expect_refusal 2 "$OUT/cosigned.xml" "enveloped over signxml's URI=\"\" signature" \
  "$SIGNXML_ID" "--packaging detached" -- \
  "$BIN" sign xml signxml.xml -o "$OUT/cosigned.xml" --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN"
xmlsec_ok signxml.xml && ok "the refused input still verifies" || bad "the input was changed"
if msg="$("$BIN" sign xml signxml.xml -o "$OUT/cosigned.detached.xml" --packaging detached --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN" 2>&1)" \
   && (cd "$OUT" && xmlsec_ok cosigned.detached.xml) && xmlsec_ok signxml.xml; then ok "the suggested --packaging detached works and the first signature stays valid"
else bad "detached co-signature: $msg"; fi
if msg="$("$BIN" sign xml xpath.xml -o "$OUT/xpath.cosigned.xml" --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN" 2>&1)"; then
  ours="$(grep -o '<ds:Signature [^>]*' xpath.cosigned.xml | tail -1 | sed 's/.*Id="//;s/".*//')"
  ids=(--id-attr:Id "$DSIG:Signature")
  if xmlsec_ok "${ids[@]}" --node-id sig-1 xpath.cosigned.xml && xmlsec_ok "${ids[@]}" --node-id "$ours" xpath.cosigned.xml; then
    ok "parallel enveloped signature next to one whose XPath filter removes every ds:Signature: xmlsec1 verifies both"
  else bad "xpath co-signature: xmlsec1 does not verify both signatures"; fi
else bad "xpath co-signature refused: $msg"; fi

echo "--- 2. extend refuses a broken signature (XML and PDF); --force overrides and says so"
"${MAKE[@]}" break-reference manifest.xml manifest.broken.xml gold
xmlsec_ok "${MANIFEST_IDS[@]}" manifest.broken.xml && ok "xmlsec1 still accepts the SignedInfo of the broken-manifest file (only the manifest reference fails)" \
  || bad "broken manifest input: xmlsec1 rejects the SignedInfo"
expect_refusal 1 "$OUT/x.xml" "Manifest reference digest broken" "sig-1" "#data" -- \
  "$BIN" extend manifest.broken.xml -o "$OUT/x.xml" --level B-T --tsa "$TSA_URL"
"${MAKE[@]}" break-reference signxml.xml signxml.broken-ref.xml 43
expect_refusal 1 "$OUT/x.xml" "reference digest broken (URI=\"\")" "$SIGNXML_ID" 'reference URI=""' -- \
  "$BIN" extend signxml.broken-ref.xml -o "$OUT/x.xml" --level B-T --tsa "$TSA_URL"
"${MAKE[@]}" break-value signxml.xml signxml.broken-value.xml
expect_refusal 1 "$OUT/x.xml" "signature value broken" "$SIGNXML_ID" "signature value" -- \
  "$BIN" extend signxml.broken-value.xml -o "$OUT/x.xml" --level B-LTA --tsa "$TSA_URL" --trust "$TRUST_ROOT"
if msg="$("$BIN" extend manifest.broken.xml -o "$OUT/forced.xml" --level B-T --tsa "$TSA_URL" --force 2>&1)" \
   && echo "$msg" | grep -q "forced" && [ -s "$OUT/forced.xml" ]; then ok "--force extends the broken signature and says so: $(echo "$msg" | grep -i forced | head -1 | cut -c1-160)"
else bad "--force: $msg"; fi
cp "$SHARED/fixtures/pdf-unsigned/pyhanko_minimal.pdf" in.pdf
"$PYHANKO" sign addsig --field Sig1 --use-pades pemder --key "$SIGNER_RSA_KEY" --cert "$SIGNER_RSA_CERT" --chain "$CHAIN" --no-pass in.pdf pyhanko.pdf >/dev/null 2>&1
"${MAKE[@]}" break-pdf-range pyhanko.pdf pyhanko.broken-range.pdf
"${MAKE[@]}" break-pdf-value pyhanko.pdf pyhanko.broken-value.pdf
[ "$(pdf_verdict pyhanko.pdf)" = "True True" ] && [ "$(pdf_verdict pyhanko.broken-range.pdf)" = "False True" ] \
  && [ "$(pdf_verdict pyhanko.broken-value.pdf)" = "True False" ] && ok "pyHanko: the signed PDF is intact and valid, the tampered ones are not" \
  || bad "PDF inputs: pyHanko's verdicts are not as expected"
expect_refusal 1 "$OUT/x.pdf" "PDF: a byte in the signed range changed" "Sig1" "digest" -- \
  "$BIN" extend pyhanko.broken-range.pdf -o "$OUT/x.pdf" --level B-T --tsa "$TSA_URL"
expect_refusal 1 "$OUT/x.pdf" "PDF: signature value changed" "Sig1" "signature value" -- \
  "$BIN" extend pyhanko.broken-value.pdf -o "$OUT/x.pdf" --level B-LTA --tsa "$TSA_URL"
if msg="$("$BIN" extend pyhanko.pdf -o "$OUT/pyhanko.lta.pdf" --level B-LTA --tsa "$TSA_URL" 2>&1)"; then ok "PDF control: an intact signature is extended"
else bad "PDF control: $msg"; fi
if msg="$("$BIN" extend pyhanko.broken-range.pdf -o "$OUT/forced.pdf" --level B-T --tsa "$TSA_URL" --force 2>&1)" \
   && echo "$msg" | grep -q "forced" && [ -s "$OUT/forced.pdf" ]; then ok "PDF --force extends and says so: $(echo "$msg" | grep -i forced | head -1 | cut -c1-160)"
else bad "PDF --force: $msg"; fi

echo "--- 3. no level claimed without its validation data"
"$PY" "$KIT/lib/sign_xades.py" "$OWN_KEY" "$OWN_CERT" "$OWN_CHAIN" own.xml >/dev/null
for level in B-LT B-LTA; do
  expect_refusal 1 "$OUT/x.xml" "XML extend to $level, signer without OCSP/CRL" "shomei test signer RSA" -- \
    "$BIN" extend own.xml -o "$OUT/x.xml" --level "$level" --tsa "$TSA_URL" --trust "$TRUST_ROOT"
done
if msg="$("$BIN" extend own.xml -o "$OUT/own.allowed.xml" --level B-LTA --tsa "$TSA_URL" --trust "$TRUST_ROOT" --allow-missing-revocation 2>&1)"; then
  if grep -qE '<xades:(Certificate|Revocation)Values[^>]*>[[:space:]]*</xades:(Certificate|Revocation)Values>|<xades:(Certificate|Revocation)Values[^>]*/>' own.allowed.xml; then bad "an empty CertificateValues/RevocationValues was written"
  elif echo "$msg" | grep -q "warning: .*shomei test signer RSA" && echo "$msg" | tail -1 | grep -qi "incomplete"; then ok "--allow-missing-revocation writes the file, warns and says incomplete: $(echo "$msg" | tail -1 | cut -c1-200)"
  else bad "--allow-missing-revocation: no warning or report: $msg"; fi
else bad "--allow-missing-revocation refused: $msg"; fi
"$PYHANKO" sign addsig --field Sig1 --use-pades pemder --key "$OWN_KEY" --cert "$OWN_CERT" --chain "$OWN_CHAIN" --no-pass in.pdf own.pdf >/dev/null 2>&1
for level in B-LT B-LTA; do
  expect_refusal 1 "$OUT/x.pdf" "PDF extend to $level, signer without OCSP/CRL" "shomei test signer RSA" -- \
    "$BIN" extend own.pdf -o "$OUT/x.pdf" --level "$level" --tsa "$TSA_URL"
done
if msg="$("$BIN" extend own.pdf -o "$OUT/own.allowed.pdf" --level B-LT --tsa "$TSA_URL" --allow-missing-revocation 2>&1)" \
   && echo "$msg" | tail -1 | grep -qi "incomplete"; then ok "PDF --allow-missing-revocation: $(echo "$msg" | tail -1 | cut -c1-200)"
else bad "PDF --allow-missing-revocation: $msg"; fi
for fmt in pdf xml; do
  src=in.pdf; [ "$fmt" = xml ] && src=xpath.xml
  expect_refusal 1 "$OUT/x.$fmt" "sign $fmt at B-LT with a signer without OCSP/CRL" "shomei test signer RSA" -- \
    "$BIN" sign "$fmt" "$src" -o "$OUT/x.$fmt" --level B-LT --tsa "$TSA_URL" --key "$OWN_KEY" --cert "$OWN_CERT" --chain "$OWN_CHAIN"
done

echo "--- 4. time-stamp tokens in BER are read"
# the kit's own B-T (its TSA over loopback); tried twice, and its error shown if it fails
for _ in 1 2; do
  "$PY" "$KIT/lib/xades_augment.py" signxml.xml signxml.bt.xml --level B-T --certs "$(dirname "$TRUST_ROOT")" \
    --pki-url "http://127.0.0.1:${PKI_PORT:-9321}" >augment.log 2>&1 && break
  sleep 1
done
[ -s signxml.bt.xml ] || bad "the kit's xades_augment could not make the B-T input: $(tail -3 augment.log)"
"${MAKE[@]}" ber-token signxml.bt.xml signxml.bt-ber.xml
tsa_b64="$(openssl x509 -in "$(dirname "$TRUST_ROOT")/tsa.cert.pem" -outform DER | base64 -w0)"
if msg="$("$BIN" extend signxml.bt-ber.xml -o "$OUT/ber.lt.xml" --level B-LT --tsa "$TSA_URL" --trust "$TRUST_ROOT" 2>&1)"; then
  if echo "$msg" | grep -qi "not usable\|indefinite"; then bad "BER token still refused: $msg"
  elif tr -d '\n\r ' < ber.lt.xml | grep -qF "$tsa_b64"; then ok "BER signature time-stamp read: the TSA certificate is in the B-LT validation data"
  else bad "BER token: the TSA certificate is missing from the output"; fi
else bad "BER token: extend failed: $msg"; fi

echo "--- 5. detached reference ./name resolves next to the signature"
mkdir -p detached; printf '%%PDF-1.4 any data\n' > detached/data.pdf
"${MAKE[@]}" xades-detached "$SIGNER_RSA_KEY" "$SIGNER_RSA_CERT" "$CHAIN" ./data.pdf detached/sig.xml
DET_IDS=(--id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties")
(cd detached && xmlsec_ok "${DET_IDS[@]}" sig.xml) && ok "xmlsec1 verifies the ./data.pdf detached XAdES" || bad "detached input does not verify"
if msg="$("$BIN" extend detached/sig.xml -o detached/sig.lta.xml --level B-LTA --tsa "$TSA_URL" --trust "$TRUST_ROOT" 2>&1)" \
   && (cd detached && xmlsec_ok "${DET_IDS[@]}" sig.lta.xml); then ok "./data.pdf extended to B-LTA, xmlsec1 still verifies"
else bad "./data.pdf: $msg"; fi
mv detached/data.pdf detached/elsewhere.pdf
expect_refusal 2 "$OUT/detached/x.xml" "./data.pdf missing" "./data.pdf" "missing" -- \
  "$BIN" extend detached/sig.xml -o "$OUT/detached/x.xml" --level B-T --tsa "$TSA_URL"
sed 's#URI="./data.pdf"#URI="../data.pdf"#' detached/sig.xml > detached/up.xml
expect_refusal 2 "$OUT/detached/x.xml" "../data.pdf still refused" "../data.pdf" -- \
  "$BIN" extend detached/up.xml -o "$OUT/detached/x.xml" --level B-T --tsa "$TSA_URL"

echo "--- 6. output mode: 0666 less the umask, or the input's when stricter"
chmod 644 pyhanko.pdf
for case in "022 644 644" "027 644 640" "022 600 600"; do
  set -- $case; chmod "$2" pyhanko.pdf; rm -f "$OUT/mode.pdf"
  (umask "$1"; "$BIN" extend pyhanko.pdf -o "$OUT/mode.pdf" --level B-T --tsa "$TSA_URL" >/dev/null 2>&1)
  got="$(stat -c %a "$OUT/mode.pdf" 2>/dev/null)"
  [ "$got" = "$3" ] && ok "umask $1, input $2: output $got" || bad "umask $1, input $2: output ${got:-missing} (expected $3)"
done

echo "--- 7. a damaged input costs no network request"
head -c 600 in.pdf > damaged.pdf
printf '<doc><unclosed></doc>' > damaged.xml
for fmt in pdf xml; do
  before="$(wc -l < "$PKI_LOG")"
  rm -f "$OUT/x.$fmt"
  "$BIN" sign "$fmt" "damaged.$fmt" -o "$OUT/x.$fmt" --level B-LTA --tsa "$TSA_URL" --key "$SIGNER_RSA_KEY" --cert "$SIGNER_RSA_CERT" --chain "$CHAIN" >/dev/null 2>&1; rc=$?
  sleep 0.3
  after="$(wc -l < "$PKI_LOG")"
  if [ "$rc" = 2 ] && [ "$before" = "$after" ] && [ ! -e "$OUT/x.$fmt" ]; then ok "damaged $fmt at B-LTA: exit 2, no request to the TSA/OCSP/CRL server"
  else bad "damaged $fmt at B-LTA: exit $rc, $((after - before)) requests"; fi
done

echo
echo "issue9: $pass passed, $fail failed"
[ "$fail" = 0 ]
