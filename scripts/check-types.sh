#!/usr/bin/env bash
# Type-checks the npm package's declarations (npm/index.d.ts): the type tests in
# npm/test/types/ (correct usage compiles; every `// @ts-expect-error` line must be an
# error, or tsc fails), then the real manifests (examples/demo.json,
# tests/conformance/manifest.json) against the `Manifest` type. Needs `npm ci` (typescript).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TSC=node_modules/.bin/tsc
[ -x "$TSC" ] || { echo "check-types.sh: $TSC is missing: run npm ci first" >&2; exit 1; }

"$TSC" -p npm/test/tsconfig.json
echo "check-types.sh: npm/test/types compile (every @ts-expect-error is an error)"

# Each manifest as a TypeScript literal checked with `satisfies Manifest`, outside the
# repository; "edgeprompt" maps to the package's declarations.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
manifests=(examples/demo.json tests/conformance/manifest.json)
files=()
for m in "${manifests[@]}"; do
  f="$tmp/$(echo "$m" | tr '/.' '__').ts"
  {
    echo 'import type { Manifest } from "edgeprompt";'
    printf 'export const manifest = ('
    cat "$m"
    echo ') satisfies Manifest;'
  } >"$f"
  files+=("\"$f\"")
done
cat >"$tmp/tsconfig.json" <<JSON
{
  "extends": "$ROOT/npm/test/tsconfig.json",
  "compilerOptions": { "paths": { "edgeprompt": ["$ROOT/npm/index.d.ts"] } },
  "include": [],
  "files": [$(IFS=,; echo "${files[*]}")]
}
JSON
"$TSC" -p "$tmp/tsconfig.json"
echo "check-types.sh: ${manifests[*]} satisfy Manifest"
