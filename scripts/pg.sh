#!/usr/bin/env bash
# A throw-away PostgreSQL cluster (Debian's, 15 here) on loopback, for the tests and the replica demo:
# its one role trusts loopback connections, so it is for one's own machine, not a shared host.
#   scripts/pg.sh start DIR   initdb (first time) and start; prints the connection string
#   scripts/pg.sh stop DIR    stop (fast)
# Installs Debian's postgresql when missing. Runs the server as the `postgres` user when started as
# root (initdb refuses root); the cluster's only role is `tenantscope`, trusted on loopback.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?cluster directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  [ "$action" = stop ] && exit 0
  echo "[pg] installing PostgreSQL (apt-get install postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "[pg] PostgreSQL is missing and this is not root: install the postgresql package" >&2; exit 1; }
    sudo=(sudo --preserve-env=DEBIAN_FRONTEND)
  fi
  "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" apt-get install -y -qq postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

case "$action" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" -A trust -U tenantscope -E UTF8 --locale=C >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      # A free port: the kernel's choice for a socket bound and closed at once.
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c synchronous_commit=off" \
        start >/dev/null
      echo "$port" > "$dir/port"
    fi
    echo "postgres://tenantscope@127.0.0.1:$(cat "$dir/port")/postgres"
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
