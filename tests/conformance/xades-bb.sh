#!/usr/bin/env bash
# Independent check of XAdES B-B (enveloped): sign the XML fixtures with the kit's RSA
# and EC signers; xmlsec1 (libxml2) must verify every output against the kit root, and
# the kit's validate-xml (xmlsec1 + signxml's XAdES verifier) must reach B-B where
# signxml can read the document. Hostile inputs must be refused with exit 2.
#
#   tests/conformance/xades-bb.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: xades-bb.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
FIX="$SHARED/fixtures/xml-unsigned"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${SIGNER_RSA_KEY:?}"
for tool in xmlsec1 "$KIT/validate-xml" "$BIN"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/xades"
mkdir -p "$OUT"
source "$HERE/common.sh"

# Inputs shomei refuses (exit 2): entity declarations are never expanded.
declare -A REFUSED=(
  [pyhanko_xmlbomb.xml]="billion laughs: entity declarations are refused"
  [japanese/pr-xml-utf-8.xml]="declares entities in its internal DTD subset: refused (no entity expansion)"
)
# Signed and verified by xmlsec1, but signxml (validate-xml) refuses any DOCTYPE.
declare -A SIGNXML_NO_DTD=(
  [japanese/weekly-utf-8.xml]="has a DOCTYPE: signxml refuses DTDs, so only xmlsec1 judges"
  [japanese/weekly-shift_jis.xml]="has a DOCTYPE: signxml refuses DTDs, so only xmlsec1 judges"
)
INPUTS=(dss_eu-lotl-no-sig.xml dss_ns-prefixes-sample.xml santuario_plain-soap-1.1.xml dss_sample-latin1.xml
        japanese/weekly-utf-8.xml japanese/weekly-shift_jis.xml japanese/pr-xml-utf-8.xml pyhanko_xmlbomb.xml)

for rel in "${INPUTS[@]}"; do
  for who in RSA EC; do
    key="$(key_of "$who")"; cert="$(cert_of "$who")"
    out="$OUT/$(echo "$rel" | tr / _).$who.xml"; rm -f "$out"
    err="$(timeout 20 "$BIN" sign xml "$FIX/$rel" -o "$out" --key "$key" --cert "$cert" --chain "$CHAIN" 2>&1)"; rc=$?
    if [ -n "${REFUSED[$rel]:-}" ]; then
      if [ $rc = 2 ] && [ ! -e "$out" ]; then ok "$rel $who refused (${REFUSED[$rel]}): $err"
      else bad "$rel $who should be refused, exit $rc"; fi
      continue
    fi
    [ $rc = 0 ] || { bad "$rel $who: sign exit $rc: $err"; continue; }
    if ! xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$TRUST_ROOT" --untrusted-pem "$CHAIN" "$out" >/dev/null 2>&1; then
      bad "$rel $who: xmlsec1 --verify failed"; continue
    fi
    if [ -n "${SIGNXML_NO_DTD[$rel]:-}" ]; then ok "$rel $who xmlsec1 OK (${SIGNXML_NO_DTD[$rel]})"; continue; fi
    if v="$("$KIT/validate-xml" "$out" --trust "$TRUST_ROOT" --untrusted "$CHAIN" --level B-B 2>&1)"; then ok "$rel $who B-B (xmlsec1 + validate-xml)"
    else bad "$rel $who: validate-xml: $(echo "$v" | grep -E '"(error|level_reached|problems)"' | head -3 | tr -s ' \n' ' ')"; fi
  done
done
echo "xades: $pass passed, $fail failed"
[ "$fail" = 0 ]
