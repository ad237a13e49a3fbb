#!/usr/bin/env bash
# Asks for a promotion (docs/ci.md): `promote.sh PROMPT VERSION [LABEL]`. On a label
# whose policy requires an approval the change is held (exit 0 here, with its number):
# someone else with a rw+approve token applies it with `edgeprompt approve N`, or the
# console's Changes page. Any refusal (no eval for that content, a freeze) exits 1 with
# the reason.
set -euo pipefail
EDGEPROMPT=${EDGEPROMPT:-edgeprompt}
prompt=${1:?usage: promote.sh PROMPT VERSION [LABEL]}
version=${2:?usage: promote.sh PROMPT VERSION [LABEL]}
label=${3:-production}
set +e
"$EDGEPROMPT" promote "$prompt" "$version" --label "$label"
rc=$?
set -e
case $rc in
  0) echo "promote.sh: $prompt/$label serves version $version" ;;
  3) echo "promote.sh: waiting for an approval: edgeprompt changes --label $label" ;;
  *) exit "$rc" ;;
esac
