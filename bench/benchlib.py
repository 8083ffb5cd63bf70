"""What the benchmark scripts share: the fan-out workflow and the spawn floor (spawnbench)."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPAWNBENCH_SRC = os.path.join(REPO, "..", "shared", "bench", "spawnbench.c")

FANOUT_MANIFEST = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: fanout-
spec:
  entrypoint: main
  templates:
    - name: main
      steps:
        - - name: task
            template: noop
            withSequence:
              count: "{n}"
    - name: noop
      container:
        image: host
        command: [/bin/true]
"""


def write_fanout(path, n):
    """Writes a withSequence fan-out of n /bin/true tasks to path and returns path."""
    with open(path, "w") as f:
        f.write(FANOUT_MANIFEST.format(n=n))
    return path


def build_spawnbench(work):
    """Compiles shared/bench/spawnbench.c into work and returns the program's path."""
    if not os.path.exists(SPAWNBENCH_SRC):
        sys.exit(f"{SPAWNBENCH_SRC} not found: the floor benchmark comes from shared/bench")
    spawnbench = os.path.join(work, "spawnbench")
    subprocess.run(["gcc", "-O2", "-o", spawnbench, SPAWNBENCH_SRC], check=True)
    return spawnbench
