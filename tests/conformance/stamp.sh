#!/usr/bin/env bash
# Visible signature stamps (issue 12, point 3), judged by poppler and the kit's
# validator. Needs the kit PKI running (its env sourced), poppler-utils and the Debian
# fonts fonts-ipaexfont-gothic (TrueType outlines) and fonts-noto-cjk (CFF outlines).
#
#  * examples/sample.pdf signed at B-T with a stamp (Japanese and Latin text, a seal PNG
#    with transparency, IPAex Gothic): validate-pdf and `shomei validate` pass at B-T;
#    the page rendered by pdftoppm differs from the unsigned page inside the stamp's
#    rectangle and nowhere else; pdftotext finds the signer, the time and the text;
#    pdffonts lists the embedded subset as a CID TrueType font.
#  * The same with Noto Sans CJK JP (a CID-keyed CFF font, FontFile3) at B-B, and a stamp
#    on page 2 of a two-page document at B-LTA; a second stamped signature on a stamped
#    file (both signatures pass).
#  * Refusals, with no output file: a character the font lacks, a rectangle outside the
#    page, a page the document does not have, a rectangle too small for the text, a
#    file that is not a PNG.
#
#   tests/conformance/stamp.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: stamp.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}"
source "$HERE/common.sh"
PY="$VENV_PY"
IPAEX=/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf
NOTO=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
for tool in "$KIT/validate-pdf" "$BIN" "$PY" pdftoppm pdftotext pdffonts python3; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
for font in "$IPAEX" "$NOTO"; do
  [ -f "$font" ] || { echo "missing font: $font (Debian fonts-ipaexfont-gothic, fonts-noto-cjk)" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/stamp"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
SAMPLE="$HERE/../../examples/sample.pdf"
source "$HERE/judge.sh"
kit() { "$KIT/validate-pdf" "$1" --trust "$TRUST_ROOT" --level "$2" >/dev/null 2>&1; }
sign() { # OUT LEVEL WHO INPUT [stamp args...]
  local out="$1" lvl="$2" who="$3" in="$4"; shift 4
  "$BIN" sign pdf "$in" -o "$out" --key "$(key_of "$who")" --cert "$(cert_of "$who")" --chain "$CHAIN" \
    --level "$lvl" --tsa "$TSA_URL" "$@" 2> sign.err
}

# A 64×64 seal: a red ring with a bar, transparent elsewhere (RGBA PNG).
python3 - <<'PY'
import struct, zlib
w = h = 64
raw = bytearray()
for y in range(h):
    raw.append(0)
    for x in range(w):
        dx, dy = x - 31.5, y - 31.5
        r = (dx * dx + dy * dy) ** 0.5
        a = 255 if 24 <= r < 31 or (abs(dx) < 3 and r < 24) else 0
        raw += bytes([200, 20, 20, a])
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0)) \
    + chunk(b'IDAT', zlib.compress(bytes(raw))) + chunk(b'IEND', b'')
open('seal.png', 'wb').write(png)
PY

# differ A.pdf B.pdf PAGE X0 Y0 X1 Y1: renders page PAGE of both at 72 dpi (1 px = 1 pt)
# and prints "inside outside": the pixels that differ inside the rectangle (PDF
# coordinates) and outside it with a 2 px margin for anti-aliasing.
differ() {
  pdftoppm -r 72 -gray -f "$3" -l "$3" -singlefile "$1" a 2>/dev/null && \
  pdftoppm -r 72 -gray -f "$3" -l "$3" -singlefile "$2" b 2>/dev/null && \
  python3 - a.pgm b.pgm "$4" "$5" "$6" "$7" <<'PY'
import sys
def pgm(path):
    data = open(path, 'rb').read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b'P5', path
    w, h = int(parts[1]), int(parts[2])
    return w, h, parts[4][-w * h:]
wa, ha, a = pgm(sys.argv[1]); wb, hb, b = pgm(sys.argv[2])
assert (wa, ha) == (wb, hb)
x0, y0, x1, y1 = map(float, sys.argv[3:7])
inside = outside = 0
for row in range(ha):
    y = ha - 1 - row
    base = row * wa
    for x in range(wa):
        if a[base + x] != b[base + x]:
            if x0 - 2 <= x <= x1 + 2 and y0 - 2 <= y <= y1 + 2:
                inside += 1
            else:
                outside += 1
print(inside, outside)
PY
}

echo "--- IPAex Gothic (TrueType), B-T, RSA, Japanese text and a seal"
TEXT='承認済み — Approved ✓\n契約書 第42号'
if sign ipaex.pdf B-T RSA "$SAMPLE" --stamp 1,300,600,260,90 --stamp-text "$TEXT" --stamp-image seal.png \
     --stamp-font "$IPAEX" --stamp-utc-offset +09:00; then
  kit ipaex.pdf B-T && ok "validate-pdf passes the stamped B-T file" || bad "validate-pdf fails the stamped B-T file"
  judge ipaex.pdf
  if [ "$RC" = 0 ] && [ "$LEVEL" = B-T ]; then ok "shomei validate: $IND at $LEVEL"; else bad "shomei validate: exit $RC $IND $SUB $LEVEL"; fi
  read -r IN OUTSIDE < <(differ "$SAMPLE" ipaex.pdf 1 300 600 560 690)
  if [ "${IN:-0}" -gt 500 ] && [ "${OUTSIDE:-1}" = 0 ]; then ok "pdftoppm: $IN pixels differ inside the stamp, 0 outside"
  else bad "pdftoppm: ${IN:-?} pixels differ inside, ${OUTSIDE:-?} outside"; fi
  pdftotext -layout ipaex.pdf text.txt
  CN="$(openssl x509 -in "$(cert_of RSA)" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')"
  missing=""
  for want in "署名 Signed by: $CN" "日時 Date: " " +09:00" "承認済み — Approved ✓" "契約書 第42号"; do
    grep -qF -- "$want" text.txt || missing="$missing [$want]"
  done
  [ -z "$missing" ] && ok "pdftotext finds the signer, the time and the Japanese text" || bad "pdftotext misses$missing"
  pdffonts ipaex.pdf 2>/dev/null | grep -E '\+IPAexGothic +CID TrueType +Identity-H +yes +yes +yes' >/dev/null \
    && ok "pdffonts: an embedded IPAex subset with a ToUnicode map" || bad "pdffonts: $(pdffonts ipaex.pdf 2>&1 | tail -n +3)"
else bad "stamped B-T signing failed: $(cat sign.err)"; fi

echo "--- Noto Sans CJK JP (CID-keyed CFF), B-B, EC"
if sign noto.pdf B-B EC "$SAMPLE" --stamp 1,40,40,300,70 --stamp-text '発注書 受領 — Received' --stamp-font "$NOTO#0"; then
  kit noto.pdf B-B && ok "validate-pdf passes the Noto-stamped file" || bad "validate-pdf fails the Noto-stamped file"
  pdffonts noto.pdf 2>/dev/null | grep -E '\+NotoSansCJKjp-Regular(-Identity-H)? +CID Type 0C +Identity-H +yes +yes +yes' >/dev/null \
    && ok "pdffonts: an embedded CFF subset (CID Type 0C)" || bad "pdffonts: $(pdffonts noto.pdf 2>&1 | tail -n +3)"
  pdftotext noto.pdf - | grep -qF '発注書 受領 — Received' && ok "pdftotext finds the text drawn with Noto" || bad "pdftotext: $(pdftotext noto.pdf - | head -5)"
  read -r IN OUTSIDE < <(differ "$SAMPLE" noto.pdf 1 40 40 340 110)
  if [ "${IN:-0}" -gt 500 ] && [ "${OUTSIDE:-1}" = 0 ]; then ok "pdftoppm (Noto): $IN pixels differ inside, 0 outside"
  else bad "pdftoppm (Noto): ${IN:-?} inside, ${OUTSIDE:-?} outside"; fi
else bad "Noto signing failed: $(cat sign.err)"; fi

echo "--- page 2 at B-LTA, then a second stamped signature"
"$PY" - two.pdf <<'PY'
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.pdf_utils import generic, content
w = PdfFileWriter()
for text in (b"page one", b"page two"):
    stream = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (" + text + b") Tj ET")
    font = generic.DictionaryObject({generic.NameObject('/Type'): generic.NameObject('/Font'),
        generic.NameObject('/Subtype'): generic.NameObject('/Type1'), generic.NameObject('/BaseFont'): generic.NameObject('/Helvetica')})
    page = generic.DictionaryObject({
        generic.NameObject('/Type'): generic.NameObject('/Page'),
        generic.NameObject('/MediaBox'): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
        generic.NameObject('/Contents'): w.add_object(stream),
        generic.NameObject('/Resources'): generic.DictionaryObject({generic.NameObject('/Font'): generic.DictionaryObject({generic.NameObject('/F1'): font})}),
    })
    w.insert_page(page)
with open(sys.argv[1], 'wb') as f:
    w.write(f)
PY
if sign two-lta.pdf B-LTA RSA two.pdf --stamp 2,300,80,250,80 --stamp-text 'ページ2に署名' --stamp-font "$IPAEX"; then
  kit two-lta.pdf B-LTA && ok "validate-pdf passes a stamp on page 2 at B-LTA" || bad "validate-pdf fails the page-2 B-LTA file"
  read -r IN OUTSIDE < <(differ two.pdf two-lta.pdf 2 300 80 550 160)
  read -r IN1 OUTSIDE1 < <(differ two.pdf two-lta.pdf 1 0 0 0 0)
  if [ "${IN:-0}" -gt 300 ] && [ "${OUTSIDE:-1}" = 0 ] && [ "${OUTSIDE1:-1}" = 0 ]; then ok "pdftoppm: page 2 differs only inside the stamp ($IN px), page 1 not at all"
  else bad "pdftoppm page 2: ${IN:-?} inside, ${OUTSIDE:-?} outside; page 1: ${OUTSIDE1:-?}"; fi
  if sign two-2.pdf B-T EC two-lta.pdf --stamp 1,300,80,250,80 --stamp-text '二人目の署名' --stamp-font "$IPAEX"; then
    kit two-2.pdf B-T && ok "validate-pdf passes a second stamped signature" || bad "validate-pdf fails the second stamped signature"
    judge two-2.pdf
    if [ "$RC" = 0 ] && [ "$IND" = "TOTAL-PASSED,TOTAL-PASSED,TOTAL-PASSED" ]; then ok "shomei validate: both signatures and the document time-stamp pass ($IND)"
    else bad "shomei validate of two stamped signatures: exit $RC $IND $SUB"; fi
    pdftotext two-2.pdf - | grep -qF '二人目の署名' && pdftotext two-2.pdf - | grep -qF 'ページ2に署名' \
      && ok "pdftotext finds both stamps" || bad "pdftotext misses a stamp"
  else bad "second stamped signature failed: $(cat sign.err)"; fi
else bad "page-2 B-LTA signing failed: $(cat sign.err)"; fi

echo "--- refusals (exit 2, no output)"
refuse() { # NAME EXPECTED-MESSAGE stamp args...
  local name="$1" want="$2"; shift 2
  rm -f refused.pdf
  sign refused.pdf B-B RSA "$SAMPLE" "$@"; local rc=$?
  if [ "$rc" = 2 ] && [ ! -e refused.pdf ] && grep -qF -- "$want" sign.err; then ok "$name: refused ($(head -1 sign.err))"
  else bad "$name: exit $rc, output $( [ -e refused.pdf ] && echo written || echo absent ), message: $(cat sign.err)"; fi
}
refuse "a character IPAex lacks" "U+20BB7" --stamp 1,300,600,260,90 --stamp-text '𠮷野家' --stamp-font "$IPAEX"
refuse "a rectangle off the page" "does not lie inside page 1" --stamp 1,500,700,260,200 --stamp-font "$IPAEX"
refuse "a page the document lacks" "there is no page 3" --stamp 3,10,10,200,80 --stamp-font "$IPAEX"
refuse "a rectangle too small for the text" "too small" --stamp 1,10,10,30,12 --stamp-font "$IPAEX"
echo "not a png" > fake.png
refuse "a seal that is not a PNG" "not a usable PNG" --stamp 1,300,600,260,90 --stamp-image fake.png --stamp-font "$IPAEX"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
