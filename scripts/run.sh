#!/usr/bin/env bash
# Builds the console (release bundle) and the server, then serves the console on the demo tenant,
# kept moving by the site simulator (`--simulate`: changes posted through the upload API).
# Extra arguments go to tenantscope-server, e.g. `scripts/run.sh --demo-devices 1000000 --listen 127.0.0.1:9000`.
#
# `scripts/run.sh --replicas N [--port P]` runs N servers over one PostgreSQL database instead: a local
# cluster in ./data/pg (scripts/pg.sh; PostgreSQL is installed when missing), servers on ports P, P+1, …
# (default 8080), the first one running the simulator; a change on any of them shows on every
# console. Ctrl-C stops the servers and the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh

replicas=0
port=8080
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas=${2:?--replicas N}; shift 2 ;;
    --replicas=*) replicas=${1#*=}; shift ;;
    --port) port=${2:?--port P}; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

echo "[run] building the console (trunk build --release)" >&2
TRUNK_OFFLINE=true trunk build --release >&2
echo "[run] building the server" >&2
cargo build --release -p tenantscope-server >&2
if [ "$replicas" -eq 0 ]; then
  exec ./target/release/tenantscope-server --dist dist --simulate "${args[@]}"
fi

mkdir -p data
cluster=$(pwd)/data/pg
server_url=$(bash scripts/pg.sh start "$cluster")
psql -q "$server_url" -tAc "SELECT 1 FROM pg_database WHERE datname = 'tenantscope'" | grep -q 1 \
  || psql -q "$server_url" -c "CREATE DATABASE tenantscope" >/dev/null
database=${server_url%/*}/tenantscope
echo "[run] PostgreSQL: $database (cluster in $cluster)" >&2
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash scripts/pg.sh stop "$cluster"
}
trap stop INT TERM EXIT
for i in $(seq 0 $((replicas - 1))); do
  extra=()
  [ "$i" -eq 0 ] && extra=(--simulate)
  TENANTSCOPE_DATABASE_URL=$database ./target/release/tenantscope-server --dist dist \
    --listen "127.0.0.1:$((port + i))" "${extra[@]}" "${args[@]}" &
  pids+=($!)
done
echo "[run] $replicas servers: $(for i in $(seq 0 $((replicas - 1))); do printf 'http://127.0.0.1:%s/ ' $((port + i)); done)" >&2
wait -n "${pids[@]}" || true
