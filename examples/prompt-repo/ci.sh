#!/usr/bin/env bash
# The CI of a prompt repository (docs/ci.md): validate, evaluate, and diff against the
# live manifest on every branch; on the main branch also report the evals (bound to each
# version's content hash) and publish to staging. Promoting to production is a separate,
# deliberate step that the label's policy holds for an approval.
#
#   EDGEPROMPT_URL, EDGEPROMPT_TOKEN   the edge and this pipeline's own token (rw)
#   CI_BRANCH      the branch (default: $GITHUB_REF_NAME, else git's current branch)
#   MAIN_BRANCH    default main
#   STAGING_LABEL  default staging
#   MODEL_URL      an OpenAI-compatible chat-completions URL (optional; its key in
#                  $OPENAI_API_KEY): the suites' answer assertions run too
#   EDGEPROMPT     the edgeprompt binary (default: edgeprompt on PATH)
set -euo pipefail
cd "$(dirname "$0")"
EDGEPROMPT=${EDGEPROMPT:-edgeprompt}
BRANCH=${CI_BRANCH:-${GITHUB_REF_NAME:-$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)}}
MAIN_BRANCH=${MAIN_BRANCH:-main}
STAGING_LABEL=${STAGING_LABEL:-staging}
model=()
if [ -n "${MODEL_URL:-}" ]; then model=(--model-url "$MODEL_URL"); fi

step() { printf '\n==> %s\n' "$*"; }

step "validate the sources"
"$EDGEPROMPT" validate .

step "evaluate the sources (a failing case fails the job)"
"$EDGEPROMPT" eval . "${model[@]}"

step "what publishing would change in the live manifest"
"$EDGEPROMPT" diff --sources .

if [ "$BRANCH" != "$MAIN_BRANCH" ]; then
  echo "ci.sh: branch $BRANCH: checked; nothing is published from a branch other than $MAIN_BRANCH"
  exit 0
fi

# The report comes first: a label that requires an eval accepts a version only once a
# passing report for exactly its content is recorded (the eval cache makes this rerun free).
step "report the evals to the control plane"
"$EDGEPROMPT" eval . "${model[@]}" --report

step "publish to $STAGING_LABEL"
set +e
"$EDGEPROMPT" publish . --label "$STAGING_LABEL"
rc=$?
set -e
case $rc in
  0) ;;
  3) echo "ci.sh: $STAGING_LABEL is protected: the change waits for an approval (edgeprompt changes)" ;;
  *) exit "$rc" ;;
esac

step "what every label serves now"
"$EDGEPROMPT" status
