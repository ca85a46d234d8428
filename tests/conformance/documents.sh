#!/usr/bin/env bash
# Signing uploads through `shomei serve` (issue 12): real processes on loopback, judged
# by the kit's validators. Needs the kit PKI running (its env sourced) and the private
# PostgreSQL cluster (SHOMEI_PG_PORT).
#
#  * `shomei serve --demo` (SQLite) with the kit TSA: the demo user signs in (CSC
#    auth/login), uploads two PDFs (one with a visible stamp) and an XML file at B-T,
#    approves them with the PIN and a TOTP code computed here (RFC 6238), downloads the
#    signed files: validate-pdf / validate-xml pass each at B-T with the kit root as the
#    only trust anchor (the demo credential's key is certified by the kit's intermediate
#    CA through `shomei admin credential csr` / `import`, so signer and TSA chain to one
#    root); the stamp's text is in pdftotext's output.
#  * Refusals: a wrong OTP (400, the documents stay prepared), a document id that is not
#    the user's (404), a byte of a prepared file changed on disk (409, no SAD issued), an
#    upload over the limit (413 with a JSON body).
#  * CSC v2 signatures/signDoc under a SAD bound to the documents' SHA-256: a PDF (P,
#    Ades-B-T) and an XML file (X, enveloped), validate-pdf / validate-xml B-T; a document
#    the SAD does not name is refused.
#  * Two `shomei serve` processes on one PostgreSQL database and one data directory:
#    uploaded on the first, approved and downloaded on the second; validate-pdf B-T.
#
#   tests/conformance/documents.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: documents.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${TSA_URL:?}" "${CHAIN:?}" "${CRL_INTERM_URL:?}"
: "${SHOMEI_PG_PORT:?needs the private PostgreSQL cluster (tests/pg-cluster.sh start PORT)}"
source "$HERE/common.sh"
for tool in "$KIT/validate-pdf" "$KIT/validate-xml" "$BIN" python3 curl pdftotext openssl; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/documents"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
source "$HERE/service_lib.sh"
PORT_A="${DOCUMENTS_PORT:-9343}"
PORT_B=$((PORT_A + 1))
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=(); }
trap stop_all EXIT
login() { # BASE DATA -> token
  curl -sf -u "$(demo "$2" user):$(demo "$2" password)" -X POST "$1/csc/v2/auth/login" -d '{}' \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])"
}
# approval_body UPLOAD_JSON CREDENTIAL PIN OTP [INDEX...]: the approval of the listed
# documents of an upload answer (all when no index is given), exactly as it showed them.
approval_body() {
  python3 - "$@" <<'PY'
import json, sys
docs = json.load(open(sys.argv[1]))["documents"]
pick = [docs[int(i)] for i in sys.argv[5:]] or docs
print(json.dumps({"credential_id": sys.argv[2], "pin": sys.argv[3], "otp": sys.argv[4],
                  "documents": [{"id": d["id"], "sha256": d["sha256"], "hash": d["hash"]} for d in pick]}))
PY
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }

# Inputs: the sample PDF, a two-page PDF, an XML invoice.
cp "$HERE/../../examples/sample.pdf" contract.pdf
"$VENV_PY" - two-pages.pdf <<'PY'
import sys
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.pdf_utils import generic
w = PdfFileWriter()
for text in (b"order page one", b"order page two"):
    font = generic.DictionaryObject({generic.NameObject('/Type'): generic.NameObject('/Font'),
        generic.NameObject('/Subtype'): generic.NameObject('/Type1'), generic.NameObject('/BaseFont'): generic.NameObject('/Helvetica')})
    page = generic.DictionaryObject({
        generic.NameObject('/Type'): generic.NameObject('/Page'),
        generic.NameObject('/MediaBox'): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 595, 842)]),
        generic.NameObject('/Contents'): w.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (" + text + b") Tj ET")),
        generic.NameObject('/Resources'): generic.DictionaryObject({generic.NameObject('/Font'): generic.DictionaryObject({generic.NameObject('/F1'): font})}),
    })
    w.insert_page(page)
with open(sys.argv[1], 'wb') as f:
    w.write(f)
PY
printf '<?xml version="1.0" encoding="UTF-8"?>\n<invoice xmlns="urn:example:invoice"><item>署名テスト</item><total currency="JPY">42000</total></invoice>\n' > invoice.xml

echo "--- shomei serve --demo (SQLite) with the kit TSA"
DATA_A="$OUT/demo"
SHOMEI_DATA_DIR="$DATA_A" "$BIN" serve --demo --listen "127.0.0.1:$PORT_A" --tsa "$TSA_URL" > serve-a.out 2> serve-a.log &
PIDS+=($!)
wait_ready "$PORT_A" && ok "demo service ready" || { bad "demo service did not start: $(cat serve-a.log)"; echo "$pass passed, $fail failed"; exit 1; }
BASE="http://127.0.0.1:$PORT_A"
CRED="$(demo "$DATA_A" credential_id)"; PIN="$(demo "$DATA_A" pin)"; SECRET="$(demo "$DATA_A" totp_secret)"
kit_certify "$CRED" --data-dir "$DATA_A" --master-key-file "$DATA_A.master-key" \
  && ok "the demo credential certified by the kit CA (shomei admin credential csr / import)" || bad "certifying the demo credential"
TOKEN="$(login "$BASE" "$DATA_A")"
[ -n "$TOKEN" ] && ok "signed in (auth/login)" || bad "auth/login failed"
AUTH=(-H "Authorization: Bearer $TOKEN")
OPTIONS="{\"credential_id\":\"$CRED\",\"level\":\"B-T\",\"reason\":\"承認\",\"stamp\":{\"page\":1,\"x\":300,\"y\":600,\"width\":260,\"height\":90,\"text\":\"承認済み — Approved\",\"utc_offset\":\"+09:00\"}}"
code="$(curl -s -o up.json -w '%{http_code}' "${AUTH[@]}" -F "options=$OPTIONS;type=application/json" \
  -F "file=@contract.pdf" -F "file=@two-pages.pdf" -F "file=@invoice.xml" "$BASE/api/v1/documents")"
if [ "$code" = 201 ] && [ "$(field up.json 'len(d["documents"])')" = 3 ] \
   && [ "$(field up.json 'd["documents"][1]["pages"]')" = 2 ] \
   && [ "$(field up.json 'd["documents"][0]["sha256"]')" = "$(sha256sum contract.pdf | cut -d' ' -f1)" ]; then
  ok "upload of 2 PDFs and 1 XML: 201 with pages, SHA-256 and the hash to be signed"
else bad "upload: $code $(cat up.json)"; fi

# A wrong OTP: refused, nothing signed.
code="$(curl -s -o wrong.json -w '%{http_code}' "${AUTH[@]}" -H 'content-type: application/json' \
  --data "$(approval_body up.json "$CRED" "$PIN" 000000)" "$BASE/api/v1/documents/approve")"
state="$(curl -s "${AUTH[@]}" "$BASE/api/v1/documents" | python3 -c "import json,sys; print(sorted({d['state'] for d in json.load(sys.stdin)['documents']}))")"
[ "$code" = 400 ] && grep -q OTP wrong.json && [ "$state" = "['prepared']" ] && ok "wrong OTP: 400 ($(cat wrong.json)), the documents stay prepared" \
  || bad "wrong OTP: $code $(cat wrong.json) $state"
# Another id (not the user's, or none): 404.
code="$(curl -s -o nf.json -w '%{http_code}' "${AUTH[@]}" "$BASE/api/v1/documents/0123456789abcdef0123456789abcdef/signed")"
[ "$code" = 404 ] && ok "an id that is not the user's: 404 $(cat nf.json)" || bad "unknown id: $code $(cat nf.json)"

# Approved with a fresh code: signed, downloaded, judged.
OTP="$(python3 "$HERE/totp.py" "$SECRET" otp.state)"
code="$(curl -s -o ap.json -w '%{http_code}' "${AUTH[@]}" -H 'content-type: application/json' \
  --data "$(approval_body up.json "$CRED" "$PIN" "$OTP")" "$BASE/api/v1/documents/approve")"
if [ "$code" = 200 ] && [ "$(field ap.json '[x["state"] for x in d["documents"]]')" = "['signed', 'signed', 'signed']" ]; then
  ok "approval: the three documents signed"
else bad "approval: $code $(cat ap.json)"; fi
for i in 0 1 2; do
  id="$(field up.json "d['documents'][$i]['id']")"; name="$(field up.json "d['documents'][$i]['name']")"
  curl -s "${AUTH[@]}" -o "signed-$name" "$BASE/api/v1/documents/$id/signed"
  case "$name" in
    *.pdf) v="$KIT/validate-pdf" ;;
    *) v="$KIT/validate-xml" ;;
  esac
  if "$v" "signed-$name" --trust "$TRUST_ROOT" --level B-T > "judged-$name.json" 2>&1; then ok "$name: downloaded, $(basename "$v") passes B-T"
  else bad "$name: $(basename "$v") fails: $(grep -E 'level_reached|problems' "judged-$name.json" | head -3)"; fi
done
pdftotext signed-contract.pdf - | grep -qF "承認済み — Approved" && ok "the stamp's text is extractable" || bad "stamp text not found"

# CSC v2 signatures/signDoc: a SAD bound to the documents' SHA-256, the service builds
# the PAdES and XAdES signatures.
OTP="$(python3 "$HERE/totp.py" "$SECRET" otp.state)"
if python3 - "$BASE" "$TOKEN" "$CRED" "$PIN" "$OTP" contract.pdf invoice.xml <<'PY' > signdoc.log 2>&1
import base64, hashlib, json, sys, urllib.request, urllib.error
base, token, cred, pin, otp, pdf, xml = sys.argv[1:8]
docs = [open(pdf, 'rb').read(), open(xml, 'rb').read()]
def post(path, body):
    req = urllib.request.Request(base + path, json.dumps(body).encode(), {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
b64 = lambda b: base64.b64encode(b).decode()
status, sad = post('/csc/v2/credentials/authorize', {'credentialID': cred, 'numSignatures': 2,
    'hashes': [b64(hashlib.sha256(d).digest()) for d in docs], 'hashAlgorithmOID': '2.16.840.1.101.3.4.2.1',
    'authData': [{'id': 'PIN', 'value': pin}, {'id': 'OTP', 'value': otp}]})
assert status == 200, (status, sad)
# A document the SAD does not name: refused, nothing spent.
status, body = post('/csc/v2/signatures/signDoc', {'credentialID': cred, 'SAD': sad['SAD'], 'documents': [
    {'document': b64(docs[0] + b'\n'), 'signature_format': 'P', 'conformance_level': 'Ades-B-T'}]})
assert status == 400, (status, body)
print('refused:', body['error_description'])
status, body = post('/csc/v2/signatures/signDoc', {'credentialID': cred, 'SAD': sad['SAD'], 'documents': [
    {'document': b64(docs[0]), 'signature_format': 'P', 'conformance_level': 'Ades-B-T'},
    {'document': b64(docs[1]), 'signature_format': 'X', 'conformance_level': 'Ades-B-T', 'signed_envelope_property': 'Enveloped'}]})
assert status == 200, (status, body)
open('signdoc.pdf', 'wb').write(base64.b64decode(body['DocumentWithSignature'][0]))
open('signdoc.xml', 'wb').write(base64.b64decode(body['DocumentWithSignature'][1]))
PY
then
  ok "signDoc: a document the SAD does not name is refused ($(sed -n 's/^refused: //p' signdoc.log))"
  "$KIT/validate-pdf" signdoc.pdf --trust "$TRUST_ROOT" --level B-T > signdoc-pdf.json 2>&1 && ok "signDoc PAdES (P, Ades-B-T): validate-pdf passes B-T" || bad "signDoc PDF: $(grep -E 'level_reached|problems' signdoc-pdf.json | head -3)"
  "$KIT/validate-xml" signdoc.xml --trust "$TRUST_ROOT" --level B-T > signdoc-xml.json 2>&1 && ok "signDoc XAdES (X, Ades-B-T): validate-xml passes B-T" || bad "signDoc XML: $(grep -E 'level_reached|problems' signdoc-xml.json | head -3)"
else bad "signDoc: $(tail -5 signdoc.log)"; fi

# A prepared file changed on disk before approval: 409, and no SAD is issued.
code="$(curl -s -o up2.json -w '%{http_code}' "${AUTH[@]}" -F "options={\"credential_id\":\"$CRED\"};type=application/json" \
  -F "file=@contract.pdf" "$BASE/api/v1/documents")"
id2="$(field up2.json "d['documents'][0]['id']")"
printf 'X' | dd of="$DATA_A/documents/$id2.original" bs=1 seek=200 conv=notrunc 2>/dev/null
OTP="$(python3 "$HERE/totp.py" "$SECRET" otp.state)"
code="$(curl -s -o changed.json -w '%{http_code}' "${AUTH[@]}" -H 'content-type: application/json' \
  --data "$(approval_body up2.json "$CRED" "$PIN" "$OTP")" "$BASE/api/v1/documents/approve")"
[ "$code" = 409 ] && grep -q changed changed.json && ok "a byte changed between upload and approval: 409 $(cat changed.json)" \
  || bad "changed file: $code $(cat changed.json)"

# Over the upload limit (the demo's 256 MiB would be slow here; a 1 MiB limit service
# would need another process): the XML limit, 32 MiB, with a 33 MiB XML body.
python3 -c "import sys; sys.stdout.write('<a>' + 'x' * (33 << 20) + '</a>')" > big.xml
code="$(curl -s -o big.json -w '%{http_code}' "${AUTH[@]}" -F "options={\"credential_id\":\"$CRED\"};type=application/json" \
  -F "file=@big.xml" "$BASE/api/v1/documents")"
[ "$code" = 413 ] && python3 -c "import json; json.load(open('big.json'))['error_description']" 2>/dev/null \
  && ok "an XML upload over 32 MiB: 413 $(cat big.json)" || bad "oversize: $code $(head -c 300 big.json)"
[ -z "$(ls -A "$DATA_A/documents/tmp")" ] && ok "no partial upload left behind" || bad "files left in tmp: $(ls "$DATA_A/documents/tmp")"
stop_all

echo "--- two shomei serve processes on one PostgreSQL database"
DBURL="$("$HERE/../pg-cluster.sh" createdb "$SHOMEI_PG_PORT" "docs_$$_$RANDOM")"
DATA_B="$OUT/shared"
mkdir -p "$DATA_B"
printf 'data_dir = "%s"\ndatabase_url = "%s"\ntsa = "%s"\nlog_format = "json"\n' "$DATA_B" "$DBURL" "$TSA_URL" > nodes.toml
"$BIN" serve --config nodes.toml --demo --listen "127.0.0.1:$PORT_A" > node1.out 2> node1.log &
PIDS+=($!)
wait_ready "$PORT_A" || bad "node 1 did not start: $(cat node1.log)"
"$BIN" serve --config nodes.toml --demo --listen "127.0.0.1:$PORT_B" > node2.out 2> node2.log &
PIDS+=($!)
wait_ready "$PORT_B" && ok "two nodes ready on one database" || bad "node 2 did not start: $(cat node2.log)"
CRED="$(demo "$DATA_B" credential_id)"; PIN="$(demo "$DATA_B" pin)"; SECRET="$(demo "$DATA_B" totp_secret)"
kit_certify "$CRED" --config nodes.toml --master-key-file "$DATA_B.master-key" || bad "certifying the demo credential (PostgreSQL)"
TOKEN="$(login "http://127.0.0.1:$PORT_A" "$DATA_B")"
AUTH=(-H "Authorization: Bearer $TOKEN")
code="$(curl -s -o upb.json -w '%{http_code}' "${AUTH[@]}" -F "options={\"credential_id\":\"$CRED\",\"level\":\"B-T\"};type=application/json" \
  -F "file=@contract.pdf" "http://127.0.0.1:$PORT_A/api/v1/documents")"
[ "$code" = 201 ] && ok "uploaded on node 1" || bad "upload on node 1: $code $(cat upb.json)"
OTP="$(python3 "$HERE/totp.py" "$SECRET" otp-b.state)"
code="$(curl -s -o apb.json -w '%{http_code}' "${AUTH[@]}" -H 'content-type: application/json' \
  --data "$(approval_body upb.json "$CRED" "$PIN" "$OTP")" "http://127.0.0.1:$PORT_B/api/v1/documents/approve")"
[ "$code" = 200 ] && [ "$(field apb.json 'd["documents"][0]["state"]')" = signed ] && ok "approved on node 2" || bad "approval on node 2: $code $(cat apb.json)"
idb="$(field upb.json "d['documents'][0]['id']")"
curl -s "${AUTH[@]}" -o signed-b.pdf "http://127.0.0.1:$PORT_B/api/v1/documents/$idb/signed"
"$KIT/validate-pdf" signed-b.pdf --trust "$TRUST_ROOT" --level B-T > judged-b.json 2>&1 \
  && ok "downloaded from node 2: validate-pdf passes B-T" || bad "node 2 download: $(head -c 300 judged-b.json)"
stop_all
"$BIN" audit verify --config nodes.toml > audit.out 2>&1 && ok "audit verify: $(head -1 audit.out)" || bad "audit verify: $(cat audit.out)"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
