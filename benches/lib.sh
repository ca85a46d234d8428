# Shared by the whole-process benchmark scripts: `measure LABEL COMMAND...` runs the
# command once under /usr/bin/time -v and prints its wall time, CPU time (user + system)
# and peak RSS. $DIR must name a scratch directory.
measure() {
  local label="$1" log="$DIR/time.log"; shift
  /usr/bin/time -v "$@" >/dev/null 2>"$log"
  local wall cpu rss
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")"
  cpu="$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$log")"
  rss="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")"
  printf '  %-28s wall %-10s CPU %6s s  peak RSS %6.1f MiB\n' "$label" "$wall" "$cpu" "$(echo "$rss/1024" | bc -l)"
}
