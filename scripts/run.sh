#!/usr/bin/env bash
# Builds the console (release bundle) and the server, then serves the console on the demo tenant,
# kept moving by the site simulator (`--simulate`: changes posted through the upload API).
# Extra arguments go to tenantscope-server, e.g. `scripts/run.sh --demo-devices 1000000 --listen 127.0.0.1:9000`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh

echo "[run] building the console (trunk build --release)" >&2
TRUNK_OFFLINE=true trunk build --release >&2
echo "[run] building the server" >&2
cargo build --release -p tenantscope-server >&2
exec ./target/release/tenantscope-server --dist dist --simulate "$@"
