#!/usr/bin/env python3
"""kql against DuckDB and ClickHouse on the same logs, side by side.

    python3 bench/compare.py [--rows 1000000] [--runs 3] [--data DIR] [--skip-build]
                             [--only q1,q2] [--end-to-end-only] [--threads 2]
                             [--kql-input folder|file] [--engines duckdb,clickhouse]

What it does, in one run:

1. builds the release binaries (kql, kql-datagen, the bench_load and bench_memory examples)
   unless --skip-build (into $CARGO_TARGET_DIR, default target/), and creates bench/.venv with
   DuckDB and chDB (ClickHouse embedded) from PyPI if they are missing;
2. generates the dataset with the repo's generator (`kql-datagen --out DIR`: ContainerLogV2 with
   --rows background rows, plus every other table it writes) into DIR unless it is already there;
3. end to end, as users run it: `kql query --data DIR` pointed at the whole export folder (every
   table present; `--kql-input file` names ContainerLogV2.jsonl alone, as before), each published
   query over ContainerLogV2, against the same question as hand-written DuckDB SQL (`read_json`
   plus `json_extract_string`) and as hand-written ClickHouse SQL in chDB (`file(..., JSONEachRow)`
   plus `JSONExtractString`) over the same file; all on --threads threads, alternating run by run,
   median of --runs, peak memory (RSS), result rows; the ratio is kql over the faster of the two;
   then `print 1` over the folder (the fixed cost of a query: finding the tables, binding);
4. on tables already in memory: the same queries in one kql session (bench_memory: every query
   after the load, timed after one untimed run, as a session's later query) against DuckDB on an
   in-memory table (also after one untimed run), both with `LogMessage` kept as JSON and with the
   fields the queries use extracted to plain columns;
5. the load figures of bench_load (raw tokenize-only parse of the file, our JSON-lines load).

It prints medians and the ratios ours / theirs. Not part of CI (`.ci/run`): run it by hand on a
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

# The same questions in ClickHouse SQL (chDB). `{f:name}` is JSONExtractString over the JSON
# text of LogMessage; aliases differ from the column names because ClickHouse's aliases are seen
# by WHERE (`AS TimeGenerated` would shadow the column there).
CH_SQL = {
    "wb_trend_pass_fail": """
        SELECT toStartOfInterval(TimeGenerated, INTERVAL 1 DAY) AS bucket,
               countIf({f:security_check_passed} = 'PASS') AS SuccessCount,
               countIf({f:security_check_passed} = 'FAIL') AS FailedCount
        FROM {T} WHERE TimeGenerated > {now} - INTERVAL 14 DAY GROUP BY bucket""",
    "wb_exec_status_tiles": """
        SELECT *, SuccessCount + FailedCount AS TotalRequests,
               SuccessCount / (SuccessCount + FailedCount) * 100 AS SuccessRate
        FROM (SELECT toStartOfHour(TimeGenerated) AS bucket,
                     countIf({f:security_check_passed} = 'PASS') AS SuccessCount,
                     countIf({f:security_check_passed} = 'FAIL') AS FailedCount
              FROM {T} WHERE TimeGenerated > {now} - INTERVAL 1 DAY GROUP BY bucket)
        ORDER BY SuccessRate DESC""",
    "wb_top_users_failures": """
        SELECT {f:end_user_id} AS user, count() AS FailureCount FROM {T}
        WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND user <> '' AND {f:security_check_passed} = 'FAIL'
        GROUP BY user ORDER BY FailureCount DESC LIMIT 20""",
    "wb_top_apps_failures": """
        SELECT {f:application_name} AS app, count() AS FailureCount FROM {T}
        WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND app <> '' AND {f:security_check_passed} = 'FAIL'
        GROUP BY app ORDER BY FailureCount DESC LIMIT 20""",
    "wb_failed_requests_per_session": """
        SELECT {f:end_user_id} AS user, {f:session_id} AS session, count() AS Failed_Sessions
        FROM {T} WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND {f:security_check_passed} = 'FAIL'
        GROUP BY user, session ORDER BY Failed_Sessions DESC""",
    "wb_session_duration": """
        SELECT *, dateDiff('second', Start, End) AS DurationSeconds FROM (
          SELECT {f:end_user_id} AS user, {f:session_id} AS session, {f:source_ip} AS ip,
                 {f:application_name} AS app, min(TimeGenerated) AS Start, max(TimeGenerated) AS End,
                 count() AS count_
          FROM {T} WHERE TimeGenerated > {now} - INTERVAL 1 DAY AND session <> ''
            AND {f:security_check_passed} = 'PASS'
          GROUP BY user, session, ip, app)""",
    "hunt_rare_failures": """
        SELECT app, FirstAttempt, LastAttempt, DurationHours, FailedAttempts FROM (
          SELECT {f:application_name} AS app, count() AS FailedAttempts,
                 min(TimeGenerated) AS FirstAttempt, max(TimeGenerated) AS LastAttempt,
                 dateDiff('hour', FirstAttempt, LastAttempt) AS DurationHours
          FROM {T} WHERE TimeGenerated >= {now} - INTERVAL 24 HOUR
            AND {f:security_check_passed} = 'FAIL'
          GROUP BY app)
        WHERE DurationHours >= 24 AND FailedAttempts >= 10""",
    "wb_prompt_patterns": """
        SELECT {f:prompt_hash} AS hash, {f:full_prompt_sample} AS sample, count() AS count_
        FROM {T} WHERE TimeGenerated > {now} - INTERVAL 14 DAY AND hash <> '' AND sample <> ''
        GROUP BY hash, sample ORDER BY count_ DESC""",
    "rule2_content_safety": """
        SELECT * FROM (
          SELECT toStartOfHour(TimeGenerated) AS bucket, {f:source_ip} AS ip, {f:end_user_id} AS user,
                 {f:session_id} AS session, Computer, {f:application_name} AS app,
                 {f:security_check_passed} AS passed, count() AS count_
          FROM {T} WHERE TimeGenerated >= {now} - INTERVAL 1 DAY AND user <> '' AND passed = 'FAIL'
          GROUP BY ALL)
        WHERE count_ >= 3""",
}
CH_SQL["kpi_threat_detection_rate"] = CH_SQL["wb_exec_status_tiles"]
CH_NOW = "toDateTime64('2025-10-21 15:00:00', 6, 'UTC')"
CH_SETTINGS = ("max_threads = {threads}, date_time_input_format = 'best_effort', "
               "input_format_json_read_objects_as_strings = 1, input_format_skip_unknown_fields = 1")


def ch_sql_for(name, path, threads):
    source = (f"file('{path}', JSONEachRow, "
              "'TimeGenerated DateTime64(6, \\'UTC\\'), Computer String, LogMessage String')")
    text = CH_SQL[name].replace("{T}", source).replace("{now}", CH_NOW)
    for f in FIELDS:
        text = text.replace("{f:%s}" % f, f"JSONExtractString(LogMessage, '{f}')")
    return text + "\nSETTINGS " + CH_SETTINGS.format(threads=threads)


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
    for module in ("duckdb", "chdb"):
        if subprocess.run([str(py), "-c", f"import {module}"], capture_output=True).returncode != 0:
            run([str(py), "-m", "pip", "install", "-q", module])
    return str(py)


DUCK_FILE = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads TO %d" % int(sys.argv[2]))
rows = con.execute(open(sys.argv[1]).read()).fetchall()
print(len(rows))
"""

CH_FILE = """
import chdb, sys
res = chdb.query(open(sys.argv[1]).read(), "TabSeparated")
print(len(res.bytes().splitlines()))
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


def kql_rows(path):
    """Rows of a CSV result written by `kql query --format csv` (less its header)."""
    with open(path, "rb") as f:
        return max(sum(1 for _ in f) - 1, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=None, help="dataset folder (default: /tmp/kql-bench-ROWS)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--only", help="comma-separated query names")
    ap.add_argument("--end-to-end-only", action="store_true",
                    help="skip the in-memory and load parts (for inputs larger than memory)")
    ap.add_argument("--threads", type=int, default=2,
                    help="threads of every engine (kql: its process is bound to that many cores)")
    ap.add_argument("--kql-input", choices=["folder", "file"], default="folder",
                    help="end to end, `kql query --data` names the whole folder (as users do) or "
                         "ContainerLogV2.jsonl alone")
    ap.add_argument("--engines", default="duckdb,clickhouse", help="comma-separated: duckdb, clickhouse")
    ap.add_argument("--kql", type=Path, default=None,
                    help="the kql binary end to end (default: the release build's; a copy keeps a build from "
                         "replacing it during a run)")
    args = ap.parse_args()
    threads = args.threads
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ("duckdb", "clickhouse"):
            ap.error(f"--engines: unknown engine {e}")
    # kql uses as many threads as it has cores (available_parallelism honours the affinity mask)
    pin = []
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):
        pin = ["taskset", "-c", ",".join(str(c) for c in cpus[:threads])]
    data = args.data or Path(f"/tmp/kql-bench-{args.rows}")
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "release"
    if not args.skip_build:
        # separate invocations: a --bin or --example filter applies to every package named
        run(["cargo", "build", "--release", "-q", "-p", "kql-cli"], cwd=ROOT)
        run(["cargo", "build", "--release", "-q", "-p", "kql-tests", "--bin", "kql-datagen"], cwd=ROOT)
        run(["cargo", "build", "--release", "-q", "-p", "kql-exec", "--example", "bench_memory", "--example",
             "bench_load"], cwd=ROOT)
    py = ensure_venv()
    kql = str(args.kql or target / "kql")
    jsonl = data / "ContainerLogV2.jsonl"
    if not jsonl.exists():
        run([str(target / "kql-datagen"), "--out", str(data), "--rows", str(args.rows), "--no-expected", "--quiet"])
    size_mb = jsonl.stat().st_size / 2**20
    folder_mb = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 2**20
    tables = sorted(p.name for p in data.iterdir() if not p.name.startswith("."))
    names = [n for n in SQL if not args.only or n in args.only.split(",")]
    versions = subprocess.run([py, "-c", "import duckdb, chdb; print(duckdb.__version__, chdb.__version__)"],
                              capture_output=True, text=True).stdout.split()
    print(f"# {args.rows:,} background rows, ContainerLogV2.jsonl {size_mb:,.0f} MB, folder {folder_mb:,.0f} MB "
          f"({', '.join(tables)}), {threads} threads each, median of {args.runs}; "
          f"DuckDB {versions[0] if versions else '?'}, chDB {versions[1] if len(versions) > 1 else '?'}")

    # 1. end to end from the JSON-lines file
    kql_data = data if args.kql_input == "folder" else jsonl
    print(f"\n## End to end from JSON lines (kql query --data {kql_data} vs "
          f"{' vs '.join({'duckdb': 'DuckDB read_json', 'clickhouse': 'ClickHouse file()'}[e] for e in engines)})\n")
    head = f"{'query':<32} {'kql s':>7}" + "".join(f" {e[:10] + ' s':>12}" for e in engines)
    head += f" {'ratio':>6} {'kql MB':>7}" + "".join(f" {e[:10] + ' MB':>13}" for e in engines) + "  rows"
    print(head)
    ratios = []
    work = Path(f"/tmp/kql-bench-sql-{os.getpid()}")
    work.mkdir(exist_ok=True)
    duck_script = work / "duck.py"
    duck_script.write_text(DUCK_FILE)
    ch_script = work / "ch.py"
    ch_script.write_text(CH_FILE)
    kql_out = work / "kql.csv"
    source = (f"read_json('{jsonl}', format='newline_delimited', "
              "columns={TimeGenerated: 'TIMESTAMP', Computer: 'VARCHAR', LogMessage: 'JSON'})")
    for name in names:
        cmds = {}
        sql_file = work / f"{name}.sql"
        sql_file.write_text(sql_for(name, source, extracted=False))
        cmds["duckdb"] = [py, str(duck_script), str(sql_file), str(threads)]
        ch_file = work / f"{name}.ch.sql"
        ch_file.write_text(ch_sql_for(name, jsonl, threads))
        cmds["clickhouse"] = [py, str(ch_script), str(ch_file)]
        kql_cmd = pin + [kql, "query", "-f", str(QUERIES / f"{name}.kql"), "--data", str(kql_data),
                         "--now", NOW, "--format", "csv", "-q", "-o", str(kql_out)]
        ours, mem_ours, rows_ours = [], 0.0, 0
        theirs = {e: [] for e in engines}
        mem = {e: 0.0 for e in engines}
        rows = {e: 0 for e in engines}
        for _ in range(args.runs):
            w, m, _ = timed(kql_cmd)
            ours.append(w)
            mem_ours = max(mem_ours, m)
            rows_ours = kql_rows(kql_out)
            for e in engines:
                w, m, out = timed(cmds[e])
                theirs[e].append(w)
                mem[e] = max(mem[e], m)
                rows[e] = int(out.strip().splitlines()[-1])
        a = statistics.median(ours)
        meds = {e: statistics.median(theirs[e]) for e in engines}
        best = min(meds.values()) if meds else float("nan")
        ratios.append(a / best)
        line = f"{name:<32} {a:>7.2f}" + "".join(f" {meds[e]:>12.2f}" for e in engines)
        line += f" {a / best:>6.2f} {mem_ours:>7.0f}" + "".join(f" {mem[e]:>13.0f}" for e in engines)
        line += "  " + "/".join(str(r) for r in [rows_ours] + [rows[e] for e in engines])
        print(line, flush=True)
    if ratios:
        print(f"{'median ratio (kql / faster)':<32} {statistics.median(ratios):>6.2f}  (max {max(ratios):.2f})")

    # the fixed cost: a query that reads no table, over the folder
    print_runs = []
    for _ in range(max(args.runs, 5)):
        w, m, _ = timed(pin + [kql, "query", "print 1", "--data", str(data), "--format", "csv", "-q",
                               "-o", "/dev/null"])
        print_runs.append((w, m))
    print(f"\n`print 1` over --data {data}: median {statistics.median(w for w, _ in print_runs) * 1000:.0f} ms "
          f"(runs {', '.join(f'{w * 1000:.0f}' for w, _ in print_runs)} ms), peak "
          f"{max(m for _, m in print_runs):.0f} MB")

    if args.end_to_end_only:
        return
    # 2. tables in memory
    print("\n## Tables in memory (a session's later queries vs DuckDB in-memory tables)\n")
    kql_out = subprocess.run(pin + [str(target / "examples" / "bench_memory"), str(data), NOW, str(args.runs)]
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
    print(subprocess.run(pin + [str(target / "examples" / "bench_load"), str(jsonl)], capture_output=True, text=True,
                         check=True).stdout)


if __name__ == "__main__":
    main()
