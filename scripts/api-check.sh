#!/usr/bin/env bash
# Property-based check of the API against its own OpenAPI document: starts the real server (built by
# `cargo build -p tenantscope-server`) on an ephemeral loopback port with a small demo tenant, and
# runs schemathesis with every check: no server error, every response as documented (status, type,
# headers, schema), every schema-valid request accepted and every schema-violating one refused.
# Prints a cargo-style `test result:` line for scripts/test.sh's totals.
# Usage: scripts/api-check.sh [MAX_EXAMPLES_PER_OPERATION] (default 50; the seed is fixed so that a
# failure reproduces; set TENANTSCOPE_API_SEED for another one).
set -uo pipefail
cd "$(dirname "$0")/.."
st="${TENANTSCOPE_SCHEMATHESIS:-$HOME/.cache/tenantscope-tools/venv/bin/schemathesis}"
server="${TENANTSCOPE_SERVER:-target/debug/tenantscope-server}"
examples="${1:-50}"
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
result() { echo "test result: $1. $2 passed; $3 failed; 0 ignored (API property check)"; }

if [ ! -x "$server" ]; then echo "no server binary at $server"; result FAILED 0 1; exit 1; fi
"$server" --listen 127.0.0.1:0 --dist none --data-dir "$work/data" --demo-devices 300 >"$work/server.log" 2>&1 &
pid=$!
base=""
for _ in $(seq 1 300); do
  base=$(sed -n 's/.*Tenantscope is running at \(http:\/\/127\.0\.0\.1:[0-9]*\)\/.*/\1/p' "$work/server.log" | head -1)
  # Running, and ready (no longer 503 while preparing).
  if [ -n "$base" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/summary")" = 200 ]; then break; fi
  sleep 0.2
done
if [ -z "$base" ]; then cat "$work/server.log"; result FAILED 0 1; exit 1; fi
echo "server at $base; schemathesis $("$st" --version 2>/dev/null | awk '{print $NF}'), $examples examples per operation"
# The events stream never ends by design (tests/upload.rs reads it); every other operation is run.
if "$st" run "$base/api/v1/openapi.json" --url "$base/api/v1" --checks all --max-examples "$examples" --exclude-path /events \
     --seed "${TENANTSCOPE_API_SEED:-20261126}" --no-color; then
  result ok 1 0
else
  result FAILED 0 1
  exit 1
fi
