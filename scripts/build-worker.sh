#!/usr/bin/env bash
# Builds the edge worker (build/index.js + build/index_bg.wasm) with local tools only;
# wrangler.toml's [build] runs it. Size-optimised (opt-level "s") without changing the
# release profile the CLI uses.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
for v in WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN; do
  [ -x "${!v}" ] || { echo "build-worker.sh: $v=${!v} is missing: run scripts/setup.sh first" >&2; exit 1; }
done
# wrangler runs [build] twice on start; skip when nothing the worker is built from
# changed since the last build (EDGEPROMPT_FORCE_BUILD=1 forces a build).
if [ -z "${EDGEPROMPT_FORCE_BUILD:-}" ] && [ -f build/index_bg.wasm ] && [ -f build/index.js ] \
   && [ -z "$(find src migrations Cargo.toml Cargo.lock -newer build/index_bg.wasm -print -quit)" ]; then
  echo "build-worker.sh: build/ is up to date"
  exit 0
fi
command -v worker-build >/dev/null || { echo "build-worker.sh: worker-build is missing: run scripts/setup.sh first" >&2; exit 1; }
exec worker-build --release --no-default-features --features edge "$@"
