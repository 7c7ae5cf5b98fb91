#!/usr/bin/env bash
# Starts a private PostgreSQL server for the tests (once; later runs reuse it) and prints a libpq
# connection string for its test database on stdout:
#   export SYNCHOST_TEST_PG="$(scripts/start-postgres.sh)"
# The cluster lives in ${SYNCHOST_PG_DIR:-/tmp/synchost-pg-<user>}, listens on 127.0.0.1 only, on
# ${SYNCHOST_PG_PORT:-55432} or the next free port (chosen at first start and kept), with its unix
# socket inside that directory, so it never touches the system cluster. The role and database are
# both synchost_test, with a random password kept in the directory. As root (CI) the server runs
# as the postgres user, which PostgreSQL requires. `scripts/start-postgres.sh --stop` stops it.
set -euo pipefail

state=${SYNCHOST_PG_DIR:-/tmp/synchost-pg-$(id -un)}
data=$state/data
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "start-postgres: PostgreSQL server binaries not found (run scripts/install-deps.sh)" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi
pg_ctl() { as_owner "$bin/pg_ctl" -D "$data" "$@"; }

if [ "${1:-}" = "--stop" ]; then
  [ -d "$data" ] && pg_ctl -m fast stop >&2 || true
  exit 0
fi

# Two test runs starting at once (several people share a machine) must not both initialise it.
# The server must not inherit fd 9 (9>&- below), or it would hold the lock for its whole life.
mkdir -p "$state"
exec 9>"$state.lock"
flock -w 120 9

if [ "$(id -u)" -eq 0 ]; then chown postgres: "$state"; fi
chmod 700 "$state"

# First start, a previous first start that died half-way, or a cluster that /tmp cleaning ate:
# initialise from scratch.
if [ ! -f "$state/ready" ] || [ ! -f "$data/PG_VERSION" ]; then
  pg_ctl -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$data"
  port=${SYNCHOST_PG_PORT:-55432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
  as_owner "$bin/initdb" -D "$data" --encoding=UTF8 --no-locale --auth-local=peer --auth-host=scram-sha-256 \
    >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; exit 1; }
  # Throwaway test data: durability settings off for speed.
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$state'
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  pg_ctl -l "$state/server.log" -w -t 60 start >/dev/null 9>&- || { tail -n 20 "$state/server.log" >&2; exit 1; }
  psql=(as_owner "$bin/psql" -h "$state" -p "$port" -d postgres -v ON_ERROR_STOP=1 -qAt)
  "${psql[@]}" -c "CREATE ROLE synchost_test LOGIN PASSWORD '$password'" >/dev/null
  "${psql[@]}" -c "CREATE DATABASE synchost_test OWNER synchost_test" >/dev/null
  (umask 077 && echo "$port" >"$state/port" && echo "$password" >"$state/password")
  touch "$state/ready"
  echo "start-postgres: initialised a cluster in $state (port $port)" >&2
fi

port=$(cat "$state/port")
password=$(cat "$state/password")
if ! pg_ctl status >/dev/null 2>&1; then
  pg_ctl -l "$state/server.log" -w -t 60 start >/dev/null 9>&- || { tail -n 20 "$state/server.log" >&2; exit 1; }
fi
echo "host=127.0.0.1 port=$port dbname=synchost_test user=synchost_test password=$password"
