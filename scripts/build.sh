#!/usr/bin/env bash
# Configures and builds hubspoke into build/ (Release with debug info), and the web UI (ui/, with
# Vite) into build/ui, where `hubspoke hub` finds it next to build/hubspoke. The UI is built again
# only when something in ui/ changed. Usage: scripts/build.sh [targets...]
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

# The web UI: its npm packages come from scripts/install-deps.sh.
stamp=build/ui.stamp
if [ ! -f build/ui/index.html ] || [ ! -f "$stamp" ] ||
  [ -n "$(find ui -path ui/node_modules -prune -o -path ui/tests -prune -o -newer "$stamp" -print -quit)" ]; then
  if [ ! -d ui/node_modules ]; then
    echo "scripts/build.sh: ui/node_modules is missing: run scripts/install-deps.sh (it needs npm)" >&2
    exit 1
  fi
  (cd ui && npm run --silent build -- --logLevel warn --outDir "$(cd .. && pwd -P)/build/ui")
  touch "$stamp"
fi

ninja -C build -j "$(nproc)" "$@"
