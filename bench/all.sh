#!/bin/sh
# Runs every benchmark with its default sizes and prints their tables (about 15 minutes on
# 2 cores). Build first: scripts/build.sh. Figures and the commands that produced them are kept in
# bench/RESULTS.md.
#
#   bench/all.sh [--smoke] [--build DIR]
#
# --smoke runs each benchmark at a tiny size (seconds): it checks that they run and print their
# tables, not the figures. The test suite runs it (ctest -R bench_smoke).
set -eu
cd "$(dirname "$0")/.."
build=build
smoke=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build) build="$2"; shift ;;
    *) echo "usage: bench/all.sh [--smoke] [--build DIR]" >&2; exit 2 ;;
  esac
  shift
done
run() {
  echo "== $*"
  python3 "$@" --build "$build"
}
if [ -n "$smoke" ]; then
  if [ ! -f ../shared/bench/spawnbench.c ]; then
    echo "bench/all.sh --smoke: ../shared/bench/spawnbench.c (the floor) is not here; skipped"
    exit 77
  fi
  run bench/fanout.py --n 200 --rounds 1 --quick
  run bench/scale.py --steps 10 --n 500 --m 200 --rounds 1
  run bench/remote_spokes.py --n 200 --rounds 1 --spokes 2
else
  run bench/fanout.py
  run bench/scale.py
  run bench/remote_spokes.py
fi
