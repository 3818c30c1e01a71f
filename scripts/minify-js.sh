#!/usr/bin/env bash
# Trunk post-build hook (release only): minifies wasm-bindgen's JS glue with terser (trunk's own JS
# minifier cannot parse it) and updates its subresource-integrity hash in index.html. ~2 KB gzip.
set -euo pipefail
[ "${TRUNK_PROFILE:-}" = "release" ] || exit 0
TOOLS="${TENANTSCOPE_TOOLS:-$HOME/.cache/tenantscope-tools}"
TERSER="$TOOLS/npm/node_modules/.bin/terser"
[ -x "$TERSER" ] || { echo "terser missing: run scripts/tools.sh" >&2; exit 1; }
cd "$TRUNK_STAGING_DIR"
html="${TRUNK_HTML_FILE##*/}"
for js in *.js; do
  old=$(openssl dgst -sha384 -binary "$js" | openssl base64 -A)
  "$TERSER" "$js" --module --compress --mangle -o "$js.min"
  mv "$js.min" "$js"
  new=$(openssl dgst -sha384 -binary "$js" | openssl base64 -A)
  # The hash appears as sha384-<base64>; base64 has no characters sed's | delimiter or & would break.
  sed -i "s|sha384-$old|sha384-$new|g" "$html"
done
