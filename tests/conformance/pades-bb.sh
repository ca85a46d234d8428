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

source "$HERE/lib.sh"

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

check_one() {  # rel-path signer(RSA|EC) judge-mode(all|last)
  local rel="$1" who="$2" mode="$3" in="$FIX/$1" name; name="$(basename "$1" .pdf)"
  local key cert out="$OUT/$name.$who.pdf"
  key="$(key_of "$who")"; cert="$(cert_of "$who")"
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
