#!/usr/bin/env bash
# Installs the Debian packages hubspoke needs to build, test and run its example. Idempotent: it
# calls apt-get only when something is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3
  libyaml-cpp-dev nlohmann-json3-dev libsqlite3-dev libcli11-dev
  libgtest-dev libgmock-dev libcpp-httplib-dev prometheus-cpp-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libarchive-dev  # artifacts: tar+gzip archives
  openssl iproute2  # tests: TLS certificates for spokes; network namespaces for a cut link
  cowsay  # /usr/games/cowsay: docker/whalesay and argoproj/argosay:v1 examples; spokes add /usr/games to PATH
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
