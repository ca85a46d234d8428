#!/usr/bin/env bash
# `shomei validate` on XML (issue 11, XAdES), next to the kit's validate-xml
# (xmlsec1, signxml, openssl). Needs the kit PKI running (its env sourced).
#
#  * shomei signs a document enveloped, enveloping and detached with the kit's RSA and
#    EC signers at B-B, B-T, B-LT and B-LTA: validate-xml passes each at its level
#    (detached: xmlsec1 only, signxml cannot dereference), and `shomei validate --trust
#    ROOT` says TOTAL-PASSED at that level (exit 0), fetching the revocation data B-B
#    and B-T files do not carry; --offline they all pass too (B-B and B-T with the
#    signer's status reported as not checked), and B-B and B-T --offline
#    --require-revocation are INDETERMINATE / TRY_LATER (exit 3). B-LT and B-LTA pass at
#    2049-06-01 (after the signer certificates' notAfter, 2049-01-01) from their
#    proofs of existence; at 2051 (TSA expired, nothing renewed) OUT_OF_BOUNDS_NO_POE.
#  * a signxml B-B signature extended to B-LTA by shomei: TOTAL-PASSED at B-LTA offline.
#  * attacks (tests/conformance/xml_attacks.py, lxml): the Id of a signed element
#    duplicated by a lookalike, the signed element moved into the signature with a
#    lookalike in its place, the SignedProperties changed, the KeyInfo certificate
#    swapped — TOTAL-FAILED (FORMAT_FAILURE, FORMAT_FAILURE, HASH_FAILURE) or
#    INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND, never passed; the signature the
#    attacks start from (made by xmlsec1, referencing the element by Id) passes.
#  * a detached signature without its data: INDETERMINATE / SIGNED_DATA_NOT_FOUND.
#  * every `--format json` report conforms to docs/validation-report.schema.json.
#
#   tests/conformance/validate-xml.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: validate-xml.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
FIX="$SHARED/fixtures/xml-unsigned"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}"
source "$HERE/common.sh"
PY="$VENV_PY"
for tool in xmlsec1 "$KIT/validate-xml" "$BIN" "$PY"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/validate-xml"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
source "$HERE/judge.sh"

kit() { (cd "$(dirname "$1")" && "$KIT/validate-xml" "$(basename "$1")" --trust "$TRUST_ROOT" --level "$2" >/dev/null 2>&1); }
# xmlsec1 FILE: core validation with the key of the X.509 certificate chained to the
# root; the Id attributes of make_inputs.py's elements are declared to it.
xmlsec_ok() { (cd "$(dirname "$1")" && xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$TRUST_ROOT" --untrusted-pem "$CHAIN" \
  --id-attr:Id urn:example:order:data --id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" "$(basename "$1")" >/dev/null 2>&1); }

echo "--- shomei's own XAdES files, judged by the kit and by shomei"
cp "$FIX/dss_ns-prefixes-sample.xml" data.xml
LONG=()
for pk in enveloped enveloping detached; do
  for who in RSA EC; do
    for lvl in B-B B-T B-LT B-LTA; do
      f="$pk.$who.$lvl.xml"
      if ! err="$("$BIN" sign xml data.xml -o "$f" --packaging "$pk" --level "$lvl" --tsa "$TSA_URL" \
            --key "$(key_of $who)" --cert "$(cert_of $who)" --chain "$CHAIN" 2>&1)"; then bad "$f: sign: $err"; continue; fi
      det=(); [ "$pk" = detached ] && det=(--detached data.xml)
      if [ "$pk" = detached ]; then xmlsec_ok "$f" || { bad "$f: xmlsec1 does not verify it"; continue; }
      else kit "$f" "$lvl" || { bad "$f: validate-xml does not pass it at $lvl"; continue; }; fi
      judge "$f" "${det[@]}"
      if [ "$RC" = 0 ] && [ "$LEVEL" = "$lvl" ]; then ok "$f: the kit and shomei pass it ($IND at $LEVEL)"
      else bad "$f: shomei exit $RC $IND $SUB level $LEVEL"; fi
      judge "$f" --offline "${det[@]}"
      case "$lvl" in
        B-B|B-T)
          if [ "$RC" = 0 ] && [ "$LEVEL" = "$lvl" ] && grep -q "not checked (revocation soft-fail" judge.json; then ok "$f --offline: $IND at $LEVEL, the signer's revocation status reported as not checked"
          else bad "$f --offline: shomei exit $RC $IND $SUB level $LEVEL"; fi
          judge "$f" --offline --require-revocation "${det[@]}"
          if [ "$RC" = 3 ] && [ "$SUB" = TRY_LATER ]; then ok "$f --offline --require-revocation: INDETERMINATE/TRY_LATER (no revocation data in it)"
          else bad "$f --offline --require-revocation: shomei exit $RC $IND $SUB"; fi ;;
        *)
          if [ "$RC" = 0 ] && [ "$LEVEL" = "$lvl" ]; then ok "$f --offline: $IND at $LEVEL"; LONG+=("$f")
          else bad "$f --offline: shomei exit $RC $IND $SUB level $LEVEL"; fi ;;
      esac
    done
  done
done

echo "--- validation in the past and in the future"
for f in "${LONG[@]}"; do
  det=(); [[ "$f" == detached.* ]] && det=(--detached data.xml)
  judge "$f" --offline --at 2049-06-01T00:00:00Z "${det[@]}"
  if [ "$RC" = 0 ]; then ok "$f at 2049-06-01 (signer expired, proven earlier): $IND"
  else bad "$f at 2049-06-01: exit $RC $IND $SUB"; fi
done
judge enveloped.EC.B-LTA.xml --offline --at 2051-01-01T00:00:00Z
if [ "$RC" = 3 ] && [[ "$SUB" == *OUT_OF_BOUNDS_NO_POE* ]]; then ok "B-LTA at 2051 (TSA expired, no later archive time-stamp): INDETERMINATE/OUT_OF_BOUNDS_NO_POE"
else bad "B-LTA at 2051: exit $RC $IND $SUB"; fi

echo "--- another producer's signature extended by shomei"
INTERM="$(dirname "$TRUST_ROOT")/interm.cert.pem"
if "$PY" "$KIT/lib/sign_xades.py" "$SIGNER_EC_KEY" "$SIGNER_EC_CERT" "$INTERM" signxml.xml >/dev/null 2>&1 \
   && "$BIN" extend signxml.xml -o signxml-lta.xml --level B-LTA --tsa "$TSA_URL" --trust "$TRUST_ROOT" >/dev/null 2>&1 \
   && kit signxml-lta.xml B-LTA; then
  judge signxml-lta.xml --offline
  if [ "$RC" = 0 ] && [ "$LEVEL" = B-LTA ]; then ok "signxml B-B extended to B-LTA by shomei: the kit and shomei pass it at B-LTA"
  else bad "signxml extended: shomei exit $RC $IND $SUB level $LEVEL"; fi
else bad "could not make the signxml file and extend it"; fi

echo "--- attacks"
"$PY" "$HERE/make_inputs.py" xades-by-id "$SIGNER_EC_KEY" "$SIGNER_EC_CERT" "$CHAIN" byid.xml || bad "could not make byid.xml"
judge byid.xml
if [ "$RC" = 0 ] && xmlsec_ok byid.xml; then ok "control: an xmlsec1-made XAdES referencing <data Id=\"data\"> passes ($IND at $LEVEL)"
else bad "control byid.xml: exit $RC $IND $SUB"; fi
attack() { # NAME SOURCE WANT_RC WANT_SUB [extra args]
  local name="$1" src="$2" rc="$3" sub="$4"; shift 4
  "$PY" "$HERE/xml_attacks.py" "$name" "$src" "attack-$name.xml" "$@" || { bad "$name: could not make the file"; return; }
  local kitv="xmlsec1 fails it"; xmlsec_ok "attack-$name.xml" && kitv="xmlsec1 verifies it"
  judge "attack-$name.xml"
  if [ "$RC" = "$rc" ] && [ "$SUB" = "$sub" ]; then ok "$name: shomei $IND/$SUB ($kitv)"
  else bad "$name: shomei exit $RC $IND $SUB, wanted $sub"; fi
}
attack dup-id byid.xml 1 FORMAT_FAILURE
attack moved byid.xml 1 FORMAT_FAILURE
attack signed-props enveloped.EC.B-LT.xml 1 HASH_FAILURE
attack keyinfo-swap enveloped.EC.B-LT.xml 3 NO_SIGNING_CERTIFICATE_FOUND "$SIGNER_RSA_CERT"
judge detached.EC.B-B.xml
if [ "$RC" = 3 ] && [ "$SUB" = SIGNED_DATA_NOT_FOUND ]; then ok "detached without --detached: INDETERMINATE/SIGNED_DATA_NOT_FOUND"
else bad "detached without its data: exit $RC $IND $SUB"; fi

if [ "$SCHEMA_CHECKED" -gt 20 ] && [ "$SCHEMA_BAD" = 0 ]; then ok "all $SCHEMA_CHECKED JSON reports conform to docs/validation-report.schema.json"
else bad "$SCHEMA_BAD of $SCHEMA_CHECKED JSON reports do not conform: $(tail -2 schema.err 2>/dev/null)"; fi

echo
echo "validate-xml: $pass passed, $fail failed"
[ "$fail" = 0 ]
