#!/usr/bin/env python3
"""Turn the documentation excerpts into conformance cases.

Reads `tests/data/conformance/docs-pages.md`: the self-contained ```kusto examples of the Kusto
reference pages (MicrosoftDocs/dataexplorer-docs, data-explorer/kusto/query/*.md, MIT licensed),
each copied verbatim with the **Output** table the page prints after it. Writes
`tests/data/conformance/docs-pages.jsonl` in the format of `kusto-docs.jsonl` and
`tests/data/conformance/docs-pages-skipped.md` (examples left out, with the reason).

Excerpt format:

    # page: <page name> @<commit>
    ## <NN> [types=<T1>,<T2>,...] [skip: <reason>]
    ```kusto
    <query>
    ```
    |col|col|
    |---|---|
    |v|v|

NN is the example's position among the page's ```kusto blocks (from 00). Pages that show their
examples as a table of calls and results (`|`countof("aaa", "a")`| 3`) are copied under
`## calls [types=<T>]`, one row a case `print result=<call>` (id `<page>-cNN`, NN the row's
position). `typo: <why>` after `## NN` marks an output cell corrected from a demonstrable
misprint of the page (the copy shows the corrected cell; the correction is listed). Column types are the
.NET names of the README; `types=` gives them where the values cannot tell (a `-` infers that
column); otherwise they are inferred from the values: integers Int64, numbers with a point or an
exponent Double, true/false SByte, ISO dates DateTime, [d.]hh:mm:ss TimeSpan, JSON arrays and
objects Object, the rest String. Cells are read the way the docs print them: datetimes without Z
are UTC, an empty cell is null except in a String column (an empty string), dynamic values are JSON.
Examples whose query text is already in `kusto-docs.jsonl` are not repeated.

Usage: scripts/docs-conformance.py  (from the repository root)
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "tests/data/conformance"
SRC = CONF / "docs-pages.md"
OUT = CONF / "docs-pages.jsonl"
SKIPPED = CONF / "docs-pages-skipped.md"
URL = "https://github.com/MicrosoftDocs/dataexplorer-docs/blob/{commit}/data-explorer/kusto/query/{page}.md"

INT = re.compile(r"^-?\d+$")
REAL = re.compile(r"^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+|\d+\.\d*[eE][-+]?\d+)$")
DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z)?$")
SPAN = re.compile(r"^-?(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$")
TYPES = {"Int64", "Int32", "Double", "SByte", "String", "DateTime", "TimeSpan", "Object", "Guid", "SqlDecimal"}


def norm_kql(q):
    return " ".join(q.split())


def split_row(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells, cur, i = [], "", 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "|":
            cur += "|"
            i += 2
            continue
        if c == "|":
            cells.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    cells.append(cur)
    return [unmark(c.strip()) for c in cells]


def unmark(c):
    # the docs sometimes set a cell in code: `value`
    if len(c) >= 2 and c[0] == "`" and c[-1] == "`":
        c = c[1:-1]
    # &nbsp; is how a page shows an empty cell
    c = c.replace("&nbsp;", "").strip()
    return c.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("<br>", "\n")


def loads(c):
    """A dynamic value as the docs print it: JSON, or JSON with single-quoted strings."""
    try:
        return json.loads(c)
    except ValueError:
        if '"' not in c and "'" in c:
            return json.loads(c.replace("'", '"'))
        raise


def is_json(c):
    if not c or c[0] not in "[{":
        return False
    try:
        loads(c)
        return True
    except ValueError:
        return False


def infer(cells):
    vals = [c for c in cells if c != ""]
    if not vals:
        return "String"
    if all(INT.match(c) for c in vals):
        return "Int64"
    if all(INT.match(c) or REAL.match(c) or c in ("NaN", "Infinity", "-Infinity") for c in vals):
        return "Double"
    if all(c.lower() in ("true", "false") for c in vals):
        return "SByte"
    if all(DATE.match(c) for c in vals):
        return "DateTime"
    if all(SPAN.match(c) for c in vals):
        return "TimeSpan"
    if all(is_json(c) for c in vals):
        return "Object"
    return "String"


def value(c, ty):
    if ty == "String":
        return c
    if c == "" or c.lower() == "null" and ty != "Object":
        return None
    if ty in ("Int64", "Int32"):
        return int(c)
    if ty in ("Double", "SqlDecimal"):
        if c in ("NaN", "Infinity", "-Infinity"):
            return c
        v = float(c)
        return int(v) if ty == "Double" and INT.match(c) else v
    if ty == "SByte":
        return c.lower() in ("true", "1")
    if ty == "DateTime":
        m = DATE.match(c)
        if not m:
            raise ValueError(f"not a datetime: {c!r}")
        t = m.group(2) or "00:00:00"
        if t.count(":") == 1:
            t += ":00"
        if len(t.split(":")[0]) == 1:
            t = "0" + t
        return f"{m.group(1)}T{t}Z"
    if ty == "TimeSpan":
        if not SPAN.match(c):
            raise ValueError(f"not a timespan: {c!r}")
        return c
    if ty == "Object":
        try:
            return loads(c)
        except ValueError:
            return c
    return c


def parse(text):
    pages, page, case = [], None, None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^# page: (\S+) @([0-9a-f]{40})\s*$", line)
        if m:
            page = {"page": m.group(1), "commit": m.group(2), "cases": []}
            pages.append(page)
            i += 1
            continue
        m = re.match(r"^## calls(.*)$", line)
        if m:
            case = {"n": "calls", "types": None, "skip": None, "typo": None, "kql": [], "table": []}
            t = re.search(r"types=(\S+)", m.group(1))
            if t:
                case["types"] = t.group(1).split(",")
            page["cases"].append(case)
            i += 1
            continue
        m = re.match(r"^## (\d+)(.*)$", line)
        if m:
            rest = m.group(2)
            case = {"n": m.group(1), "types": None, "skip": None, "typo": None, "kql": [], "table": []}
            t = re.search(r"types=(\S+)", rest)
            if t:
                case["types"] = t.group(1).split(",")
            s = re.search(r"skip:\s*(.*)$", rest)
            if s:
                case["skip"] = s.group(1).strip()
            t = re.search(r"typo:\s*(.*)$", rest)
            if t:
                case["typo"] = t.group(1).strip()
            page["cases"].append(case)
            i += 1
            continue
        if line.startswith("```kusto") and case is not None:
            i += 1
            while not lines[i].startswith("```"):
                case["kql"].append(lines[i])
                i += 1
            i += 1
            continue
        if line.startswith("|") and case is not None:
            case["table"].append(line)
        i += 1
    return pages


def main():
    known = set()
    for line in (CONF / "kusto-docs.jsonl").read_text().splitlines():
        if line.strip():
            known.add(norm_kql(json.loads(line)["kql"]))
    pages = parse(SRC.read_text())
    out, skipped, dup = [], [], 0
    corrected = []
    for p in pages:
        expanded = []
        for c in p["cases"]:
            if c["n"] != "calls":
                expanded.append(c)
                continue
            for k, row in enumerate(c["table"][2:]):
                call, res = split_row(row)[:2]
                if len(res) >= 2 and res[0] == res[-1] == '"':
                    res = json.loads(res)
                expanded.append({"n": f"c{k:02}", "types": c["types"], "skip": None, "typo": None,
                                 "kql": [f"print result={call}"], "table": ["|result|", "|---|", f"|{res}|"]})
        for c in expanded:
            cid = f"{p['page']}-{c['n']}"
            kql = "\n".join(c["kql"]).strip()
            url = URL.format(commit=p["commit"], page=p["page"])
            if c["skip"]:
                skipped.append((cid, url, c["skip"]))
                continue
            if norm_kql(kql) in known:
                dup += 1
                continue
            known.add(norm_kql(kql))
            if c["typo"]:
                corrected.append((cid, url, c["typo"]))
            header = split_row(c["table"][0])
            body = [split_row(r) for r in c["table"][2:]]
            for r in body:
                if len(r) != len(header):
                    sys.exit(f"{cid}: row of {len(r)} cells under {len(header)} columns: {r}")
            types = []
            for k in range(len(header)):
                given = c["types"][k] if c["types"] and k < len(c["types"]) else "-"
                if given != "-" and given not in TYPES:
                    sys.exit(f"{cid}: unknown type {given}")
                types.append(given if given != "-" else infer([r[k] for r in body]))
            try:
                rows = [[value(r[k], types[k]) for k in range(len(header))] for r in body]
            except ValueError as e:
                sys.exit(f"{cid}: {e}")
            out.append({"id": cid, "kql": kql,
                        "expected": {"columns": header, "column_types": types, "rows": rows},
                        "source": url})
    with OUT.open("w") as f:
        for case in out:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    text = ["# Documentation examples left out of docs-pages.jsonl", "",
            "Generated by `scripts/docs-conformance.py` from the `skip:` notes of `docs-pages.md`: the",
            "page prints an output that contradicts the function's own description (or cannot be",
            "compared), so the example is not a case.", ""]
    for cid, url, why in skipped:
        text.append(f"- [`{cid}`]({url}): {why}")
    if corrected:
        text += ["", "## Output cells corrected from a misprint", ""]
        for cid, url, why in corrected:
            text.append(f"- [`{cid}`]({url}): {why}")
    SKIPPED.write_text("\n".join(text) + "\n")
    print(f"{len(out)} cases from {len(pages)} pages ({dup} already in kusto-docs.jsonl, {len(skipped)} left out)")


if __name__ == "__main__":
    main()
