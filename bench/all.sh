#!/bin/sh
# Runs every benchmark with its default sizes and prints their tables (about 15 minutes on
# 2 cores). Build first: scripts/build.sh. Figures and the commands that produced them are kept in
# bench/RESULTS.md.
set -eu
cd "$(dirname "$0")/.."
for script in bench/fanout.py bench/scale.py bench/remote_spokes.py; do
  [ -f "$script" ] || continue
  echo "== $script"
  python3 "$script"
done
