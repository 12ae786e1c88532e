#!/usr/bin/env bash
# Install (from Debian's packages, when missing) and start a throw-away PostgreSQL cluster on 127.0.0.1.
# Prints the SQLAlchemy URL of an empty database on its last line. Usage: .ci/postgres.sh [start|stop]
set -euo pipefail
PGPORT="${PORTICO_PG_PORT:-54329}"
PGDATA="${PORTICO_PG_DATA:-/tmp/portico-pg-$PGPORT}"
DBNAME="${PORTICO_PG_DB:-portico_test}"

find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

as_owner() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-start}" = stop ]; then
  bin=$(find_bin) && as_owner "$bin/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
  exit 0
fi

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

if ! as_owner "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA"
  as_owner "$bin/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
  as_owner "$bin/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >&2
fi
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qtA -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -qtA -c "CREATE DATABASE $DBNAME" >/dev/null
echo "postgresql+psycopg://postgres@127.0.0.1:$PGPORT/$DBNAME"
