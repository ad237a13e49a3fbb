#!/usr/bin/env bash
# Builds one of the two Workers with local tools only; each wrangler config's [build]
# runs it:
#   scripts/build-worker.sh          the edge (crate edge/)             -> build/
#   scripts/build-worker.sh control  the control plane (crate control/) -> build-control/
# Size-optimised (opt-level "z", wasm-opt -Oz) without changing the release profile the
# CLI uses. EDGEPROMPT_KEEP_NAMES=1 keeps function names (for profiles); for size/speed
# experiments EDGEPROMPT_WORKER_OPT sets the opt-level and EDGEPROMPT_WORKER_CARGO_ARGS
# adds cargo arguments (e.g. "--config profile.release.package.serde_json.opt-level=3").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
case "${1:-edge}" in
  edge) crate=edge; out=build ;;
  control) crate=control; out=build-control ;;
  *) echo "build-worker.sh: unknown worker \"$1\" (edge or control)" >&2; exit 2 ;;
esac
export PATH="$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=${EDGEPROMPT_WORKER_OPT:-z}
for v in WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN; do
  [ -x "${!v}" ] || { echo "build-worker.sh: $v=${!v} is missing: run scripts/setup.sh first" >&2; exit 1; }
done
# wrangler runs [build] twice on start; skip when nothing the worker is built from
# changed since the last build (EDGEPROMPT_FORCE_BUILD=1 forces a build).
if [ -z "${EDGEPROMPT_FORCE_BUILD:-}" ] && [ -f "$out/index_bg.wasm" ] && [ -f "$out/index.js" ] \
   && [ -z "$(find src shell "$crate" Cargo.toml Cargo.lock scripts/build-worker.sh -newer "$out/index_bg.wasm" -print -quit)" ]; then
  [ "$crate" != edge ] || cp edge/js/entry.mjs "$out/entry.mjs"
  echo "build-worker.sh: $out/ is up to date"
  exit 0
fi
command -v worker-build >/dev/null || { echo "build-worker.sh: worker-build is missing: run scripts/setup.sh first" >&2; exit 1; }
# worker-build builds the crate in the current directory; its output goes to the root.
(cd "$crate" && worker-build --release --out-dir "$ROOT/$out" ${EDGEPROMPT_WORKER_CARGO_ARGS:-})
# worker-build keeps the Wasm names section (function names in stack traces): ~30 KB
# gzipped. Drop it unless asked to keep it; panic messages are logged either way.
if [ "${EDGEPROMPT_KEEP_NAMES:-0}" != 1 ]; then
  "$WASM_OPT_BIN" "$out/index_bg.wasm" --strip-debug -o "$out/index_bg.wasm" \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
fi
# The edge's entry is JavaScript around the generated module (edge/js/entry.mjs).
if [ "$crate" = edge ]; then
  cp edge/js/entry.mjs "$out/entry.mjs"
fi
wasm_bytes=$(wc -c < "$out/index_bg.wasm")
gz_bytes=$(gzip -9 -c "$out/index_bg.wasm" | wc -c)
echo "build-worker.sh: $out/index_bg.wasm ($crate) is $wasm_bytes bytes, $gz_bytes gzipped"
