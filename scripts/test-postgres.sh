#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on loopback, then stops it and deletes it.
#
#   scripts/test-postgres.sh [COMMAND...]      default: cargo test --workspace --locked
#
# Installs Debian's postgresql when no server binaries are found, initialises a cluster in a temporary directory
# (as the `postgres` user when run as root, since PostgreSQL refuses to run as root), starts it on a free port on
# 127.0.0.1 only, creates a database, and exports for the command:
#
#   CITYGUIDE_TEST_POSTGRES_URL   postgres://cityguide@127.0.0.1:PORT/cityguide (an admin URL: tests create a
#                                 database of their own per test)
#   CITYGUIDE_REQUIRE_POSTGRES=1  server tests fail, rather than run on SQLite only, when the URL is missing
#
# Exits non-zero when PostgreSQL cannot be installed or started: the tests must not pass without it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "installing Debian's postgresql (apt-get)" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >&2
  bin=$(find_bin) || { echo "PostgreSQL could not be installed" >&2; exit 1; }
fi

work=$(mktemp -d /tmp/cityguide-pg.XXXXXX)
chmod 755 "$work"
as_pg() { # runs a PostgreSQL program as a non-root user
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown -R postgres "$work"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

as_pg "$bin/initdb" -D "$work/data" -U cityguide --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; echo "initdb failed" >&2; exit 1; }
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c max_connections=200" start >/dev/null \
  || { cat "$work/server.log" >&2; echo "PostgreSQL did not start" >&2; exit 1; }
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U cityguide cityguide

export CITYGUIDE_TEST_POSTGRES_URL="postgres://cityguide@127.0.0.1:$port/cityguide"
export CITYGUIDE_REQUIRE_POSTGRES=1
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $work)" >&2

if [ "$#" -eq 0 ]; then set -- cargo test --workspace --locked; fi
"$@"
