#!/usr/bin/env bash
# Runs every test: model, server and console unit tests, server API tests on a real SQLite file and
# again on a throw-away PostgreSQL cluster (with two replicas),
# wasm tests in headless Chromium, and the end-to-end test of the release bundle in Chromium.
# Installs what is missing first (scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh

logs=$(mktemp -d)
pgdir=$(mktemp -d /tmp/tenantscope-pg.XXXXXX)
# The throw-away PostgreSQL cluster is stopped whatever happens (CI must not leave a server running).
trap 'bash scripts/pg.sh stop "$pgdir"; rm -rf "$logs" "$pgdir"' EXIT
step() { printf '\n\033[1m[test] %s\033[0m\n' "$*" >&2; }
# Every step runs, whatever the one before it did; a step that fails without a test summary (a
# compile error, a crash, a failed build) counts as one failure in the totals.
broken=()
run() { # run NAME CMD...: shows output and keeps it for the totals
  local name=$1; shift
  if ! "$@" 2>&1 | tee "$logs/$name.log"; then
    if ! grep -q "test result: FAILED" "$logs/$name.log"; then broken+=("$name"); fi
  fi
}

step "native tests: model, server (real router + SQLite), console logic"
run native cargo test --workspace --locked

step "PostgreSQL: the server suites again over a throw-away PostgreSQL cluster, and two replicas"
# scripts/pg.sh installs PostgreSQL when missing, initdb's a cluster in a temporary directory and
# starts it on a free loopback port; each test makes a database of its own there.
if pg_url=$(bash scripts/pg.sh start "$pgdir"); then
  run postgres env TENANTSCOPE_TEST_DATABASE="$pg_url" cargo test --locked -p tenantscope-server \
    --test api --test upload --test access --test privacy --test import --test graph --test site --test replicas --test tenants
else
  broken+=(postgres)
fi

step "API property check: schemathesis against the real server and its OpenAPI document"
run api-check bash scripts/api-check.sh

step "release bundle (trunk build --release, wasm-opt)"
run bundle env TRUNK_OFFLINE=true trunk build --release

step "end-to-end: release bundle in headless Chromium"
run e2e cargo test --locked -p tenantscope --test e2e -- --ignored --test-threads=1

step "wasm tests in headless Chromium"
run wasm cargo test --locked -p tenantscope --target wasm32-unknown-unknown --test wasm

step "release bundle size (gzip -9)"
# Issue #6: the release bundle (wasm + js + css, gzip -9) is at most 300 KB; counted in bytes
# (300,000), so it holds whether a KB is read as 1,000 or 1,024 bytes.
bundle_budget=300000
wasm_gz=0; js_gz=0; css_gz=0
shopt -s nullglob
for f in dist/*.wasm; do wasm_gz=$((wasm_gz + $(gzip -9 -c "$f" | wc -c))); done
for f in dist/*.js; do js_gz=$((js_gz + $(gzip -9 -c "$f" | wc -c))); done
for f in dist/*.css; do css_gz=$((css_gz + $(gzip -9 -c "$f" | wc -c))); done
bundle_gz=$((wasm_gz + js_gz + css_gz))
bundle_line="bundle: wasm $wasm_gz B + js $js_gz B + css $css_gz B = $bundle_gz B gzip ($((bundle_gz / 1000)) KB; budget $((bundle_budget / 1000)) KB)"
echo "$bundle_line"
bundle_ok=1; [ "$bundle_gz" -le "$bundle_budget" ] && [ "$wasm_gz" -gt 0 ] || bundle_ok=0

passed=0; failed=0
while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < <(
  cat "$logs"/*.log | sed -n 's/.*test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p')
echo
echo "$bundle_line"
if [ "$bundle_ok" -eq 0 ]; then echo "the release bundle is missing or over its budget"; failed=$((failed + 1)); fi
for name in "${broken[@]}"; do echo "step '$name' failed without a test summary"; failed=$((failed + 1)); done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
