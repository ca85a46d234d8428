#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests: Debian's initdb + pg_ctl, run as an
# unprivileged user, listening on 127.0.0.1 and a private port only. Never touches a
# system-wide cluster.
#
#   tests/pg-cluster.sh start PORT    prints the database URL (postgres://…)
#   tests/pg-cluster.sh createdb PORT NAME    a fresh database; prints its URL
#   tests/pg-cluster.sh stop PORT
#   tests/pg-cluster.sh down PORT     stops the server, keeps its data (an outage)
#   tests/pg-cluster.sh up PORT       starts it again on the same data
set -euo pipefail
cmd="${1:?start|stop}"; port="${2:?port}"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] || { echo "pg-cluster: PostgreSQL's initdb/pg_ctl are missing (apt-get install postgresql)" >&2; exit 1; }
dir="${TMPDIR:-/tmp}/shomei-pg-$port"
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: a system user of our own owns the cluster.
  id shomei-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin shomei-pg
  as() { runuser -u shomei-pg -- "$@"; }
else
  as() { "$@"; }
fi
serve() {
  as "$PGBIN/pg_ctl" -D "$dir" -w -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null
}
case "$cmd" in
  start)
    if [ -f "$dir/postmaster.pid" ]; then as "$PGBIN/pg_ctl" -D "$dir" stop -m fast >/dev/null 2>&1 || true; fi
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown shomei-pg "$dir"
    as "$PGBIN/initdb" -D "$dir" -A trust -U shomei --no-sync >/dev/null
    serve
    "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U shomei shomei
    echo "postgres://shomei@127.0.0.1:$port/shomei"
    ;;
  createdb)
    name="${3:?database name}"
    "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U shomei "$name"
    echo "postgres://shomei@127.0.0.1:$port/$name"
    ;;
  down)
    as "$PGBIN/pg_ctl" -D "$dir" -w stop -m fast >/dev/null
    ;;
  up)
    serve
    ;;
  stop)
    [ -d "$dir" ] && as "$PGBIN/pg_ctl" -D "$dir" stop -m fast >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg-cluster.sh start|createdb|down|up|stop PORT" >&2; exit 2 ;;
esac
