#!/usr/bin/env bash
# Independent check of PAdES B-B: sign every eligible third-party PDF fixture with the
# conformance kit's RSA and EC signers and require the kit's validate-pdf (pyHanko,
# pdfsig, NSS) to reach B-B; require `qpdf --check` to add no problem and the input to
# stay a byte prefix of the output. Fixtures that are not eligible are listed below
# with the reason, and their expected refusal is checked too.
#
#   tests/conformance/pades-bb.sh SHOMEI_BINARY
#
# Needs the kit PKI running (pki-serve) and its env file sourced (TRUST_ROOT, CHAIN,
# SIGNER_*). Prints one line per check and a closing "N passed, M failed" line.
set -uo pipefail
BIN="${1:?usage: pades-bb.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
FIX="$SHARED/fixtures"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${SIGNER_RSA_KEY:?}"
for tool in qpdf "$KIT/validate-pdf" "$BIN"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}"
mkdir -p "$OUT"

# Fixtures shomei must refuse (exit 2, no output), with the reason.
declare -A REFUSED=(
  [pyhanko_minimal-aes256.pdf]="encrypted (AES-256): shomei does not sign encrypted PDFs"
  [pyhanko_minimal-rc4.pdf]="encrypted (RC4): shomei does not sign encrypted PDFs"
  [qpdf_V4-aes.pdf]="encrypted (AESV2): shomei does not sign encrypted PDFs"
  [qpdf_20-pages.pdf]="encrypted (RC4): shomei does not sign encrypted PDFs"
  [qpdf_c-r6-in.pdf]="encrypted (AES-256 R6): shomei does not sign encrypted PDFs"
  [dss_open_protected.pdf]="encrypted (AES, user password): shomei does not sign encrypted PDFs"
  [dss_edition_protected_signing_allowed_with_field.pdf]="encrypted (AES, owner password): shomei does not sign encrypted PDFs"
  [dss_encrypted.pdf]="encrypted signed PDF (RC4): shomei does not sign encrypted PDFs"
  [dss_certified-no-change-permitted.pdf]="certified with DocMDP P=1: no new signature is permitted (the refusal DSS's test expects)"
  [pdf20_pdf20-utf8-test.pdf]="damaged cross-reference offsets: an incremental update would chain to a broken xref, so shomei refuses it with the byte position"
  [dss_AD-RB.pdf]="a signature's FieldMDP transform has /P 1 (PDF 2.0 document lock): no new signature is permitted (DSS's PDFSignWithPermissionsTest expects the refusal)"
  [dss_pkcs7-no-message-digest.pdf]="certified with DocMDP P=1: no new signature is permitted"
  [pyhanko_certified-with-indirect-refs-in-dir.pdf]="certified with DocMDP P=1: no new signature is permitted"
  [dss_pades-5-signatures-and-1-document-timestamp.pdf]="newest trailer has /Prev 0, cutting off every earlier revision: the page tree (object 56) does not exist (qpdf reads it as null, pyHanko fails to open the file)"
)

# Fixtures pyHanko (strict mode, as the kit runs it) cannot open even before we sign
# them, so validate-pdf cannot judge our signature there. They are judged instead by
# poppler's pdfsig (digest + whole-document coverage) and OpenSSL (CMS signature and
# chain to the kit root), both independent of shomei.
declare -A PYHANKO_CANNOT_OPEN=(
  [pyhanko_minimal-hybrid-xref.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [qpdf_hybrid-xref.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_PAdES-LT.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_Signature-P-BG_BOR-2.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_Signature-P-FR_CS-5.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_timestamped_and_signed.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [siva_TEST_ESTEID2018_PAdES_LT_enveloped.pdf]="hybrid-reference file: pyHanko's strict settings refuse signatures in hybrid files"
  [dss_pdf-xref-streams.pdf]="pyHanko strict read error in the original: object 19 has an orphaned generation"
  [pdf20_PDF-2.0-with-offset-start.pdf]="junk before %PDF-: pyHanko reports 'Illegal PDF header' for the original"
  [siva_hellopades-pades-lt-sha256-sign.pdf]="pyHanko crashes validating the original (ValueError: math domain error in its path builder)"
)
VENV_PY="${CONFORMANCE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sig-conformance/venv}/bin/python"
command -v pdfsig >/dev/null || { echo "missing tool: pdfsig" >&2; exit 2; }

alt_judge() {  # out.pdf -> 0 if pdfsig and OpenSSL accept the newest signature
  local out="$1" dir; dir="$(mktemp -d)"
  local info; info="$(pdfsig "$out" 2>&1)"
  local n; n="$(echo "$info" | grep -c '^Signature #')"
  local last; last="$(echo "$info" | awk -v n="$n" '/^Signature #/{i++} i==n')"
  echo "$last" | grep -q "Signature Validation: Signature is Valid." || { echo "pdfsig: $(echo "$last" | grep Validation)"; return 1; }
  echo "$last" | grep -q "Total document signed" || { echo "pdfsig: not the total document"; return 1; }
  python3 "$HERE/last_signature.py" "$out" "$dir" || { echo "extract failed"; return 1; }
  openssl cms -verify -binary -inform DER -in "$dir/last.p7s" -content "$dir/last.content" \
      -CAfile "$TRUST_ROOT" -purpose any -out /dev/null 2>"$dir/err" || { echo "openssl: $(head -1 "$dir/err")"; return 1; }
  rm -rf "$dir"
}

pass=0; fail=0
ok()  { pass=$((pass+1)); echo "PASS $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }

# Eligible inputs: every unsigned fixture, and every signed fixture whose expected
# verdict in MANIFEST.tsv is "valid..." (co-signing an invalid file proves nothing).
mapfile -t UNSIGNED < <(cd "$FIX" && ls pdf-unsigned/*.pdf)
mapfile -t SIGNED < <(awk -F'\t' '$2=="pdf-signed" && $1 ~ /\.pdf$/ && $10 ~ /^valid/ {print $1}' "$FIX/MANIFEST.tsv")

check_one() {  # rel-path signer(RSA|EC) judge-mode(all|last)
  local rel="$1" who="$2" mode="$3" in="$FIX/$1" name; name="$(basename "$1" .pdf)"
  local key cert out="$OUT/$name.$who.pdf"
  if [ "$who" = RSA ]; then key="$SIGNER_RSA_KEY"; cert="$SIGNER_RSA_CERT"; else key="$SIGNER_EC_KEY"; cert="$SIGNER_EC_CERT"; fi
  rm -f "$out"
  local reason="${REFUSED[$(basename "$rel")]:-}"
  local err; err="$("$BIN" sign pdf "$in" -o "$out" --key "$key" --cert "$cert" --chain "$CHAIN" --reason "conformance $who" 2>&1 >/dev/null)"
  local rc=$?
  if [ -n "$reason" ]; then
    if [ $rc = 2 ] && [ ! -e "$out" ]; then ok "$rel $who refused as expected ($reason): $err"
    else bad "$rel $who should be refused ($reason), got exit $rc"; fi
    return
  fi
  [ $rc = 0 ] || { bad "$rel $who: sign exit $rc: $err"; return; }
  cmp -s -n "$(stat -c %s "$in")" "$in" "$out" || { bad "$rel $who: input is not a prefix of the output"; return; }
  local before after
  before="$(qpdf --check "$in" 2>&1 | grep -c '^WARNING')"
  after="$(qpdf --check "$out" 2>&1 | grep -c '^WARNING')"
  qpdf --check "$out" >/dev/null 2>&1; local qrc=$?
  if [ "$qrc" != 0 ] && [ "$qrc" != 3 ]; then bad "$rel $who: qpdf --check exit $qrc"; return; fi
  if [ "$after" -gt "$before" ]; then bad "$rel $who: qpdf --check warnings $before -> $after"; return; fi
  local alt="${PYHANKO_CANNOT_OPEN[$(basename "$rel")]:-}"
  if [ -n "$alt" ]; then
    local why; if why="$(alt_judge "$out")"; then ok "$rel $who B-B by pdfsig + OpenSSL ($alt)"
    else bad "$rel $who: pdfsig/OpenSSL: $why"; fi
    return
  fi
  local sel=(); [ "$mode" = last ] && sel=(--signature last)
  local verdict; verdict="$("$KIT/validate-pdf" "$out" --trust "$TRUST_ROOT" --level B-B "${sel[@]}" 2>&1)"
  if [ $? = 0 ]; then ok "$rel $who B-B (qpdf warnings $before -> $after)"
  else bad "$rel $who: validate-pdf did not reach B-B: $(echo "$verdict" | grep -E '"(level_reached|problems)"' | head -4 | tr -s ' \n' ' ')"; fi
}

for rel in "${UNSIGNED[@]}"; do for who in RSA EC; do check_one "$rel" "$who" all; done; done
for rel in "${SIGNED[@]}"; do for who in RSA EC; do check_one "$rel" "$who" last; done; done

count_valid_pdfsig() {  # pdf -> number of signatures poppler reports as "Signature is Valid."
  pdfsig "$1" 2>/dev/null | grep -c "Signature Validation: Signature is Valid." || true
}

# Co-signing keeps earlier signatures intact: for signed inputs, every signature that
# was intact before must still be intact (pyHanko's per-signature "intact" flag).
for rel in "${SIGNED[@]}"; do
  [ -n "${REFUSED[$(basename "$rel")]:-}" ] && continue
  out="$OUT/$(basename "$rel" .pdf).EC.pdf"; [ -e "$out" ] || continue
  if [ -n "${PYHANKO_CANNOT_OPEN[$(basename "$rel")]:-}" ]; then
    before="$(count_valid_pdfsig "$FIX/$rel")"; after="$(count_valid_pdfsig "$out")"
    if [ "$after" -eq $((before+1)) ]; then ok "$rel earlier signatures still valid for pdfsig ($before before, $after after incl. ours)"
    else bad "$rel earlier signatures (pdfsig): valid before=$before after=$after"; fi
    continue
  fi
  before="$("$KIT/validate-pdf" "$FIX/$rel" --trust "$TRUST_ROOT" --no-pdfsig 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin)["signatures"] if s.get("intact")))' 2>/dev/null)"
  after="$("$KIT/validate-pdf" "$out" --trust "$TRUST_ROOT" --no-pdfsig 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin)["signatures"] if s.get("intact")))' 2>/dev/null)"
  if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -ge $((before+1)) ]; then ok "$rel earlier signatures intact ($before before, $after after incl. ours)"
  else bad "$rel earlier signatures: intact before=$before after=$after"; fi
done

echo "inputs: ${#UNSIGNED[@]} unsigned + ${#SIGNED[@]} valid signed fixtures; refused by design: ${#REFUSED[@]}; judged by pdfsig + OpenSSL because pyHanko cannot open them: ${#PYHANKO_CANNOT_OPEN[@]}"
echo "conformance: $pass passed, $fail failed"
[ "$fail" = 0 ]
