#!/usr/bin/env bash
# `shomei validate` (issue 11, first part: PAdES) on files the kit's validator judges
# too. Needs the kit PKI running (its env sourced).
#
#  * shomei signs examples/sample.pdf with the kit's RSA and EC signers at B-B, B-T,
#    B-LT and B-LTA, and extends a pyHanko B-T file to B-LTA: validate-pdf passes each
#    at its level, and `shomei validate --trust ROOT` says TOTAL-PASSED at that level
#    (exit 0), fetching the revocation data B-B and B-T files do not carry; --offline
#    they all pass too, B-B and B-T with the signer's status reported as not checked
#    (revocation soft-fail), and B-B and B-T --offline --require-revocation are
#    INDETERMINATE / TRY_LATER (exit 3). The B-LT and B-LTA files pass at 2049-06-01, after the signer
#    certificates' notAfter (2049-01-01) but before the TSA's (2050-01-01), from the
#    proofs of existence; at 2051 exit 3 OUT_OF_BOUNDS_NO_POE (the archive time-stamp
#    was not renewed in time).
#  * Attacks on a B-LT file, each judged by shomei and by validate-pdf: a changed
#    signed byte (HASH_FAILURE), a zeroed /Contents (FORMAT_FAILURE), a /ByteRange
#    that starts after 0, leaves a gap, overlaps or stops before the end of the
#    revision (FORMAT_FAILURE) — shomei TOTAL-FAILED (exit 1), validate-pdf fails too;
#    an untrusted root: INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND.
#  * Incremental updates after signing (tests/conformance/pdf_attacks.py, pyHanko's
#    incremental writer): the page content replaced, an annotation added (DocMDP P=2)
#    — shomei TOTAL-FAILED / SIG_CONSTRAINTS_FAILURE naming the change, validate-pdf
#    fails them too; control: a second signature with its DSS update passes both.
#  * Hostile files (a page tree that contains itself, a /Prev that points at itself,
#    /Kids nested 100 000 arrays deep, a content stream inflating to 256 MiB): exit
#    1-3, in under 3 s and 256 MiB peak RSS.
#  * Revocation data in the CMS: an OCSP response in RFC 5940 form and a CRL in
#    SignedData.crls are used (TOTAL-PASSED at B-T with --require-revocation).
#  * Shadow attacks (hide: the overlay freed by a bare xref section; replace: the font
#    redefined; hide-and-replace: the content's xref entry pointed at an orphan body
#    signed with the document) — TOTAL-FAILED / SIG_CONSTRAINTS_FAILURE, and the
#    per-revision report refuses exactly that object; control: the signed document.
#  * Certification: a signature added after shomei's DocMDP P=1 certification (pyHanko
#    with its refusal switched off) and an annotation against P=2 — TOTAL-FAILED /
#    SIG_CONSTRAINTS_FAILURE; a certification added after an approval signature —
#    FORMAT_FAILURE; controls: a second signature and a form field filled in (value and
#    appearance) under P=2 pass; a field locked by a signature's FieldMDP (pyHanko)
#    filled in afterwards — TOTAL-FAILED / SIG_CONSTRAINTS_FAILURE.
#  * Every `--format json` report conforms to docs/validation-report.schema.json.
#
#   tests/conformance/validate.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: validate.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
FIX="$SHARED/fixtures"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}"
source "$HERE/common.sh"
PY="$VENV_PY"
PH="$(dirname "$VENV_PY")/pyhanko"
for tool in "$KIT/validate-pdf" "$BIN" "$PY" "$PH"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/validate"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
SAMPLE="$HERE/../../examples/sample.pdf"

source "$HERE/judge.sh"
kit() { "$KIT/validate-pdf" "$1" --trust "$TRUST_ROOT" --level "$2" >/dev/null 2>&1; }

echo "--- shomei's own files, judged by both"
GOOD=()
for who in RSA EC; do
  for lvl in B-B B-T B-LT B-LTA; do
    f="sample.$who.$lvl.pdf"
    if ! err="$("$BIN" sign pdf "$SAMPLE" -o "$f" --key "$(key_of $who)" --cert "$(cert_of $who)" --chain "$CHAIN" \
          --level "$lvl" --tsa "$TSA_URL" 2>&1)"; then bad "$who $lvl: sign: $err"; continue; fi
    kit "$f" "$lvl" || { bad "$who $lvl: validate-pdf does not pass it"; continue; }
    judge "$f"
    if [ "$RC" = 0 ] && [ "$LEVEL" = "$lvl" ]; then ok "$who $lvl: validate-pdf and shomei pass ($IND at $LEVEL)"
    else bad "$who $lvl: shomei exit $RC $IND $SUB level $LEVEL"; fi
    judge "$f" --offline
    case "$lvl" in
      B-B|B-T)
        if [ "$RC" = 0 ] && [ "$LEVEL" = "$lvl" ] && grep -q "not checked (revocation soft-fail" judge.json; then ok "$who $lvl --offline: $IND at $LEVEL, the signer's revocation status reported as not checked"
        else bad "$who $lvl --offline: shomei exit $RC $IND $SUB level $LEVEL"; fi
        judge "$f" --offline --require-revocation
        if [ "$RC" = 3 ] && [ "$SUB" = TRY_LATER ]; then ok "$who $lvl --offline --require-revocation: INDETERMINATE/TRY_LATER (the file carries no revocation data)"
        else bad "$who $lvl --offline --require-revocation: shomei exit $RC $IND $SUB"; fi ;;
      *)
        if [ "$RC" = 0 ] && [ "$LEVEL" = "$lvl" ]; then ok "$who $lvl --offline: $IND at $LEVEL"; GOOD+=("$f")
        else bad "$who $lvl --offline: shomei exit $RC $IND $SUB level $LEVEL"; fi ;;
    esac
  done
done
bt="pyhanko-bt.pdf"
if "$PH" sign addsig --field Sig1 --use-pades --timestamp-url "$TSA_URL" pemder --key "$SIGNER_EC_KEY" \
     --cert "$SIGNER_EC_CERT" --chain "$CHAIN" --no-pass "$FIX/pdf-unsigned/pyhanko_minimal.pdf" "$bt" >/dev/null 2>&1 \
   && "$BIN" extend "$bt" -o pyhanko-lta.pdf --level B-LTA --tsa "$TSA_URL" >/dev/null 2>&1 && kit pyhanko-lta.pdf B-LTA; then
  judge pyhanko-lta.pdf --offline
  if [ "$RC" = 0 ] && [ "$LEVEL" = B-LTA ]; then ok "pyHanko B-T extended to B-LTA by shomei: both pass at B-LTA"; GOOD+=(pyhanko-lta.pdf)
  else bad "pyHanko B-T extended: shomei exit $RC $IND $SUB level $LEVEL"; fi
else bad "could not make the pyHanko B-T file and extend it"; fi

echo "--- validation in the past and in the future"
for f in "${GOOD[@]}"; do
  judge "$f" --at 2049-06-01T00:00:00Z --offline
  if [ "$RC" = 0 ]; then ok "$f at 2049-06-01 (signer expired, proven earlier): $IND"
  else bad "$f at 2049-06-01: exit $RC $IND $SUB"; fi
done
judge "${GOOD[-1]}" --at 2051-01-01T00:00:00Z --offline
if [ "$RC" = 3 ] && [[ "$SUB" == *OUT_OF_BOUNDS_NO_POE* ]]; then ok "at 2051 (the TSA certificate expired, no later archive time-stamp): INDETERMINATE/OUT_OF_BOUNDS_NO_POE"
else bad "at 2051: exit $RC $IND $SUB"; fi

echo "--- attacks on a B-LT file"
base="sample.EC.B-LT.pdf"
"$PY" - "$base" <<'PY'
import re, sys
src = open(sys.argv[1], "rb").read()
m = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", src)
a, b, c = (int(x) for x in m.groups())
width = m.end() - m.start()
def byterange(nums):
    text = b"/ByteRange [" + b" ".join(str(n).encode() for n in nums) + b"]"
    assert len(text) <= width, (text, width)
    return text[:-1] + b" " * (width - len(text)) + b"]"
def put(name, data):
    open(name, "wb").write(data)
def with_range(nums):
    return src[:m.start()] + byterange(nums) + src[m.end():]
# a signed byte changed (in the page content, before the signature dictionary)
i = src.index(b"stream", 0, m.start()) + 12
put("attack-byte.pdf", src[:i] + bytes([src[i] ^ 1]) + src[i + 1:])
# /Contents zeroed
start = src.index(b"<", a) + 1; end = src.index(b">", start)
put("attack-zeroed.pdf", src[:start] + b"0" * (end - start) + src[end:])
put("attack-start.pdf", with_range([1, a - 1, b, c]))
put("attack-gap.pdf", with_range([0, a - 2, b, c]))
put("attack-overlap.pdf", with_range([0, a + 4, b, c]))
put("attack-short.pdf", with_range([0, a, b, c - 10]))
PY
for attack in byte zeroed start gap overlap short; do
  f="attack-$attack.pdf"
  judge "$f"
  if kit "$f" B-B; then kitv="validate-pdf PASSES it (!)"; else kitv="validate-pdf fails it"; fi
  case "$attack" in byte) want=HASH_FAILURE ;; *) want=FORMAT_FAILURE ;; esac
  if [ "$RC" = 1 ] && [[ "$SUB" == *"$want"* ]] && [[ "$kitv" == *fails* ]]; then ok "$attack: shomei TOTAL-FAILED/$want, $kitv"
  else bad "$attack: shomei exit $RC $IND $SUB; $kitv"; fi
done
echo "--- changes after signing"
for attack in content annot; do
  f="attack-$attack.pdf"
  "$PY" "$HERE/pdf_attacks.py" "$base" "$attack" "$f" || { bad "$attack: could not make the file"; continue; }
  judge "$f" --offline
  if kit "$f" B-B; then kitv="validate-pdf PASSES it (!)"; else kitv="validate-pdf fails it"; fi
  if [ "$RC" = 1 ] && [ "$SUB" = SIG_CONSTRAINTS_FAILURE ] && [[ "$kitv" == *fails* ]]; then
    ok "incremental update after signing ($attack): shomei TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE ($(grep -o '"detail": "[^"]*after signing[^"]*"' judge.json | head -1 | cut -c12-)), $kitv"
  else bad "$attack after signing: shomei exit $RC $IND $SUB; $kitv"; fi
done
# Shadow attacks (Mainka et al., 2021): the signed revision carries what a later update
# shows; the updates below are cross-reference sections (and one redefined object)
# written by hand. The per-revision report must name the object and refuse it.
echo "--- shadow attacks"
# Which object of the last revision the report refuses, as "change object: what".
refused() {
  "$PY" - judge.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["revisions"][-1]
print("; ".join(f"{c['change']} {c['object']}: {c['what']}" for c in r["changes"] if not c["allowed"]))
PY
}
if "$PY" "$HERE/pdf_attacks.py" - shadow-pdf shadow.pdf \
   && "$BIN" sign pdf shadow.pdf -o shadow-signed.pdf --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" \
        --chain "$CHAIN" --level B-LT --tsa "$TSA_URL" >/dev/null 2>&1; then
  judge shadow-signed.pdf --offline
  if [ "$RC" = 0 ] && [ -z "$(refused)" ]; then ok "control: the shadow attacks' signed document (overlay, orphan object) TOTAL-PASSED, every revision allowed"
  else bad "shadow control: shomei exit $RC $IND $SUB, refused: $(refused)"; fi
  for attack in hide replace hide-and-replace; do
    case "$attack" in
      hide) want="freed 6 0: resources of page 1" ;;
      replace) want="changed 5 0: resources of page 1" ;;
      hide-and-replace) want="changed 4 0: content of page 1" ;;
    esac
    "$PY" "$HERE/pdf_attacks.py" shadow-signed.pdf "$attack" "shadow-$attack.pdf" || { bad "$attack: could not make the file"; continue; }
    judge "shadow-$attack.pdf" --offline
    if kit "shadow-$attack.pdf" B-B; then kitv="validate-pdf PASSES it (!)"; else kitv="validate-pdf fails it"; fi
    got="$(refused)"
    if [ "$RC" = 1 ] && [ "$SUB" = SIG_CONSTRAINTS_FAILURE ] && [ "$got" = "$want" ]; then
      ok "shadow attack ($attack): TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE, the last revision refused for \"$got\"; $kitv"
    else bad "shadow attack ($attack): shomei exit $RC $IND $SUB, refused \"$got\" (want \"$want\"); $kitv"; fi
  done
else bad "could not make and sign the shadow attacks' document"; fi

# Files made to loop, nest or inflate: an error or a verdict that is not a pass, in
# under 3 s and 256 MiB (the whole process, debug build).
echo "--- hostile files: bounded time and memory"
if python3 "$HERE/hostile_pdf.py" shadow-signed.pdf .; then
  for f in hostile-page-cycle.pdf hostile-prev-cycle.pdf hostile-deep.pdf hostile-bomb.pdf; do
    read -r rc secs rss < <(python3 "$HERE/hostile_pdf.py" --measure "$BIN" "$f" --trust "$TRUST_ROOT" --offline)
    if [ "$rc" -ge 1 ] && [ "$rc" -le 3 ] && python3 -c "import sys; sys.exit(not ($secs < 3 and $rss < 262144))"; then
      ok "$f: exit $rc (not a pass, no crash) in $secs s, peak RSS $((rss / 1024)) MiB"
    else bad "$f: exit $rc in $secs s, peak RSS $((rss / 1024)) MiB"; fi
  done
else bad "could not make the hostile files"; fi

# Revocation data in the CMS itself (RFC 5652 RevocationInfoChoices): a CRL, and an
# OCSP response in the RFC 5940 `other` form, which the cms crate cannot decode.
echo "--- revocation data in the CMS"
if "$BIN" sign pdf "$SAMPLE" -o cms-bt.pdf --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN" \
     --level B-T --tsa "$TSA_URL" >/dev/null 2>&1 \
   && openssl ocsp -issuer "$(dirname "$CHAIN")/interm.cert.pem" -cert "$SIGNER_EC_CERT" -url "$OCSP_URL" \
        -respout cms-signer.ocsp -noverify >/dev/null 2>&1 \
   && curl -sf -o cms-root.crl "$CRL_ROOT_URL" \
   && "$PY" "$HERE/pdf_attacks.py" cms-bt.pdf cms-revocation cms-rev.pdf cms-signer.ocsp cms-root.crl; then
  judge cms-rev.pdf --offline --require-revocation
  # The kit's verdict joins pyHanko and poppler's pdfsig: say each.
  "$KIT/validate-pdf" cms-rev.pdf --trust "$TRUST_ROOT" --level B-T > cms-kit.json 2>/dev/null
  kitv="$("$PY" -c 'import json,sys; s=json.load(open(sys.argv[1]))["signatures"][0]; print("pyHanko:", s["pyhanko_summary"] + ";", "pdfsig:", s["pdfsig"]["signature"])' cms-kit.json 2>/dev/null || echo "validate-pdf: no verdict")"
  if [ "$RC" = 0 ] && [ "$LEVEL" = B-T ] && grep -q "CMS-embedded OCSP" judge.json && grep -q "CMS-embedded CRL" judge.json; then
    ok "an OCSP response (RFC 5940) and a CRL in SignedData.crls: used, TOTAL-PASSED at B-T with --require-revocation (not B-LT: the DSS is what counts); $kitv"
  else bad "revocation data in the CMS: shomei exit $RC $IND $SUB $LEVEL; $kitv"; fi
else bad "could not make the file with revocation data in its CMS"; fi

# Certification (DocMDP) signatures made by shomei, then changed by pyHanko with its own
# refusals switched off.
for p in 1 2; do
  "$BIN" sign pdf "$SAMPLE" -o "certified-p$p.pdf" --certify "$p" --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" \
    --chain "$CHAIN" --level B-LT --tsa "$TSA_URL" >/dev/null 2>&1 || bad "could not certify with P=$p"
done
if "$PY" "$HERE/pdf_attacks.py" certified-p1.pdf sign-after after-p1.pdf "$SIGNER_RSA_KEY" "$SIGNER_RSA_CERT"; then
  judge after-p1.pdf --offline
  if kit after-p1.pdf B-B; then kitv="validate-pdf PASSES it (!)"; else kitv="validate-pdf fails it"; fi
  if [ "$RC" = 1 ] && [[ "$IND" == TOTAL-FAILED* ]] && [[ "$SUB" == SIG_CONSTRAINTS_FAILURE* ]]; then ok "a signature added after a DocMDP P=1 certification: the certification TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE, $kitv"
  else bad "signature after P=1: shomei exit $RC $IND $SUB; $kitv"; fi
else bad "could not add a signature after P=1"; fi
if "$PY" "$HERE/pdf_attacks.py" certified-p2.pdf annot annot-p2.pdf; then
  judge annot-p2.pdf --offline
  if [ "$RC" = 1 ] && [ "$SUB" = SIG_CONSTRAINTS_FAILURE ]; then ok "an annotation added against a DocMDP P=2 certification: TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE"
  else bad "annotation against P=2: shomei exit $RC $IND $SUB"; fi
else bad "could not add an annotation after P=2"; fi
if "$BIN" sign pdf certified-p2.pdf -o second-p2.pdf --key "$SIGNER_RSA_KEY" --cert "$SIGNER_RSA_CERT" --chain "$CHAIN" \
     --level B-LT --tsa "$TSA_URL" >/dev/null 2>&1 && kit second-p2.pdf B-LT; then
  judge second-p2.pdf --offline
  if [ "$RC" = 0 ] && [ "$IND" = TOTAL-PASSED,TOTAL-PASSED ]; then ok "control: a second signature under a DocMDP P=2 certification: both TOTAL-PASSED, as for validate-pdf"
  else bad "second signature under P=2: shomei exit $RC $IND $SUB"; fi
else bad "could not sign under P=2"; fi
if "$PY" "$HERE/pdf_attacks.py" - form-pdf form.pdf \
   && "$BIN" sign pdf form.pdf -o form-p2.pdf --certify 2 --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" \
        --chain "$CHAIN" --level B-LT --tsa "$TSA_URL" >/dev/null 2>&1 \
   && "$PY" "$HERE/pdf_attacks.py" form-p2.pdf fill-form filled-p2.pdf; then
  judge filled-p2.pdf --offline
  if kit filled-p2.pdf B-LT; then kitv="validate-pdf passes it"; else kitv="validate-pdf FAILS it"; fi
  if [ "$RC" = 0 ] && [ "$LEVEL" = B-LT ]; then ok "control: a form field filled in under a DocMDP P=2 certification: TOTAL-PASSED at B-LT, $kitv"
  else bad "form filling under P=2: shomei exit $RC $IND $SUB; $kitv"; fi
else bad "could not make, certify and fill the form"; fi
if "$PY" "$HERE/pdf_attacks.py" form.pdf lock-sign locked.pdf "$SIGNER_EC_KEY" "$SIGNER_EC_CERT" \
   && "$PY" "$HERE/pdf_attacks.py" locked.pdf fill-form locked-filled.pdf; then
  judge locked-filled.pdf --offline
  if kit locked-filled.pdf B-B; then kitv="validate-pdf PASSES it (!)"; else kitv="validate-pdf fails it"; fi
  if [ "$RC" = 1 ] && [ "$SUB" = SIG_CONSTRAINTS_FAILURE ] && grep -q "FieldMDP" judge.json && [[ "$kitv" == *fails* ]]; then
    ok "a form field the signature locks (FieldMDP, made by pyHanko) filled in afterwards: TOTAL-FAILED/SIG_CONSTRAINTS_FAILURE, $kitv"
  else bad "FieldMDP lock: shomei exit $RC $IND $SUB; $kitv"; fi
else bad "could not make the FieldMDP-locked file"; fi
if "$PY" "$HERE/pdf_attacks.py" "$base" certify-after certify-after.pdf "$SIGNER_RSA_KEY" "$SIGNER_RSA_CERT"; then
  judge certify-after.pdf --offline
  if [ "$RC" = 1 ] && [[ "$SUB" == *FORMAT_FAILURE* ]] && grep -q "not the first signature" judge.json; then ok "a certification signature after an approval signature: TOTAL-FAILED/FORMAT_FAILURE (not the first signature)"
  else bad "certification not first: shomei exit $RC $IND $SUB"; fi
else bad "could not add a certification after a signature"; fi
if "$BIN" sign pdf "$base" -o second.pdf --key "$SIGNER_RSA_KEY" --cert "$SIGNER_RSA_CERT" --chain "$CHAIN" \
     --level B-LT --tsa "$TSA_URL" >/dev/null 2>&1 && kit second.pdf B-LT; then
  judge second.pdf --offline
  if [ "$RC" = 0 ] && [ "$IND" = TOTAL-PASSED,TOTAL-PASSED ]; then ok "control: a second signature (and its DSS update) after the first: both TOTAL-PASSED, as for validate-pdf"
  else bad "second signature: shomei exit $RC $IND $SUB"; fi
else bad "could not make the second signature"; fi

"$BIN" validate "$base" --trust "$SHARED/conformance/pki/certs/does-not-exist.pem" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] && ok "a missing trust file is bad input (exit 2)" || bad "missing trust file: exit $rc"
"$BIN" validate "$base" --format json --offline > other.json 2>/dev/null; rc=$?
sub="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["signatures"][0]["sub_indication"])' other.json 2>/dev/null)"
[ "$rc" = 3 ] && [ "$sub" = NO_CERTIFICATE_CHAIN_FOUND ] && ok "no trust anchor: INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND" || bad "no trust anchor: exit $rc $sub"

echo "--- the report's JSON Schema"
printf '{"format":"PDF","validation_time":"2026-01-01T00:00:00Z","signatures":[{"name":"s","kind":"signature","indication":"TOTAL-PASSED","sub_indication":"HASH_FAILURE","level":null,"jis_level":null,"signer":null,"claimed_time":null,"proven_time":null,"covers":"","checks":[]}]}' > wrong.json
if conforms wrong.json 2>/dev/null; then bad "the schema accepts a TOTAL-PASSED with a sub-indication (the check cannot fail)"
elif [ "$SCHEMA_CHECKED" -gt 20 ] && [ "$SCHEMA_BAD" = 0 ]; then ok "all $SCHEMA_CHECKED JSON reports conform to docs/validation-report.schema.json (and a wrong one does not)"
else bad "$SCHEMA_BAD of $SCHEMA_CHECKED JSON reports do not conform: $(cat schema.err 2>/dev/null | tail -2)"; fi

echo "--- the signed PDFs and XML files of ../shared/fixtures against their MANIFEST verdicts (issue 11: at least 95 %)"
AGREEMENT_MIN=95 KIT_TRUST="$TRUST_ROOT" "$PY" "$HERE/fixture_agreement.py" "$BIN" "$SHARED" > agreement.txt; rc=$?
grep -E '^(DIFFER|agreement)|differs' agreement.txt
if [ "$rc" = 0 ]; then ok "the verdicts on the signed PDF and XML fixtures agree with the MANIFEST on at least 95 % ($(grep -o 'MANIFEST: [0-9/]* = [0-9.]* %' agreement.txt))"
else bad "fixture agreement below 95 % or the survey did not run: $(grep '^agreement with the MANIFEST' agreement.txt)"; fi

echo
echo "validate: $pass passed, $fail failed"
[ "$fail" = 0 ]
