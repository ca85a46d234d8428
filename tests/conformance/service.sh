#!/usr/bin/env bash
# The remote signing service (`shomei serve`, issue 10) judged by a real client that is
# not ours and by the kit's validators. Needs the kit PKI running (its env sourced).
#
#  * The service and `shomei admin` read one TOML configuration (data directory, master
#    key file, TSA, JSON logs, a SoftHSM token for keys). `shomei admin` creates a
#    signer, enrols TOTP (secret, URI and a terminal QR code), creates a SCAL 2 (ECDSA
#    P-256) and a SCAL 1 (RSA-2048) credential in the software keystore and a SCAL 2
#    P-256 credential whose key is generated on the token (never extractable, checked
#    with pkcs11-tool); each key's PKCS#10 request is certified by the kit's
#    intermediate CA with openssl (CRL distribution point: the kit's CRL) and imported.
#  * pyHanko's own CSC v1 client (kit csc-sign-pdf) signs through the service with each
#    credential, B-T with the kit TSA: validate-pdf --level B-T with the kit root.
#  * shomei's CSC client: PAdES B-LTA and XAdES B-LT, each through /csc/v2 and /csc/v1,
#    pass validate-pdf / validate-xml; the token-held key signs PAdES B-LTA; a batch of
#    10 PDFs makes exactly one SAD and one signHash, counted in the audit trail.
#  * HTTPS (rustls) when [tls] is configured; every log line is JSON.
#  * The audit head is time-stamped by the kit TSA every 5 records / 2 s: a history
#    rewritten with every hash recomputed passes without the anchors and is caught
#    with them.
#  * `shomei audit verify` passes, and fails naming the record on a changed copy; a
#    wrong master key is refused at start; SIGTERM stops the service cleanly.
#
# SERVICE_BACKEND=postgres runs the same on a database of the private PostgreSQL cluster
# (SHOMEI_PG_PORT) instead of SQLite in the data directory.
#
#   [SERVICE_BACKEND=sqlite|postgres] tests/conformance/service.sh SHOMEI_BINARY
set -uo pipefail
BIN="${1:?usage: service.sh SHOMEI_BINARY}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="${SHOMEI_SHARED_DIR:-$(cd "$HERE/../../.." && pwd)/shared}"
KIT="$SHARED/conformance"
: "${TRUST_ROOT:?source the kit env (pki-serve) first}" "${CHAIN:?}" "${TSA_URL:?}" "${CRL_INTERM_URL:?}"
source "$HERE/common.sh"
PY="$VENV_PY"
for tool in openssl "$KIT/validate-pdf" "$KIT/validate-xml" "$KIT/csc-sign-pdf" "$BIN" "$PY" curl softhsm2-util pkcs11-tool; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
MODULE="${SHOMEI_PKCS11_MODULE:-}"
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -z "$MODULE" ] && [ -f "$m" ] && MODULE="$m"
done
[ -n "$MODULE" ] || { echo "missing: the SoftHSM2 module (apt-get install softhsm2)" >&2; exit 2; }
BACKEND="${SERVICE_BACKEND:-sqlite}"
case "$BACKEND" in sqlite|postgres) ;; *) echo "SERVICE_BACKEND: sqlite or postgres" >&2; exit 2 ;; esac
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ "$BACKEND" = postgres ]; then
  : "${SHOMEI_PG_PORT:?SERVICE_BACKEND=postgres needs the private cluster (tests/pg-cluster.sh start PORT)}"
  [ -x "$PGBIN/psql" ] && [ -x "$PGBIN/pg_dump" ] || { echo "missing tool: psql / pg_dump (apt-get install postgresql)" >&2; exit 2; }
fi
OUT="${CONFORMANCE_OUT:-$(mktemp -d)}/service-$BACKEND"
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT" || exit 2
PORT="${SERVICE_PORT:-9340}"
BASE="http://127.0.0.1:$PORT"
DATA="$OUT/data"
DBNAME="svc_$$_$RANDOM"
DBURL=""
if [ "$BACKEND" = postgres ]; then DBURL="$("$HERE/../pg-cluster.sh" createdb "$SHOMEI_PG_PORT" "$DBNAME")"; fi
KEYFILE="$OUT/master.key"
head -c 32 /dev/urandom | base64 > "$KEYFILE"
# A SoftHSM token of our own for token-held keys.
export SOFTHSM2_CONF="$OUT/softhsm2.conf" SHOMEI_PKCS11_PIN=3141
mkdir -p "$OUT/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$OUT/tokens" > "$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label service --pin "$SHOMEI_PKCS11_PIN" --so-pin 2718 >/dev/null
cat > service.toml <<TOML
data_dir = "$DATA"
master_key_file = "$KEYFILE"
tsa = "$TSA_URL"
log_format = "json"
$([ -n "$DBURL" ] && echo "database_url = \"$DBURL\"")

[validation]
trust = ["$TRUST_ROOT"]
revocation = "fetch"

[audit_anchor]
every_records = 5
every_seconds = 2

[pkcs11]
module = "$MODULE"
token_label = "service"
pin_env = "SHOMEI_PKCS11_PIN"
TOML
ADMIN=("$BIN" admin --config service.toml)
INTERM_CERT="$(dirname "$TRUST_ROOT")/interm.cert.pem"
INTERM_KEY="$KIT/pki/keys/interm.key.pem"
SERVER_PID=""
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }
trap stop_server EXIT
# The database by hand: SQL on the service's database (or on a copy: db_copy NAME
# prints the audit-verify options of a copy, db_sql NAME SQL changes it).
sql_on() { # sqlite DB file or postgres URL, SQL
  if [ "$BACKEND" = sqlite ]; then "$PY" -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(map(str,x)) for x in r))' "$1" "$2"
  else "$PGBIN/psql" -q -tA -v ON_ERROR_STOP=1 "$1" -c "$2"; fi
}
main_db() { if [ "$BACKEND" = sqlite ]; then echo "$DATA/shomei.db"; else echo "$DBURL"; fi; }
copy_db() { if [ "$BACKEND" = sqlite ]; then echo "$OUT/$1/shomei.db"; else echo "${DBURL%/*}/${DBNAME}_$1"; fi; }
db_copy() { # NAME [FROM]: prints the `audit verify` options for the copy
  if [ "$BACKEND" = sqlite ]; then
    local src="$DATA"; [ -n "${2:-}" ] && src="$OUT/$2"
    rm -rf "${OUT:?}/$1"; cp -r "$src" "$OUT/$1"; echo "--data-dir $OUT/$1"
  else
    local template="$DBNAME"; [ -n "${2:-}" ] && template="${DBNAME}_$2"
    sql_on "${DBURL%/*}/shomei" "CREATE DATABASE ${DBNAME}_$1 TEMPLATE $template" >/dev/null
    echo "--database-url $(copy_db "$1")"
  fi
}
audit_count() { sql_on "$(main_db)" "select count(*) from audit where kind='$1'"; }

echo "--- setup with shomei admin"
export ALICE_PASSWORD="correct horse battery staple" PIN2="482913" PIN1="771204"
"${ADMIN[@]}" user create alice --password-env ALICE_PASSWORD >/dev/null || { bad "admin user create"; exit 1; }
"${ADMIN[@]}" totp alice > totp.txt
SECRET="$(sed -n 's/^  secret: //p' totp.txt)"
[ -n "$SECRET" ] && grep -q '^  uri:    otpauth://totp/shomei:alice?secret=' totp.txt && [ "$(grep -c '▄' totp.txt)" -gt 10 ] \
  && ok "user alice created, TOTP enrolled: secret, otpauth URI and a terminal QR code ($(grep -c '█' totp.txt) lines)" || bad "TOTP enrolment: $(head -3 totp.txt)"
CRED2="$("${ADMIN[@]}" credential create --user alice --key ec-p256 --scal 2 --multisign 10 --pin-env PIN2)"
CRED1="$("${ADMIN[@]}" credential create --user alice --key rsa-2048 --scal 1 --multisign 10 --pin-env PIN1)"
CREDT="$("${ADMIN[@]}" credential create --user alice --key ec-p256 --scal 2 --multisign 10 --pin-env PIN2 --on-token)"
objects="$(pkcs11-tool --module "$MODULE" --token-label service --login --pin "$SHOMEI_PKCS11_PIN" --list-objects --type privkey 2>/dev/null)"
if echo "$objects" | grep -q "label:.*$CREDT" && echo "$objects" | grep -q "never extractable" && echo "$objects" | grep -q "sensitive"; then
  ok "credential $CREDT: key generated on the token, sensitive and never extractable ($(echo "$objects" | grep -m1 'Access:' | tr -s ' '))"
else bad "token key for $CREDT: $(echo "$objects" | tr -s ' \n' ' ')"; fi
printf '[v3]\nkeyUsage = critical, digitalSignature, nonRepudiation\ncrlDistributionPoints = URI:%s\nauthorityKeyIdentifier = keyid\nsubjectKeyIdentifier = hash\n' "$CRL_INTERM_URL" > ext.cnf
for cred in "$CRED2" "$CRED1" "$CREDT"; do
  "${ADMIN[@]}" credential csr "$cred" --subject "alice $cred" -o "$cred.csr" >/dev/null
  openssl x509 -req -in "$cred.csr" -CA "$INTERM_CERT" -CAkey "$INTERM_KEY" -set_serial "0x$(openssl rand -hex 12)" \
    -days 365 -extfile ext.cnf -extensions v3 -out "$cred.cert.pem" 2>/dev/null
  cat "$cred.cert.pem" "$CHAIN" > "$cred.chain.pem"
  if "${ADMIN[@]}" credential import "$cred" "$cred.chain.pem" >/dev/null; then ok "credential $cred: CSR certified by the kit CA and imported"
  else bad "credential $cred: import failed"; fi
done
# a certificate for another key is refused
if "${ADMIN[@]}" credential import "$CRED2" "$CRED1.chain.pem" >/dev/null 2>&1; then bad "a certificate of another key was imported"
else ok "a certificate of another key is refused"; fi
if "${ADMIN[@]}" credential import "$CREDT" "$CRED2.chain.pem" >/dev/null 2>&1; then bad "a certificate of another key was imported for the token key"
else ok "a certificate of another key is refused for the token key too"; fi
"${ADMIN[@]}" credential list > list.txt
if [ "$(grep -c "alice .* ec-p256 .* active .*CN=alice" list.txt)" = 2 ] && grep -q "$CRED1 .*rsa-2048 .*1 .*active" list.txt; then ok "admin credential list: $(($(wc -l < list.txt) - 1)) credentials with owner, key, SCAL, state and subject"
else bad "admin credential list: $(cat list.txt)"; fi

echo "--- serve"
"$BIN" serve --config service.toml --listen "127.0.0.1:$PORT" > serve.out 2> serve.log &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/readyz" >/dev/null && ok "service ready on $BASE" || { bad "service did not start: $(cat serve.log)"; exit 1; }
login() { curl -s -X POST -u "alice:$ALICE_PASSWORD" "$BASE/csc/$1/auth/login" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
export TOKEN; TOKEN="$(login v1)"
otp() { "$PY" "$HERE/totp.py" "$SECRET" "$OUT/totp.state"; }
cp "$SHARED/fixtures/pdf-unsigned/pyhanko_minimal.pdf" in.pdf

echo "--- pyHanko's CSC client"
for cred in "$CRED2" "$CRED1"; do
  export OTP; OTP="$(otp)"
  pin_var=PIN2; [ "$cred" = "$CRED1" ] && pin_var=PIN1
  if msg="$("$KIT/csc-sign-pdf" --url "$BASE" --credential "$cred" in.pdf "pyhanko-$cred.pdf" --token-env TOKEN --pin-env "$pin_var" --otp-env OTP --timestamp-url "$TSA_URL" 2>&1)"; then
    if why="$("$KIT/validate-pdf" "pyhanko-$cred.pdf" --trust "$TRUST_ROOT" --level B-T 2>&1)"; then ok "pyHanko CSCSigner through shomei serve ($cred): validate-pdf B-T"
    else bad "pyHanko $cred: validate-pdf: $(echo "$why" | grep -E '"(level_reached|problems)"' | head -3 | tr -s ' \n' ' ')"; fi
  else bad "pyHanko CSCSigner ($cred): $msg"; fi
done

echo "--- shomei's CSC client, CSC v2 and v1"
printf '<invoice xmlns="urn:example:invoice"><id>42</id></invoice>' > in.xml
for v in 2 1; do
  # v2 with the bearer token from the environment, v1 signing in with auth/login.
  auth=(--csc-token-env TOKEN); [ "$v" = 1 ] && auth=(--csc-user alice --csc-password-env ALICE_PASSWORD)
  export OTP; OTP="$(otp)"
  if msg="$("$BIN" sign pdf in.pdf -o "ours-v$v.pdf" --level B-LTA --tsa "$TSA_URL" --csc-url "$BASE/csc/v$v" --csc-version "$v" --credential-id "$CRED2" "${auth[@]}" --pin-env PIN2 --otp-env OTP 2>&1)" \
     && why="$("$KIT/validate-pdf" "ours-v$v.pdf" --trust "$TRUST_ROOT" --level B-LTA 2>&1)"; then ok "shomei sign pdf via /csc/v$v at B-LTA: validate-pdf B-LTA"
  else bad "shomei sign pdf via /csc/v$v: $msg $(echo "${why:-}" | grep -E '"(level_reached|problems)"' | head -3 | tr -s ' \n' ' ')"; fi
  OTP="$(otp)"
  if msg="$("$BIN" sign xml in.xml -o "ours-v$v.xml" --level B-LT --tsa "$TSA_URL" --csc-url "$BASE/csc/v$v" --csc-version "$v" --credential-id "$CRED2" "${auth[@]}" --pin-env PIN2 --otp-env OTP 2>&1)" \
     && why="$("$KIT/validate-xml" "ours-v$v.xml" --trust "$TRUST_ROOT" --level B-LT 2>&1)"; then ok "shomei sign xml via /csc/v$v at B-LT: validate-xml B-LT"
  else bad "shomei sign xml via /csc/v$v: $msg $(echo "${why:-}" | grep -E '"(level_reached|problems|error)"' | head -3 | tr -s ' \n' ' ')"; fi
done
OTP="$(otp)"
if msg="$("$BIN" sign pdf in.pdf -o ours-token.pdf --level B-LTA --tsa "$TSA_URL" --csc-url "$BASE/csc/v2" --csc-version 2 --credential-id "$CREDT" --csc-token-env TOKEN --pin-env PIN2 --otp-env OTP 2>&1)" \
   && why="$("$KIT/validate-pdf" ours-token.pdf --trust "$TRUST_ROOT" --level B-LTA 2>&1)"; then ok "the token-held key ($CREDT) signs through the service: validate-pdf B-LTA"
else bad "token-held key: $msg $(echo "${why:-}" | grep -E '"(level_reached|problems)"' | head -3 | tr -s ' \n' ' ')"; fi
# shomei's own validator on what the service signed, offline: TOTAL-PASSED at the level made.
for pair in ours-v2.pdf:B-LTA ours-v1.pdf:B-LTA ours-v2.xml:B-LT ours-v1.xml:B-LT ours-token.pdf:B-LTA; do
  f="${pair%%:*}"; lvl="${pair##*:}"
  "$BIN" validate "$f" --trust "$TRUST_ROOT" --offline --format json > "$f.report.json" 2>/dev/null; rc=$?
  if [ "$rc" = 0 ] && grep -q "\"level\": \"$lvl\"" "$f.report.json"; then ok "shomei validate --offline $f (signed through the service): TOTAL-PASSED at $lvl"
  else bad "shomei validate $f: exit $rc, not TOTAL-PASSED at $lvl"; fi
done
mkdir -p batch-in batch-out
for i in $(seq 1 10); do cp in.pdf "batch-in/doc$i.pdf"; done
sads_before="$(audit_count sad.issue)"; signs_before="$(audit_count signature)"
OTP="$(otp)"
if msg="$("$BIN" sign pdf batch-in/*.pdf -o batch-out --csc-url "$BASE/csc/v2" --csc-version 2 --credential-id "$CRED2" --csc-token-env TOKEN --pin-env PIN2 --otp-env OTP 2>&1)"; then
  sads=$(( $(audit_count sad.issue) - sads_before )); signs=$(( $(audit_count signature) - signs_before ))
  valid=0; for f in batch-out/*.pdf; do "$KIT/validate-pdf" "$f" --trust "$TRUST_ROOT" --level B-B >/dev/null 2>&1 && valid=$((valid+1)); done
  if [ "$sads" = 1 ] && [ "$signs" = 1 ] && [ "$valid" = 10 ]; then ok "batch of 10 PDFs: 1 credentials/authorize and 1 signatures/signHash in the audit trail, 10 of 10 pass B-B"
  else bad "batch: $sads SADs, $signs signHash records, $valid of 10 valid"; fi
else bad "batch: $msg"; fi

echo "--- POST /api/v1/validate"
if "$PY" - "$BASE" ours-v2.pdf <<'PY'
import json, sys, urllib.request
base, path = sys.argv[1], sys.argv[2]
req = urllib.request.Request(base + "/api/v1/validate", data=open(path, "rb").read(),
                             headers={"Content-Type": "application/pdf"}, method="POST")
report = json.load(urllib.request.urlopen(req))
sigs = [(s["kind"], s["indication"], s["level"]) for s in report["signatures"]]
assert sigs and all(i == "TOTAL-PASSED" for _, i, _ in sigs), sigs
assert ("signature", "TOTAL-PASSED", "B-LTA") in sigs, sigs
PY
then ok "POST /api/v1/validate: the B-LTA file signed through the service is TOTAL-PASSED at B-LTA"
else bad "POST /api/v1/validate did not pass the B-LTA file"; fi
# A B-T file carries no revocation data: with `revocation = "fetch"` the service asks
# the kit's OCSP responder and CRL distribution point.
if "$BIN" sign pdf "$HERE/../../examples/sample.pdf" -o fetch-bt.pdf --key "$KIT/pki/keys/signer-ec.key.pem" \
     --cert "$SIGNER_EC_CERT" --chain "$CHAIN" --level B-T --tsa "$TSA_URL" >/dev/null 2>&1 \
   && "$PY" - "$BASE" fetch-bt.pdf <<'PY'
import json, sys, urllib.request
base, path = sys.argv[1], sys.argv[2]
req = urllib.request.Request(base + "/api/v1/validate", data=open(path, "rb").read(),
                             headers={"Content-Type": "application/pdf"}, method="POST")
report = json.load(urllib.request.urlopen(req))
s = report["signatures"][0]
assert (s["indication"], s["level"]) == ("TOTAL-PASSED", "B-T"), s
fetched = [c for c in s["checks"] if c["name"] == "revocation" and "fetched" in c["detail"]]
assert len(fetched) >= 2, s["checks"]
PY
then ok "POST /api/v1/validate with [validation] revocation = \"fetch\": a B-T file without revocation data is TOTAL-PASSED at B-T, its statuses fetched"
else bad "POST /api/v1/validate did not fetch the revocation status of a B-T file"; fi
# Multipart upload: the XAdES B-LT file signed through the service as the `document` part.
code="$(curl -s -o mp.json -w '%{http_code}' -F "document=@ours-v2.xml" "$BASE/api/v1/validate")"
if [ "$code" = 200 ] && "$PY" -c 'import json,sys; r=json.load(open("mp.json")); s=r["signatures"]; assert r["format"]=="XML" and s and all(x["indication"]=="TOTAL-PASSED" and x["level"]=="B-LT" for x in s), s'; then
  ok "POST /api/v1/validate multipart: the XAdES B-LT file is TOTAL-PASSED at B-LT"
else bad "validate multipart: HTTP $code $(head -c 300 mp.json)"; fi
code="$(curl -s -o body.json -w '%{http_code}' -F "other=@ours-v2.xml" "$BASE/api/v1/validate")"
[ "$code" = 400 ] && grep -q '"error":"invalid_request"' body.json && ok "POST /api/v1/validate multipart without a document part: HTTP 400 with a JSON error" || bad "validate multipart without document: HTTP $code $(cat body.json)"
code="$(curl -s -o body.json -w '%{http_code}' -X POST --data-binary 'not a pdf' "$BASE/api/v1/validate")"
[ "$code" = 400 ] && grep -q '"error":"invalid_request"' body.json && ok "POST /api/v1/validate with no PDF: HTTP 400 with a JSON error" || bad "validate no PDF: HTTP $code $(cat body.json)"

echo "--- refusals over HTTP"
status() { curl -s -o body.json -w '%{http_code}' -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3" "$BASE/csc/v2/$2"; }
code="$(status "$TOKEN" credentials/authorize "{\"credentialID\":\"$CRED2\",\"numSignatures\":1,\"hashes\":[\"$(printf 'x%.0s' $(seq 32) | base64)\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"authData\":[{\"id\":\"PIN\",\"value\":\"000000\"},{\"id\":\"OTP\",\"value\":\"000000\"}]}")"
grep -q '"Invalid PIN"' body.json && [ "$code" = 400 ] && ok "wrong PIN: HTTP 400 invalid_request \"Invalid PIN\"" || bad "wrong PIN: HTTP $code $(cat body.json)"
code="$(status "not-a-token" credentials/list '{}')"
[ "$code" = 401 ] && grep -q invalid_token body.json && ok "unknown token: HTTP 401 invalid_token" || bad "bad token: HTTP $code $(cat body.json)"
code="$(status "$TOKEN" signatures/signHash "{\"credentialID\":\"$CRED2\",\"SAD\":\"forged\",\"hashes\":[\"$(printf 'x%.0s' $(seq 32) | base64)\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"signAlgo\":\"1.2.840.10045.4.3.2\"}")"
grep -q 'Invalid parameter SAD' body.json && [ "$code" = 400 ] && ok "forged SAD: HTTP 400 \"Invalid parameter SAD\"" || bad "forged SAD: HTTP $code $(cat body.json)"
code="$(curl -s -o body.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d 'not json' "$BASE/csc/v2/auth/login")"
[ "$code" = 401 ] && "$PY" -c 'import json; json.load(open("body.json"))["error"]' 2>/dev/null && ok "login without credentials: HTTP 401 with a JSON error" || bad "login without credentials: HTTP $code"

curl -s "$BASE/metrics" > metrics.txt
if grep -q '^shomei_signatures_total [1-9]' metrics.txt && grep -q 'shomei_refusals_total{reason="wrong_pin"} 1' metrics.txt \
   && grep -q 'shomei_request_seconds_bucket{method="/csc/v2/signatures/signHash"' metrics.txt; then
  ok "/metrics: $(grep '^shomei_signatures_total' metrics.txt), refusals by reason, latency histogram by method"
else bad "/metrics: $(grep -c . metrics.txt) lines, missing signatures, refusals or latency"; fi

if "$PY" - serve.log <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
records = [json.loads(l) for l in lines]  # every line is one JSON object
access = [r for r in records if r.get("target") == "shomei::http"]
assert access and all({"route", "status", "ms"} <= r.keys() for r in access), "access lines lack fields"
assert any(r["refusal"] == "wrong_pin" for r in access), "no refusal reason logged"

PY
then ok "every log line is JSON; access lines carry route, status, time and refusal reason"
else bad "log lines: $(head -2 serve.log)"; fi

echo "--- audit, master key, shutdown"
# SIGTERM with signHash calls in flight: each call answered is one signature record,
# none is cut off, and the service exits 0.
OTP="$(otp)"
SAD1="$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"credentialID\":\"$CRED1\",\"numSignatures\":10,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN1\"},{\"id\":\"OTP\",\"value\":\"$OTP\"}]}" \
  "$BASE/csc/v2/credentials/authorize" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["SAD"])')"
signs_before="$(audit_count signature)"
rm -f inflight.txt; CURLS=()
for i in $(seq 1 10); do
  hash="$(printf 'in flight %s' "$i" | openssl dgst -sha256 -binary | base64)"
  curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"credentialID\":\"$CRED1\",\"SAD\":\"$SAD1\",\"hashes\":[\"$hash\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"signAlgo\":\"1.2.840.113549.1.1.11\"}" \
    "$BASE/csc/v2/signatures/signHash" >> inflight.txt &
  CURLS+=($!)
done
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; served=$?; SERVER_PID=""
wait "${CURLS[@]}" 2>/dev/null
answered="$(grep -c '^200$' inflight.txt)"; cut="$(grep -vc -e '^200$' -e '^000$' inflight.txt)"
signed=$(( $(audit_count signature) - signs_before ))
if [ "$served" = 0 ] && [ "$cut" = 0 ] && [ "$answered" = "$signed" ] && "$BIN" audit verify --config service.toml >/dev/null 2>&1; then
  ok "SIGTERM with 10 signHash calls in flight: exit 0, $answered answered = $signed signature records, the rest never accepted, audit intact"
else bad "SIGTERM in flight: exit $served, codes $(sort inflight.txt | uniq -c | tr -s ' \n' ' '), $signed signature records"; fi
"${ADMIN[@]}" credential destroy "$CREDT" >/dev/null
if pkcs11-tool --module "$MODULE" --token-label service --login --pin "$SHOMEI_PKCS11_PIN" --list-objects 2>/dev/null | grep -q "$CREDT"; then bad "destroying $CREDT left its key on the token"
else ok "admin credential destroy removes the token key ($CREDT) from the token"; fi
echo "--- HTTPS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.pem -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1" -days 2 2>/dev/null
{ cat service.toml; printf '\n[tls]\ncertificate = "%s"\nkey = "%s"\n' "$OUT/tls.pem" "$OUT/tls.key"; } | grep -v '^\[pkcs11\]\|^module\|^token_label\|^pin_env' > tls.toml
SHOMEI_LISTEN="127.0.0.1:$PORT" "$BIN" serve --config tls.toml > tls.out 2> tls.log &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -sf --cacert tls.pem "https://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
if tok="$(curl -sf --cacert tls.pem -X POST -u "alice:$ALICE_PASSWORD" "https://127.0.0.1:$PORT/csc/v2/auth/login")" && echo "$tok" | grep -q access_token \
   && ! curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && grep -q "at https://127.0.0.1:$PORT" tls.out; then
  ok "[tls] in the configuration: HTTPS (rustls) serves auth/login, plain HTTP gets nothing"
else bad "HTTPS: $(cat tls.out tls.log | tail -3)"; fi
stop_server
"$BIN" audit verify --config service.toml > verify.txt 2>&1 && grep -q "time-stamped anchors checked" verify.txt && ok "audit verify: $(cat verify.txt)" || bad "audit verify: $(cat verify.txt)"
tampered="$(db_copy tampered)"
sql_on "$(copy_db tampered)" "update audit set actor='mallory' where seq=5" >/dev/null
# shellcheck disable=SC2086
if "$BIN" audit verify $tampered > verify.txt 2>&1; then bad "a changed record was not detected"
elif grep -q "record 5 was changed" verify.txt; then ok "audit verify exit 1 on a changed copy: $(tail -1 verify.txt)"
else bad "audit verify on a changed copy: $(cat verify.txt)"; fi
# The operator's rewrite: change record 5 and recompute every hash after it, so the
# chain alone is consistent again; only the time-stamped anchors can tell.
rewrite() {
  if [ "$BACKEND" = postgres ]; then
    # The same in PL/pgSQL: length-prefixed (8 bytes, big-endian) UTF-8 parts.
    sql_on "$1" "DO \$\$ DECLARE r record; prev text; h text;
      BEGIN UPDATE audit SET actor = 'mallory' WHERE seq = 5;
      SELECT hash INTO prev FROM audit WHERE seq = 4;
      FOR r IN SELECT seq, at, kind, actor, detail FROM audit WHERE seq >= 5 ORDER BY seq LOOP
        h := encode(sha256(int8send(octet_length(prev)::bigint) || convert_to(prev, 'UTF8')
          || int8send(octet_length(r.seq::text)::bigint) || convert_to(r.seq::text, 'UTF8')
          || int8send(octet_length(r.at::text)::bigint) || convert_to(r.at::text, 'UTF8')
          || int8send(octet_length(r.kind)::bigint) || convert_to(r.kind, 'UTF8')
          || int8send(octet_length(r.actor)::bigint) || convert_to(r.actor, 'UTF8')
          || int8send(octet_length(r.detail)::bigint) || convert_to(r.detail, 'UTF8')), 'hex');
        UPDATE audit SET prev_hash = prev, hash = h WHERE seq = r.seq; prev := h;
      END LOOP;
      UPDATE audit_head SET hash = prev WHERE id = 1; END \$\$" >/dev/null
    return
  fi
  "$PY" - "$1" <<'PY'
import hashlib, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
def record_hash(*parts):
    h = hashlib.sha256()
    for p in parts:
        b = str(p).encode()
        h.update(len(b).to_bytes(8, "big")); h.update(b)
    return h.hexdigest()
c.execute("update audit set actor = 'mallory' where seq = 5")
prev = c.execute("select hash from audit where seq = 4").fetchone()[0]
for seq, at, kind, actor, detail in c.execute("select seq, at, kind, actor, detail from audit where seq >= 5 order by seq").fetchall():
    h = record_hash(prev, seq, at, kind, actor, detail)
    c.execute("update audit set prev_hash = ?, hash = ? where seq = ?", (prev, h, seq)); prev = h
c.execute("update audit_head set hash = ? where id = 1", (prev,))
c.commit()
PY
}
rewritten="$(db_copy rewritten)"; rewrite "$(copy_db rewritten)"
anchors="$(sql_on "$(main_db)" "select count(*) from audit_anchors")"
unanchored="$(db_copy unanchored rewritten)"; sql_on "$(copy_db unanchored)" "delete from audit_anchors" >/dev/null
# shellcheck disable=SC2086
if ! "$BIN" audit verify $unanchored >/dev/null 2>&1; then bad "the rewrite itself is not consistent (the test's own check)"
elif "$BIN" audit verify $rewritten > verify.txt 2>&1; then bad "a rewritten history passed despite $anchors anchors"
elif [ "$anchors" -ge 2 ] && grep -q "does not have the hash the TSA time-stamped" verify.txt; then
  ok "history rewritten with every hash recomputed: passes without anchors, caught by the $anchors TSA anchors: $(tail -1 verify.txt)"
else bad "rewritten history: $anchors anchors; $(cat verify.txt)"; fi
head -c 32 /dev/urandom | base64 > wrong.key
"$BIN" serve --config service.toml --listen "127.0.0.1:$PORT" --master-key-file wrong.key > wrong.log 2>&1 & pid=$!
sleep 3; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
grep -q "master key does not match" wrong.log && ok "a wrong master key is refused at start" || bad "wrong master key: $(cat wrong.log)"
stored=("$DATA"/*)
if [ "$BACKEND" = postgres ]; then "$PGBIN/pg_dump" "$DBURL" > dump.sql; stored=(dump.sql); fi
if grep -qa "PRIVATE KEY" "${stored[@]}" "$OUT"/serve.log; then bad "a PEM private key is in the data directory or the log"; else ok "no PEM private key in the data directory or the log"; fi
if grep -qaF "$ALICE_PASSWORD" "${stored[@]}" "$OUT"/serve.log || grep -qaF "$SECRET" "${stored[@]}" "$OUT"/serve.log; then bad "the password or TOTP secret is stored or logged in clear"
else ok "neither the password nor the TOTP secret is in the data directory or the log"; fi
echo "--- two nodes on one PostgreSQL: one SAD is never over-spent"
if [ -n "${SHOMEI_PG_PORT:-}" ]; then
  PGURL="$("$HERE/../pg-cluster.sh" createdb "$SHOMEI_PG_PORT" "svc_$$_$RANDOM")"
  PGADMIN=("$BIN" admin --database-url "$PGURL" --master-key-file "$KEYFILE")
  "${PGADMIN[@]}" user create alice --password-env ALICE_PASSWORD >/dev/null
  PGSECRET="$("${PGADMIN[@]}" totp alice | sed -n 's/^  secret: //p')"
  PGCRED="$("${PGADMIN[@]}" credential create --user alice --key ec-p256 --scal 1 --multisign 20 --pin-env PIN1)"
  "${PGADMIN[@]}" credential csr "$PGCRED" --subject "alice pg" -o pg.csr >/dev/null
  openssl x509 -req -in pg.csr -CA "$INTERM_CERT" -CAkey "$INTERM_KEY" -set_serial "0x$(openssl rand -hex 12)" \
    -days 365 -extfile ext.cnf -extensions v3 -out pg.cert.pem 2>/dev/null
  cat pg.cert.pem "$CHAIN" > pg.chain.pem
  "${PGADMIN[@]}" credential import "$PGCRED" pg.chain.pem >/dev/null
  PIDS=()
  for node in 1 2; do
    "$BIN" serve --listen "127.0.0.1:$((PORT + node))" --database-url "$PGURL" --master-key-file "$KEYFILE" > "node$node.log" 2>&1 &
    PIDS+=($!)
  done
  for node in 1 2; do for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$((PORT + node))/readyz" >/dev/null && break; sleep 0.2; done; done
  PGTOKEN="$(curl -s -X POST -u "alice:$ALICE_PASSWORD" "http://127.0.0.1:$((PORT + 1))/csc/v2/auth/login" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  N=5
  PGOTP="$("$PY" "$HERE/totp.py" "$PGSECRET" "$OUT/pg-totp.state")"
  SAD="$(curl -s -X POST -H "Authorization: Bearer $PGTOKEN" -H 'Content-Type: application/json' \
    -d "{\"credentialID\":\"$PGCRED\",\"numSignatures\":$N,\"authData\":[{\"id\":\"PIN\",\"value\":\"$PIN1\"},{\"id\":\"OTP\",\"value\":\"$PGOTP\"}]}" \
    "http://127.0.0.1:$((PORT + 1))/csc/v2/credentials/authorize" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["SAD"])')"
  rm -f codes.txt
  for i in $(seq 1 $((2 * N))); do
    node=$(( i % 2 + 1 ))
    hash="$(printf 'document %s' "$i" | openssl dgst -sha256 -binary | base64)"
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $PGTOKEN" -H 'Content-Type: application/json' \
      -d "{\"credentialID\":\"$PGCRED\",\"SAD\":\"$SAD\",\"hashes\":[\"$hash\"],\"hashAlgorithmOID\":\"2.16.840.1.101.3.4.2.1\",\"signAlgo\":\"1.2.840.10045.4.3.2\"}" \
      "http://127.0.0.1:$((PORT + node))/csc/v2/signatures/signHash" >> codes.txt &
  done
  wait $(jobs -p | grep -v -w -e "${PIDS[0]}" -e "${PIDS[1]}") 2>/dev/null
  sleep 0.5
  granted="$(grep -c '^200$' codes.txt)"; refused="$(grep -c '^400$' codes.txt)"
  kill "${PIDS[@]}" 2>/dev/null; wait "${PIDS[@]}" 2>/dev/null
  if [ "$granted" = "$N" ] && [ "$refused" = "$N" ]; then ok "two nodes, one SAD for $N, $((2 * N)) concurrent signHash calls: exactly $N signatures, $N refused"
  else bad "two nodes: $granted granted, $refused refused of $((2 * N)) (expected $N and $N)"; fi
  "$BIN" audit verify --database-url "$PGURL" > pgverify.txt 2>&1 && ok "audit verify on PostgreSQL: $(cat pgverify.txt)" || bad "audit verify on PostgreSQL: $(cat pgverify.txt)"
else
  bad "SHOMEI_PG_PORT is not set: the PostgreSQL part needs the private cluster (.ci/run starts it)"
fi

echo
echo "service: $pass passed, $fail failed"
[ "$fail" = 0 ]
