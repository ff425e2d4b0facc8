#!/usr/bin/env python3
"""kql against DuckDB on the same logs, side by side.

    python3 bench/compare.py [--rows 1000000] [--runs 3] [--data DIR] [--skip-build]
                             [--only q1,q2] [--end-to-end-only]

What it does, in one run:

1. builds the release binaries (kql, kql-datagen, the bench_load and bench_memory examples)
   unless --skip-build, and creates bench/.venv with DuckDB from PyPI if it is missing;
2. generates the dataset with the repo's generator (ContainerLogV2 with --rows background rows,
   plus the other tables) into DIR unless it is already there;
3. end to end from the JSON-lines files: each published query over ContainerLogV2 with
   `kql query`, and the same question as hand-written DuckDB SQL (`read_json` plus
   `json_extract_string`) over the same file, alternating, median of --runs, peak memory (RSS);
4. on tables already in memory: the same queries in one kql session (bench_memory: every query
   after the load, timed after one untimed run, as a session's later query) against DuckDB on an
   in-memory table (also after one untimed run), both with `LogMessage` kept as JSON and with the
   fields the queries use extracted to plain columns;
5. the load figures of bench_load (raw tokenize-only parse of the file, our JSON-lines load).

It prints medians and the ratios ours / DuckDB. Not part of CI (`.ci/run`): run it by hand on a
quiet machine and record the figures in docs/performance.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2025-10-21T15:00:00Z"
NOW_SQL = "TIMESTAMP '2025-10-21 15:00:00'"
QUERIES = ROOT / "tests" / "data" / "seed-queries"

# The published queries that read only ContainerLogV2 (the table that grows with --rows), and
# the same question in DuckDB SQL. `{f:name}` is a LogMessage field: json_extract_string over the
# JSON column, or the extracted column in the extracted-columns table. `{T}` is the table.
SQL = {
    "wb_trend_pass_fail": """
        SELECT time_bucket(INTERVAL 1 DAY, TimeGenerated) AS TimeGenerated,
               count(*) FILTER (WHERE {f:security_check_passed} = 'PASS') AS SuccessCount,
               count(*) FILTER (WHERE {f:security_check_passed} = 'FAIL') AS FailedCount
        FROM {T} WHERE TimeGenerated > {now} - INTERVAL 14 DAY GROUP BY 1""",
    "wb_exec_status_tiles": """
        SELECT *, SuccessCount + FailedCount AS TotalRequests,
               SuccessCount::DOUBLE / (SuccessCount + FailedCount)::DOUBLE * 100 AS SuccessRate
        FROM (SELECT time_bucket(INTERVAL 1 HOUR, TimeGenerated) AS TimeGenerated,
                     count(*) FILTER (WHERE {f:security_check_passed} = 'PASS') AS SuccessCount,
                     count(*) FILTER (WHERE {f:security_check_passed} = 'FAIL') AS FailedCount
              FROM {T} WHERE TimeGenerated > {now} - INTERVAL 1 DAY GROUP BY 1)
        ORDER BY SuccessRate DESC""",
    "wb_top_users_failures": """
        SELECT {f:end_user_id} AS end_user_id, count(*) AS FailureCount FROM {T}
        WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND coalesce({f:end_user_id}, '') <> ''
          AND {f:security_check_passed} = 'FAIL'
        GROUP BY 1 ORDER BY FailureCount DESC LIMIT 20""",
    "wb_top_apps_failures": """
        SELECT {f:application_name} AS application_name, count(*) AS FailureCount FROM {T}
        WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND coalesce({f:application_name}, '') <> ''
          AND {f:security_check_passed} = 'FAIL'
        GROUP BY 1 ORDER BY FailureCount DESC LIMIT 20""",
    "wb_failed_requests_per_session": """
        SELECT {f:end_user_id} AS end_user_id, {f:session_id} AS session_id, count(*) AS Failed_Sessions
        FROM {T} WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND {f:security_check_passed} = 'FAIL'
        GROUP BY 1, 2 ORDER BY Failed_Sessions DESC""",
    "wb_session_duration": """
        SELECT *, date_diff('second', "Start", "End") AS DurationSeconds FROM (
          SELECT {f:end_user_id} AS end_user_id, {f:session_id} AS session_id, {f:source_ip} AS source_ip,
                 {f:application_name} AS application_name, min(TimeGenerated) AS "Start",
                 max(TimeGenerated) AS "End", count(*) AS count_
          FROM {T} WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND coalesce({f:session_id}, '') <> ''
            AND {f:security_check_passed} = 'PASS'
          GROUP BY 1, 2, 3, 4)""",
    "hunt_rare_failures": """
        SELECT application_name, FirstAttempt, LastAttempt, DurationHours, FailedAttempts FROM (
          SELECT {f:application_name} AS application_name, count(*) AS FailedAttempts,
                 min(TimeGenerated) AS FirstAttempt, max(TimeGenerated) AS LastAttempt,
                 date_diff('hour', min(TimeGenerated), max(TimeGenerated)) AS DurationHours
          FROM {T} WHERE TimeGenerated >= {now} - INTERVAL 24 HOUR
            AND coalesce({f:security_check_passed}, '') <> '' AND {f:security_check_passed} = 'FAIL'
          GROUP BY 1)
        WHERE DurationHours >= 24 AND FailedAttempts >= 10""",
    "wb_prompt_patterns": """
        SELECT {f:prompt_hash} AS prompt_hash, {f:full_prompt_sample} AS full_prompt_sample, count(*) AS count_
        FROM {T} WHERE TimeGenerated > {now} - INTERVAL 14 DAY
          AND coalesce({f:prompt_hash}, '') <> '' AND coalesce({f:full_prompt_sample}, '') <> ''
        GROUP BY 1, 2 ORDER BY count_ DESC""",
    "rule2_content_safety": """
        SELECT * FROM (
          SELECT time_bucket(INTERVAL 1 HOUR, TimeGenerated) AS TimeGenerated, {f:source_ip} AS source_ip,
                 {f:end_user_id} AS end_user_id, {f:session_id} AS session_id, Computer,
                 {f:application_name} AS application_name, {f:security_check_passed} AS security_check_passed,
                 count(*) AS count_
          FROM {T} WHERE TimeGenerated >= {now} - INTERVAL 1 DAY AND coalesce({f:end_user_id}, '') <> ''
            AND {f:security_check_passed} = 'FAIL'
          GROUP BY ALL)
        WHERE count_ >= 3""",
}

# kpi_threat_detection_rate is the same query text as wb_exec_status_tiles
SQL["kpi_threat_detection_rate"] = SQL["wb_exec_status_tiles"]

FIELDS = ["security_check_passed", "end_user_id", "session_id", "source_ip", "application_name",
          "prompt_hash", "full_prompt_sample", "message"]


def sql_for(name, table, extracted):
    text = SQL[name].replace("{T}", table).replace("{now}", NOW_SQL)
    for f in FIELDS:
        text = text.replace("{f:%s}" % f, f if extracted else f"json_extract_string(LogMessage, '$.{f}')")
    return text


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None):
    """Wall seconds and peak RSS (MB) of a command, via /usr/bin/time."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    peak_kb = int(p.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024, p.stdout


def ensure_venv():
    venv = ROOT / "bench" / ".venv"
    py = venv / "bin" / "python"
    if not py.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    if subprocess.run([str(py), "-c", "import duckdb"], capture_output=True).returncode != 0:
        run([str(py), "-m", "pip", "install", "-q", "duckdb"])
    return str(py)


DUCK_FILE = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads TO %d" % int(sys.argv[2]))
rows = con.execute(open(sys.argv[1]).read()).fetchall()
print(len(rows))
"""

DUCK_MEMORY = """
import duckdb, json, statistics, sys, time
path, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
queries = json.load(open(sys.argv[4]))
con = duckdb.connect()
con.execute(f"SET threads TO {threads}")
t = time.perf_counter()
con.execute(f"CREATE TABLE cl_json AS SELECT * FROM read_json('{path}', format='newline_delimited', "
            "columns={TimeGenerated: 'TIMESTAMP', Computer: 'VARCHAR', LogMessage: 'JSON'})")
fields = FIELDS
con.execute("CREATE TABLE cl_cols AS SELECT TimeGenerated, Computer, " +
            ", ".join(f"json_extract_string(LogMessage, '$.{f}') AS {f}" for f in fields) + " FROM cl_json")
print(json.dumps({"load": time.perf_counter() - t}), flush=True)
for name, (q_json, q_cols) in queries.items():
    out = {"name": name}
    for kind, q in (("json", q_json), ("cols", q_cols)):
        con.execute(q).fetchall()  # warm-up, untimed (as kql's first run of each query)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            con.execute(q).fetchall()
            times.append(time.perf_counter() - t)
        out[kind] = statistics.median(times)
    print(json.dumps(out), flush=True)
""".replace("FIELDS", repr(FIELDS))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="dataset folder (default: /tmp/kql-bench-ROWS)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--only", help="comma-separated query names")
    ap.add_argument("--end-to-end-only", action="store_true",
                    help="skip the in-memory and load parts (for inputs larger than memory)")
    args = ap.parse_args()
    threads = os.cpu_count() or 1
    data = args.data or Path(f"/tmp/kql-bench-{args.rows}")
    target = ROOT / "target" / "release"
    if not args.skip_build:
        # separate invocations: a --bin or --example filter applies to every package named
        run(["cargo", "build", "--release", "-q", "-p", "kql-cli"], cwd=ROOT)
        run(["cargo", "build", "--release", "-q", "-p", "kql-tests", "--bin", "kql-datagen"], cwd=ROOT)
        run(["cargo", "build", "--release", "-q", "-p", "kql-exec", "--example", "bench_memory", "--example",
             "bench_load"], cwd=ROOT)
    py = ensure_venv()
    jsonl = data / "ContainerLogV2.jsonl"
    if not jsonl.exists():
        run([str(target / "kql-datagen"), "--out", str(data), "--rows", str(args.rows), "--no-expected", "--quiet"])
    size_mb = jsonl.stat().st_size / 2**20
    names = [n for n in SQL if not args.only or n in args.only.split(",")]
    print(f"# {args.rows:,} background rows, ContainerLogV2.jsonl {size_mb:,.0f} MB, {threads} cores, "
          f"median of {args.runs}")

    # 1. end to end from the JSON-lines file
    print("\n## End to end from JSON lines (kql query vs DuckDB read_json)\n")
    print(f"{'query':<32} {'kql s':>8} {'duckdb s':>9} {'ratio':>6} {'kql MB':>8} {'duckdb MB':>10}")
    ratios = []
    work = Path(f"/tmp/kql-bench-sql-{os.getpid()}")
    work.mkdir(exist_ok=True)
    duck_script = work / "duck.py"
    duck_script.write_text(DUCK_FILE)
    source = (f"read_json('{jsonl}', format='newline_delimited', "
              "columns={TimeGenerated: 'TIMESTAMP', Computer: 'VARCHAR', LogMessage: 'JSON'})")
    for name in names:
        sql_file = work / f"{name}.sql"
        sql_file.write_text(sql_for(name, source, extracted=False))
        kql_cmd = [str(target / "kql"), "query", "-f", str(QUERIES / f"{name}.kql"), "--data", str(jsonl),
                   "--now", NOW, "--format", "csv", "-q", "-o", "/dev/null"]
        duck_cmd = [py, str(duck_script), str(sql_file), str(threads)]
        ours, theirs, mem_ours, mem_theirs = [], [], 0.0, 0.0
        for _ in range(args.runs):
            w, m, _ = timed(kql_cmd)
            ours.append(w)
            mem_ours = max(mem_ours, m)
            w, m, _ = timed(duck_cmd)
            theirs.append(w)
            mem_theirs = max(mem_theirs, m)
        a, b = statistics.median(ours), statistics.median(theirs)
        ratios.append(a / b)
        print(f"{name:<32} {a:>8.2f} {b:>9.2f} {a / b:>6.2f} {mem_ours:>8.0f} {mem_theirs:>10.0f}", flush=True)
    if ratios:
        print(f"{'median ratio':<32} {'':>8} {'':>9} {statistics.median(ratios):>6.2f}  (max {max(ratios):.2f})")

    if args.end_to_end_only:
        return
    # 2. tables in memory
    print("\n## Tables in memory (a session's later queries vs DuckDB in-memory tables)\n")
    kql_out = subprocess.run([str(target / "examples" / "bench_memory"), str(data), NOW, str(args.runs)]
                             + [str(QUERIES / f"{n}.kql") for n in names],
                             capture_output=True, text=True, check=True).stdout
    ours = {l.split("\t")[0]: float(l.split("\t")[1]) for l in kql_out.splitlines() if "\t" in l}
    qfile = work / "queries.json"
    qfile.write_text(json.dumps({n: (sql_for(n, "cl_json", False), sql_for(n, "cl_cols", True)) for n in names}))
    mem_script = work / "duck_memory.py"
    mem_script.write_text(DUCK_MEMORY)
    duck_out = subprocess.run([py, str(mem_script), str(jsonl), str(args.runs), str(threads), str(qfile)],
                              capture_output=True, text=True, check=True).stdout
    theirs = {}
    for line in duck_out.splitlines():
        d = json.loads(line)
        if "name" in d:
            theirs[d["name"]] = d
    print(f"{'query':<32} {'kql s':>8} {'duck json s':>12} {'duck cols s':>12} {'/json':>6} {'/cols':>6}")
    for name in names:
        if name not in ours or name not in theirs:
            continue
        a, j, c = ours[name], theirs[name]["json"], theirs[name]["cols"]
        print(f"{name:<32} {a:>8.3f} {j:>12.3f} {c:>12.3f} {a / j:>6.2f} {a / c:>6.2f}")

    # 3. load throughput against the raw parse
    print("\n## Load throughput (bench_load)\n")
    print(subprocess.run([str(target / "examples" / "bench_load"), str(jsonl)], capture_output=True, text=True,
                         check=True).stdout)


if __name__ == "__main__":
    main()
