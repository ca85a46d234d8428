#!/usr/bin/env bash
# Faults under load for `shomei serve` (issue 13): real processes on loopback, bounded
# in time. Each phase prints one JSON line of figures and fails on a broken promise.
#
#   tests/faults/service.sh SHOMEI_BIN LOAD_BIN [PHASE ...]
#     LOAD_BIN: the signHash load generator (cargo build --example signhash_load)
#     PHASE: kill-sqlite kill-postgres pg-restart soak (default: all)
#   FAULTS_SECONDS   load per phase (default 12; the long form: 60)
#   SOAK_SECONDS     the soak (default 60; the long form: 600)
#   SHOMEI_PG_PORT   a running tests/pg-cluster.sh cluster (the PostgreSQL phases)
#   FAULTS_EXHAUST   the second signer's SAD in the kill phases (default 600 signatures)
#   FAULTS_PORT      first of the loopback ports used (default 9360, four of them)
#
# kill-sqlite / kill-postgres: `kill -9` of a node under steady signHash load (one node
#   on SQLite; two nodes on one PostgreSQL database, one of them killed), the node
#   started again; then `shomei audit verify` passes and every signature a client
#   received has its audit record, and the SAD's spent count is what the records name
#   (tests/faults/audit_join.py). Meanwhile a second signer spends a SAD of
#   FAULTS_EXHAUST signatures to its end: it is never over-spent, and the calls after
#   its end are refused (400, JSON).
# pg-restart: PostgreSQL stopped for 3 s and started again under load on two nodes:
#   calls during the outage are answered 503 with the JSON error, both nodes sign again
#   afterwards without a restart of theirs, and the join holds.
# soak: the signHash rate is measured for 5 s, then the load runs at half that rate;
#   the server's RSS is sampled each second. RSS growth from the end of the first tenth
#   to the end under 10 %, and not one failed call. A SAD lives 5 minutes at most, so
#   the load runs in segments of 4 minutes, each under a new SAD, on the same process.
# Every node logs at debug level: the log lines and the database are searched for the
# password, PIN, OTP codes, tokens and SADs used (none may appear).
set -euo pipefail
BIN="$(realpath "${1:?shomei binary}")"; LOAD="$(realpath "${2:?load generator}")"; shift 2
PHASES=("$@"); [ ${#PHASES[@]} -gt 0 ] || PHASES=(kill-sqlite kill-postgres pg-restart soak)
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECS="${FAULTS_SECONDS:-12}"; SOAK="${SOAK_SECONDS:-60}"
EXHAUST="${FAULTS_EXHAUST:-600}"
PORT0="${FAULTS_PORT:-9360}"
OUT="$(mktemp -d)"; cd "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; [ -n "${KEEP:-}" ] || rm -rf "$OUT"; }
trap cleanup EXIT
fail() { echo "faults: FAIL: $*" >&2; for f in "$OUT"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done; exit 1; }

head -c 32 /dev/urandom | base64 > master.key
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -subj "/CN=faults CA" -days 2 2>/dev/null
export FAULT_PASSWORD="fault password $RANDOM$RANDOM" FAULT_PIN="$((10000000 + RANDOM * RANDOM % 89999999))"
SECRETS=secrets.txt; : > "$SECRETS"
printf '%s\n%s\n' "$FAULT_PASSWORD" "$FAULT_PIN" >> "$SECRETS"

# provision NAME SIGNATURES DB-ARGS... → "CREDENTIAL TOTP_SECRET" of a new user NAME
# with a SCAL 1 P-256 credential certified by the test CA.
provision() {
  local name="$1" n="$2"; shift 2
  local admin=("$BIN" admin "$@" --master-key-file master.key) secret cred
  "${admin[@]}" user create "$name" --password-env FAULT_PASSWORD >/dev/null
  secret="$("${admin[@]}" totp "$name" | sed -n 's/^  secret: //p')"
  cred="$("${admin[@]}" credential create --user "$name" --key ec-p256 --scal 1 --multisign "$n" --pin-env FAULT_PIN)"
  "${admin[@]}" credential csr "$cred" --subject "$name" -o "$name.csr" >/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 1 \
    -out "$name.pem" 2>/dev/null
  cat "$name.pem" ca.pem > "$name.chain"
  "${admin[@]}" credential import "$cred" "$name.chain" >/dev/null
  [ -n "$cred" ] && [ -n "$secret" ] || return 1
  echo "$cred $secret"
}
# start_node NAME PORT DB-ARGS... → the node's PID in NODE_PID (log: NAME.log, appended)
start_node() {
  local name="$1" port="$2"; shift 2
  "$BIN" serve --listen "127.0.0.1:$port" "$@" --master-key-file master.key --log-level debug \
    >> "$name.log" 2>&1 &
  NODE_PID=$!; PIDS+=("$NODE_PID")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.1; done
  fail "node $name did not start"
}
# authorize PORT USER CREDENTIAL TOTP_SECRET SIGNATURES → "TOKEN SAD"
authorize() {
  local port="$1" user="$2" cred="$3" secret="$4" n="$5" token otp sad
  token="$(curl -sf -X POST -u "$user:$FAULT_PASSWORD" "http://127.0.0.1:$port/csc/v2/auth/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  otp="$(python3 "$ROOT/tests/conformance/totp.py" "$secret" "totp-$user")"
  sad="$(curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"credentialID\":\"$cred\",\"numSignatures\":$n,\"authData\":[{\"id\":\"PIN\",\"value\":\"$FAULT_PIN\"},{\"id\":\"OTP\",\"value\":\"$otp\"}]}" \
    "http://127.0.0.1:$port/csc/v2/credentials/authorize" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SAD"])')"
  printf '%s\n%s\n%s\n' "$token" "$otp" "$sad" >> "$SECRETS"
  echo "$token $sad"
}
verify_audit() { "$BIN" audit verify "$@" --master-key-file master.key >/dev/null || fail "shomei audit verify: the chain is broken"; }
stop_nodes() { for p in "$@"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }

# kill_phase NAME NODES DB-ARGS...: NODES (1 or 2) nodes under load, node 1 killed.
kill_phase() {
  local name="$1" nodes="$2"; shift 2
  local cred secret token sad urls="" pids=() a b
  read -r cred secret < <(provision "$name" 100000000 "$@")
  [ -n "$secret" ] || fail "$name: provisioning failed"
  for i in $(seq 1 "$nodes"); do
    start_node "$name-$i" $((PORT0 + i - 1)) "$@"; pids+=("$NODE_PID")
    urls="${urls:+$urls,}http://127.0.0.1:$((PORT0 + i - 1))"
  done
  read -r token sad < <(authorize "$PORT0" "$name" "$cred" "$secret" 100000000)
  [ -n "$sad" ] || fail "$name: no SAD"
  # A second signer whose SAD allows EXHAUST signatures, spent to the end by 16
  # clients while the node is killed: it must never sign one more.
  local xcred xsecret xtoken xsad
  read -r xcred xsecret < <(provision "$name-x" "$EXHAUST" "$@")
  read -r xtoken xsad < <(authorize "$PORT0" "$name-x" "$xcred" "$xsecret" "$EXHAUST")
  [ -n "$xsad" ] || fail "$name: no SAD for the second signer"
  "$LOAD" "$urls" "$token" "$cred" "$sad" 1 32 "$SECS" --record "$name.jsonl" > "$name.load" &
  local load=$!
  "$LOAD" "$urls" "$xtoken" "$xcred" "$xsad" 1 16 "$SECS" --record "$name-x.jsonl" > "$name-x.load" &
  local xload=$!
  sleep $((SECS / 3))
  kill -9 "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true
  sleep 1
  start_node "$name-1" "$PORT0" "$@"; pids[0]=$NODE_PID
  wait "$load" || fail "$name: the load generator failed"
  wait "$xload" || fail "$name: the second load generator failed"
  stop_nodes "${pids[@]}"
  verify_audit "$@"
  local db=(--sqlite "$2/shomei.db")
  [ "$1" = --database-url ] && db=(--pg "$2")
  python3 "$ROOT/tests/faults/audit_join.py" "${db[@]}" --credential="$cred" --sad="$sad" "$name.jsonl" \
    > "$name.join" || { cat "$name.join"; fail "$name: the audit trail does not account for what clients received"; }
  python3 "$ROOT/tests/faults/audit_join.py" "${db[@]}" --credential="$xcred" --sad="$xsad" --allow 400 --require 400 \
    "$name-x.jsonl" > "$name-x.join" || { cat "$name-x.join"; fail "$name: the exhausted SAD does not add up"; }
  echo "{\"phase\":\"$name\",\"load\":$(cat "$name.load"),\"join\":$(cat "$name.join"),\"exhausted_sad\":$(cat "$name-x.join")}"
}

pg_url() { "$ROOT/tests/pg-cluster.sh" createdb "$SHOMEI_PG_PORT" "faults_$1_$$"; }
need_pg() { [ -n "${SHOMEI_PG_PORT:-}" ] || fail "SHOMEI_PG_PORT names no running PostgreSQL cluster (tests/pg-cluster.sh start PORT)"; }

pg_restart_phase() {
  need_pg
  local url cred secret token sad pids=()
  url="$(pg_url restart)"
  read -r cred secret < <(provision restart 100000000 --database-url "$url")
  start_node restart-1 "$PORT0" --database-url "$url"; pids+=("$NODE_PID")
  start_node restart-2 $((PORT0 + 1)) --database-url "$url"; pids+=("$NODE_PID")
  read -r token sad < <(authorize "$PORT0" restart "$cred" "$secret" 100000000)
  local t0; t0=$(date +%s%N)
  "$LOAD" "http://127.0.0.1:$PORT0,http://127.0.0.1:$((PORT0 + 1))" "$token" "$cred" "$sad" 1 32 $((SECS + 6)) \
    --record restart.jsonl > restart.load &
  local load=$!
  sleep $((SECS / 3))
  (cd / && "$ROOT/tests/pg-cluster.sh" down "$SHOMEI_PG_PORT")
  sleep 3
  (cd / && "$ROOT/tests/pg-cluster.sh" up "$SHOMEI_PG_PORT")
  local up_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait "$load" || fail "pg-restart: the load generator failed"
  stop_nodes "${pids[@]}"
  verify_audit --database-url "$url"
  python3 "$ROOT/tests/faults/audit_join.py" --pg "$url" --credential="$cred" --sad="$sad" \
    --allow 503 --require 503 --recovered-after $((up_ms + 5000)) restart.jsonl > restart.join \
    || { cat restart.join; fail "pg-restart: outage not clean or nodes not recovered"; }
  echo "{\"phase\":\"pg-restart\",\"database_back_at_ms\":$up_ms,\"load\":$(cat restart.load),\"join\":$(cat restart.join)}"
}

soak_phase() {
  local cred secret token sad pid
  read -r cred secret < <(provision soak 1000000000 --data-dir soak-data)
  start_node soak "$PORT0" --data-dir soak-data; pid=$NODE_PID
  read -r token sad < <(authorize "$PORT0" soak "$cred" "$secret" 1000000000)
  local rate
  rate="$("$LOAD" "http://127.0.0.1:$PORT0" "$token" "$cred" "$sad" 1 32 5 \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["signatures_per_second"] / 2)')"
  python3 - "$pid" "$SOAK" > soak.rss <<'PY' &
import sys, time
pid, secs = sys.argv[1], int(sys.argv[2])
for _ in range(secs):
    time.sleep(1)
    try:
        rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")][0].split()[1]
    except (OSError, IndexError):
        break
    print(rss, flush=True)
PY
  local sampler=$!
  # A SAD lives 5 minutes at most (the service's cap): the soak runs in segments of
  # at most 4 minutes, each under a new SAD (a new OTP), on the same server process.
  local left=$SOAK n=0 part
  : > soak.parts
  while [ "$left" -gt 0 ]; do
    part=$(( left < 240 ? left : 240 )); left=$((left - part)); n=$((n + 1))
    [ "$n" = 1 ] || read -r token sad < <(authorize "$PORT0" soak "$cred" "$secret" 1000000000)
    "$LOAD" "http://127.0.0.1:$PORT0" "$token" "$cred" "$sad" 1 32 "$part" --rate "$rate" >> soak.parts
  done
  python3 -c '
import json, sys
parts = [json.loads(l) for l in open("soak.parts")]
secs = sum(p["seconds"] for p in parts)
print(json.dumps({"calls_failed": sum(p["calls_failed"] for p in parts),
    "signatures_per_second": sum(p["signatures_per_second"] * p["seconds"] for p in parts) / secs,
    "p99_ms": max(p["p99_ms"] for p in parts), "segments": len(parts)}))' > soak.load
  wait "$sampler" || true
  stop_nodes "$pid"
  verify_audit --data-dir soak-data
  python3 - "$rate" "$SOAK" soak.rss soak.load <<'PY' || fail "soak: RSS grew 10 % or more, or calls failed"
import json, sys
rate, secs, rss, load = float(sys.argv[1]), int(sys.argv[2]), [int(x) for x in open(sys.argv[3])], json.load(open(sys.argv[4]))
tenth = rss[max(0, len(rss) // 10 - 1)]
growth = (rss[-1] - tenth) / tenth
print(json.dumps({"phase": "soak", "seconds": secs, "target_rate": round(rate, 1),
                  "achieved_rate": round(load["signatures_per_second"], 1), "calls_failed": load["calls_failed"],
                  "rss_kib_after_first_tenth": tenth, "rss_kib_end": rss[-1], "rss_kib_max": max(rss),
                  "growth_percent": round(growth * 100, 2), "p99_ms_worst_segment": round(load["p99_ms"], 2),
                  "segments": load["segments"]}))
sys.exit(0 if growth < 0.10 and load["calls_failed"] == 0 and load["signatures_per_second"] >= 0.9 * rate else 1)
PY
}

# The secrets used must appear in no log line and nowhere in the databases.
secrets_check() {
  local dumps=()
  for d in */shomei.db; do [ -f "$d" ] && dumps+=("$d" "$d-wal"); done
  if [ -n "${SHOMEI_PG_PORT:-}" ]; then
    for db in $(psql -h 127.0.0.1 -p "$SHOMEI_PG_PORT" -U shomei -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'faults_%_$$'" shomei); do
      pg_dump -h 127.0.0.1 -p "$SHOMEI_PG_PORT" -U shomei --data-only "$db" > "$db.dump"; dumps+=("$db.dump")
    done
  fi
  python3 - "$SECRETS" *.log "${dumps[@]}" <<'PY' || fail "a secret appears in a log or a database"
import re, sys, os
secrets = sorted({s for s in open(sys.argv[1]).read().split("\n") if s})
found, searched = [], 0
for path in sys.argv[2:]:
    if not os.path.exists(path):
        continue
    data = open(path, "rb").read(); searched += len(data)
    for s in secrets:
        # Digits-only secrets (PIN, OTP) count where they stand as a string value
        # ("123456", '123456', =123456): six digits inside a timestamp's fraction, a
        # number column of a dump or a hex digest are not a leak.
        pat = re.escape(s.encode())
        if s.isdigit():
            pat = rb"(?<=[\"'=])" + pat + rb"(?![0-9A-Za-z.])"
        for m in re.finditer(pat, data):
            found.append(f"{path}: {s[:4]}... at byte {m.start()}")
print('{"phase":"secrets","secrets":%d,"bytes_searched":%d,"found":%d}' % (len(secrets), searched, len(found)))
for f in found[:20]:
    print("  " + f, file=sys.stderr)
sys.exit(1 if found else 0)
PY
}

for phase in "${PHASES[@]}"; do
  case "$phase" in
    kill-sqlite) kill_phase kill-sqlite 1 --data-dir kill-sqlite-data ;;
    kill-postgres) need_pg; kill_phase kill-postgres 2 --database-url "$(pg_url kill)" ;;
    pg-restart) pg_restart_phase ;;
    soak) soak_phase ;;
    *) fail "unknown phase $phase" ;;
  esac
done
secrets_check
echo "faults: service phases passed (${PHASES[*]})"
