#!/usr/bin/env python3
"""Regenerate kql-exec/data/schema-catalog.tsv and kql-exec/data/function-catalog.tsv.

Usage: scripts/gen-schema-catalog.py [PATH/TO/shared]      (default: /work/shared)

Inputs, merged in this order, later definitions column by column (a column already present keeps
its position and takes the later type; a new column is appended), as kusto-oracle's `--schema`
does:
  1. schemas/sentinel/builtin/la-tables.json          the 898 built-in Log Analytics tables
  2. schemas/sentinel/CustomTables/*.json             Azure-Sentinel's KQL validation test schemas
  3. tools/kusto-oracle/schemas/seed-tables.json      kusto-oracle's seed tables (ContainerLogV2, ...)
  4. a `Timestamp:datetime` column for the Defender XDR tables that lack it (see XDR_TABLES)
  5. a `TenantId` (string) column for the built-in and custom (`_CL`) Log Analytics tables that
     lack it: it is a standard column of every workspace table ("Standard columns in Azure
     Monitor Logs"), but 153 definitions in la-tables.json leave it out, so real rules that
     read it (W3CIISLog, AuditLogs...) would fail to run locally
  6. `TimeGenerated` typed datetime wherever a definition gives it another type: it is the
     datetime standard column of every workspace table, but two custom-table test schemas
     (CrowdstrikeReplicator, TrendMicro_XDR_OAT_CL) declare it a string, which would split it into
     `TimeGenerated_datetime` and `TimeGenerated_string` in `union *` over a workspace
Functions come from schemas/sentinel/CustomFunctions/*.json.

Differences from kusto-oracle's loader (kql-exec's `schema::formats` reads files the same way):
  - trailing commas are stripped before parsing (the oracle skips those files);
  - a column named twice in one definition keeps its first type (the oracle keeps the last);
  - a type name with trailing `,` or `;` (`"string,"`) is read without it (the oracle reads dynamic).
An unknown type name becomes dynamic, with a warning, as in the oracle.

Output format (UTF-8, one record per line, `#` lines are comments):
  schema-catalog.tsv:   Table<TAB>Col[:type],Col[:type],...
  function-catalog.tsv: Function<TAB>param:type[?|=default],...<TAB>Col[:type],...
A column without `:type` is a string (three quarters of all columns; this keeps the file small).
A parameter type is a KQL scalar type, `(*)` for any table or `(Col:type,...)` for a table
schema; `?` marks an optional parameter, `=text` one with a default value. A name (or default)
that is empty, has surrounding blanks, starts with `#`, or contains one of `\\t \\n \\r , : " \\ ( ) = ?`
is written as a JSON string literal.
"""

import json
import os
import re
import sys
from collections import OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "kql-exec", "data")

# Type names, as kusto-oracle's TYPE_ALIASES plus the .NET names; keep in step with
# KqlType::parse / KqlType::parse_schema_type in kql-exec/src/schema/types.rs.
TYPE_ALIASES = {
    "string": "string", "text": "string", "varchar": "string",
    "long": "long", "int64": "long", "bigint": "long",
    "int": "int", "int32": "int", "integer": "int", "int16": "int", "byte": "int",
    "real": "real", "double": "real", "float": "real", "single": "real", "number": "real",
    "bool": "bool", "boolean": "bool", "sbyte": "bool",
    "datetime": "datetime", "date": "datetime", "timestamp": "datetime",
    "timespan": "timespan", "time": "timespan",
    "dynamic": "dynamic", "object": "dynamic", "json": "dynamic", "array": "dynamic",
    "guid": "guid", "uuid": "guid", "uniqueid": "guid", "uniqueidentifier": "guid",
    "decimal": "decimal", "sqldecimal": "decimal",
}

# Defender XDR advanced-hunting tables. Streamed into Sentinel they keep the XDR `Timestamp`
# column next to `TimeGenerated` (the Sentinel test schemas carry it); la-tables.json omits it.
XDR_TABLES = """
AADSignInEventsBeta AADSpnSignInEventsBeta AlertEvidence AlertInfo BehaviorEntities BehaviorInfo
CampaignInfo CloudAppEvents CloudAuditEvents CloudProcessEvents DeviceCustomFileEvents
DeviceCustomImageLoadEvents DeviceCustomNetworkEvents DeviceCustomProcessEvents
DeviceCustomRegistryEvents DeviceCustomScriptEvents DeviceEvents DeviceFileCertificateInfo
DeviceFileEvents DeviceImageLoadEvents DeviceInfo DeviceLogonEvents DeviceNetworkEvents
DeviceNetworkInfo DeviceProcessEvents DeviceRegistryEvents DeviceTvmInfoGathering
DeviceTvmInfoGatheringKB DeviceTvmSecureConfigurationAssessment
DeviceTvmSecureConfigurationAssessmentKB DeviceTvmSoftwareInventory
DeviceTvmSoftwareVulnerabilities DeviceTvmSoftwareVulnerabilitiesKB EmailAttachmentInfo
EmailEvents EmailPostDeliveryEvents EmailUrlInfo ExposureGraphEdges ExposureGraphNodes
FileMaliciousContentInfo IdentityAccountInfo IdentityDirectoryEvents IdentityEvents IdentityInfo
IdentityLogonEvents IdentityQueryEvents MessageEvents MessagePostDeliveryEvents MessageUrlInfo
OAuthAppInfo UrlClickEvents
""".split()

warned = set()


def warn(msg):
    print(f"gen-schema-catalog: {msg}", file=sys.stderr)


def norm_type(t, where):
    key = ("" if t is None else str(t)).strip().rstrip(",;").strip().lower()
    for prefix in ("system.data.sqltypes.", "system."):
        if key.startswith(prefix):
            key = key[len(prefix):]
    if key in TYPE_ALIASES:
        return TYPE_ALIASES[key]
    if key not in warned:
        warned.add(key)
        warn(f"unknown column type {json.dumps(t)} ({where}); using dynamic")
    return "dynamic"


TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,(\s*[\]}])', re.S)


def load_json(path):
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    text = TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text)
    return json.loads(text, object_pairs_hook=Obj)


class Obj(list):
    """A JSON object as its (key, value) pairs: keeps key order and repeated keys."""


MISSING = object()


def truthy(v):
    """JavaScript truthiness, as kusto-oracle tests values (an empty object or array is true)."""
    return isinstance(v, list) or v not in (None, False, "", 0)


def get(obj, *keys, default=None):
    """Value of the first of `keys` present in a JSON object, keys compared case-insensitively."""
    if not isinstance(obj, Obj):
        return None
    for want in keys:
        for k, v in obj:
            if k.lower() == want.lower():
                return v
    return default


def columns_from(value, where):
    """[(name, raw type)] from {"Col": "type"} | [{"Name","Type"}] | [["Col","type"]] | "(Col:type, ...)"."""
    out = []
    if isinstance(value, Obj):
        out = list(value)
    elif isinstance(value, list):
        for p in value:
            if isinstance(p, Obj):
                n = get(p, "Name", "ColumnName")
                t = get(p, "Type", "CslType", "ColumnType", "DataType")
                if n is None:
                    raise ValueError(f"column without a name in {where}")
                out.append((str(n), "dynamic" if t in (None, "") else t))
            elif isinstance(p, list) and p:
                out.append((str(p[0]), p[1] if len(p) > 1 else "dynamic"))
    elif isinstance(value, str):
        inner = value.strip().removeprefix("(").removesuffix(")")
        for part in inner.split(","):
            if not part.strip():
                continue
            name, sep, ty = part.rpartition(":")
            if not sep:
                raise ValueError(f"bad column spec {json.dumps(part)} in {where}")
            out.append((name.strip().strip("[]'\""), ty.strip()))
    else:
        raise ValueError(f"cannot read columns in {where}")
    return out


def typed_columns(value, where):
    """Normalised, first definition of a repeated column kept."""
    cols = OrderedDict()
    for name, ty in columns_from(value, where):
        if name not in cols:
            cols[name] = norm_type(ty, f"{where}.{name}")
    return cols


class Catalog:
    def __init__(self):
        self.tables = OrderedDict()
        self.functions = OrderedDict()

    def add_table(self, name, cols):
        t = self.tables.setdefault(name, OrderedDict())
        for c, ty in cols.items():
            t[c] = ty  # existing column: keeps its position, takes the later type

    def add_function(self, name, spec, where):
        params = []
        for p in get(spec, "parameters", "FunctionParameters") or []:
            pn = get(p, "Name")
            if pn is None:
                raise ValueError(f"{where}: {name}: parameter without a name")
            pt = get(p, "Type")
            pt = "dynamic" if pt in (None, "") else str(pt)
            req = get(p, "IsRequired", "required")
            default = get(p, "default", default=MISSING)
            optional = req is False or get(p, "optional") is True or default is not MISSING
            default = None if default in (MISSING, None) else default
            low = pt.strip().lower()
            if low.startswith("(") and low.replace(" ", "") != "(*)":
                pt = "(" + column_list(typed_columns(pt, f"{where}: {name}({pn})")) + ")"
            elif low.startswith("table") or low.startswith("(") or low == "*":
                pt = "(*)"
            else:
                pt = norm_type(pt, f"{where}: {name}({pn})")
            params.append((str(pn), pt, optional, None if default is None else str(default)))
        cols = get(spec, "columns", "FunctionResultColumns", "resultColumns")
        cols = typed_columns(cols, f"{where}: {name}") if truthy(cols) else OrderedDict()
        self.functions[name] = (params, cols)

    def add_object(self, obj, where):
        if isinstance(obj, list) and not isinstance(obj, Obj):
            for i, o in enumerate(obj):
                self.add_object(o, f"{where}[{i}]")
            return
        if not isinstance(obj, Obj):
            raise ValueError(f"not a schema object: {where}")
        recognised = False
        tables = get(obj, "tables")
        if truthy(tables):
            recognised = True
            if isinstance(tables, Obj):
                for tn, cols in tables:
                    self.add_table(tn, typed_columns(cols, f"{where}: {tn}"))
            else:
                for i, t in enumerate(tables):
                    self.add_object(t, f"{where}.tables[{i}]")
        fns = get(obj, "functions")
        if truthy(fns):
            recognised = True
            if isinstance(fns, Obj):
                for fn, spec in fns:
                    self.add_function(fn, spec, where)
            else:
                for i, f in enumerate(fns):
                    self.add_object(f, f"{where}.functions[{i}]")
        name = get(obj, "Name", "TableName")
        props = get(obj, "Properties", "Columns")
        if not recognised and truthy(name) and props is not None:
            recognised = True
            self.add_table(str(name), typed_columns(props, f"{where}: {name}"))
        fname = get(obj, "FunctionName")
        if not recognised and truthy(fname):
            recognised = True
            self.add_function(str(fname), obj, where)
        if not recognised:
            raise ValueError(f'unrecognised schema format in {where} (expected {{"tables":{{...}}}} or {{"Name","Properties"}})')

    def load(self, path):
        if os.path.isdir(path):
            for f in json_files(path):
                self.add_object(load_json(f), f)
        else:
            self.add_object(load_json(path), path)


def json_files(d):
    """The *.json files under a folder: entries sorted by name ignoring case, a sub-folder's files
    where the sub-folder sorts (as kusto-oracle and kql-exec's loader walk folders)."""
    out = []
    for n in sorted(os.listdir(d), key=lambda n: (n.lower(), n)):
        full = os.path.join(d, n)
        if os.path.isdir(full):
            out += json_files(full)
        elif n.lower().endswith(".json") and os.path.isfile(full):
            out.append(full)
    return out


SPECIAL = set('\t\n\r,:"\\()=?')


def quote(name):
    if (not name or name != name.strip() or name.startswith("#") or any(ch in SPECIAL or ord(ch) < 32 for ch in name)):
        return json.dumps(name, ensure_ascii=False)
    return name


def column_list(cols):
    return ",".join(quote(c) if t == "string" else f"{quote(c)}:{t}" for c, t in cols.items())


def param(p):
    name, ty, optional, default = p
    s = f"{quote(name)}:{ty}"
    if default is not None:
        s += "=" + quote(default)
    elif optional:
        s += "?"
    return s


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
    s = os.path.join(shared, "schemas", "sentinel")
    cat = Catalog()
    cat.load(os.path.join(s, "builtin", "la-tables.json"))
    workspace_tables = set(cat.tables)
    cat.load(os.path.join(s, "CustomTables"))
    cat.load(os.path.join(shared, "tools", "kusto-oracle", "schemas", "seed-tables.json"))
    added = []
    for t in XDR_TABLES:
        if t in cat.tables and "Timestamp" not in cat.tables[t]:
            cat.tables[t]["Timestamp"] = "datetime"
            added.append(t)
    warn(f"Timestamp added to {len(added)} Defender XDR tables")
    tenant = [t for t in cat.tables
              if (t in workspace_tables or t.endswith("_CL")) and t not in XDR_TABLES and "TenantId" not in cat.tables[t]]
    for t in tenant:
        cat.tables[t]["TenantId"] = "string"
    warn(f"TenantId added to {len(tenant)} Log Analytics tables")
    retyped = [t for t, cols in cat.tables.items() if cols.get("TimeGenerated", "datetime") != "datetime"]
    for t in retyped:
        cat.tables[t]["TimeGenerated"] = "datetime"
    warn(f"TimeGenerated typed datetime in {len(retyped)} tables: {', '.join(retyped)}")
    fcat = Catalog()
    fcat.load(os.path.join(s, "CustomFunctions"))

    os.makedirs(OUT_DIR, exist_ok=True)
    header = ("# Generated by scripts/gen-schema-catalog.py; do not edit. Table<TAB>Col[:type],...;"
              " a column without :type is a string.\n")
    with open(os.path.join(OUT_DIR, "schema-catalog.tsv"), "w", encoding="utf-8", newline="\n") as o:
        o.write(header)
        for name in sorted(cat.tables, key=lambda n: (n.lower(), n)):
            o.write(f"{quote(name)}\t{column_list(cat.tables[name])}\n")
    with open(os.path.join(OUT_DIR, "function-catalog.tsv"), "w", encoding="utf-8", newline="\n") as o:
        o.write("# Generated by scripts/gen-schema-catalog.py; do not edit."
                " Function<TAB>param:type[?|=default],...<TAB>Col[:type],...\n")
        for name in sorted(fcat.functions, key=lambda n: (n.lower(), n)):
            params, cols = fcat.functions[name]
            o.write(f"{quote(name)}\t{','.join(param(p) for p in params)}\t{column_list(cols)}\n")
    ncols = sum(len(c) for c in cat.tables.values())
    warn(f"{len(cat.tables)} tables, {ncols} columns, {len(fcat.functions)} functions written to {OUT_DIR}")


if __name__ == "__main__":
    main()
