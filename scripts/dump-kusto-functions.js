#!/usr/bin/env node
// Dump Microsoft Kusto.Language's built-in function catalog (scalar functions, aggregates,
// evaluate plugins) to JSON, by reflecting over the symbols of the Bridge.NET JavaScript build
// (npm @kusto/language-service-next). No network access.
//
//   node scripts/dump-kusto-functions.js /work/kusto-oracle/node_modules > kql-exec/data/kusto-functions.json
//
// The argument is the node_modules directory holding @kusto/language-service-next
// (default: /work/kusto-oracle/node_modules). Output: one JSON object with metadata,
// "naming_rules" (how Kusto names the column of an unnamed call, per ResultNameKind) and
// "functions": one entry per (name, kind), sorted by name then kind, one entry per line.
'use strict';

const path = require('path');

const modules = path.resolve(process.argv[2] || '/work/kusto-oracle/node_modules');
const pkgDir = path.join(modules, '@kusto', 'language-service-next');

// Bridge.NET runtime first (defines the globals Bridge / System), then the library (global Kusto).
require(path.join(pkgDir, 'bridge.js'));
require(path.join(pkgDir, 'Kusto.Language.Bridge.js'));
/* global Kusto, Bridge */
if (typeof Kusto === 'undefined' || !Kusto.Language) throw new Error('Kusto.Language failed to load');
const K = Kusto.Language;
const S = K.Symbols;
let version = null;
try { version = require(path.join(pkgDir, 'package.json')).version; } catch (e) { /* ignore */ }

// ------------------------------------------------------------------ helpers
// Bridge IReadOnlyList (Count/getItem) or plain JS array (System.Array) -> JS array
function toArray(list) {
  const out = [];
  if (!list) return out;
  if (Array.isArray(list)) return list.slice();
  const n = list.Count;
  for (let i = 0; i < n; i++) out.push(list.getItem(i));
  return out;
}

// Bridge enum object -> (value -> first declared name). ResultNameKind.Default aliases None (=0),
// so the first declared name wins.
function enumNames(en) {
  const m = new Map();
  for (const k of Object.keys(en)) {
    if (k.startsWith('$') || typeof en[k] !== 'number') continue;
    if (!m.has(en[k])) m.set(en[k], k);
  }
  return (v) => (m.has(v) ? m.get(v) : String(v));
}
const resultNameKindName = enumNames(S.ResultNameKind);
const returnKindName = enumNames(S.ReturnTypeKind);
const paramTypeKindName = enumNames(S.ParameterTypeKind);
const argumentKindName = enumNames(S.ArgumentKind);
const tabularityName = enumNames(S.Tabularity);

const typeName = (t) => (t && (t.$$name || (t.constructor && t.constructor.$$name))) || '';

// Kusto spelling of a type symbol: scalar types by name ("string", "long", "real", "dynamic", ...);
// tables as their schema "(A: string, B: long)" or "(*)" when open/unknown.
function typeText(t) {
  if (!t) return null;
  if (Bridge.is(t, S.TableSymbol)) {
    const cols = toArray(t.Columns);
    if (!cols.length) return '(*)';
    try { return S.SchemaDisplay.GetText(t); } catch (e) { /* fall through */ }
    return '(' + cols.map((c) => `${c.Name}: ${typeText(c.Type)}`).join(', ') + ')';
  }
  try {
    const s = S.SchemaDisplay.GetScalarTypeText(t);
    if (s) return s;
  } catch (e) { /* fall through */ }
  return t.Name || 'unknown';
}

// dynamic sub-shape of a declared type: "array" / "bag" / null
function dynamicShape(t) {
  const n = typeName(t);
  if (n.endsWith('DynamicArraySymbol')) return 'array';
  if (n.endsWith('DynamicBagSymbol')) return 'bag';
  return null;
}

const CONSTANT_ARG_KINDS = new Set(['Literal', 'LiteralNotEmpty', 'Constant']);

// Best-effort classification of a custom (computed-by-code) return type, from the transpiled
// source of the Signature's CustomReturnType delegate. Informational only.
function customReturnHint(fn) {
  let src;
  try { src = String(fn); } catch (e) { return 'custom'; }
  let m;
  if ((m = /MakePrefixedTuple\(context, "([^"]*)"/.exec(src))) return `prefixed_tuple(${m[1]})`;
  if ((m = /GetArgMinMaxResult\(context, "([^"]*)"/.exec(src))) return `arg_min_max_tuple(${m[1]})`;
  if (/GetArgMinMaxDepResult/.test(src) || /primaryColName/.test(src)) return 'arg_min_max_deprecated_tuple';
  if ((m = /GetAnyResult\(context, ("[^"]*"|null)\)/.exec(src))) return m[1] === 'null' ? 'any_tuple' : `any_tuple(${JSON.parse(m[1])})`;
  if (/AddPercentileColumns|percentile/i.test(src)) return 'percentile_tuple';
  if (/^function \(context\) \{\s*return context\.RowScope;\s*\}$/.test(src.replace(/\s+/g, ' ').trim())) return 'input_schema';
  if (/WithIsOpen\(true\)/.test(src) && src.length < 200) return 'open_table';
  if (/TableSymbol/.test(src)) return 'computed_table';
  return 'computed';
}

function paramJson(p) {
  const o = { name: p.Name };
  const tk = paramTypeKindName(p.TypeKind);
  o.type_kind = tk;
  const declared = toArray(p.DeclaredTypes);
  if (declared.length) {
    o.types = declared.map(typeText);
    const shapes = declared.map(dynamicShape).filter(Boolean);
    if (shapes.length) o.dynamic_shape = shapes.length === 1 ? shapes[0] : shapes;
  }
  o.arg_kind = argumentKindName(p.ArgumentKind);
  if (CONSTANT_ARG_KINDS.has(o.arg_kind)) o.constant = true;
  o.min = p.MinOccurring;
  o.max = p.MaxOccurring;
  if (p.IsOptional) o.optional = true;
  if (p.IsRepeatable) o.repeatable = true;
  if (p.DefaultValueIndicator != null) o.default = p.DefaultValueIndicator;
  if (p.DefaultValue) {
    let txt = null;
    try { txt = p.DefaultValue.ToString ? p.DefaultValue.ToString() : String(p.DefaultValue); } catch (e) { /* ignore */ }
    if (txt) o.default_value = txt;
  }
  const values = toArray(p.Values);
  if (values.length) {
    o.values = values.map((v) => (v == null ? null : (typeof v === 'object' ? String(v) : v)));
    o.case_sensitive = !!p.IsCaseSensitive;
  }
  const examples = toArray(p.Examples);
  if (examples.length) o.examples = examples;
  const tab = tabularityName(p.Tabularity);
  if (tab !== 'Scalar') o.tabularity = tab;
  return o;
}

function signatureJson(sig) {
  const o = {};
  const rk = returnKindName(sig.ReturnKind);
  o.return_kind = rk;
  if (rk === 'Declared') {
    const dt = sig.DeclaredReturnType;
    o.return_type = typeText(dt);
    const shape = dynamicShape(dt);
    if (shape) o.return_dynamic_shape = shape;
  } else if (rk === 'Custom') {
    o.return_type = 'Custom';
    o.custom_return = customReturnHint(sig.CustomReturnType);
  } else {
    o.return_type = rk; // Parameter0, Common, Widest, Computed, ...
  }
  if (rk === 'Computed' && sig.Body) o.body = sig.Body;
  o.min_args = sig.MinArgumentCount;
  o.max_args = sig.MaxArgumentCount;
  const layout = typeName(sig.Layout).replace(/^Kusto\.Language\.Symbols\./, '').replace(/ParameterLayout$/, '');
  if (layout && layout !== 'NonRepeating') o.layout = layout; // Repeating / BlockRepeating / Custom
  if (sig.IsHidden) o.hidden = true;
  if (sig.IsObsolete) { o.obsolete = true; if (sig.Alternative) o.alternative = sig.Alternative; }
  if (sig.AllowsNamedArguments) o.named_args = true;
  const tab = tabularityName(sig.Tabularity);
  if (tab !== 'Scalar') o.tabularity = tab;
  o.params = toArray(sig.Parameters).map(paramJson);
  return o;
}

// Kusto.Language has no "window function" flag; these require serialized input (docs: "window functions").
const WINDOW_FUNCTIONS = new Set(['next', 'prev', 'row_cumsum', 'row_number', 'row_rank', 'row_rank_dense', 'row_rank_min', 'row_window_session']);

function functionJson(f, kind) {
  if (kind === 'scalar' && WINDOW_FUNCTIONS.has(f.Name)) kind = 'window';
  const o = { name: f.Name, kind };
  if (f.IsHidden) o.hidden = true;
  if (f.IsObsolete) { o.obsolete = true; if (f.Alternative) o.alternative = f.Alternative; }
  if (f.OptimizedAlternative) o.optimized_alternative = f.OptimizedAlternative;
  o.result_name_kind = resultNameKindName(f.ResultNameKind);
  if (f.ResultNamePrefix != null) o.result_name_prefix = f.ResultNamePrefix;
  if (f.IsConstantFoldable) o.constant_foldable = true;
  if (f.CustomAvailability) o.custom_availability = true; // only usable in some contexts (e.g. graph-match clauses)
  if (f.IsView) o.view = true;
  const tab = tabularityName(f.Tabularity);
  if (tab !== 'Scalar') o.tabularity = tab;
  o.min_args = f.MinArgumentCount;
  o.max_args = f.MaxArgumentCount;
  if (f.Description) o.description = f.Description;
  o.signatures = toArray(f.Signatures).map(signatureJson);
  return o;
}

// ------------------------------------------------------------------ collect
const g = K.GlobalState.Default;
const entries = [];
for (const f of toArray(g.Functions)) entries.push(functionJson(f, 'scalar'));
for (const f of toArray(g.Aggregates)) entries.push(functionJson(f, 'aggregate'));
for (const f of toArray(g.PlugIns)) entries.push(functionJson(f, 'plugin'));

// alt_names: other names for the same function. Kusto.Language has no alias table; derived from the
// obsolete -> alternative links (e.g. makelist -> make_list) in both directions, same kind only,
// when the alternative is a plain function name present in the catalog.
const byKey = new Map(entries.map((e) => [`${e.kind === 'window' ? 'scalar' : e.kind}:${e.name}`, e]));
const kindKey = (e) => (e.kind === 'window' ? 'scalar' : e.kind);
for (const e of entries) {
  if (!e.obsolete || !e.alternative) continue;
  const alt = byKey.get(`${kindKey(e)}:${e.alternative}`);
  if (!alt || alt === e) continue;
  (e.alt_names = e.alt_names || []).push(alt.name);
  (alt.alt_names = alt.alt_names || []).push(e.name);
}
for (const e of entries) if (e.alt_names) e.alt_names = [...new Set(e.alt_names)].sort();

const kindOrder = { scalar: 0, window: 1, aggregate: 2, plugin: 3 };
entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : kindOrder[a.kind] - kindOrder[b.kind]));

// Put keys in a stable, readable order
const KEY_ORDER = ['name', 'kind', 'alt_names', 'hidden', 'obsolete', 'alternative', 'optimized_alternative', 'result_name_kind',
  'result_name_prefix', 'constant_foldable', 'custom_availability', 'view', 'tabularity', 'min_args', 'max_args', 'description', 'signatures'];
function ordered(e) {
  const o = {};
  for (const k of KEY_ORDER) if (e[k] !== undefined) o[k] = e[k];
  for (const k of Object.keys(e)) if (!(k in o)) o[k] = e[k];
  return o;
}

const counts = { scalar: 0, window: 0, aggregate: 0, plugin: 0 };
for (const e of entries) counts[e.kind]++;

// ------------------------------------------------------------------ naming rules (checked against the oracle)
const NAMING_RULES = {
  _general: 'How Kusto names the output column of an unnamed expression in extend/project/summarize (Binder.GetFunctionResultName / '
    + 'GetExpressionResultName); result_name_kind and result_name_prefix of the called function decide. '
    + 'argname(x) below = the name of argument expression x: a column reference -> its name; on a dynamic value, d.z / d["z"] / d[0] -> "d_z" / "d_z" / "d_0" '
    + '(nested: d.x.y -> "d_x_y"; on a non-dynamic value just the selector name); a parenthesized expression -> argname of the inner one; a function call -> '
    + 'that function\'s own rule, recursively (strlen(tostring(d.z)) -> strlen_d_z); anything else (literal, a+1, a>1, ...) has no name. '
    + 'When the rule yields no name the column is "Column1", "Column2", ... (a per-operator counter, skipping names already in scope) in extend, project and summarize alike. '
    + 'Checked first: a no-op conversion (tostring/tolong/toint/toreal/todouble/tobool/todatetime/totimespan/totime/todecimal/toguid/todynamic) of a column that already '
    + 'has the target type is that very column (project tostring(b) -> b). Name clashes within one operator get a numeric suffix: '
    + 'summarize sum(a), sum(a) -> sum_a, sum_a1; count(), count() -> count_, count_1; extend of a name equal to an input column replaces that column (extend bin(t,1h) replaces t).',
  None: 'No derived name -> ColumnN (toupper(b) -> Column1, strcat(b,"x") -> Column1, iff(...) -> Column1, row_number() -> Column1).',
  NameAndFirstArgument: '"<function name>_<argname(first arg)>", with "" for an unnamed first arg and "<name>_" when there are no args '
    + '(strlen(b) -> strlen_b, strlen(toupper(b)) -> strlen_, dcount_hll(d) -> dcount_hll_d).',
  NameAndOnlyArgument: 'With exactly one argument "<function name>_<argname(arg)>", otherwise ColumnN. (No built-in uses it in this version.)',
  PrefixAndFirstArgument: '"<result_name_prefix>_<argname(first arg)>", "" for an unnamed first arg, "<prefix>_" with no args (without a prefix: argname(first arg)). '
    + 'sum(a) -> sum_a, sum(a+1) -> sum_, count() -> count_, countif(a>1) -> countif_, make_set(b) -> set_b, make_list_if(a,a>1) -> list_a, buildschema(d) -> schema_d, '
    + 'any(b) -> any_b, gettype(a) -> type_a, tdigest_merge(d) (aggregate) -> merge_tdigests_d.',
  PrefixAndOnlyArgument: 'With exactly one argument "<result_name_prefix>_<argname(arg)>", otherwise ColumnN. (No built-in uses it in this version.)',
  FirstArgumentValueIfColumn: 'If the first argument is a constant string that names a column of the input row, that string; otherwise ColumnN '
    + '(column_ifexists("b","") -> b, column_ifexists("zz","") -> Column1).',
  PrefixOnly: 'Always result_name_prefix (ingestion_time() -> $IngestionTime, hll_merge(d,d) (scalar) -> hll_merged_result, tdigest_merge(d,d) (scalar) -> tdigests_merge_result).',
  FirstArgument: 'argname(first arg), ColumnN if it has none (bin(t,1h) -> t, floor(a,2) -> a, tostring(d.z) -> d_z, toreal(a) -> a, startofday(t) -> t, '
    + 'tostring(a+1) -> Column1, take_anyif(a,a>1) -> a, binary_all_or(a) -> a).',
  OnlyArgument: 'With exactly one argument argname(arg), otherwise ColumnN (make_datetime(t) -> t, make_datetime(2020,1,2) -> Column1).',
  _tuple_results: 'A signature with return_kind "Custom" may produce a tuple; each tuple column becomes an output column, result_name_kind is then ignored, and if the '
    + 'function has a result_name_prefix every tuple column gets "<prefix>_" prepended. custom_return hints: '
    + 'arg_min_max_tuple(p) (arg_min/arg_max): one column per argument; a column argument keeps its name (arg_max(t, a) -> t, a); "*" adds all input columns not in the '
    + 'by clause (arg_max(t,*) by b -> t, a, d, r); unnamed first arg -> "<p>_" (max_), unnamed later arg i -> "<p>_<argname(first)>_arg<i>" (arg_min(a+1, r+1) -> min_, min__arg1). '
    + 'arg_min_max_deprecated_tuple (argmin/argmax, prefix min/max): first arg then "<first>_<argname>" per other arg, then the prefix: argmax(t, a) -> max_t, max_t_a. '
    + 'any_tuple(pfx) / any_tuple (pfx empty): one column per argument, column args keep their name, unnamed arg i -> "<pfx>arg<i>": take_any(a) -> a, take_any(a, r) -> a, r, take_any(a+1) -> any_arg0; '
    + 'the multi-argument any(a, r) is the same with pfx "" plus the "any" prefix -> any_a, any_r (any(a+1, r) -> any_arg0, any_r); single-argument any(a) uses PrefixAndFirstArgument -> any_a. '
    + 'percentile_tuple: percentile/percentiles/percentilew/percentilesw -> one column per percentile "percentile_<argname(expr)>_<percentile constant, every non letter/digit char as _>" '
    + '(percentile(a,50) -> percentile_a_50, percentiles(a,50,95.5) -> percentile_a_50, percentile_a_95_5, percentile(a+1,50) -> percentile__50); '
    + 'percentiles_array/percentilesw_array -> one column "percentiles_<argname(expr)>". '
    + 'prefixed_tuple(param): series_* functions -> "<result_name_prefix or function name>_<argname(param)>_<component>" for each component '
    + '(series_stats(d) -> series_stats_d_min, series_stats_d_min_idx, ..., series_stats(d.x) -> series_stats_d_x_min, ...). '
    + 'Other custom hints (computed, computed_table, input_schema, open_table) only compute types.',
  _summarize: 'summarize aggregates follow the same rules as extend; by-clause expressions are named like extend/project expressions '
    + '(by bin(t,1h) -> t, by tostring(d.x) -> d_x, by strlen(b) -> strlen_b, by a+1 or toupper(b) -> Column1). Output order: by columns first, then aggregates. '
    + 'A scalar function wrapped around an aggregate is named by the outer function (toupper(max(b)) -> Column1, max(a)+1 -> Column1, max(bin(t,1h)) -> max_t).',
};

// Live examples computed with Kusto.Language itself: column names of some unnamed calls over
// T(a:long, b:string, d:dynamic, t:datetime, r:real).
const EXAMPLE_QUERIES = [
  'T | extend strlen(b)', 'T | project tostring(d.z)', 'T | project tostring(d["k"])', 'T | project bin(t, 1h)', 'T | project floor(a, 2)',
  'T | project toupper(b)', 'T | project a + 1', 'T | project toupper(b), tolower(b)', 'T | project tolong(a)', 'T | project tostring(b)', 'T | project tostring(a + 1)',
  'T | project column_ifexists("b", "")', 'T | project column_ifexists("zz", "")', 'T | project strlen(tostring(d.z))', 'T | project strlen(toupper(b))',
  'T | project d.x.y', 'T | project d[0]', 'T | project make_datetime(t)', 'T | project make_datetime(2020, 1, 2)', 'T | project ingestion_time()',
  'T | project hll_merge(d, d)', 'T | project gettype(a)', 'T | project repeat(a, 3)', 'T | project series_stats(d)', 'T | project series_stats(d.x)',
  'T | serialize | project row_number()', 'T | project strlen(b), strlen(b)',
  'T | summarize count() by b', 'T | summarize sum(a) by b', 'T | summarize sum(a + 1) by b', 'T | summarize make_set(b) by b', 'T | summarize make_list_if(a, a > 1) by b',
  'T | summarize countif(a > 1) by b', 'T | summarize percentile(a, 50) by b', 'T | summarize percentiles(a, 50, 95.5) by b', 'T | summarize percentile(a + 1, 50) by b',
  'T | summarize percentiles_array(a, 50, 90) by b', 'T | summarize take_any(b) by a', 'T | summarize take_any(a, r) by b', 'T | summarize take_any(a + 1) by b',
  'T | summarize any(b) by a', 'T | summarize any(a, r) by b', 'T | summarize arg_max(t, a) by b', 'T | summarize arg_max(t, *) by b', 'T | summarize arg_min(a + 1, r + 1) by b',
  'T | summarize argmax(t, a) by b', 'T | summarize take_anyif(a, a > 1) by b', 'T | summarize take_anyif(a + 1, a > 1) by b', 'T | summarize buildschema(d) by b',
  'T | summarize tdigest_merge(d) by b', 'T | summarize sum(a), sum(a) by b', 'T | summarize count(), count() by b', 'T | summarize max(a + 1), max(r + 1) by b',
  'T | summarize count() by bin(t, 1h)', 'T | summarize count() by a + 1', 'T | summarize count() by tostring(d.x)', 'T | summarize toupper(max(b)) by b',
  'T | summarize max(bin(t, 1h)) by b',
];
function namingExamples() {
  const out = [];
  try {
    const cols = [['a', 'long'], ['b', 'string'], ['d', 'dynamic'], ['t', 'datetime'], ['r', 'real']]
      .map(([n, t]) => new S.ColumnSymbol(n, S.ScalarTypes.GetSymbol(t)));
    const db = new S.DatabaseSymbol.$ctor1('db', [new S.TableSymbol.$ctor4('T', cols)], false);
    const globals = K.GlobalState.Default.WithDatabase(db);
    for (const q of EXAMPLE_QUERIES) {
      const code = K.KustoCode.ParseAndAnalyze(q, globals);
      const errors = toArray(code.GetDiagnostics()).filter((d) => d.Severity === 'Error').map((d) => d.Message);
      const rt = code.ResultType;
      const columns = rt && Bridge.is(rt, S.TableSymbol) ? toArray(rt.Columns).map((c) => c.Name) : null;
      const e = { query: q, columns };
      if (errors.length) e.errors = errors;
      out.push(e);
    }
  } catch (e) {
    process.stderr.write(`dump-kusto-functions: naming examples failed: ${e && e.message}\n`);
  }
  return out;
}
const examples = namingExamples();

// ------------------------------------------------------------------ write
const out = [];
out.push('{');
out.push(`"source": ${JSON.stringify({ package: '@kusto/language-service-next', version, generator: 'scripts/dump-kusto-functions.js', catalogs: 'GlobalState.Default.Functions / .Aggregates / .PlugIns' })},`);
out.push(`"counts": ${JSON.stringify(Object.assign({ total: entries.length }, counts))},`);
out.push(`"notes": ${JSON.stringify([
  'One entry per (name, kind); a few names are both scalar and aggregate (any, hll_merge, tdigest_merge, merge_tdigest).',
  'kind "window" = scalar functions that need serialized input (Kusto.Language has no flag for this; hand-listed).',
  'param.max 32767 = FunctionHelpers.MaxRepeat (unbounded repetition); min_args/max_args are sums over the parameters, so max_args >= 32767 (32767, 32768, 65535, ...) means unbounded.',
  'param.type_kind "Declared" means the accepted types are listed in param.types; other type kinds are Kusto ParameterTypeKind classes (Scalar, Number, Summable, ...). '
    + 'param.arg_kind is Kusto ArgumentKind (Literal/LiteralNotEmpty/Constant set constant=true; Column* require a column reference; StarOnly/StarAllowed "*").',
  'signature.return_type is a concrete type (return_kind Declared) or the ReturnTypeKind name (Parameter0 = type of first arg, Common/Widest = common/widest type of args, Custom = computed by code, see custom_return).',
  'param.default "~" is Kusto DefaultValueIndicator (argument may be skipped with ~ / empty).',
  'alt_names come only from obsolete -> alternative links (e.g. makelist <-> make_list); Kusto.Language has no alias table.',
])},`);
out.push(`"naming_rules": ${JSON.stringify(NAMING_RULES, null, 1)},`);
out.push('"naming_examples": [');
out.push(examples.map((e) => JSON.stringify(e)).join(',\n'));
out.push('],');
out.push('"functions": [');
out.push(entries.map((e) => JSON.stringify(ordered(e))).join(',\n'));
out.push(']');
out.push('}');
process.stdout.write(out.join('\n') + '\n');
process.stderr.write(`dump-kusto-functions: ${entries.length} entries ${JSON.stringify(counts)}\n`);
