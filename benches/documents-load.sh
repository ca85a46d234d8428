#!/usr/bin/env bash
# The document API of `shomei serve` over loopback (issue 12):
#  a) upload -> approve (PIN + TOTP) -> download of a one-page PDF at B-B, CLIENTS
#     concurrent clients (16) for SECONDS, on SQLite; documents per second.
#  b) one 200 MB PDF: upload, approve, download; wall time of each and the server's
#     RSS when idle and at its peak (VmHWM).
#
#   benches/documents-load.sh [SECONDS] [CLIENTS] [USERS]
#       (release binary: cargo build --release --bin shomei; SHOMEI_BIN overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
CLIENTS="${2:-16}"
USERS="${3:-256}"
BIN="${SHOMEI_BIN:-target/release/shomei}"
[ -x "$BIN" ] || { echo "build first: cargo build --release --bin shomei" >&2; exit 2; }
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT
head -c 32 /dev/urandom | base64 > "$OUT/master.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/ca.key" -out "$OUT/ca.pem" \
  -subj "/CN=bench CA" -days 2 2>/dev/null
export BENCH_PASSWORD="bench password 1234" BENCH_PIN="123456"
ADMIN=("$BIN" admin --data-dir "$OUT/data" --master-key-file "$OUT/master.key")
PORT=9371

# USERS signers, each with TOTP and a SCAL 2 P-256 credential certified by a bench CA.
# The service takes one TOTP step per user and approval (about three per 30 s), so the
# clients share many users to keep the service, not the clock, the limit.
t0=$(date +%s.%N)
one_user() {
  local n="$1" secret cred
  "${ADMIN[@]}" user create "u$n" --password-env BENCH_PASSWORD >/dev/null
  secret="$("${ADMIN[@]}" totp "u$n" | sed -n 's/^  secret: //p')"
  cred="$("${ADMIN[@]}" credential create --user "u$n" --key ec-p256 --scal 2 --multisign 10 --pin-env BENCH_PIN)"
  "${ADMIN[@]}" credential csr "$cred" --subject "u$n" -o "$OUT/u$n.csr" >/dev/null
  openssl x509 -req -in "$OUT/u$n.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -set_serial "$((1000 + n))" -days 1 \
    -out "$OUT/u$n.pem" 2>/dev/null
  cat "$OUT/u$n.pem" "$OUT/ca.pem" > "$OUT/u$n.chain"
  "${ADMIN[@]}" credential import "$cred" "$OUT/u$n.chain" >/dev/null
  printf '{"user":"u%s","password":"%s","secret":"%s","credential":"%s","pin":"%s"}\n' "$n" "$BENCH_PASSWORD" "$secret" "$cred" "$BENCH_PIN"
}
"${ADMIN[@]}" user create warmup --password-env BENCH_PASSWORD >/dev/null  # creates the database
for n in $(seq 1 "$USERS"); do one_user "$n"; done > "$OUT/users.jsonl"
python3 -c "import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))" "$OUT/users.jsonl" > "$OUT/users.json"
echo "setup: $USERS users in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"

"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$OUT/data" --master-key-file "$OUT/master.key" > "$OUT/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$PID/status"; }

echo "--- a) $CLIENTS clients, one-page PDF at B-B, ${SECS}s"
[ -z "${BENCH_ONLY_BIG:-}" ] && python3 benches/documents_load.py "http://127.0.0.1:$PORT" "$OUT/users.json" examples/sample.pdf "$CLIENTS" "$SECS"

echo "--- b) a 200 MB PDF (a fresh server process, so its peak RSS is this upload's)"
kill "$PID"; wait "$PID" 2>/dev/null || true
"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$OUT/data" --master-key-file "$OUT/master.key" > "$OUT/serve2.log" 2>&1 &
PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
python3 - "$OUT/big.pdf" <<'PY'
import sys, zlib
# One page whose content stream is ~200 MB of a comment-free no-op (a run of `q Q`).
target = 200 * 1000 * 1000
out = open(sys.argv[1], 'wb')
offsets = []
def obj(n, body):
    offsets.append(out.tell()); out.write(b'%d 0 obj\n' % n + body + b'\nendobj\n')
out.write(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
obj(1, b'<< /Type /Catalog /Pages 2 0 R >>')
obj(2, b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>')
obj(3, b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>')
chunk = b'q Q\n' * 262144
n = target // len(chunk)
offsets.append(out.tell())
out.write(b'4 0 obj\n<< /Length %d >>\nstream\n' % (n * len(chunk)))
for _ in range(n):
    out.write(chunk)
out.write(b'\nendstream\nendobj\n')
x = out.tell()
out.write(b'xref\n0 5\n0000000000 65535 f \n' + b''.join(b'%010d 00000 n \n' % o for o in offsets))
out.write(b'trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % x)
PY
U="$(python3 -c "import json,sys; u=json.load(open(sys.argv[1]))[-1]; print(u['user'], u['secret'], u['credential'])" "$OUT/users.json")"
read -r BU BSECRET BCRED <<< "$U"
idle=$(rss VmRSS)
TOKEN="$(curl -s -X POST -u "$BU:$BENCH_PASSWORD" "http://127.0.0.1:$PORT/csc/v2/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
t=$(date +%s.%N)
curl -s -o "$OUT/up.json" -H "Authorization: Bearer $TOKEN" -F "options={\"credential_id\":\"$BCRED\"};type=application/json" \
  -F "file=@$OUT/big.pdf;type=application/pdf" "http://127.0.0.1:$PORT/api/v1/documents"
up=$(echo "$(date +%s.%N) - $t" | bc)
grep -q '"documents"' "$OUT/up.json" || { echo "upload failed: $(head -c 400 "$OUT/up.json")"; exit 1; }
after_upload=$(rss VmHWM)
sleep 31   # a TOTP step this user has not used
OTP="$(python3 - "$BSECRET" <<'PY'
import base64, hashlib, hmac, struct, sys, time
s = base64.b32decode(sys.argv[1] + '=' * (-len(sys.argv[1]) % 8))
h = hmac.new(s, struct.pack('>Q', int(time.time()) // 30), hashlib.sha1).digest(); o = h[-1] & 15
print('%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
)"
BODY="$(python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['documents'][0]; print(json.dumps({'credential_id': sys.argv[2], 'pin': sys.argv[3], 'otp': sys.argv[4], 'documents': [{'id': d['id'], 'sha256': d['sha256'], 'hash': d['hash']}]}))" "$OUT/up.json" "$BCRED" "$BENCH_PIN" "$OTP")"
t=$(date +%s.%N)
curl -s -o "$OUT/ap.json" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data "$BODY" "http://127.0.0.1:$PORT/api/v1/documents/approve"
ap=$(echo "$(date +%s.%N) - $t" | bc)
ID="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['documents'][0]['id'])" "$OUT/ap.json")"
t=$(date +%s.%N)
curl -s -o "$OUT/big.signed.pdf" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/documents/$ID/signed"
down=$(echo "$(date +%s.%N) - $t" | bc)
peak=$(rss VmHWM)
printf 'size %s MB; upload %.2f s, approve %.2f s, download %.2f s; state %s\n' "$(( $(stat -c %s "$OUT/big.pdf") / 1000000 ))" "$up" "$ap" "$down" \
  "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['documents'][0]['state'])" "$OUT/ap.json")"
printf 'server RSS: idle %d MiB, peak after upload %d MiB, peak overall %d MiB (%d MiB over idle)\n' \
  $((idle / 1024)) $((after_upload / 1024)) $((peak / 1024)) $(((peak - idle) / 1024))
cmp -n "$(stat -c %s "$OUT/big.pdf")" "$OUT/big.pdf" "$OUT/big.signed.pdf" && echo "the signed file starts with the original, byte for byte"
