#!/usr/bin/env bash
# The hub-and-spoke example on the embedded default: installs what is missing, builds hubspoke,
# creates 20 sample git repositories (one without a LICENSE, so its spoke fails), and runs the
# hub-orchestrator WorkflowTemplate with 4 local spokes. Extra arguments go to `hubspoke run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh hubspoke argosay
# Tasks see a private /tmp, so a checkout under /tmp keeps the demo's files elsewhere.
demo="$PWD/build/demo"
case "$demo" in /tmp/*) demo="/var/tmp/hubspoke-demo-$(id -u)" ;; esac
repos="$demo/repos"
examples/hub-and-spoke/make-repos.sh "$repos" 20 >/dev/null
exec build/hubspoke run examples/hub-and-spoke/hub-orchestrator.yaml \
  examples/hub-and-spoke/spoke-worker.yaml \
  --from workflowtemplate/hub-orchestrator -p root="$repos" --spokes 4 \
  --data "$demo/state" "$@"
