#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs the whole test suite: unit tests of each
# module, end-to-end tests of the CLI, and the Argo conformance examples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
