#!/usr/bin/env bash
# Faults of what signing depends on besides the database (issue 13): the TSA
# disappearing in the middle of a batch, and the data directory's file system full.
# Real processes on loopback, bounded in time; the kit's PKI must be running (its env
# sourced: TSA_URL, SIGNER_EC_KEY, SIGNER_EC_CERT, CHAIN, TRUST_ROOT, CRL_INTERM_URL).
#
#   tests/faults/storage.sh SHOMEI_BIN
#   FAULTS_PORT   first of the loopback ports used (default 9366, three of them)
#
# tsa: `shomei sign pdf` / `sign xml` of five documents at B-T under one authorization
#   while the TSA answers two requests and then disappears: the two finished documents
#   are written and judged valid at B-T by the kit's validators, the others are named
#   in the report with the cause, exit 1, nothing else in the output directory. The same
#   through the service's document API: two documents signed and downloadable (valid at
#   B-T), the others reported failed, no partial file in the documents directory, the
#   audit chain intact.
# disk-full: the service's data directory on a small tmpfs that is then filled: an
#   upload is refused with 507 and the JSON error, signHash with 503 or 507 and the JSON
#   error, `sign pdf` onto the full file system exits 1 with a clear message and leaves
#   no file; once space is freed the SQLite database passes integrity_check, the audit
#   chain verifies and the service signs again.
set -euo pipefail
BIN="$(realpath "${1:?shomei binary}")"
HERE="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$HERE/../.." && pwd)"
KIT="${SHOMEI_SHARED_DIR:-$ROOT/../shared}/conformance"
: "${TSA_URL:?source the kit PKI env}" "${TRUST_ROOT:?}" "${CHAIN:?}"
PORT0="${FAULTS_PORT:-9366}"
OUT="$(mktemp -d)"; cd "$OUT"
source "$ROOT/tests/conformance/common.sh"
source "$ROOT/tests/conformance/service_lib.sh"
PIDS=(); SMALL=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "$SMALL" ] && ${SUDO:-} umount "$SMALL" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$OUT"
}
trap cleanup EXIT
vanishing_tsa() { # PORT N → starts a TSA that answers N requests
  python3 "$HERE/vanishing_tsa.py" "$1" "$TSA_URL" "$2" > "tsa-$1.out" & PIDS+=("$!")
  for _ in $(seq 1 50); do grep -q ready "tsa-$1.out" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
valid_bt() { "$KIT/validate-pdf" "$1" --trust "$TRUST_ROOT" --level B-T >/dev/null 2>&1; }
valid_bt_xml() { "$KIT/validate-xml" "$1" --trust "$TRUST_ROOT" --level B-T >/dev/null 2>&1; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2" 2>/dev/null || true; }

echo "--- the TSA disappears in the middle of a batch: the command line"
mkdir in
for i in 1 2 3 4 5; do
  cp "$ROOT/examples/sample.pdf" "in/doc$i.pdf"
  printf '<?xml version="1.0" encoding="UTF-8"?>\n<invoice n="%s"><item>署名</item></invoice>\n' "$i" > "in/inv$i.xml"
done
for fmt in pdf xml; do
  p=$((PORT0 + ${#PIDS[@]})); vanishing_tsa "$p" 2 || bad "the vanishing TSA did not start"
  [ "$fmt" = pdf ] && inputs=(in/doc*.pdf) || inputs=(in/inv*.xml)
  set +e
  "$BIN" sign "$fmt" "${inputs[@]}" -o "out-$fmt" --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN" \
    --level B-T --tsa "http://127.0.0.1:$p/" --timeout 5 > "batch-$fmt.out" 2> "batch-$fmt.err"
  code=$?; set -e
  written=$(ls "out-$fmt" | wc -l)
  reported=$(grep -c "time-stamping authority unreachable" "batch-$fmt.err" || true)
  [ "$code" = 1 ] && [ "$written" = 2 ] && [ "$reported" = 3 ] \
    && ok "sign $fmt: exit 1, the 2 finished documents written, the 3 others reported with the cause, nothing else written" \
    || bad "sign $fmt with a vanishing TSA: exit $code, $written files, $reported reported: $(cat "batch-$fmt.err")"
  for f in "out-$fmt"/*; do
    if [ "$fmt" = pdf ]; then valid_bt "$f"; else valid_bt_xml "$f"; fi \
      && ok "$(basename "$f") delivered and valid at B-T (kit validator)" || bad "$(basename "$f") is not valid at B-T"
  done
done

echo "--- the TSA disappears in the middle of an approval: the document API"
DATA="$OUT/data"; p=$((PORT0 + 2)); vanishing_tsa "$p" 2 || bad "the vanishing TSA did not start"
SHOMEI_DATA_DIR="$DATA" "$BIN" serve --demo --listen "127.0.0.1:$PORT0" --tsa "http://127.0.0.1:$p/" > serve.out 2> serve.log &
PIDS+=("$!")
wait_ready "$PORT0" || { bad "the service did not start: $(tail -3 serve.log)"; echo "$pass passed, $fail failed"; exit 1; }
BASE="http://127.0.0.1:$PORT0"
CRED="$(demo "$DATA" credential_id)"; PIN="$(demo "$DATA" pin)"; SECRET="$(demo "$DATA" totp_secret)"
kit_certify "$CRED" --data-dir "$DATA" --master-key-file "$DATA.master-key" || bad "certifying the demo credential"
TOKEN="$(curl -sf -u "$(demo "$DATA" user):$(demo "$DATA" password)" -X POST "$BASE/csc/v2/auth/login" -d '{}' \
  | python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])")"
AUTH=(-H "Authorization: Bearer $TOKEN")
code="$(curl -s -o up.json -w '%{http_code}' "${AUTH[@]}" -F "options={\"credential_id\":\"$CRED\",\"level\":\"B-T\"};type=application/json" \
  -F "file=@in/doc1.pdf" -F "file=@in/doc2.pdf" -F "file=@in/doc3.pdf" -F "file=@in/doc4.pdf" "$BASE/api/v1/documents")"
[ "$code" = 201 ] || bad "upload: $code $(cat up.json)"
OTP="$(python3 "$ROOT/tests/conformance/totp.py" "$SECRET" totp-state)"
python3 - up.json "$CRED" "$PIN" "$OTP" > approve.json <<'PY'
import json, sys
docs = json.load(open(sys.argv[1]))["documents"]
print(json.dumps({"credential_id": sys.argv[2], "pin": sys.argv[3], "otp": sys.argv[4],
                  "documents": [{"id": d["id"], "sha256": d["sha256"], "hash": d["hash"]} for d in docs]}))
PY
code="$(curl -s -o ap.json -w '%{http_code}' "${AUTH[@]}" -H 'content-type: application/json' --data @approve.json "$BASE/api/v1/documents/approve")"
states="$(field ap.json '" ".join(x["state"] for x in d["documents"])' 2>/dev/null || echo "?")"
nsigned=$(echo "$states" | tr ' ' '\n' | grep -c '^signed$' || true)
nfailed=$(echo "$states" | tr ' ' '\n' | grep -c '^failed$' || true)
[ "$nsigned" = 2 ] && [ "$nfailed" = 2 ] \
  && ok "approval of 4 at B-T with the TSA gone after 2: 2 signed, 2 reported failed ($code: $states)" \
  || bad "approval with a vanishing TSA: $code $(cat ap.json)"
for id in $(field ap.json '" ".join(x["id"] for x in d["documents"] if x["state"] == "signed")'); do
  curl -sf "${AUTH[@]}" -o "signed-$id.pdf" "$BASE/api/v1/documents/$id/signed" && valid_bt "signed-$id.pdf" \
    && ok "document $id delivered and valid at B-T (kit validator)" || bad "document $id not delivered valid"
done
for id in $(field ap.json '" ".join(x["id"] for x in d["documents"] if x["state"] != "signed")'); do
  code="$(curl -s -o nf.json -w '%{http_code}' "${AUTH[@]}" "$BASE/api/v1/documents/$id/signed")"
  [ "${code:0:1}" = 4 ] && [ -n "$(field nf.json 'd["error"]')" ] \
    && ok "the failed document $id: no download ($code, JSON error)" || bad "failed document $id: $code $(cat nf.json)"
done
partial="$(find "$DATA/documents" -name '*.tmp*' -o -name '.*' -type f | wc -l)"
[ "$partial" = 0 ] && ok "no partial file in the documents directory" || bad "$partial partial files left"
kill "${PIDS[-1]}" 2>/dev/null || true
"$BIN" audit verify --data-dir "$DATA" --master-key-file "$DATA.master-key" >/dev/null \
  && ok "audit chain intact" || bad "audit verify failed"

echo "--- the data directory's file system is full"
SMALL="$OUT/small"; mkdir -p "$SMALL"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO mount -t tmpfs -o "size=24m,uid=$(id -u),gid=$(id -g)" tmpfs "$SMALL" \
  || { SMALL=""; bad "cannot mount a tmpfs (the disk-full test needs root or sudo)"; echo "$pass passed, $fail failed"; exit 1; }
DATA="$SMALL/data"; MASTER="$DATA.master-key"
SHOMEI_DATA_DIR="$DATA" "$BIN" serve --demo --listen "127.0.0.1:$((PORT0 + 1))" > full.out 2> full.log &
PIDS+=("$!")
BASE="http://127.0.0.1:$((PORT0 + 1))"
wait_ready "$((PORT0 + 1))" || { bad "the service on tmpfs did not start: $(tail -3 full.log)"; echo "$pass passed, $fail failed"; exit 1; }
SECRET="$(demo "$DATA" totp_secret)"
# A SCAL 1 credential of the demo user (one SAD for many signHash calls), certified by
# the kit's CA; the demo's own credential (SCAL 2) signs the uploads.
export FULL_PIN=73915
CRED="$("$BIN" admin --data-dir "$DATA" --master-key-file "$MASTER" credential create --user "$(demo "$DATA" user)" \
  --key ec-p256 --scal 1 --multisign 1000 --pin-env FULL_PIN)"; PIN="$FULL_PIN"
kit_certify "$CRED" --data-dir "$DATA" --master-key-file "$MASTER" || bad "certifying the SCAL 1 credential"
TOKEN="$(curl -sf -u "$(demo "$DATA" user):$(demo "$DATA" password)" -X POST "$BASE/csc/v2/auth/login" -d '{}' \
  | python3 -c "import json,sys; print(json.load(sys.stdin)['access_token'])")"
AUTH=(-H "Authorization: Bearer $TOKEN")
OTP="$(python3 "$ROOT/tests/conformance/totp.py" "$SECRET" totp-full)"
SAD="$(curl -sf "${AUTH[@]}" -H 'Content-Type: application/json' \
  -d "{\"credentialID\":\"$CRED\",\"numSignatures\":1000,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN\"},{\"id\":\"OTP\",\"value\":\"$OTP\"}]}" \
  "$BASE/csc/v2/credentials/authorize" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SAD"])')"
sign_hash() { # → status, body in sh.json
  local h; h="$(head -c 32 /dev/urandom | base64)"
  curl -s -o sh.json -w '%{http_code}' "${AUTH[@]}" -H 'Content-Type: application/json' \
    -d "{\"credentialID\":\"$CRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$h\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"signAlgo\":\"1.2.840.10045.4.3.2\"}" \
    "$BASE/csc/v2/signatures/signHash"
}
[ "$(sign_hash)" = 200 ] && ok "signHash before the disk fills" || bad "signHash before: $(cat sh.json)"
# Fill the file system (a filler file until ENOSPC), leaving the database's own files.
dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null || true
head -c 300000 /dev/urandom > big.pdf.body
python3 - big.pdf <<'PY'
import sys
body = open("big.pdf.body", "rb").read().hex().encode()
stream = b"q " + body[:600000] + b" Q"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"]
out = bytearray(b"%PDF-1.7\n"); offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out)); out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(out); out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs: out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
PY
code="$(curl -s -o full-up.json -w '%{http_code}' "${AUTH[@]}" -F "options={\"credential_id\":\"$(demo "$DATA" credential_id)\"};type=application/json" \
  -F "file=@big.pdf" "$BASE/api/v1/documents")"
[ "$code" = 507 ] && [ -n "$(field full-up.json 'd["error_description"]')" ] \
  && ok "upload onto the full disk: 507 with the JSON error ($(field full-up.json 'd["error_description"]'))" \
  || bad "upload onto the full disk: $code $(cat full-up.json)"
[ -z "$(find "$DATA/documents" -type f 2>/dev/null)" ] && ok "no partial upload left in the documents directory" \
  || bad "partial upload left: $(find "$DATA/documents" -type f)"
statuses=""
for _ in 1 2 3 4 5 6 7 8; do
  s="$(sign_hash)"; statuses="$statuses $s"
  case "$s" in
    200) ;;
    503|507) [ -n "$(field sh.json 'd["error"]')" ] || bad "signHash $s without the JSON error" ;;
    *) bad "signHash on the full disk: $s $(cat sh.json)" ;;
  esac
done
ok "signHash on the full disk answered:$statuses (each a signature or 503/507 with the JSON error)"
set +e
"$BIN" sign pdf big.pdf -o "$SMALL/out.pdf" --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN" 2> cli-full.err
code=$?; set -e
[ "$code" = 1 ] && grep -qi "no space\|full" cli-full.err && [ ! -e "$SMALL/out.pdf" ] \
  && [ -z "$(find "$SMALL" -maxdepth 1 -name '*.tmp*' -o -maxdepth 1 -name '.out.pdf*')" ] \
  && ok "sign pdf onto the full disk: exit 1 ($(head -1 cli-full.err)), no file left" \
  || bad "sign pdf onto the full disk: exit $code $(cat cli-full.err); $(ls -a "$SMALL")"
set +e
"$BIN" sign xml in/inv1.xml -o "$SMALL/out.xml" --key "$SIGNER_EC_KEY" --cert "$SIGNER_EC_CERT" --chain "$CHAIN" 2> cli-full-xml.err
code=$?; set -e
[ "$code" = 1 ] && grep -qi "no space" cli-full-xml.err && [ "$(ls -A "$SMALL" | grep -v '^data' | grep -v '^filler$' | wc -l)" = 0 ] \
  && ok "sign xml onto the full disk: exit 1 ($(head -1 cli-full-xml.err)), no file left" \
  || bad "sign xml onto the full disk: exit $code $(cat cli-full-xml.err); $(ls -a "$SMALL")"
rm -f "$SMALL/filler"
ok_after=0
for _ in 1 2 3 4 5; do [ "$(sign_hash)" = 200 ] && ok_after=$((ok_after + 1)); done
[ "$ok_after" = 5 ] && ok "space freed: signHash signs again without a restart" || bad "after freeing space: $ok_after of 5 signed: $(cat sh.json)"
code="$(curl -s -o up-after.json -w '%{http_code}' "${AUTH[@]}" -F "options={\"credential_id\":\"$(demo "$DATA" credential_id)\"};type=application/json" \
  -F "file=@big.pdf" "$BASE/api/v1/documents")"
[ "$code" = 201 ] && ok "space freed: uploads are accepted again" || bad "upload after freeing space: $code $(cat up-after.json)"
kill "${PIDS[-1]}" 2>/dev/null || true; wait "${PIDS[-1]}" 2>/dev/null || true
python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$DATA/shomei.db" > integrity.txt
[ "$(cat integrity.txt)" = ok ] && ok "the SQLite database passes integrity_check" || bad "integrity_check: $(cat integrity.txt)"
"$BIN" audit verify --data-dir "$DATA" --master-key-file "$MASTER" >/dev/null && ok "audit chain intact after the full disk" || bad "audit verify after the full disk"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
