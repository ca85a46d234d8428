#!/usr/bin/env bash
# Independent check of PAdES B-T, B-LT and B-LTA, of `shomei extend`, and of the
# refusals a user expects. Every eligible unsigned fixture is signed at each level with
# the kit's RSA and EC signers against the kit's loopback TSA/OCSP/CRL, and the kit's
# validate-pdf must reach that level; then the PKI is stopped and every B-LTA file must
# still reach B-LTA with --revocation none (everything needed is embedded).
#
#   tests/conformance/pades-levels.sh SHOMEI_BINARY
#
# Needs the kit PKI running (pki-serve) and its env file sourced; PKI_PORT names its
# port (this script stops it at the end). Closes with an "N passed, M failed" line.
set -uo pipefail
BIN="${1:?usage: pades-levels.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
FIX="$SHARED/fixtures"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}" "${PKI_PORT:?}"
for tool in "$KIT/validate-pdf" "$BIN"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/levels"
mkdir -p "$OUT"
source "$HERE/lib.sh"
PH="$(dirname "$VENV_PY")/pyhanko"

verdict() {  # file level [extra validate-pdf args] -> 0/1, prints the problems on failure
  local f="$1" lvl="$2"; shift 2
  local v; v="$("$KIT/validate-pdf" "$f" --trust "$TRUST_ROOT" --level "$lvl" "$@" 2>&1)" && return 0
  echo "$v" | grep -E '"(error|level_reached|problems)"' | head -4 | tr -s ' \n' ' '
  return 1
}

# Inputs whose long-term levels pyHanko cannot judge, with the reason (its own B-LT
# signature of the same input fails the same way).
declare -A LT_NOT_JUDGED=(
  [qpdf_incremental-1.pdf]="revision 2 frees object 4 while the page still references 4 0 R; pyHanko's strict diff analysis of any later revision fails ('Object addressed by Reference(4 0) not found'), and pyHanko's own B-LT signature of this file fails the same way"
)

LTA_FILES=()
for rel in "${UNSIGNED[@]}"; do
  name="$(basename "$rel")"
  if [ -n "${REFUSED[$name]:-}" ]; then echo "NOT SIGNED $rel: ${REFUSED[$name]}"; continue; fi
  if [ -n "${PYHANKO_CANNOT_OPEN[$name]:-}" ]; then echo "NOT JUDGED $rel: ${PYHANKO_CANNOT_OPEN[$name]} (no other validator checks B-T..B-LTA)"; continue; fi
  for who in RSA EC; do
    for lvl in B-T B-LT B-LTA; do
      out="$OUT/${name%.pdf}.$who.$lvl.pdf"
      if ! err="$("$BIN" sign pdf "$FIX/$rel" -o "$out" --key "$(key_of $who)" --cert "$(cert_of $who)" \
            --chain "$CHAIN" --level "$lvl" --tsa "$TSA_URL" 2>&1)"; then
        bad "$rel $who $lvl: sign failed: $err"; continue
      fi
      if [ "$lvl" != B-T ] && [ -n "${LT_NOT_JUDGED[$name]:-}" ]; then
        echo "NOT JUDGED $rel $who $lvl (signed, exit 0): ${LT_NOT_JUDGED[$name]}"; continue
      fi
      if why="$(verdict "$out" "$lvl")"; then ok "$rel $who $lvl"; else bad "$rel $who $lvl: $why"; fi
      [ "$lvl" = B-LTA ] && LTA_FILES+=("$out")
    done
  done
done

# Request count of one B-LTA signing: two TSA requests (signature and document
# time-stamps), one OCSP request for the signer, one CRL download for the kit root's
# CRL (which covers both the intermediate and the TSA certificate), nothing else — no
# sizing request.
out="$OUT/requests.pdf"
msg="$("$BIN" sign pdf "$FIX/pdf-unsigned/pyhanko_minimal.pdf" -o "$out" --key "$SIGNER_EC_KEY" \
      --cert "$SIGNER_EC_CERT" --chain "$CHAIN" --level B-LTA --tsa "$TSA_URL" 2>&1)"
if echo "$msg" | grep -q "B-LTA, 4 HTTP requests"; then ok "B-LTA with 4 HTTP requests: $msg"
else bad "B-LTA request count: $msg"; fi

# The revoked signer is refused at B-LT: exit 1, the reason named, no output.
out="$OUT/revoked.pdf"
err="$("$BIN" sign pdf "$FIX/pdf-unsigned/pyhanko_minimal.pdf" -o "$out" --key "$SIGNER_REVOKED_KEY" \
      --cert "$SIGNER_REVOKED_CERT" --chain "$CHAIN" --level B-LT --tsa "$TSA_URL" 2>&1)"; rc=$?
if [ $rc = 1 ] && [ ! -e "$out" ] && echo "$err" | grep -qi revoked; then ok "revoked signer refused at B-LT: $err"
else bad "revoked signer at B-LT: exit $rc, output $( [ -e "$out" ] && echo written || echo absent ): $err"; fi

# shomei extend lifts a pyHanko-made B-T file to B-LTA, and renews it once more.
bt="$OUT/pyhanko-bt.pdf"
if "$PH" sign addsig --field Sig1 --use-pades --timestamp-url "$TSA_URL" pemder --key "$SIGNER_EC_KEY" \
     --cert "$SIGNER_EC_CERT" --chain "$CHAIN" --no-pass "$FIX/pdf-unsigned/pyhanko_minimal.pdf" "$bt" >/dev/null 2>&1; then
  for lvl in B-LT B-LTA; do
    out="$OUT/pyhanko-bt.extended-$lvl.pdf"
    if err="$("$BIN" extend "$bt" -o "$out" --level "$lvl" --tsa "$TSA_URL" 2>&1)" && why="$(verdict "$out" "$lvl")"; then
      ok "extend pyHanko B-T -> $lvl"
    else bad "extend pyHanko B-T -> $lvl: $err $why"; fi
  done
  lta="$OUT/pyhanko-bt.extended-B-LTA.pdf"; renewed="$OUT/pyhanko-bt.renewed.pdf"
  if err="$("$BIN" extend "$lta" -o "$renewed" --level B-LTA --tsa "$TSA_URL" 2>&1)" && why="$(verdict "$renewed" B-LTA)"; then
    ok "archive renewal of a B-LTA file"; LTA_FILES+=("$renewed" "$lta")
  else bad "archive renewal: $err $why"; fi
else
  bad "pyHanko could not make the B-T input for the extension test"
fi

# shomei extend on B-T files of other producers (DSS test data: Costa Rica national
# eID, an ETSI plugtest PKCS#7-T, a Spanish PDF 2.0 with two signatures). Their
# signers chain to roots the kit does not trust and their OCSP/CRL servers are on the
# internet (unreachable here), so their signatures cannot reach B-LTA under the kit's
# root: without --allow-missing-revocation the extension must fail (exit 1, nothing
# written, the certificates named); with it the file is written and the report says
# INCOMPLETE. What is judged then: the archive document time-stamp shomei adds is
# intact, valid and trusted and covers the /DSS, and every earlier signature is still
# intact.
for f in dss_doc-firmado.pdf dss_pkcs7.pdf dss_muestra-firmado-firmado.pdf; do
  out="$OUT/extended-${f%.pdf}.pdf"
  rm -f "$out"
  err="$("$BIN" extend "$FIX/pdf-signed/$f" -o "$out" --level B-LTA --tsa "$TSA_URL" --timeout 5 2>&1)"; rc=$?
  if [ "$rc" = 1 ] && [ ! -e "$out" ] && echo "$err" | grep -q "could not be established"; then ok "extend $f without the validation data refused: exit 1, nothing written"
  else bad "extend $f without --allow-missing-revocation: exit $rc: $err"; fi
  if ! err="$("$BIN" extend "$FIX/pdf-signed/$f" -o "$out" --level B-LTA --tsa "$TSA_URL" --timeout 5 --allow-missing-revocation 2>&1)"; then
    bad "extend $f: $err"; continue
  fi
  echo "$err" | tail -1 | grep -q "INCOMPLETE" || { bad "extend $f: the report does not say INCOMPLETE: $err"; continue; }
  # validate-pdf exits 1 here (the signers are not trusted by the kit root): judge its JSON.
  if why="$(set +o pipefail; "$KIT/validate-pdf" "$out" --trust "$TRUST_ROOT" --level B-B 2>/dev/null | "$VENV_PY" -c '
import json, sys
d = json.load(sys.stdin)
ts = d["document"]["doc_timestamps"][-1]
sigs = d["signatures"]
ok = ts["intact"] and ts["valid"] and ts["trusted"] and ts["covers_dss"] and ts["coverage"] == "ENTIRE_FILE" and all(s["intact"] for s in sigs)
print("archive time-stamp %s, %d earlier signature(s) intact" % ({k: ts[k] for k in ("intact", "valid", "trusted", "covers_dss", "coverage")}, len(sigs)))
sys.exit(0 if ok else 1)')"; then ok "extend $f -> B-LTA: $why"; else bad "extend $f: $why"; fi
done

# Offline: stop the PKI; every B-LTA file still validates with nothing fetched, and a
# B-T signing now fails with exit 1 and writes nothing.
"$KIT/pki/pki-stop" --port "$PKI_PORT" >/dev/null 2>&1
for f in "${LTA_FILES[@]}"; do
  if why="$(verdict "$f" B-LTA --revocation none)"; then ok "offline B-LTA $(basename "$f")"
  else bad "offline B-LTA $(basename "$f"): $why"; fi
done
out="$OUT/pki-down.pdf"
err="$("$BIN" sign pdf "$FIX/pdf-unsigned/pyhanko_minimal.pdf" -o "$out" --key "$SIGNER_EC_KEY" \
      --cert "$SIGNER_EC_CERT" --chain "$CHAIN" --level B-T --tsa "$TSA_URL" --timeout 5 2>&1)"; rc=$?
if [ $rc = 1 ] && [ ! -e "$out" ]; then ok "TSA down: exit 1, no output: $err"
else bad "TSA down: exit $rc, output $( [ -e "$out" ] && echo written || echo absent ): $err"; fi

echo "levels: $pass passed, $fail failed"
[ "$fail" = 0 ]
