#!/usr/bin/env python3
"""Argo conformance runner for hubspoke.

Runs Argo's own examples (the corpus in ../shared/corpus/argo-examples, described by its
INDEX.tsv) through `hubspoke run` and compares each workflow's final phase with the phase
Argo ends it in. See tests/conformance/README.md for what is run and what counts.

Python 3 standard library only.
"""

import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Examples that inherently take long (they sleep or wait for minutes by design). They are skipped
# unless --include-slow. Never list an example here to hide a failure: a slow example that fails
# for another reason must be fixed, not listed.
SLOW = {
    # path in INDEX.tsv: reason
    "forever.yaml": "loops `sleep 1s` 1000 times: runs ~17 minutes by design (no-test:duration)",
    "colored-logs.yaml": "prints a line a second for 99 seconds (no-test:duration)",
    "parallelism-nested-workflow.yaml":
        "parallelism 1 serialises 4 groups of `sleep 30`: at least 120 s (no-test:duration)",
    "parallelism-nested-dag.yaml":
        "parallelism 2 over DAGs of `sleep 10` chains: at least 80 s (no-test:duration)",
    "loops-param-result.yaml":
        "11 parallel `sleep 20..30`: 30 s with a pod each, at least 70 s on 4 spokes "
        "(no-test:duration)",
    "synchronization-mutex-tmpl-level.yaml":
        "mutexes serialise 5 x `sleep 20` and 5 x `sleep 50`: at least 250 s "
        "(no-test:environment)",
}

# Rows whose host_runnable value selects them.
RUNNABLE = ("yes", "yes-ignoring-k8s-fields")

# with-caveats rows are counted too when every caveat in their host_notes is one hubspoke meets:
# its local artifact store, its memoize caches, or a host program that is installed.
MET_CAVEATS = (
    "needs artifact store (local emulation ok)",
    "artifact key-only (default repo; local emulation ok)",
    "memoize cache (configmap)",
    "configmap",  # its ConfigMap is in `requires`, given to hubspoke run with the workflow
)
CAVEAT_PROGRAMS = {"needs node": "node", "needs python3": "python3", "needs curl": "curl",
                   "needs jq": "jq", "needs git": "git"}


def caveats_met(row):
    # Caveats are separated by ';', which also appears inside their parentheses.
    notes = [n.strip() for n in re.split(r";(?![^()]*\))", row.get("host_notes") or "")
             if n.strip()]
    for note in notes:
        if note in MET_CAVEATS or note.startswith("ignorable k8s field:"):
            continue
        program = CAVEAT_PROGRAMS.get(note)
        if program and shutil.which(program):
            continue
        return False
    return bool(notes)


def selected_rows(rows, all_runnable):
    """The rows to run: the runnable ones, and with-caveats rows whose caveats are met."""
    out = []
    for r in rows:
        runnable = (r.get("host_runnable") or "").strip()
        if runnable in RUNNABLE or (runnable == "with-caveats" and
                                    (all_runnable or caveats_met(r))):
            out.append(r)
    return out

TEMPLATE_KINDS = ("WorkflowTemplate", "ClusterWorkflowTemplate")


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Run Argo's examples through hubspoke and compare final phases.")
    p.add_argument("patterns", nargs="*",
                   help="only examples whose path contains one of these substrings")
    p.add_argument("--corpus", default=os.path.join(REPO, "..", "shared", "corpus",
                                                      "argo-examples"),
                   help="corpus directory holding INDEX.tsv (default: <repo>/../shared/corpus/"
                        "argo-examples)")
    p.add_argument("--hubspoke", default=os.path.join(REPO, "build", "hubspoke"),
                   help="hubspoke binary (default: <repo>/build/hubspoke)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="per-example timeout in seconds (default 60)")
    p.add_argument("-j", "--jobs", type=int, default=2, help="examples run at once (default 2)")
    p.add_argument("--spokes", type=int, default=4, help="--spokes passed to hubspoke (default 4)")
    p.add_argument("--all-runnable", action="store_true",
                   help="also run rows whose host_runnable is with-caveats")
    p.add_argument("--include-slow", action="store_true",
                   help="also run the examples of the SLOW list")
    p.add_argument("--min-pass-rate", type=float, metavar="PERCENT",
                   help="exit 0 when at least PERCENT of the counted examples pass (the issue's "
                        "target is 95); without it any failure exits 1")
    p.add_argument("--report-only", action="store_true",
                   help="exit 0 even when examples fail")
    p.add_argument("--write-results", metavar="FILE",
                   help="write the results as a Markdown table to FILE")
    p.add_argument("--keep", metavar="DIR",
                   help="keep each example's stdout/stderr/command in DIR/<path>.{json,stderr,cmd}")
    p.add_argument("--skip-without-corpus", action="store_true",
                   help="exit %d (ctest's skip code) instead of 2 when the corpus is absent" % 77)
    p.add_argument("--lint-all", action="store_true",
                   help="instead of running: lint every file of the corpus (requires loaded) and "
                        "check that each lints clean or is refused with a specific reason")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------------------------
# Corpus


def read_index(corpus):
    path = os.path.join(corpus, "INDEX.tsv")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def requires_of(row, corpus):
    """Returns (files, notes): the corpus files the row requires, and notes on those not found."""
    files, notes = [], []
    for req in (row.get("requires") or "").split(";"):
        req = req.strip()
        if not req:
            continue
        full = os.path.join(corpus, req)
        if os.path.isfile(full):
            files.append(full)
        else:
            notes.append("requires %s" % req)
    return files, notes


def kinds_of(row):
    return [k.strip() for k in (row.get("kind") or "").split(",") if k.strip()]


def first_template(path):
    """(name, entrypoint) of the first WorkflowTemplate/ClusterWorkflowTemplate document of a file.

    A deliberately small reader of the top-level `kind`, `metadata.name` and `spec.entrypoint`
    keys (the runner uses only the standard library, so no YAML parser)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for doc in re.split(r"^---\s*$", text, flags=re.M):
        kind = re.search(r"^kind:\s*(\S+)", doc, re.M)
        if not kind or kind.group(1) not in TEMPLATE_KINDS:
            continue
        name = entry = None
        section = None
        for line in doc.splitlines():
            top = re.match(r"^(\w+):", line)
            if top:
                section = top.group(1)
                continue
            m = re.match(r"^  (\w+):\s*(.*?)\s*$", line)
            if not m:
                continue
            value = m.group(2).strip("'\"")
            if section == "metadata" and m.group(1) == "name" and name is None:
                name = value
            elif section == "spec" and m.group(1) == "entrypoint" and entry is None:
                entry = value
        return name, entry
    return None, None


def expected_word(expected):
    """The leading phase word of expected_phase: 'Succeeded(inferred)' -> 'Succeeded'."""
    m = re.match(r"\s*([A-Za-z]+)", expected or "")
    return m.group(1) if m else ""


# ----------------------------------------------------------------------------------------------
# Running one example

_procs_lock = threading.Lock()
_procs = set()


def run_process(cmd, timeout, cwd):
    """Runs cmd in its own process group; returns (rc, stdout, stderr, timed_out, seconds)."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as e:  # e.g. the binary is being relinked
        return 127, "", "cannot start %s: %s" % (cmd[0], e), False, time.monotonic() - start
    with _procs_lock:
        _procs.add(proc)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc)
        out, err = proc.communicate()
    finally:
        with _procs_lock:
            _procs.discard(proc)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), \
        timed_out, time.monotonic() - start


def kill_group(proc):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            continue


def json_documents(text):
    """Every JSON object printed on stdout (hubspoke prints one per workflow it ran)."""
    docs, dec, i = [], json.JSONDecoder(), 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        try:
            obj, i = dec.raw_decode(text, i)
        except ValueError:
            nl = text.find("\n", i)
            if nl < 0:
                break
            i = nl + 1
            continue
        if isinstance(obj, list):
            docs.extend(o for o in obj if isinstance(o, dict))
        elif isinstance(obj, dict):
            docs.append(obj)
    return docs


def first_line(text):
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def failure_note(docs):
    """The first node message of a failed/errored node, for the report."""
    for doc in docs:
        status = doc.get("status") or {}
        if status.get("message"):
            return status["message"]
        for node in (status.get("nodes") or {}).values():
            if node.get("phase") in ("Failed", "Error") and node.get("message"):
                return "%s: %s" % (node.get("displayName") or node.get("name"), node["message"])
    return ""


def combined_phase(docs):
    phases = [((d.get("status") or {}).get("phase") or "") for d in docs]
    phases = [p for p in phases if p] or [""]
    for p in phases:
        if p != "Succeeded":
            return p
    return phases[0]


class Result:
    def __init__(self, path, status, expected, got, seconds, note, counted):
        self.path, self.status, self.expected, self.got = path, status, expected, got
        self.seconds, self.counted = seconds, counted
        self.note = " ".join((note or "").split())  # one line: messages may span several


def plan(row, opts):
    """Decides how to run a row: returns (cmd or None, notes, skip_reason or None)."""
    corpus, path = opts.corpus, row["path"]
    full = os.path.join(corpus, path)
    req_files, notes = requires_of(row, corpus)
    kinds = kinds_of(row)
    extra = []
    if "Workflow" not in kinds:
        if not any(k in TEMPLATE_KINDS for k in kinds):
            return None, notes, "kind %s: nothing to run" % ",".join(kinds)
        name, entry = first_template(full)
        if not name or not entry:
            return None, notes, "template-only: skipped"
        extra = ["--from", "workflowtemplate/%s" % name]
        notes.append("--from workflowtemplate/%s" % name)
    cmd = [opts.hubspoke, "run"] + req_files + [full] + extra + \
        ["-o", "json", "-q", "--spokes", str(opts.spokes)]
    return cmd, notes, None


def run_row(row, opts):
    path = row["path"]
    expected_raw = row.get("expected_phase") or ""
    want = expected_word(expected_raw)
    is_random = want == "Random"
    countable = not is_random and want not in ("", "n")  # "n/a" -> "n"
    cmd, notes, skip = plan(row, opts)
    if path in SLOW and not opts.include_slow:
        skip = "slow: " + SLOW[path]
    if skip:
        return Result(path, "SKIP", expected_raw, "-", 0.0, "; ".join(notes + [skip]), False)

    # Not under /tmp: each task sees a private /tmp, and a state directory there would cost every
    # task a mount namespace of its own.
    data = tempfile.mkdtemp(prefix="hubspoke-conf-", dir="/var/tmp")
    cmd = cmd + ["--data", data]
    try:
        rc, out, err, timed_out, secs = run_process(cmd, opts.timeout, cwd=opts.corpus)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    docs = json_documents(out)
    if opts.keep:
        base = os.path.join(opts.keep, path)
        os.makedirs(os.path.dirname(base), exist_ok=True)
        with open(base + ".cmd", "w") as f:
            f.write(" ".join(shlex.quote(c) for c in cmd) + "\nexit %s%s\n" %
                    (rc, " (timeout)" if timed_out else ""))
        with open(base + ".json", "w") as f:
            f.write(out)
        with open(base + ".stderr", "w") as f:
            f.write(err)

    if timed_out:
        got = "Timeout"
        notes.append("no end within %gs" % opts.timeout)
    elif rc is not None and rc < 0:
        got = "Crash"
        notes.append("killed by signal %d; %s" % (-rc, first_line(err)))
    elif rc == 2 or not docs:
        got = "LoadError"
        notes.append(first_line(err) or "exit %s, no JSON" % rc)
    else:
        got = combined_phase(docs)
        if rc not in (0, 1):
            notes.append("exit %s" % rc)
        if got != "Succeeded":
            msg = failure_note(docs)
            if msg:
                notes.append(msg)

    if is_random:
        status = "RANDOM"
    elif not countable:
        status = "SKIP"
        notes.append("no expected phase (%s): not counted" % expected_raw)
    else:
        status = "PASS" if got == want else "FAIL"
    return Result(path, status, expected_raw, got, secs, "; ".join(notes), countable)


# ----------------------------------------------------------------------------------------------
# Lint mode

SPECIFIC = re.compile(
    r"(`[^`]+`|'[^']+'|\"[^\"]+\"|\b[a-zA-Z]+(\.[a-zA-Z0-9\[\]]+)+\b|"
    r"\b(unsupported|not supported|refused|unknown field|not implemented)\b)", re.I)


def lint_row(row, opts):
    path = row["path"]
    req_files, notes = requires_of(row, opts.corpus)
    full = os.path.join(opts.corpus, path)
    cmd = [opts.hubspoke, "lint"] + req_files + [full]
    rc, out, err, timed_out, secs = run_process(cmd, opts.timeout, cwd=opts.corpus)
    lines = [l for l in (out + "\n" + err).splitlines() if l.strip()]
    # Diagnostics are `file:line:col: [severity:] message`; every one that is not a warning counts.
    errors = [l for l in lines if re.match(r"^\S+:\d+:\d+: ", l) and
              not re.match(r"^\S+:\d+:\d+: warning", l)]
    # Only the errors about this file (the requires are linted too, but judged on their own row).
    own = [l for l in errors if path in l or not any(r in l for r in req_files)]
    if timed_out:
        return Result(path, "FAIL", "lint", "Timeout", secs, "no end within %gs" % opts.timeout,
                      True)
    if rc is None or rc < 0 or rc > 2:
        return Result(path, "FAIL", "lint", "Crash", secs,
                      "exit %s; %s" % (rc, first_line(err)), True)
    if rc == 0:
        warn = [l for l in lines if "warning" in l]
        return Result(path, "PASS", "lint", "clean", secs,
                      "%d warnings" % len(warn) if warn else "", True)
    generic = [l for l in own if not SPECIFIC.search(l.split("error", 1)[-1])]
    if generic or not own:
        return Result(path, "FAIL", "lint", "generic-error", secs,
                      (generic or [first_line(out + err)])[0], True)
    return Result(path, "PASS", "lint", "refused", secs,
                  "%d errors; first: %s" % (len(own), own[0]), True)


# ----------------------------------------------------------------------------------------------
# Reporting


def md_escape(text):
    return (text or "").replace("|", "\\|").replace("\n", " ")


def write_results(filename, results, opts, argv, totals_line):
    cmd = "python3 tests/conformance/run.py " + " ".join(shlex.quote(a) for a in argv)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        ver = subprocess.run([opts.hubspoke, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001 - the version is informational only
        ver = "?"
    lines = [
        "# Conformance results" + (" (lint-all)" if opts.lint_all else ""),
        "",
        "Generated by `tests/conformance/run.py`; do not edit by hand.",
        "",
        "- Command: `%s`" % cmd.strip(),
        "- Date: %s" % now,
        "- Binary: `%s` (%s)" % (
            os.path.relpath(opts.hubspoke, REPO)
            if opts.hubspoke.startswith(REPO + os.sep) else opts.hubspoke, ver or "?"),
        "- Totals: **%s**" % totals_line,
        "",
        "| result | example | expected | got | seconds | note |",
        "| --- | --- | --- | --- | ---: | --- |",
    ]
    for r in results:
        lines.append("| %s | %s | %s | %s | %.1f | %s |" % (
            r.status, md_escape(r.path), md_escape(r.expected), md_escape(r.got), r.seconds,
            md_escape(r.note[:300])))
    os.makedirs(os.path.dirname(os.path.abspath(filename)), exist_ok=True)
    with open(filename, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


SKIPPED = 77  # ctest's SKIP_RETURN_CODE for this test


def main(argv):
    opts = parse_args(argv)
    opts.corpus = os.path.abspath(opts.corpus)
    opts.hubspoke = os.path.abspath(opts.hubspoke)
    if not os.path.isfile(os.path.join(opts.corpus, "INDEX.tsv")):
        print("run.py: no INDEX.tsv in %s (use --corpus DIR)" % opts.corpus, file=sys.stderr)
        return SKIPPED if opts.skip_without_corpus else 2
    if not os.access(opts.hubspoke, os.X_OK):
        print("run.py: %s is not an executable (build it, or use --hubspoke)" % opts.hubspoke,
              file=sys.stderr)
        return 2
    if opts.keep:
        opts.keep = os.path.abspath(opts.keep)
    rows = read_index(opts.corpus)
    if opts.lint_all:
        selected = rows
    else:
        selected = selected_rows(rows, opts.all_runnable)
    if opts.patterns:
        selected = [r for r in selected if any(p in r["path"] for p in opts.patterns)]

    work = lint_row if opts.lint_all else run_row
    results = [None] * len(selected)
    width = max([len(r["path"]) for r in selected] + [10])
    print_lock = threading.Lock()

    def one(i):
        res = work(selected[i], opts)
        results[i] = res
        with print_lock:
            print("%-6s  %-*s  %-22s  %-12s  %6.1f  %s" % (
                res.status, width, res.path, res.expected[:22], res.got, res.seconds,
                res.note[:200]), flush=True)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
            list(pool.map(one, range(len(selected))))
    except KeyboardInterrupt:
        with _procs_lock:
            for proc in list(_procs):
                kill_group(proc)
        raise

    done = [r for r in results if r is not None]
    passed = sum(1 for r in done if r.status == "PASS")
    failed = sum(1 for r in done if r.status == "FAIL")
    skipped = sum(1 for r in done if r.status == "SKIP")
    random_ = sum(1 for r in done if r.status == "RANDOM")
    if opts.lint_all:
        clean = sum(1 for r in done if r.got == "clean")
        refused = sum(1 for r in done if r.got == "refused")
        print("lint: %d clean, %d refused with a specific reason, %d generic errors, %d crashes"
              % (clean, refused, sum(1 for r in done if r.got == "generic-error"),
                 sum(1 for r in done if r.got in ("Crash", "Timeout"))))
    else:
        counted = passed + failed
        pct = 100.0 * passed / counted if counted else 0.0
        print("(%.1f%% of %d counted; %d random, not counted)" % (pct, counted, random_))
    totals = "%d passed, %d failed" % (passed, failed)
    if skipped:
        totals += ", %d skipped" % skipped
    print(totals)
    if opts.write_results:
        write_results(opts.write_results, sorted(done, key=lambda r: r.path), opts, argv, totals)
    if opts.report_only:
        return 0
    if opts.min_pass_rate is not None and not opts.lint_all:
        counted = passed + failed
        rate = 100.0 * passed / counted if counted else 100.0
        if rate < opts.min_pass_rate:
            print("run.py: %.1f%% passed, below --min-pass-rate %.1f" % (rate, opts.min_pass_rate),
                  file=sys.stderr)
            return 1
        return 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
