#!/usr/bin/env bash
# Installs what building and testing Tenantscope needs, skipping whatever is already there.
# Tools live under $TENANTSCOPE_TOOLS (default ~/.cache/tenantscope-tools) so CI and later runs reuse them.
# Source it (`. scripts/tools.sh`) to get PATH set up; run it to just install.
set -euo pipefail

TOOLS="${TENANTSCOPE_TOOLS:-$HOME/.cache/tenantscope-tools}"
TRUNK_VERSION=0.21.14
# Must equal the wasm-bindgen pinned in Cargo.toml / Cargo.lock.
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132
# The accessibility engine the browser tests run on every page (WCAG 2.1 A/AA rules).
AXE_VERSION=4.11.0
# Minifies wasm-bindgen's JS glue in release builds (scripts/minify-js.sh, a trunk hook).
TERSER_VERSION=5.36.0

mkdir -p "$TOOLS/bin"
export PATH="$TOOLS/npm/node_modules/.bin:$TOOLS/bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m[tools]\033[0m %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! "$TOOLS/bin/trunk" --version 2>/dev/null | grep -q "trunk $TRUNK_VERSION"; then
  say "installing trunk $TRUNK_VERSION (takes ~10 min once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked --root "$TOOLS"
fi

if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$TOOLS" --force
fi

if ! "$TOOLS/npm/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  say "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" >&2)
fi

if ! grep -q "\"version\": \"$AXE_VERSION\"" "$TOOLS/npm/node_modules/axe-core/package.json" 2>/dev/null; then
  say "installing axe-core $AXE_VERSION from npm (accessibility checks in the browser tests)"
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && npm install --no-audit --no-fund --silent "axe-core@$AXE_VERSION" >&2)
fi
if ! "$TOOLS/npm/node_modules/.bin/terser" --version 2>/dev/null | grep -q "terser $TERSER_VERSION"; then
  say "installing terser $TERSER_VERSION from npm (release JS minification)"
  mkdir -p "$TOOLS/npm"
  (cd "$TOOLS/npm" && npm install --no-audit --no-fund --silent "terser@$TERSER_VERSION" >&2)
fi
export TENANTSCOPE_AXE="$TOOLS/npm/node_modules/axe-core/axe.min.js"

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  say "installing chromium and chromium-driver"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The property-based API check (scripts/api-check.sh): schemathesis from PyPI, in its own venv.
SCHEMATHESIS_VERSION=4.32.5
if ! "$TOOLS/venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION from PyPI (API property checks)"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
export TENANTSCOPE_SCHEMATHESIS="$TOOLS/venv/bin/schemathesis"
