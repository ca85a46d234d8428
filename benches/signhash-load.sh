#!/usr/bin/env bash
# signatures/signHash throughput of `shomei serve` over loopback: ECDSA P-256, one SAD
# with a large numSignatures (a SCAL 1 credential), 64 concurrent clients, every
# response sent after its audit record is committed; 1 and 10 hashes per call, on
# SQLite and (when SHOMEI_PG_PORT names a running tests/pg-cluster.sh cluster) on
# PostgreSQL. Prints one JSON line per run and `openssl speed ecdsap256` as the ceiling.
#
#   benches/signhash-load.sh [SECONDS]      (release binaries: cargo build --release
#                                            --bin shomei --example signhash_load)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
BIN=target/release/shomei
LOAD=target/release/examples/signhash_load
[ -x "$BIN" ] && [ -x "$LOAD" ] || { echo "build first: cargo build --release --bin shomei --example signhash_load" >&2; exit 2; }
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$OUT"' EXIT
head -c 32 /dev/urandom | base64 > "$OUT/master.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$OUT/ca.key" -out "$OUT/ca.pem" \
  -subj "/CN=bench CA" -days 2 2>/dev/null
export BENCH_PASSWORD="bench password 1234" BENCH_PIN="123456"
totp() { python3 - "$1" <<'PY'
import base64, hashlib, hmac, struct, sys, time
s = base64.b32decode(sys.argv[1] + '=' * (-len(sys.argv[1]) % 8))
h = hmac.new(s, struct.pack('>Q', int(time.time()) // 30), hashlib.sha1).digest(); o = h[-1] & 15
print('%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
}
run() { # BACKEND DB_ARGS...
  local backend="$1"; shift
  local admin=("$BIN" admin "$@" --master-key-file "$OUT/master.key")
  "${admin[@]}" user create bench --password-env BENCH_PASSWORD >/dev/null
  local secret cred port=9370
  secret="$("${admin[@]}" totp bench | sed -n 's/^  secret: //p')"
  cred="$("${admin[@]}" credential create --user bench --key ec-p256 --scal 1 --multisign 100000000 --pin-env BENCH_PIN)"
  "${admin[@]}" credential csr "$cred" --subject bench -o "$OUT/$backend.csr" >/dev/null
  openssl x509 -req -in "$OUT/$backend.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -set_serial 7 -days 1 -out "$OUT/$backend.pem" 2>/dev/null
  cat "$OUT/$backend.pem" "$OUT/ca.pem" > "$OUT/$backend.chain"
  "${admin[@]}" credential import "$cred" "$OUT/$backend.chain" >/dev/null
  "$BIN" serve --listen "127.0.0.1:$port" "$@" --master-key-file "$OUT/master.key" > "$OUT/$backend.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  local token sad
  token="$(curl -s -X POST -u "bench:$BENCH_PASSWORD" "http://127.0.0.1:$port/csc/v2/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  sad="$(curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"credentialID\":\"$cred\",\"numSignatures\":100000000,\"authData\":[{\"id\":\"PIN\",\"value\":\"$BENCH_PIN\"},{\"id\":\"OTP\",\"value\":\"$(totp "$secret")\"}]}" \
    "http://127.0.0.1:$port/csc/v2/credentials/authorize" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SAD"])')"
  [ -n "${BENCH_PERF:-}" ] && { perf record -F 999 -g -p "$pid" -o "$BENCH_PERF" >/dev/null 2>&1 & }
  for per in ${BENCH_PER:-1 10}; do
    printf '%s ' "$backend"; "$LOAD" "http://127.0.0.1:$port" "$token" "$cred" "$sad" "$per" 64 "$SECS"
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
[ -z "${BENCH_ONLY_PG:-}" ] && run sqlite --data-dir "$OUT/data"
if [ -n "${SHOMEI_PG_PORT:-}" ]; then
  run postgres --database-url "$(tests/pg-cluster.sh createdb "$SHOMEI_PG_PORT" "bench_$$")"
fi
echo "ceiling: $(openssl speed -seconds 3 ecdsap256 2>/dev/null | grep '^ 256 bits ecdsa' | awk '{print $(NF-1) " sign/s, " $NF " verify/s"}')"
