#!/usr/bin/env python3
"""Scale benchmarks: step latency, a 100,000-item fan-out, and the cost of durability.

Each figure is compared with a baseline measured in the same run (these machines are noisy):
  steps    a chain of S sequential /bin/true steps through `hubspoke run` against spawning the
           same S processes one after the other (spawnbench spawn S 1): overhead per step.
  scale    one workflow whose `withParam` fan-out has N items (from a generator step), each a
           /bin/true task, aggregated by a summarize step; 2 local spokes. Wall time against the
           floor (spawnbench spawn N 2), the hub's peak RSS, and how long `get -o json`, `list`
           and `get` (tree and summary) take on the finished workflow.
  durable  the fan-out benchmark's workflow (M tasks) with the state directory on the disk and
           on tmpfs (/dev/shm), interleaved: the cost of durability.

Usage: bench/scale.py [--steps 200] [--n 100000] [--m 5000] [--rounds 3] [--only steps,scale,durable]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, build_spawnbench, write_fanout

CHAIN_HEAD = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: chain-}}
spec:
  entrypoint: main
  templates:
    - name: noop
      container: {{image: host, command: [/bin/true]}}
    - name: main
      steps:
"""

FANOUT = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: scale-}}
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: generate
            template: generate
        - - name: work
            template: noop
            withParam: "{{{{steps.generate.outputs.parameters.items}}}}"
        - - name: summarize
            template: summarize
            arguments:
              parameters: [{{name: results, value: "{{{{steps.work.outputs.parameters}}}}"}}]
    - name: generate
      outputs:
        parameters: [{{name: items, valueFrom: {{path: /tmp/items.json}}}}]
      script:
        image: python
        command: [python3]
        source: |
          import json
          open("/tmp/items.json", "w").write(json.dumps(list(range({n})), separators=(",", ":")))
    - name: noop
      container: {{image: host, command: [/bin/true]}}
    - name: summarize
      inputs: {{parameters: [{{name: results}}]}}
      script:
        image: sh
        command: [sh]
        source: |
          echo "{n} items done"
"""

def run(cmd, **kw):
    start = time.monotonic()
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    return time.monotonic() - start, out.stdout


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def table(rows):
    print("| figure | value | baseline | ratio / note |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def bench_steps(ctx, args):
    manifest = CHAIN_HEAD.format() + "".join(
        f"        - - name: s{i}\n            template: noop\n" for i in range(args.steps))
    path = write(os.path.join(ctx["work"], "chain.yaml"), manifest)
    hub, floor = [], []
    for r in range(args.rounds):
        floor.append(run([ctx["spawnbench"], "spawn", str(args.steps), "1", "/bin/true"])[0])
        hub.append(run([ctx["hubspoke"], "run", path, "--spokes", "1", "-q", "--data",
                        os.path.join(ctx["work"], f"chain-{r}")])[0])
    h, f = statistics.median(hub), statistics.median(floor)
    per_step_ms = (h - f) / args.steps * 1000
    return [(f"step latency: {args.steps} sequential steps", f"{h:.2f} s", f"{f:.2f} s spawned",
             f"{per_step_ms:.2f} ms overhead per step (target ≤ 2 ms)")]


def bench_scale(ctx, args):
    path = write(os.path.join(ctx["work"], "scale.yaml"), FANOUT.format(n=args.n))
    data = os.path.join(ctx["work"], "scale-state")
    # The floor is measured before and after the run, and the faster of the two counts: a floor
    # that something else on the machine slowed down would flatter the hub.
    floors = [run([ctx["spawnbench"], "spawn", str(args.n), "2", "/bin/true"])[0]]
    start = time.monotonic()
    hub = subprocess.Popen([ctx["hubspoke"], "run", path, "--spokes", "2", "-q", "--data", data],
                           stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(hub.pid, 0)  # this child's own peak RSS, in KiB
    wall = time.monotonic() - start
    if status != 0:
        sys.exit(f"hubspoke run of the scale workflow failed (status {status})")
    rss_mb = usage.ru_maxrss / 1024
    floors.append(run([ctx["spawnbench"], "spawn", str(args.n), "2", "/bin/true"])[0])
    floor = min(floors)
    names = [line.split()[0] for line in
             run([ctx["hubspoke"], "list", "--data", data, "-o", "name"])[1].decode().split()]
    name = names[0] if names else ""
    get_json, out = run([ctx["hubspoke"], "get", name, "-o", "json", "--data", data])
    nodes = len(json.loads(out)["status"]["nodes"])
    get_tree, _ = run([ctx["hubspoke"], "get", name, "--data", data])
    list_s, _ = run([ctx["hubspoke"], "list", "--data", data])
    db_mb = os.path.getsize(os.path.join(data, "hubspoke.db")) / 1e6
    return [
        (f"scale: {args.n:,}-item withParam fan-out", f"{wall:.1f} s",
         f"{floor:.1f} s spawned (before {floors[0]:.1f} s, after {floors[1]:.1f} s)",
         f"{wall / floor:.2f}x the floor (target ≤ 1.3x)"),
        ("scale: hub peak RSS", f"{rss_mb:.0f} MB", f"{nodes:,} nodes",
         f"{rss_mb * 1024 / max(nodes, 1):.2f} KB per node (target ≤ 256 MB)"),
        ("scale: `get -o json`", f"{get_json:.2f} s", f"{len(out) / 1e6:.0f} MB of JSON", ""),
        ("scale: `get` (tree and summary)", f"{get_tree:.2f} s", "", ""),
        ("scale: `list`", f"{list_s:.2f} s", f"database {db_mb:.0f} MB", ""),
    ]


def bench_durable(ctx, args):
    path = write_fanout(os.path.join(ctx["work"], "seq.yaml"), args.m)
    disk, shm = [], []
    for r in range(args.rounds):
        shm_dir = tempfile.mkdtemp(prefix="hubspoke-bench-", dir="/dev/shm")
        try:
            disk.append(run([ctx["hubspoke"], "run", path, "--spokes", "2", "-q", "--data",
                             os.path.join(ctx["work"], f"durable-{r}")])[0])
            shm.append(run([ctx["hubspoke"], "run", path, "--spokes", "2", "-q", "--data",
                            shm_dir])[0])
        finally:
            shutil.rmtree(shm_dir, ignore_errors=True)
    d, s = statistics.median(disk), statistics.median(shm)
    return [(f"durable: {args.m:,} tasks, state on disk", f"{d:.2f} s", f"{s:.2f} s on tmpfs",
             f"{(d / s - 1) * 100:+.0f}% for durability (target ≤ 10%)")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--m", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="steps,scale,durable")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    args = ap.parse_args()
    hubspoke = os.path.join(args.build, "hubspoke")
    if not os.access(hubspoke, os.X_OK):
        sys.exit(f"{hubspoke} not found: build first (scripts/build.sh)")
    work = tempfile.mkdtemp(prefix="scale-", dir=args.build)
    spawnbench = build_spawnbench(work)
    ctx = {"work": work, "hubspoke": hubspoke, "spawnbench": spawnbench}
    rows = []
    try:
        for which in args.only.split(","):
            bench = {"steps": bench_steps, "scale": bench_scale, "durable": bench_durable}[which]
            rows += bench(ctx, args)
            print(f"{which}: done", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table(rows)


if __name__ == "__main__":
    main()
