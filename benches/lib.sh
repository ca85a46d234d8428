# Shared by the whole-process benchmark scripts: `measure LABEL COMMAND...` runs the
# command once under /usr/bin/time -v and prints its wall time, CPU time (user + sys,
# and each: on a busy machine the kernel's share varies most) and peak RSS; the last
# figures stay in MEASURED_CPU, MEASURED_USER (seconds) and MEASURED_RSS (KiB) for
# scripts that compare runs. $DIR must name a scratch directory.
measure() {
  local label="$1" log="$DIR/time.log"; shift
  if ! /usr/bin/time -v "$@" >/dev/null 2>"$log"; then
    echo "  $label failed:" >&2; grep -v '^\s' "$log" | tail -5 >&2; return 1
  fi
  local wall rss user sys
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")"
  rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")"
  user="$(awk -F': ' '/User time \(seconds\)/ {print $2}' "$log")"
  sys="$(awk -F': ' '/System time \(seconds\)/ {print $2}' "$log")"
  MEASURED_CPU="$(echo "$user + $sys" | bc -l)"
  MEASURED_USER="$user" MEASURED_RSS="$rss"
  printf '  %-28s wall %-10s CPU %5.2f s (%5.2f u + %4.2f s)  peak RSS %6.1f MiB\n' "$label" \
    "$wall" "$MEASURED_CPU" "$user" "$sys" "$(echo "$rss/1024" | bc -l)"
}
