#!/usr/bin/env bash
# Long coverage-guided fuzzing of every target (or those named), one at a time, then a
# minimization of what was found. For each target:
#   1. seeds: the committed corpus fuzz/corpus/<target> plus the fixtures fuzz/seed.sh
#      copies (repository and ../shared fixtures), in a temporary working directory;
#   2. libFuzzer runs MINUTES_PER_TARGET minutes (nice 19) on that directory;
#   3. libFuzzer's merge (set cover, edges only) starts from the fixtures alone and adds
#      the fewest inputs of at most COMMIT_MAX_BYTES that reach the edges beyond them;
#      those become the new fuzz/corpus/<target>. Fixtures of ../shared never enter the
#      repository, and larger finds are dropped to keep the corpora small.
# Crashes, timeouts and out-of-memory inputs go to fuzz/artifacts/<target>/ (ignored by
# git). A summary line per target; the exit status is 1 when anything crashed.
#   fuzz/campaign.sh [MINUTES_PER_TARGET] [TARGET...]      (default 10, every target)
# Environment: FUZZ_WORK (working directory, default a new temporary one), FUZZ_MAX_LEN
# (largest input, default 1 MiB), COMMIT_MAX_BYTES (largest input kept in the repo,
# default 8 KiB; 32 KiB for the PDF targets, whose inputs are whole documents).
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-10}"
shift || true
MAX_LEN="${FUZZ_MAX_LEN:-1048576}"
WORK="${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/shomei-fuzz.XXXXXX")}"
mkdir -p "$WORK"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz); fi
# One build of every target named (release with debug assertions, address sanitizer).
for t in "${targets[@]}"; do nice -n 19 cargo fuzz build --fuzz-dir fuzz "$t"; done
bin_dir="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
summary="$WORK/summary.txt"
: >"$summary"
failed=0
echo "fuzz campaign: ${#targets[@]} targets, $MINUTES min each, work in $WORK"
for t in "${targets[@]}"; do
  dir="$WORK/$t"
  rm -rf "$dir"
  mkdir -p "$dir/seeds" "$dir/live" "$dir/merged" "fuzz/artifacts/$t" "fuzz/corpus/$t"
  fuzz/seed.sh "$t" "$dir/seeds"
  cp "$dir"/seeds/* "$dir/live"/ 2>/dev/null || true
  cp fuzz/corpus/"$t"/* "$dir/live"/ 2>/dev/null || true
  # Crashes, timeouts, out-of-memory and leaks fail the campaign; slow units (over 10 s
  # on a loaded machine, still within the timeout) are only counted.
  found() { find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l; }
  slow_before=$(find "fuzz/artifacts/$t" -type f -name 'slow-unit-*' | wc -l)
  before=$(found)
  start=$(date +%s)
  echo "fuzz: $t for $MINUTES min ($(date -u +%H:%M:%S) UTC)"
  set +e
  nice -n 19 "$bin_dir/$t" "$dir/live" -max_total_time=$((MINUTES * 60)) \
    -rss_limit_mb=2048 -max_len="$MAX_LEN" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$dir/run.log" 2>&1
  status=$?
  set -e
  seconds=$(($(date +%s) - start))
  # Minimize: the fixtures first, then the fewest small finds that add edges to them.
  case "$t" in pdf*) limit="${COMMIT_MAX_BYTES:-32768}" ;; *) limit="${COMMIT_MAX_BYTES:-8192}" ;; esac
  mkdir -p "$dir/small" "$dir/kept"
  find "$dir/live" -type f -size -$((limit + 1))c -exec cp {} "$dir/small"/ \;
  cp "$dir"/seeds/* "$dir/merged"/ 2>/dev/null || true
  nice -n 19 "$bin_dir/$t" -merge=1 -set_cover_merge=1 -use_counters=0 "$dir/merged" "$dir/small" \
    -max_len="$MAX_LEN" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$dir/merge-" \
    >"$dir/merge.log" 2>&1 || true
  for f in "$dir"/merged/*; do
    [ -e "$f" ] || continue
    [ -e "$dir/seeds/$(basename "$f")" ] || cp "$f" "$dir/kept/"
  done
  rm -rf "fuzz/corpus/$t" && mkdir -p "fuzz/corpus/$t"
  cp "$dir"/kept/* "fuzz/corpus/$t"/ 2>/dev/null || true
  crashes=$(($(found) - before))
  slow=$(($(find "fuzz/artifacts/$t" -type f -name 'slow-unit-*' | wc -l) - slow_before))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/run.log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$dir/run.log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(find "fuzz/corpus/$t" -type f | wc -l)
  bytes=$(du -sb "fuzz/corpus/$t" | cut -f1)
  line="$t: ${seconds}s, ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus $files files / $bytes bytes, crashes $crashes, slow units $slow (libFuzzer exit $status)"
  echo "$line" | tee -a "$summary"
  if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
    failed=1
    grep -m 5 -E 'ERROR|panicked|Test unit written' "$dir/run.log" || true
  fi
done
echo "--- summary ($summary)"
cat "$summary"
exit "$failed"
