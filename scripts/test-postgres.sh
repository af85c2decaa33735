#!/usr/bin/env bash
# A throwaway PostgreSQL server for olc's tests and for trying a shared
# store by hand, from Debian's postgresql package (installed when missing
# and this runs as root).
#
#   scripts/test-postgres.sh run CMD ARGS…   start a server, run CMD with
#       OLC_TEST_POSTGRES (its URL) and OLC_TEST_POSTGRES_CTL (a command
#       taking stop or start, for tests that restart the server) set, then
#       stop the server and remove its folder, whatever CMD did.
#   scripts/test-postgres.sh start [DIR]     start one in DIR (a new
#       temporary folder by default) and print its URL; it runs until
#   scripts/test-postgres.sh stop DIR        stops it and removes DIR.
#   scripts/test-postgres.sh ctl DIR stop|start   stop or start it again,
#       keeping its data.
#   scripts/test-postgres.sh install         install the server's programs
#       when they are missing (as root, with apt-get).
#
# The server listens on a free loopback port and on a Unix socket in DIR,
# trusts local connections (it is for tests: never expose it), and holds
# a database "olc" owned by the user "olc". initdb, pg_ctl and postgres
# refuse to run as root, so as root they run as the postgres user.
set -euo pipefail

pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$d" || ! -x "$d/initdb" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      echo "test-postgres: installing Debian's postgresql package" >&2
      apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    else
      echo "test-postgres: PostgreSQL's server programs are not installed (apt-get install postgresql)" >&2
      exit 1
    fi
  fi
  echo "$d"
}

# as runs a command as the postgres user when root, else as oneself.
as() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

freeport() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=${1:-} bin port
  bin=$(pgbin)
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d /tmp/olc-postgres.XXXXXX)
  fi
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  as "$bin/initdb" -D "$dir/data" -U olc -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(freeport)
  echo "$port" >"$dir/port"
  as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  as "$bin/createdb" -h "$dir" -p "$port" -U olc olc
  echo "postgres://olc@127.0.0.1:$port/olc?sslmode=disable"
  echo "test-postgres: server in $dir; stop it with: $0 stop $dir" >&2
}

ctl() {
  local dir=$1 what=$2 bin port
  bin=$(pgbin)
  port=$(cat "$dir/port")
  case "$what" in
    stop) as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
    start) as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null ;;
    *) echo "test-postgres: ctl takes stop or start, not $what" >&2; exit 2 ;;
  esac
}

stop() {
  local dir=$1
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    ctl "$dir" stop || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  run)
    shift
    dir=$(mktemp -d /tmp/olc-postgres.XXXXXX)
    trap 'stop "$dir"' EXIT
    url=$(start "$dir" 2>/dev/null)
    echo "test-postgres: PostgreSQL at $url" >&2
    OLC_TEST_POSTGRES=$url OLC_TEST_POSTGRES_CTL="$(realpath "$0") ctl $dir" "$@"
    ;;
  start) start "${2:-}" ;;
  stop) stop "$2" ;;
  ctl) ctl "$2" "$3" ;;
  install) pgbin >/dev/null ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
    ;;
esac
