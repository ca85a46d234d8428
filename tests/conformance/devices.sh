#!/usr/bin/env bash
# Keys where they live, judged by the kit (and by `shomei validate`, TOTAL-PASSED at the
# same level): the kit's RSA and EC signer keys on a SoftHSM2
# token (PKCS#11) and behind the kit's CSC v1 dummy (certomancer), used through the CLI.
#
#  * PKCS#11, RSA and EC: PAdES B-LTA passes validate-pdf --level B-LTA; XAdES B-LT
#    passes validate-xml --level B-LT; a batch of 3 PDFs signs under one login and each
#    passes B-T; a wrong PIN and a missing token give exit 1 and write nothing.
#  * CSC: PAdES B-T (validate-pdf) and XAdES B-B (validate-xml) through the CSC client; a
#    batch of 10 PDFs makes exactly one credentials/authorize call (the CLI's summary
#    counts the calls it made) and every output passes B-T; an unreachable CSC server
#    gives exit 1 and writes nothing.
#
# Needs the kit PKI running with its CSC dummy (pki-serve --csc-port), its env sourced,
# and SHOMEI_KIT_CSC_URL (http://127.0.0.1:PORT/csc/v1).
#
#   tests/conformance/devices.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: devices.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}" "${SIGNER_RSA_KEY:?}"
: "${SHOMEI_KIT_CSC_URL:?start the kit with --csc-port and set SHOMEI_KIT_CSC_URL}"
for tool in softhsm2-util pkcs11-tool "$KIT/validate-pdf" "$KIT/validate-xml" "$BIN"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
MODULE="${SHOMEI_PKCS11_MODULE:-}"
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -z "$MODULE" ] && [ -f "$m" ] && MODULE="$m"
done
[ -n "$MODULE" ] || { echo "missing: the SoftHSM2 module (apt-get install softhsm2)" >&2; exit 2; }
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/devices"
rm -rf "$OUT"; mkdir -p "$OUT"
source "$HERE/common.sh"
PDF="$HERE/../../examples/sample.pdf"
XML="$SHARED/fixtures/xml-unsigned/dss_ns-prefixes-sample.xml"
# Each file must pass the kit's validator at its level, and shomei's own (TOTAL-PASSED,
# exit 0, at that level; revocation data fetched where the file carries none).
shomei_passes() {
  "$BIN" validate "$1" --trust "$TRUST_ROOT" --format json > "$1.report.json" 2>/dev/null \
    && grep -q "\"level\": \"$2\"" "$1.report.json"
}
vpdf() { "$KIT/validate-pdf" "$1" --trust "$TRUST_ROOT" --level "$2" >/dev/null 2>&1 && shomei_passes "$1" "$2"; }
vxml() { "$KIT/validate-xml" "$1" --trust "$TRUST_ROOT" --level "$2" >/dev/null 2>&1 && shomei_passes "$1" "$2"; }

# ---- PKCS#11: a token of our own in a temporary directory
export SOFTHSM2_CONF="$OUT/softhsm2.conf"
mkdir -p "$OUT/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$OUT/tokens" > "$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label kit --pin 1234 --so-pin 5678 >/dev/null
for who in RSA EC; do
  id=$([ $who = RSA ] && echo 01 || echo 02)
  softhsm2-util --import "$(key_of $who)" --token kit --label "signer-$who" --id "$id" --pin 1234 >/dev/null
  openssl x509 -in "$(cert_of $who)" -outform DER -out "$OUT/$who.der"
  pkcs11-tool --module "$MODULE" --token-label kit --login --pin 1234 --write-object "$OUT/$who.der" \
    --type cert --id "$id" --label "signer-$who" >/dev/null 2>&1
done
export TOKEN_PIN=1234 BAD_PIN=0000
P11=(--pkcs11-module "$MODULE" --token-label kit --pin-env TOKEN_PIN --chain "$CHAIN")
for who in RSA EC; do
  out="$OUT/p11-$who.pdf"
  if msg="$("$BIN" sign pdf "$PDF" -o "$out" "${P11[@]}" --key-label "signer-$who" --level B-LTA --tsa "$TSA_URL" 2>&1)" && vpdf "$out" B-LTA; then
    ok "PKCS#11 $who: PAdES B-LTA passes validate-pdf"
  else bad "PKCS#11 $who PAdES B-LTA: $msg"; fi
  out="$OUT/p11-$who.xml"
  if msg="$("$BIN" sign xml "$XML" -o "$out" "${P11[@]}" --key-label "signer-$who" --level B-LT --tsa "$TSA_URL" 2>&1)" && vxml "$out" B-LT; then
    ok "PKCS#11 $who: XAdES B-LT passes validate-xml"
  else bad "PKCS#11 $who XAdES B-LT: $msg"; fi
done
mkdir -p "$OUT/in3"
for i in 1 2 3; do cp "$PDF" "$OUT/in3/doc$i.pdf"; done
if msg="$("$BIN" sign pdf "$OUT"/in3/doc*.pdf -o "$OUT/out3" "${P11[@]}" --key-label signer-EC --level B-T --tsa "$TSA_URL" 2>&1)"; then
  n=0; for f in "$OUT"/out3/doc*.pdf; do vpdf "$f" B-T && n=$((n+1)); done
  [ "$n" = 3 ] && ok "PKCS#11 batch: 3 PDFs in one run, each passes B-T ($(echo "$msg" | tail -1))" || bad "PKCS#11 batch: $n of 3 pass B-T"
else bad "PKCS#11 batch: $msg"; fi
out="$OUT/wrong-pin.pdf"
msg="$("$BIN" sign pdf "$PDF" -o "$out" --pkcs11-module "$MODULE" --token-label kit --key-label signer-EC --pin-env BAD_PIN 2>&1)"; rc=$?
[ $rc = 1 ] && [ ! -e "$out" ] && echo "$msg" | grep -q "wrong PIN" && ok "PKCS#11 wrong PIN: exit 1, no output: $msg" || bad "PKCS#11 wrong PIN: exit $rc: $msg"
msg="$("$BIN" sign pdf "$PDF" -o "$out" --pkcs11-module "$MODULE" --token-label absent --key-label signer-EC --pin-env TOKEN_PIN 2>&1)"; rc=$?
[ $rc = 1 ] && [ ! -e "$out" ] && ok "PKCS#11 missing token: exit 1, no output: $msg" || bad "PKCS#11 missing token: exit $rc: $msg"

# ---- CSC: the kit's v1 dummy
CSC=(--csc-url "$SHOMEI_KIT_CSC_URL")
out="$OUT/csc-EC.pdf"
if msg="$("$BIN" sign pdf "$PDF" -o "$out" "${CSC[@]}" --credential-id kit/signer-ec --level B-T --tsa "$TSA_URL" 2>&1)" && vpdf "$out" B-T; then
  ok "CSC EC: PAdES B-T passes validate-pdf ($msg)"
else bad "CSC EC PAdES B-T: $msg"; fi
for cred in kit/signer-rsa kit/signer-ec; do
  out="$OUT/csc-$(basename $cred).xml"
  if msg="$("$BIN" sign xml "$XML" -o "$out" "${CSC[@]}" --credential-id "$cred" 2>&1)" && vxml "$out" B-B; then
    ok "CSC $cred: XAdES B-B passes validate-xml"
  else bad "CSC $cred XAdES B-B: $msg"; fi
done
mkdir -p "$OUT/in10"
for i in $(seq -w 1 10); do cp "$PDF" "$OUT/in10/doc$i.pdf"; done
if msg="$("$BIN" sign pdf "$OUT"/in10/doc*.pdf -o "$OUT/out10" "${CSC[@]}" --credential-id kit/signer-rsa --level B-T --tsa "$TSA_URL" 2>&1)"; then
  n=0; for f in "$OUT"/out10/doc*.pdf; do vpdf "$f" B-T && n=$((n+1)); done
  if [ "$n" = 10 ] && echo "$msg" | grep -q "CSC: 1 credentials/authorize"; then ok "CSC batch: 10 PDFs, one credentials/authorize, each passes B-T ($(echo "$msg" | tail -1))"
  else bad "CSC batch: $n of 10 pass B-T: $(echo "$msg" | tail -1)"; fi
else bad "CSC batch: $msg"; fi
out="$OUT/unreachable.pdf"
msg="$("$BIN" sign pdf "$PDF" -o "$out" --csc-url http://127.0.0.1:9/csc/v1 --credential-id kit/signer-ec --timeout 3 2>&1)"; rc=$?
[ $rc = 1 ] && [ ! -e "$out" ] && ok "CSC unreachable: exit 1, no output: $msg" || bad "CSC unreachable: exit $rc: $msg"
left="$(find "$OUT" -name '.shomei-*.part' | wc -l)"
[ "$left" = 0 ] && ok "no partial files left anywhere" || bad "$left partial files left"

echo "devices: $pass passed, $fail failed"
[ "$fail" = 0 ]
