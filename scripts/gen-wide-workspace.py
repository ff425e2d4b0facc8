#!/usr/bin/env python3
"""A folder with one JSON-lines table per built-in schema (kql-exec/data/schema-catalog.tsv).

    scripts/gen-wide-workspace.py OUT_DIR [ROWS_PER_TABLE] [MAX_TABLES]

Each table gets ROWS_PER_TABLE (default 20) rows filling every column of its schema with a value
of the column's type; `TimeGenerated` spreads over the last 30 days before the time the script
runs, `Computer` is `host-abc-N` on even rows and `host-N` on odd ones, other strings are
`Column-N` (so `search "x"` matches only columns whose name holds an x). Used to measure
`union *` and `search` over a whole workspace (docs/performance.md).
"""
import datetime
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
catalog = os.path.join(here, "..", "kql-exec", "data", "schema-catalog.tsv")
out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 20
limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
os.makedirs(out, exist_ok=True)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def value(name, ty, i):
    if name == "TimeGenerated" or ty == "datetime":
        t = now - datetime.timedelta(days=30 * i / max(rows, 1), minutes=7 * i)
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "Computer":
        return f"host-abc-{i}" if i % 2 == 0 else f"host-{i}"
    if ty in ("int", "long"):
        return i * 7
    if ty == "real":
        return i * 0.5
    if ty == "bool":
        return i % 2 == 0
    if ty == "dynamic":
        return {"k": i, "s": f"v{i}"}
    if ty == "guid":
        return f"00000000-0000-0000-0000-{i:012d}"
    if ty == "timespan":
        return f"00:00:{i % 60:02d}"
    return f"{name}-{i}"


def names(text):
    """The items of a catalog field: `name[:type]` separated by commas, where a name holding one
    of `\\t \\n \\r , : " \\ ( ) = ?` (or blanks around it) is a JSON string literal."""
    items, pos = [], 0
    while pos < len(text):
        if text[pos] == '"':
            name, end = json.JSONDecoder().raw_decode(text, pos)
        else:
            end = pos
            while end < len(text) and text[end] not in ",:":
                end += 1
            name = text[pos:end]
        ty = "string"
        if end < len(text) and text[end] == ":":
            stop = text.find(",", end)
            stop = len(text) if stop < 0 else stop
            ty, end = text[end + 1 : stop], stop
        items.append((name, ty))
        pos = end + 1
    return items


n = 0
with open(catalog) as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        line = line.rstrip("\n")
        if line.count("\t") != 1:  # a function line (Name, parameters, columns)
            continue
        table, cols = line.split("\t")
        [(table, _)] = names(table)
        if table.startswith("_"):  # functions' result schemas, not tables
            continue
        with open(os.path.join(out, table + ".jsonl"), "w") as w:
            for i in range(rows):
                row = {c: value(c, ty, i) for c, ty in names(cols)}
                w.write(json.dumps(row) + "\n")
        n += 1
        if limit and n >= limit:
            break
print(f"{n} tables of {rows} rows in {out}")
