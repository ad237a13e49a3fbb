#!/usr/bin/env bash
# The main job: sets up, builds, seeds the demo manifest into local KV and serves the
# edge (events aggregate in local Queues and Durable Objects) on http://127.0.0.1:8787 (Ctrl-C stops).
#   PORT=N  serve on another port
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8787}
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

EDGEPROMPT_FUZZ=0 scripts/setup.sh
cargo build --release --bin edgeprompt
bin=${CARGO_TARGET_DIR:-target}/release/edgeprompt
"$bin" validate examples/demo.json
scripts/build-worker.sh edge
scripts/build-worker.sh control
# The web console's assets (www/ -> build-www/console/; builds the npm package's Wasm
# for its preview first).
scripts/build-console.sh

current=$(npx wrangler kv key get manifest/current --binding MANIFESTS --local --text 2>/dev/null | head -n 1 || true)
if ! [[ "$current" =~ ^[0-9]+( [0-9]+)?$ ]]; then
  # The per-prompt layout (docs/kv-layout.md), uploaded as ops upload any manifest.
  mkdir -p .wrangler
  "$bin" kv-bulk examples/demo.json --current -o .wrangler/demo-kv.json
  npx wrangler kv bulk put .wrangler/demo-kv.json --binding MANIFESTS --local
  echo "run: seeded examples/demo.json (edgeprompt kv-bulk | wrangler kv bulk put)"
else
  echo "run: local KV already serves revision $current (delete .wrangler/state to start over)"
fi

# The server key (EDGE_KEYS, name:key) that /v1/resolve, /v1/prompts and /v1/metrics
# require, from the local secrets setup.sh wrote.
key=$(sed -n 's/^EDGE_KEYS="\{0,1\}[^:]*:\([^,"]*\).*/\1/p' .dev.vars | head -n 1)
# The first admin token (ADMIN_TOKENS, name:scope:token) signs in to the console.
admin=$(sed -n 's/^ADMIN_TOKENS="\{0,1\}[^:]*:[^:]*:\([^,"]*\).*/\1/p' .dev.vars | head -n 1)
cat <<MSG

The local edge starts on http://127.0.0.1:$PORT. Try, from another terminal:

  curl -s http://127.0.0.1:$PORT/v1/resolve -H "authorization: Bearer $key" \\
    -d '{"prompt": "support", "unit": "user-42", "variables": {"question": "Where is my order?"}}'
  curl -s http://127.0.0.1:$PORT/v1/metrics/support -H "authorization: Bearer $key"

The web console, signed in with the local admin token (the link keeps the token in
the fragment, which never reaches a server):

  http://127.0.0.1:$PORT/console/#token=$admin

The server key is EDGE_KEYS in .dev.vars; admin tokens (ADMIN_TOKENS) are there too.

MSG
# The edge serves the port; the control plane (admin API) runs beside it, reached
# through the edge at /admin/v1/*.
exec npx wrangler dev -c wrangler.toml -c wrangler.control.toml --ip 127.0.0.1 --port "$PORT"
