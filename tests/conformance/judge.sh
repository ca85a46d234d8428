# `shomei validate` as the validation scripts ask it (validate.sh, validate-xml.sh):
# sourced after BIN, TRUST_ROOT, HERE and PY are set.
#
#   judge FILE [args]   runs `shomei validate FILE --trust "$TRUST_ROOT" --format json
#                       [args]`; sets RC, IND and SUB (per signature, comma separated)
#                       and LEVEL (of the first signature that is not a document
#                       time-stamp); every JSON report is checked against
#                       docs/validation-report.schema.json (SCHEMA_CHECKED, SCHEMA_BAD;
#                       a report that does not conform is kept as bad-report-N.json).
#   conforms FILE       whether FILE conforms to the schema (jsonschema, from .ci/run).
SCHEMA="$HERE/../../docs/validation-report.schema.json"
TEST_PY="${SHOMEI_TEST_PY:-${XDG_CACHE_HOME:-$HOME/.cache}/shomei-tests/venv/bin/python}"
"$TEST_PY" -c 'import jsonschema' 2>/dev/null || { echo "missing tool: jsonschema (see .ci/run)" >&2; exit 2; }
SCHEMA_CHECKED=0; SCHEMA_BAD=0

conforms() {
  "$TEST_PY" - "$SCHEMA" "$1" <<'PY'
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
PY
}

judge() {
  local f="$1"; shift
  "$BIN" validate "$f" --trust "$TRUST_ROOT" --format json "$@" > judge.json 2> judge.err; RC=$?
  if [ "$RC" != 2 ]; then
    SCHEMA_CHECKED=$((SCHEMA_CHECKED + 1))
    conforms judge.json 2> schema.err || { SCHEMA_BAD=$((SCHEMA_BAD + 1)); cp judge.json "bad-report-$SCHEMA_BAD.json"; }
  fi
  read -r IND SUB LEVEL < <("$PY" - judge.json <<'PY' 2>/dev/null || echo "unreadable - -"
import json, sys
r = json.load(open(sys.argv[1]))
sigs = [s for s in r["signatures"] if s["kind"] == "signature"] or r["signatures"]
print(",".join(s["indication"] for s in r["signatures"]) or "none",
      ",".join(s["sub_indication"] or "-" for s in r["signatures"]) or "-",
      sigs[0]["level"] if sigs and sigs[0]["level"] else "-")
PY
)
}
