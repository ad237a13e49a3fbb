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
   || [ -n "$(find src npm/rust npm/Cargo.toml Cargo.toml Cargo.lock scripts/build-npm.sh -newer "$out/edgeprompt_bg.wasm" -print -quit)" ]; then
  # --mode no-install: use the wasm-bindgen the setup installed, never download one.
  # Size against speed (BENCHMARKS.md, "npm package"): the engine at opt-level "s" (its
  # per-resolve path asks for inlining where it counts), every dependency at "z" (the
  # speed of their non-generic code does not show per resolve); wasm-opt after, below.
  profile=(--config 'profile.release.opt-level="s"' --config 'profile.release.package."*".opt-level="z"')
  if rustup run nightly rustc --print sysroot >/dev/null 2>&1 \
     && [ -d "$(rustup run nightly rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
    # With nightly's rust-src, the standard library is rebuilt for this package with
    # panics as immediate aborts (no panic messages, locations or formatting in the
    # Wasm: the engine never panics, and a panic traps either way): ~9 KB gzipped less,
    # which the size goal needs (BENCHMARKS.md). memcpy and friends (compiler_builtins)
    # stay at opt-level 3, so a resolve is as fast as with the prebuilt standard library.
    echo "build-npm.sh: nightly with rust-src: rebuilding std with panic=immediate-abort"
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
    rustup run nightly wasm-pack build --target web --mode no-install --release --no-pack --no-opt \
      --out-dir pkg --out-name edgeprompt npm -- "${profile[@]}" \
      --config 'profile.release.package.core.opt-level="s"' --config 'profile.release.package.alloc.opt-level="s"' \
      --config 'profile.release.package.std.opt-level="s"' --config 'profile.release.package.compiler_builtins.opt-level=3' \
      -Z build-std=std,panic_abort
  else
    echo "build-npm.sh: no nightly rust-src (scripts/setup.sh adds it): building on stable, ~9 KB gzipped larger (over the 88 KB goal)" >&2
    wasm-pack build --target web --mode no-install --release --no-pack --no-opt \
      --out-dir pkg --out-name edgeprompt npm -- "${profile[@]}"
  fi
  rm -f "$out/.gitignore"
  # -Oz, run to a fixed point (--converge), functions that differ only in constants
  # merged, and --low-memory-unused: Rust never computes an address that wraps past
  # 4 GiB into the first KiB, so wasm-opt may fold constant offsets into loads and
  # stores. Together ~1.1 KB gzipped below plain -Oz (BENCHMARKS.md, "npm package").
  wasm-opt --merge-similar-functions -Oz --converge --low-memory-unused \
    "$out/edgeprompt_bg.wasm" -o "$out/edgeprompt_bg.wasm"
else
  echo "build-npm.sh: $out is up to date"
fi
wasm_bytes=$(wc -c < "$out/edgeprompt_bg.wasm")
gz_bytes=$(gzip -9 -c "$out/edgeprompt_bg.wasm" | wc -c)
echo "build-npm.sh: $out/edgeprompt_bg.wasm is $wasm_bytes bytes, $gz_bytes gzipped"
