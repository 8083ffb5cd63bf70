#!/usr/bin/env bash
# Configures and builds hubspoke into build/ (Release with debug info). Usage: scripts/build.sh [targets...]
# Tasks see a private /tmp, so when the checkout lives under /tmp the build directory (binaries,
# test scratch space) goes to /var/tmp and build/ is a link to it.
set -euo pipefail
cd "$(dirname "$0")/.."
case "$(pwd -P)/" in
  /tmp/*)
    real="/var/tmp/hubspoke-build-$(pwd -P | md5sum | cut -c1-12)"
    mkdir -p "$real"
    [ -L build ] || { rm -rf build; ln -s "$real" build; }
    ;;
esac
mkdir -p build
[ -f build/build.ninja ] || cmake -S . -B "$(cd build && pwd -P)" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build -j "$(nproc)" "$@"
