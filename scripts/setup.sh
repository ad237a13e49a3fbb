#!/usr/bin/env bash
# Installs what edgeprompt needs to build and test; skips whatever is already there.
#   EDGEPROMPT_FUZZ=0  skip the fuzzing tools (nightly toolchain, cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.1

if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
  echo "setup: cargo and rustup are required (https://rustup.rs)" >&2
  exit 1
fi
# rust-toolchain.toml pins the toolchain, its components and the wasm32 target;
# asking rustup for it installs whatever of it is missing.
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
rustup component add rustfmt clippy >/dev/null
rustup target add wasm32-unknown-unknown >/dev/null

if [ "${EDGEPROMPT_FUZZ:-1}" != 0 ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo +"$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)" install cargo-fuzz \
      --version "$CARGO_FUZZ_VERSION" --locked
  fi
fi
echo "setup: ok"
