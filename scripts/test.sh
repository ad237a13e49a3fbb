#!/usr/bin/env bash
# Sets up what the tests need and runs every check: format, lints for the workspace
# natively and for wasm32, the wasm32 builds, short fuzz runs, the Rust test suite, then the edge worker's
# tests in real workerd.
#   FUZZ_SECONDS=N   seconds per fuzz target (default 20; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
if [ "$FUZZ_SECONDS" = 0 ]; then export EDGEPROMPT_FUZZ=0; fi

step() { printf '\n==> %s\n' "$*"; }

step setup
scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "clippy: the whole workspace, natively, all targets"
cargo clippy --workspace --all-targets -- -D warnings
step "clippy: the engine and the Wasm crates for wasm32 (edge, control, npm)"
cargo clippy --target wasm32-unknown-unknown -p edgeprompt -p edgeprompt-shell \
  -p edgeprompt-edge -p edgeprompt-control -p edgeprompt-npm -- -D warnings
step "the engine's dependency tree holds no platform crate"
if cargo tree -p edgeprompt -e normal --prefix none | grep -E '^(wasm-bindgen|worker|clap|ureq|js-sys|web-sys) '; then
  echo "test.sh: the engine (edgeprompt) depends on a platform crate (above)" >&2; exit 1
fi

if [ "$FUZZ_SECONDS" != 0 ]; then
  for target in manifest template; do
    step "fuzz $target for ${FUZZ_SECONDS}s"
    mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
    # Seeds first, then the kept corpus; new finds go to a scratch directory so a
    # test run does not churn the committed corpus.
    scratch=$(mktemp -d)
    cargo +nightly fuzz run "$target" "$scratch" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -max_len=8192 -print_final_stats=1 2>&1 | tail -n 12
    rm -rf "$scratch"
  done
fi

step "benchmarks compile and run once (cargo test --benches)"
cargo test --benches

step "cargo test --workspace (unit, integration, conformance, spec, property, CLI, doc)"
cargo test --workspace

step "npm package: build the Wasm (wasm-pack), type tests (tsc), Node tests"
scripts/build-npm.sh
scripts/check-types.sh
# npm/test/*.test.mjs (this glob does not descend) need only the built package; the
# package's tests that need the Workers built, workerd or Chromium are in npm/test/e2e/
# and run with the edge's below.
node --test npm/test/*.test.mjs

step "the web console (www/): type check (tsc), build (esbuild), unit tests (Node)"
npx tsc -p www --noEmit
scripts/build-console.sh
node --test www/test/units.test.mjs

step "edge, control plane, console and npm package in real workerd and Chromium: build, then node --test tests/edge/ www/test/console.test.mjs npm/test/e2e/"
scripts/build-worker.sh edge
scripts/build-worker.sh control
cargo build --bin edgeprompt
EDGEPROMPT_BIN="${CARGO_TARGET_DIR:-target}/debug/edgeprompt" \
  node --test --test-concurrency=1 tests/edge/ www/test/console.test.mjs npm/test/e2e/*.test.mjs

step "the benchmarks' JavaScript peer Worker still does the work it is measured for (benches/peer-worker/check.mjs)"
node benches/peer-worker/check.mjs
