#!/usr/bin/env python3
"""Remote spokes against local ones: N `/bin/true` tasks on a `hubspoke hub`.

Runs, interleaved round by round so machine noise hits both alike:
  - local:  `hubspoke hub --spokes S` (S in-process spokes, one slot each)
  - remote: `hubspoke hub --spokes 0` and S `hubspoke spoke --slots 1` processes over gRPC
and prints, for each, the wall time from `hubspoke submit --wait` to its return, tasks/s and the
hub's CPU time per task (utime+stime of the hub process from /proc/PID/stat, spent while the
workflow ran; with remote spokes also the spoke processes' CPU time per task, which excludes
the tasks themselves), the dispatch latency p50/p99 read from the hub's /metrics after the run
(hubspoke_dispatch_latency_seconds: from when a task could start, ready in the hub and its slot
free, to its process starting; interpolated within the histogram's buckets), then the
remote/local wall-time ratio.

Usage: bench/remote_spokes.py [--n 20000] [--spokes-count 8] [--rounds 1] [--build build]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import REPO, write_fanout

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def wait_file(path, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path) and open(path).read().strip():
            return open(path).read().strip()
        if proc.poll() is not None:
            sys.exit(f"the hub exited: see {proc.args}")
        time.sleep(0.05)
    sys.exit(f"{path} did not appear")


def scrape(data):
    """The hub's /metrics (text format) as {series: value}."""
    with open(os.path.join(data, "address")) as f:
        address = f.read().strip()
    with open(os.path.join(data, "token")) as f:
        token = f.read().strip()
    req = urllib.request.Request(address + "/metrics",
                                 headers={"Authorization": "Bearer " + token})
    series = {}
    with urllib.request.urlopen(req, timeout=30) as resp:
        for line in resp.read().decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                series[name] = float(value)
    return series


def quantile(series, metric, q):
    """The q-quantile of a Prometheus histogram, interpolated linearly within its bucket (as
    PromQL's histogram_quantile does)."""
    buckets = []
    prefix = metric + '_bucket{le="'
    for name, count in series.items():
        if name.startswith(prefix):
            le = name[len(prefix):-2]
            buckets.append((float("inf") if le == "+Inf" else float(le), count))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    if total == 0:
        return float("nan")
    rank = q * total
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = le, count
    return lower


def one_run(hubspoke, manifest, work, n, spokes, remote):
    data = os.path.join(work, "hub")
    log = open(os.path.join(work, "hub.log"), "w")
    hub = subprocess.Popen(
        [hubspoke, "hub", "--listen", "127.0.0.1:0", "--spoke-listen", "127.0.0.1:0", "--data",
         data, "--spokes", "0" if remote else str(spokes)], stdout=log, stderr=log)
    procs = []
    try:
        wait_file(os.path.join(data, "address"), hub)
        spoke_address = wait_file(os.path.join(data, "spoke-address"), hub)
        if remote:
            for i in range(spokes):
                slog = open(os.path.join(work, f"spoke-{i}.log"), "w")
                procs.append(subprocess.Popen(
                    [hubspoke, "spoke", "--hub", spoke_address, "--name", f"s{i}", "--slots", "1",
                     "--token-file", os.path.join(data, "token"), "--work",
                     os.path.join(work, f"spoke-{i}")], stdout=slog, stderr=slog))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                out = subprocess.run([hubspoke, "spokes", "--data", data, "-o", "name"],
                                     capture_output=True, text=True).stdout.split()
                if len(out) == spokes:
                    break
                time.sleep(0.1)
            else:
                sys.exit("the spokes did not all connect")
        cpu0 = cpu_seconds(hub.pid)
        spokes0 = sum(cpu_seconds(p.pid) for p in procs)
        start = time.monotonic()
        subprocess.run([hubspoke, "submit", manifest, "--wait", "-o", "name", "--data", data],
                       check=True, stdout=subprocess.DEVNULL)
        wall = time.monotonic() - start
        cpu = cpu_seconds(hub.pid) - cpu0
        spokes_cpu = sum(cpu_seconds(p.pid) for p in procs) - spokes0
        metrics = scrape(data)
        latency = "hubspoke_dispatch_latency_seconds"
        if metrics.get(latency + "_count") != n:
            sys.exit(f"the hub observed {metrics.get(latency + '_count')} task starts, not {n}")
        return (wall, cpu / n, spokes_cpu / n, quantile(metrics, latency, 0.5),
                quantile(metrics, latency, 0.99))
    finally:
        for p in procs:
            p.send_signal(signal.SIGKILL)
            p.wait()
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--spokes-count", "--spokes", dest="spokes", type=int, default=8,
                    help="spoke processes (remote) and local spokes (local)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    args = ap.parse_args()

    hubspoke = os.path.join(args.build, "hubspoke")
    if not os.access(hubspoke, os.X_OK):
        sys.exit(f"{hubspoke} not found: build first (scripts/build.sh)")
    # Not under /tmp: tasks get a private /tmp per slot only when the state lives elsewhere.
    root = tempfile.mkdtemp(prefix="remote-spokes-", dir=args.build)
    manifest = write_fanout(os.path.join(root, "fanout.yaml"), args.n)

    names = {False: f"local: hub --spokes {args.spokes}",
             True: f"remote: {args.spokes} x hubspoke spoke"}
    results = {remote: [] for remote in names}
    for r in range(args.rounds):
        for remote in (False, True):
            work = os.path.join(root, f"{'remote' if remote else 'local'}-{r}")
            os.makedirs(work)
            results[remote].append(
                one_run(hubspoke, manifest, work, args.n, args.spokes, remote))
            wall, cpu, spokes_cpu, p50, p99 = results[remote][-1]
            print(f"round {r + 1}: {names[remote]}: {wall:.2f}s, hub CPU {cpu * 1e6:.0f} us/task"
                  f", spoke processes {spokes_cpu * 1e6:.0f} us/task, dispatch p50 "
                  f"{p50 * 1e3:.2f} ms p99 {p99 * 1e3:.2f} ms", file=sys.stderr)

    print(f"\nN = {args.n} tasks of /bin/true, {args.spokes} slots, median of {args.rounds} "
          f"round(s)\n")
    print(f"| {'spokes':<32} | {'wall s':>7} | {'tasks/s':>8} | {'hub CPU us/task':>15} | "
          f"{'spoke procs CPU us/task':>23} | {'dispatch p50 ms':>15} | {'dispatch p99 ms':>15} |")
    print(f"|{'-' * 34}|{'-' * 9}|{'-' * 10}|{'-' * 17}|{'-' * 25}|{'-' * 17}|{'-' * 17}|")
    med = {}
    for remote, runs in results.items():
        med[remote] = statistics.median(r[0] for r in runs)
        cpu, spokes_cpu, p50, p99 = (statistics.median(r[i] for r in runs) for i in range(1, 5))
        print(f"| {names[remote]:<32} | {med[remote]:7.2f} | {args.n / med[remote]:8.0f} | "
              f"{cpu * 1e6:15.0f} | {spokes_cpu * 1e6 if remote else 0:23.0f} | "
              f"{p50 * 1e3:15.2f} | {p99 * 1e3:15.2f} |")
    print(f"\nremote / local wall time: {med[True] / med[False]:.2f}x (target: within 1.2x)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
