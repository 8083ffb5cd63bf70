#!/usr/bin/env bash
# Installs the Debian packages hubspoke needs to build, test and run its example, and the web UI's
# npm packages (ui/node_modules). Idempotent: it calls apt-get only when something is missing and
# npm only when ui/package-lock.json is newer than ui/node_modules. Run as root (or with sudo
# available).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev libcli11-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev prometheus-cpp-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libarchive-dev  # artifacts: tar+gzip archives
  openssl iproute2  # tests: TLS certificates for spokes; network namespaces for a cut link
  cowsay  # /usr/games/cowsay: docker/whalesay and argoproj/argosay:v1 examples; spokes add /usr/games to PATH
  chromium  # tests: the web UI in a real browser (ui/tests/e2e.mjs)
)
# The web UI is built with npm; a machine that has node and npm another way keeps them.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The web UI's packages, exactly as locked. Its build (Vite 7) needs node 20.19 or later.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "the web UI needs node 20.19 or later to build; this machine has node $(node --version)" >&2
  exit 1
fi
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
  echo "installing the web UI's npm packages (npm ci in ui/)" >&2
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
  touch ui/node_modules
fi
