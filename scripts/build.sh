#!/usr/bin/env bash
# Configures and builds hubspoke into build/ (Release with debug info). Usage: scripts/build.sh [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "$(nproc)" "$@"
