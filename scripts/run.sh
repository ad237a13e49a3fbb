#!/usr/bin/env bash
# Sets up, builds the CLI and runs it on the demo manifest (the local edge replaces
# this once the worker lands).
set -euo pipefail
cd "$(dirname "$0")/.."
EDGEPROMPT_FUZZ=0 scripts/setup.sh
cargo build --release --bin edgeprompt
bin=${CARGO_TARGET_DIR:-target}/release/edgeprompt
demo=examples/demo.json

echo; echo "\$ edgeprompt validate $demo"
"$bin" validate "$demo"
echo; echo "\$ edgeprompt resolve $demo --prompt support --unit user-42 --vars '{\"question\": \"Where is my order?\", \"plan\": \"pro\"}'"
"$bin" resolve "$demo" --prompt support --unit user-42 --vars '{"question": "Where is my order?", "plan": "pro"}'
echo; echo "\$ edgeprompt resolve $demo --prompt support --unit qa-alice --compact --vars '{\"question\": \"hi\"}'"
"$bin" resolve "$demo" --prompt support --unit qa-alice --compact --vars '{"question": "hi"}'
echo; echo "\$ seq 1 100000 | sed 's/^/user-/' | edgeprompt resolve $demo --prompt support --units-from -   (counted per version)"
start=$(date +%s.%N)
seq 1 100000 | sed 's/^/user-/' | "$bin" resolve "$demo" --prompt support --units-from - >/tmp/edgeprompt-batch.jsonl
end=$(date +%s.%N)
for v in 1 2; do
  printf 'version %s: %s units\n' "$v" "$(grep -c "\"version\":$v," /tmp/edgeprompt-batch.jsonl)"
done
awk -v s="$start" -v e="$end" 'BEGIN { printf "100,000 assignments in %.3f s\n", e - s }'
