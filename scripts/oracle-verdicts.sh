#!/usr/bin/env bash
# Regenerate tests/data/*/oracle-*.jsonl with Microsoft's analyzer (kusto-oracle, npm, offline).
# Usage: scripts/oracle-verdicts.sh PATH/TO/shared
set -euo pipefail
SHARED=${1:?path to the shared/ folder}
WORK=$(mktemp -d)
cp -r "$SHARED/tools/kusto-oracle" "$WORK/oracle" && (cd "$WORK/oracle" && npm ci --silent)
S="$SHARED/schemas/sentinel"
python3 - "$SHARED" "$WORK" <<'PY'
import json, sys
shared, work = sys.argv[1], sys.argv[2]
with open(f"{work}/corpus-in.jsonl", "w") as o:
    for l in open(f"{shared}/corpus/sentinel.jsonl"):
        r = json.loads(l); o.write(json.dumps({"id": r["id"], "query": r["query"]}) + "\n")
with open(f"{work}/conf-in.jsonl", "w") as o:
    for l in open(f"{shared}/conformance/kusto-docs.jsonl"):
        r = json.loads(l); o.write(json.dumps({"id": r["id"], "query": r["kql"]}) + "\n")
PY
node "$WORK/oracle/oracle.js" --schema "$S/builtin/la-tables.json" --schema "$S/CustomTables" --schema "$S/CustomFunctions" \
  --batch "$WORK/corpus-in.jsonl" --out "$WORK/corpus-out.jsonl" 2>/dev/null
node "$WORK/oracle/oracle.js" --batch "$WORK/conf-in.jsonl" --out "$WORK/conf-out.jsonl" 2>/dev/null
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def compact(src, dst):
    with open(dst, "w") as o:
        for l in open(src):
            r = json.loads(l)
            errs = [[d["code"], d["line"], d["col"]] for d in r["diagnostics"] if d["severity"] == "Error"][:5]
            cols = [[c["name"], c["type"]] for c in (r.get("result_columns") or [])]
            o.write(json.dumps({"id": r["id"], "ok": r["ok"], "errors": errs, "columns": cols}, separators=(",", ":")) + "\n")
compact(f"{work}/corpus-out.jsonl", "tests/data/corpus/oracle-sentinel.jsonl")
compact(f"{work}/conf-out.jsonl", "tests/data/conformance/oracle-kusto-docs.jsonl")
PY
echo "oracle verdicts written"
