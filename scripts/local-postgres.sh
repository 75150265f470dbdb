#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 cluster for the demo or for trying reftune by hand.
#
#   scripts/local-postgres.sh start DIR PORT   # initdb in DIR (if new), start on 127.0.0.1:PORT,
#                                              # create database "reftune"; prints the URL
#   scripts/local-postgres.sh stop DIR         # fast shutdown
#
# initdb and postgres refuse to run as root, so as root DIR is given to the `postgres` user and the
# commands run through runuser. Loopback connections need no password (trust authentication):
# never expose this cluster beyond 127.0.0.1.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

usage() {
  echo "usage: $0 start DIR PORT | stop DIR" >&2
  exit 2
}

[ $# -ge 2 ] || usage
command=$1
dir=$(realpath -m "$2")

case "$command" in
  start)
    [ $# -eq 3 ] || usage
    port=$3
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir" start >/dev/null
    if ! as_owner psql -h 127.0.0.1 -p "$port" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'reftune'" | grep -q 1; then
      as_owner psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE reftune" >/dev/null
    fi
    echo "postgresql://postgres@127.0.0.1:$port/reftune"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    usage
    ;;
esac
