#!/usr/bin/env bash
# The web page in a real browser (issue 12): Debian's Chromium driven by playwright-core
# (browser-tests/, version locked in package-lock.json) against `shomei serve --demo` on
# a private port with the kit TSA; then the files the browser downloaded are judged by
# the kit's validators. Needs the kit PKI running (its env sourced), node + npm and
# chromium. Screenshots of every screen, in Japanese and English, are left in
# $CONFORMANCE_OUT/browser/screenshots.
#
#   tests/conformance/browser.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: browser.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${TSA_URL:?}" "${CHAIN:?}" "${CRL_INTERM_URL:?}"
source "$HERE/common.sh"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
for tool in "$KIT/validate-pdf" "$KIT/validate-xml" "$BIN" node npm curl openssl python3 pdftotext pdftoppm "$CHROMIUM"; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/browser"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
source "$HERE/service_lib.sh"
PORT="${BROWSER_PORT:-9344}"
IDLE=12
SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap stop_server EXIT

# Inputs: two PDFs, an XML file, a real encrypted PDF from the shared fixtures, and a
# "PDF" over the 1 MiB limit this service is given.
cp "$ROOT/examples/sample.pdf" 契約書.pdf
"$VENV_PY" - 発注書.pdf <<'PY'
import sys
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.pdf_utils import generic
w = PdfFileWriter()
font = generic.DictionaryObject({generic.NameObject('/Type'): generic.NameObject('/Font'),
    generic.NameObject('/Subtype'): generic.NameObject('/Type1'), generic.NameObject('/BaseFont'): generic.NameObject('/Helvetica')})
page = generic.DictionaryObject({
    generic.NameObject('/Type'): generic.NameObject('/Page'),
    generic.NameObject('/MediaBox'): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
    generic.NameObject('/Contents'): w.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (Purchase order 7) Tj ET")),
    generic.NameObject('/Resources'): generic.DictionaryObject({generic.NameObject('/Font'): generic.DictionaryObject({generic.NameObject('/F1'): font})}),
})
w.insert_page(page)
with open(sys.argv[1], 'wb') as f:
    w.write(f)
PY
printf '<?xml version="1.0" encoding="UTF-8"?>\n<prescription xmlns="urn:example:rx"><patient>山田 花子</patient><drug>アムロジピン 5mg</drug></prescription>\n' > 処方箋.xml
cp "$SHARED/fixtures/pdf-unsigned/pyhanko_minimal-aes256.pdf" encrypted.pdf
{ printf '%%PDF-1.7\n'; head -c $((2 << 20)) /dev/zero | tr '\0' 'x'; } > big.pdf

cat > web.toml <<TOML
data_dir = "$OUT/data"
tsa = "$TSA_URL"
log_format = "json"

[policy]
session_idle_seconds = $IDLE

[documents]
max_pdf_mb = 1

[validation]
trust = ["$TRUST_ROOT"]
revocation = "fetch"
TOML
"$BIN" serve --config web.toml --demo --listen "127.0.0.1:$PORT" > serve.out 2> serve.log &
SERVER_PID=$!
wait_ready "$PORT" && ok "shomei serve --demo on port $PORT" || { bad "the service did not start: $(cat serve.log)"; echo "$pass passed, $fail failed"; exit 1; }
DATA="$OUT/data"
CRED="$(demo "$DATA" credential_id)"
ADMIN=(--config web.toml --master-key-file "$DATA.master-key")
kit_certify "$CRED" "${ADMIN[@]}" && ok "the demo credential certified by the kit CA" || bad "certifying the demo credential"
export BOB_PASSWORD="bob-$(openssl rand -hex 8)"
"$BIN" admin "${ADMIN[@]}" user create bob --password-env BOB_PASSWORD >/dev/null \
  && "$BIN" admin "${ADMIN[@]}" totp bob > bob-totp.txt && ok "a second user, bob, with TOTP" || bad "creating bob"

(cd "$ROOT/browser-tests" && npm ci --no-audit --no-fund --silent) && ok "playwright-core $(node -p "require('$ROOT/browser-tests/node_modules/playwright-core/package.json').version") installed from the lockfile" \
  || { bad "npm ci in browser-tests"; echo "$pass passed, $fail failed"; exit 1; }
export SHOMEI_BASE="http://localhost:$PORT" SHOMEI_DEMO_JSON="$DATA/demo.json" BROWSER_OUT="$OUT" CHROMIUM \
  PDF_ONE="$OUT/契約書.pdf" PDF_TWO="$OUT/発注書.pdf" XML_ONE="$OUT/処方箋.xml" PDF_ENCRYPTED="$OUT/encrypted.pdf" PDF_BIG="$OUT/big.pdf" \
  BOB_USER=bob BOB_TOTP="$(sed -n 's/^  secret: //p' bob-totp.txt)" SESSION_IDLE_SECONDS="$IDLE"
echo "browser: $("$CHROMIUM" --version 2>/dev/null | head -1), node $(node --version)"
if (cd "$ROOT/browser-tests" && node --test --test-concurrency=1 --test-reporter=spec tests/ > "$OUT/node-test.log" 2>&1); then
  ok "browser tests: $(grep -cE '^\s*✔' "$OUT/node-test.log") passed"
else
  bad "browser tests failed:"; grep -E '✖|Error|assert|expected|actual' "$OUT/node-test.log" | head -30
fi
stop_server

echo "--- the files the browser downloaded, judged by the kit"
for f in downloads/契約書.signed.pdf downloads/発注書.signed.pdf downloads/処方箋.signed.xml downloads/passkey-approved.signed.pdf; do
  case "$f" in *.pdf) v="$KIT/validate-pdf" ;; *) v="$KIT/validate-xml" ;; esac
  if [ -f "$f" ] && "$v" "$f" --trust "$TRUST_ROOT" --level B-T > "$f.judged.json" 2>&1; then ok "$(basename "$f"): $(basename "$v") passes B-T"
  else bad "$(basename "$f"): $( [ -f "$f" ] && grep -E 'level_reached|problems' "$f.judged.json" | head -3 || echo missing)"; fi
done
if python3 -m zipfile -e downloads/signed-documents.zip unzipped 2>/dev/null \
   && cmp -s unzipped/契約書.signed.pdf downloads/契約書.signed.pdf && cmp -s unzipped/処方箋.signed.xml downloads/処方箋.signed.xml; then
  ok "the zip holds the same signed files"
else bad "the zip download: $(python3 -m zipfile -l downloads/signed-documents.zip 2>&1 | tail -4)"; fi
pdftotext downloads/契約書.signed.pdf - 2>/dev/null | grep -qF "承認済み — Approved" && ok "the stamp placed from the page is in the signed PDF" || bad "stamp text not found"
# Where the click put it: the signed page differs from the original inside that rectangle only.
if [ -f stamp.json ] && read -r SX SY SW SH < <(python3 -c "import json; s=json.load(open('stamp.json')); print(s['x'], s['y'], s['width'], s['height'])"); then
  pdftoppm -r 72 -gray -f 1 -l 1 -singlefile 契約書.pdf a && pdftoppm -r 72 -gray -f 1 -l 1 -singlefile downloads/契約書.signed.pdf b
  read -r IN OUTSIDE < <(python3 - a.pgm b.pgm "$SX" "$SY" "$((SX + SW))" "$((SY + SH))" <<'PY'
import sys
def pgm(p):
    d = open(p, 'rb').read(); parts = d.split(maxsplit=4); w, h = int(parts[1]), int(parts[2]); return w, h, parts[4][-w * h:]
w, h, a = pgm(sys.argv[1]); _, _, b = pgm(sys.argv[2]); x0, y0, x1, y1 = map(float, sys.argv[3:7])
i = o = 0
for r in range(h):
    y = h - 1 - r
    for x in range(w):
        if a[r * w + x] != b[r * w + x]:
            if x0 - 2 <= x <= x1 + 2 and y0 - 2 <= y <= y1 + 2: i += 1
            else: o += 1
print(i, o)
PY
)
  [ "${IN:-0}" -gt 300 ] && [ "${OUTSIDE:-1}" = 0 ] && ok "the stamp is where the preview was clicked ([$SX $SY] ${SW}×${SH} pt: $IN pixels inside, 0 outside)" \
    || bad "stamp position: ${IN:-?} pixels inside [$SX $SY ${SW}x${SH}], ${OUTSIDE:-?} outside"
else bad "no stamp placement recorded"; fi
shots=$(ls screenshots/*.png 2>/dev/null | wc -l)
[ "$shots" -ge 20 ] && ok "$shots screenshots in $OUT/screenshots (ja and en)" || bad "only $shots screenshots"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
