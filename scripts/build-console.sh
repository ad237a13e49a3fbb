#!/usr/bin/env bash
# Builds the web console (www/) into build-www/console/, the control-plane Worker's
# static assets (wrangler.control.toml [assets]); wrangler.control.toml's [build] runs
# it, and so do scripts/run.sh and scripts/test.sh. The preview runs the npm package's
# Wasm, so the npm package is built first (scripts/build-npm.sh, skipped when current).
# Skips the console's own build when nothing it is built from changed
# (EDGEPROMPT_FORCE_BUILD=1 forces one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ -d node_modules/esbuild ] || { echo "build-console.sh: node_modules is missing: run scripts/setup.sh first" >&2; exit 1; }
scripts/build-npm.sh >/dev/null
out=build-www/console/index.html
if [ -z "${EDGEPROMPT_FORCE_BUILD:-}" ] && [ -f "$out" ] \
   && [ -z "$(find www/src www/build.mjs npm/pkg npm/src package-lock.json scripts/build-console.sh -newer "$out" -print -quit)" ]; then
  echo "build-console.sh: build-www/console/ is up to date"
  exit 0
fi
node www/build.mjs
echo "build-console.sh: build-www/console/ ($(du -sk build-www/console | cut -f1) KB)"
