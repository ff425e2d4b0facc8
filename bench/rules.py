#!/usr/bin/env python3
"""The speed of a rule pack, as a detection engineer runs it: all rules together against the
slowest one alone, and a month of hourly replay against one run.

    python3 bench/rules.py [--rows 10000000] [--data DIR] [--kql PATH] [--runs 1]
                           [--corpus DIR] [--skip-build]

What it measures, with the release `kql` over the generator's whole export folder (`--data`
pointed at it, as users run it; generated with `kql-datagen --rows ROWS` unless DIR exists):

1. a pack: `kql run` of the bundled GenAI pack's detections together, against each detection
   run alone (`kql run FILE`); the goal is together <= 5x the slowest alone: rules share one
   load of each table they read;
2. the Sentinel corpus rules that read only tables the generator writes (found with
   `kql coverage --format json`), together and each alone, the same way;
3. a 30-day hourly replay (720 runs) of the example detection (`examples/rules/
   genai-jailbreak-per-user.yaml`: a day of data every hour, an alert per result, incidents
   grouped by entities) with `kql replay`, against one run of it (`kql run`); the goal is the replay <= 10x one run: the table is loaded once and the
   row-local start of the query is computed once for all runs (`--separate-runs`, timed too,
   computes every run from the table).

Every figure is the median of --runs wall times (seconds) and peak RSS; commands alternate run by
run. Not part of CI: run it by hand on a quiet machine and record the figures in
docs/performance.md.
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2025-10-21T15:00:00Z"
PACK = ROOT / "rule-pack" / "packs" / "genai-security"
GENERATED = {"ContainerLogV2", "AlertEvidence", "AlertInfo", "AzureDiagnostics", "IdentityLogonEvents",
             "SigninLogs", "ThreatIntelIndicators", "SecurityIncident"}


def timed(cmd):
    """Wall seconds and peak RSS (MB) of a command, via /usr/bin/time."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode not in (0, 1):  # 1: a rule failed, still a measured run
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    peak_kb = int(p.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024, p.stdout


def median_runs(cmds, runs):
    """Run each command `runs` times, alternating; {name: (median s, max RSS MB, stdout)}."""
    out = {name: [] for name in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            out[name].append(timed(cmd))
    return {n: (statistics.median(w for w, _, _ in v), max(m for _, m, _ in v), v[-1][2]) for n, v in out.items()}


def together_vs_alone(kql, data, files, runs, label):
    with tempfile.TemporaryDirectory() as d:
        cmds = {"together": [kql, "run", *map(str, files), "--data", str(data), "--now", NOW]}
        for f in files:
            cmds[f.name] = [kql, "run", str(f), "--data", str(data), "--now", NOW]
        res = median_runs(cmds, runs)
    alone = {n: r for n, r in res.items() if n != "together"}
    slowest = max(alone.items(), key=lambda kv: kv[1][0])
    t = res["together"][0]
    print(f"\n{label}: {len(files)} rules")
    print(f"  together        {t:8.2f} s  {res['together'][1]:8.0f} MB")
    print(f"  slowest alone   {slowest[1][0]:8.2f} s  {slowest[1][1]:8.0f} MB  ({slowest[0]})")
    print(f"  sum of alone    {sum(r[0] for r in alone.values()):8.2f} s")
    print(f"  together / slowest alone: {t / slowest[1][0]:.2f}x (goal <= 5x)")
    return t, slowest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--data", type=Path, default=None, help="dataset folder (default: /tmp/kql-bench-ROWS)")
    ap.add_argument("--kql", type=Path, default=None, help="kql binary (default: target/release/kql)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus" / "rules-yaml",
                    help="Sentinel rule folder for part 2 (skipped when missing)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--only", choices=["pack", "corpus", "replay"], action="append")
    args = ap.parse_args()
    target = ROOT / "target" / "release"
    if not args.skip_build:
        subprocess.run(["cargo", "build", "--release", "-p", "kql-cli", "-p", "kql-tests", "--bin", "kql",
                        "--bin", "kql-datagen"], check=True, cwd=ROOT)
    kql = str(args.kql or target / "kql")
    data = args.data or Path(f"/tmp/kql-bench-{args.rows}")
    if not data.exists():
        subprocess.run([str(target / "kql-datagen"), "--out", str(data), "--rows", str(args.rows), "--quiet",
                        "--no-expected"], check=True)
    only = set(args.only or ["pack", "corpus", "replay"])
    size = sum(f.stat().st_size for f in data.glob("*.jsonl")) / 1e9
    print(f"data: {data} ({size:.1f} GB of JSON lines), kql: {kql}, runs: {args.runs}")

    if "pack" in only:
        files = sorted(p for p in (PACK / "detections").glob("*.kql")
                       if not (p.with_name(p.name.replace(".kql", ".corrected.kql")).exists()))
        together_vs_alone(kql, data, files, args.runs, "GenAI pack detections")

    if "corpus" in only and args.corpus.exists():
        _, _, out = timed([kql, "coverage", "--format", "json", str(args.corpus)])
        cov = json.loads(out)
        picked = [Path(r["path"]) for r in cov["rules"]
                  if r["role"] == "detection" and r["tables"] and set(r["tables"]) <= GENERATED]
        with tempfile.TemporaryDirectory() as d:
            files = []
            for i, p in enumerate(sorted(picked)):
                dst = Path(d) / f"{i:03}-{p.name}"
                shutil.copy(p, dst)
                files.append(dst)
            together_vs_alone(kql, data, files, args.runs, "Sentinel corpus detections over the generator's tables")

    if "replay" in only:
        rule = ROOT / "examples" / "rules" / "genai-jailbreak-per-user.yaml"
        month = ["--from", "2025-09-21T15:00:00Z", "--to", NOW]
        cmds = {
            "one run": [kql, "run", str(rule), "--data", str(data), "--now", NOW],
            "replay": [kql, "replay", str(rule), "--data", str(data), *month, "--no-chart"],
            "replay --separate-runs": [kql, "replay", str(rule), "--data", str(data), *month, "--no-chart",
                                       "--separate-runs"],
        }
        res = median_runs(cmds, args.runs)
        runs = [l for l in res["replay"][2].splitlines() if " runs, " in l]
        print(f"\n30-day hourly replay of {rule.name}: {runs[0] if runs else '?'}")
        for n, (t, m, _) in res.items():
            print(f"  {n:24} {t:8.2f} s  {m:8.0f} MB")
        print(f"  replay / one run: {res['replay'][0] / res['one run'][0]:.2f}x (goal <= 10x); "
              f"--separate-runs / one run: {res['replay --separate-runs'][0] / res['one run'][0]:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
