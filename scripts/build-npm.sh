#!/usr/bin/env bash
# Builds the npm package's Wasm (npm/pkg/) with wasm-pack, once, `--target web`; the
# entry files in npm/src/ load it per environment. Skips when nothing changed since the
# last build (EDGEPROMPT_FORCE_BUILD=1 forces one). Prints the Wasm's size.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
out=npm/pkg
command -v wasm-pack >/dev/null || { echo "build-npm.sh: wasm-pack is missing: run scripts/setup.sh first" >&2; exit 1; }
command -v wasm-opt >/dev/null || { echo "build-npm.sh: wasm-opt is missing: run scripts/setup.sh first" >&2; exit 1; }
if [ -n "${EDGEPROMPT_FORCE_BUILD:-}" ] || [ ! -f "$out/edgeprompt_bg.wasm" ] \
   || [ -n "$(find src Cargo.toml Cargo.lock -newer "$out/edgeprompt_bg.wasm" -print -quit)" ]; then
  # --mode no-install: use the wasm-bindgen the setup installed, never download one.
  # Size against speed (BENCHMARKS.md, "npm package"): the engine at opt-level "s" (its
  # per-resolve path asks for inlining where it counts), every dependency at "z" (the
  # speed of their non-generic code does not show per resolve); wasm-opt -Oz after
  # (Cargo.toml's wasm-pack metadata).
  wasm-pack build --target web --mode no-install --release --no-pack \
    --out-dir "$out" --out-name edgeprompt -- --no-default-features --features js \
    --config 'profile.release.opt-level="s"' --config 'profile.release.package."*".opt-level="z"' \
    --config 'profile.release.package.sha2.opt-level=3' 
  rm -f "$out/.gitignore"
else
  echo "build-npm.sh: $out is up to date"
fi
wasm_bytes=$(wc -c < "$out/edgeprompt_bg.wasm")
gz_bytes=$(gzip -9 -c "$out/edgeprompt_bg.wasm" | wc -c)
echo "build-npm.sh: $out/edgeprompt_bg.wasm is $wasm_bytes bytes, $gz_bytes gzipped"
