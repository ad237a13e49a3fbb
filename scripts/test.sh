#!/usr/bin/env bash
# Sets up what the tests need and runs every check: format, lints for each feature
# set, the wasm32 builds, short fuzz runs, the Rust test suite, then the edge worker's
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

step "clippy: default features (cli), all targets"
cargo clippy --all-targets -- -D warnings
step "clippy: engine alone (--no-default-features)"
cargo clippy --lib --no-default-features -- -D warnings
step "engine builds for wasm32 (--no-default-features)"
cargo check --target wasm32-unknown-unknown --no-default-features
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
step "clippy: the edge worker (wasm32, --features edge)"
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features edge -- -D warnings
step "clippy: the control-plane worker (wasm32, --features control)"
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features control -- -D warnings
step "clippy: the npm package's engine (wasm32, --features js)"
cargo clippy --target wasm32-unknown-unknown --lib --no-default-features --features js -- -D warnings

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

step "cargo test (unit, integration, spec, golden, property, CLI, doc)"
cargo test

step "npm package: build the Wasm (wasm-pack), type tests (tsc), Node tests"
scripts/build-npm.sh
scripts/check-types.sh
node --test npm/test/*.test.mjs

step "edge, control plane and npm package in real workerd and Chromium: build, then node --test tests/edge/"
scripts/build-worker.sh edge
scripts/build-worker.sh control
cargo build --bin edgeprompt
EDGEPROMPT_BIN="${CARGO_TARGET_DIR:-target}/debug/edgeprompt" \
  node --test --test-concurrency=1 tests/edge/
