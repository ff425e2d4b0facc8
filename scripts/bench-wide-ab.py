#!/usr/bin/env python3
"""Two `kql` binaries side by side on the wide-workspace queries (docs/performance.md, "Wide
queries over a whole workspace"), alternating run by run so that a busy moment of a shared
machine slows both.

    scripts/bench-wide-ab.py BEFORE AFTER [DATA_DIR] [--runs N] [--timeout S] [--query Q]...

DATA_DIR defaults to /tmp/wide-ws (made by scripts/gen-wide-workspace.py when missing). For each
query it prints each binary's times (`kql query --quiet --format csv --data DATA_DIR Q`, wall
clock), their medians and the ratio after / before, the same for CPU time (user + system: less
moved by other work on the machine), and whether the two printed the same result
(rows compared as sorted lines: a union's row order is open). A run past the timeout counts as
the timeout.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

QUERIES = [
    "union withsource=TableName * | where TimeGenerated > ago(90d) | summarize count() by TableName",
    "union * | where TimeGenerated > ago(1d) | count",
    'search "something" | take 10',
    'search in (SecurityEvent, Syslog) "x"',
    'union withsource=T * | where * has "x" | summarize count() by T',
    "print 1",
]


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(binary, data, query, timeout):
    """(wall seconds, CPU seconds (user + system), output)"""
    start = time.perf_counter()
    c0 = cpu()
    try:
        p = subprocess.run(
            [binary, "query", "--quiet", "--format", "csv", "--data", data, query],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        took = time.perf_counter() - start
        out = p.stdout if p.returncode == 0 else f"error rc={p.returncode}: {p.stderr.strip()[:200]}"
        return took, cpu() - c0, out
    except subprocess.TimeoutExpired:
        return timeout, float("nan"), "timeout"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("data", nargs="?", default="/tmp/wide-ws")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--query", action="append")
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(here, "gen-wide-workspace.py"), a.data], check=True)
    for q in a.query or QUERIES:
        times = {"before": [], "after": []}
        cpus = {"before": [], "after": []}
        outs = {}
        for _ in range(a.runs):
            for side, binary in (("before", a.before), ("after", a.after)):
                t, c, out = run(binary, a.data, q, a.timeout)
                times[side].append(t)
                cpus[side].append(c)
                outs[side] = out
        same = sorted(outs["before"].splitlines()) == sorted(outs["after"].splitlines())
        rows = max(len(outs["after"].splitlines()) - 1, 0)
        mb, ma = statistics.median(times["before"]), statistics.median(times["after"])
        cb, ca = statistics.median(cpus["before"]), statistics.median(cpus["after"])
        print(f"{q}")
        print(
            "  before {}  after {}  median {:.2f} s -> {:.2f} s  after/before {:.2f}  rows {}  {}".format(
                " ".join(f"{t:.2f}" for t in times["before"]),
                " ".join(f"{t:.2f}" for t in times["after"]),
                mb,
                ma,
                ma / mb if mb else float("nan"),
                rows,
                "same result" if same else f"DIFFERENT RESULT (before: {outs['before'][:120]!r})",
            ),
            flush=True,
        )
        print(f"  CPU (user + system) median {cb:.2f} s -> {ca:.2f} s  after/before {ca / cb if cb else float('nan'):.2f}")


if __name__ == "__main__":
    main()
