#!/usr/bin/env python3
"""Fan-out throughput: N `/bin/true` tasks through hubspoke against the physical floor.

Runs, in the same session and interleaved round by round so machine noise hits all alike:
  - spawnbench spawn N 2 /bin/true   (the cost of spawning the processes themselves: the floor)
  - hubspoke run: a withSequence fan-out of N /bin/true tasks on 2 local spokes (SQLite on disk)
  - xargs -P2, make -j2 and GNU parallel -j2 on the same N, where installed
and prints the median wall time of each, tasks/s, and the ratio to the floor.

Usage: bench/fanout.py [--n 10000] [--rounds 3] [--build build] [--quick]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, build_spawnbench, write_fanout


def timed(cmd, **kw):
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--quick", action="store_true",
                    help="only the floor and hubspoke (no xargs, make, GNU parallel)")
    args = ap.parse_args()

    hubspoke = os.path.join(args.build, "hubspoke")
    if not os.access(hubspoke, os.X_OK):
        sys.exit(f"{hubspoke} not found: build first (scripts/build.sh)")
    work = tempfile.mkdtemp(prefix="fanout-", dir=os.path.join(args.build))
    spawnbench = build_spawnbench(work)
    manifest = write_fanout(os.path.join(work, "fanout.yaml"), args.n)
    makefile = os.path.join(work, "Makefile")
    with open(makefile, "w") as f:
        f.write("all: " + " ".join(f"t{i}" for i in range(args.n)) + "\n")
        f.write("t%:\n\t@/bin/true\n.PHONY: all\n")

    runners = {
        "spawnbench spawn (floor)": lambda r: timed(
            [spawnbench, "spawn", str(args.n), "2", "/bin/true"]),
        "hubspoke run, 2 spokes": lambda r: timed(
            [hubspoke, "run", manifest, "--spokes", "2", "-q", "--data",
             os.path.join(work, f"state-{r}")]),
        "xargs -P2": lambda r: timed(
            ["sh", "-c", f"seq {args.n} | xargs -P2 -n1 /bin/true"]),
        "make -j2": lambda r: timed(["make", "-s", "-j2", "-f", makefile]),
    }
    if args.quick:
        runners = {k: v for k, v in runners.items() if k.startswith(("spawnbench", "hubspoke"))}
    elif shutil.which("parallel"):
        runners["GNU parallel -j2"] = lambda r: timed(
            ["sh", "-c", f"seq {args.n} | parallel -j2 /bin/true"])

    results = {name: [] for name in runners}
    for r in range(args.rounds):
        for name, run in runners.items():
            results[name].append(run(r))
            print(f"round {r + 1}: {name}: {results[name][-1]:.2f}s", file=sys.stderr)

    floor = statistics.median(results["spawnbench spawn (floor)"])
    print(f"\nN = {args.n} tasks of /bin/true, 2 in flight, median of {args.rounds} rounds\n")
    print(f"| {'runner':<26} | {'wall s':>7} | {'tasks/s':>8} | {'x floor':>7} |")
    print(f"|{'-' * 28}|{'-' * 9}|{'-' * 10}|{'-' * 9}|")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"| {name:<26} | {med:7.2f} | {args.n / med:8.0f} | {med / floor:7.2f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
