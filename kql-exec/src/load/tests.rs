//! Loader tests over realistic small samples, written into a temporary folder per test.

use super::*;
use crate::schema::KqlType;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use std::io::Write;

/// A fresh temporary folder.
fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kql-load-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn builtin() -> &'static SchemaCatalog {
    SchemaCatalog::builtin()
}

/// Discover and load every table under `path` with the built-in schemas.
fn load_all(path: &Path, opts: &LoadOptions) -> Vec<LoadedTable> {
    discover(path, builtin())
        .unwrap()
        .into_iter()
        .map(|(name, files)| load_table(&name, &files, builtin().table(&name), opts).unwrap())
        .collect()
}

fn load_one(path: &Path) -> LoadedTable {
    let mut v = load_all(path, &LoadOptions::default());
    assert_eq!(v.len(), 1, "tables: {:?}", v.iter().map(|t| &t.name).collect::<Vec<_>>());
    v.remove(0)
}

fn col(t: &LoadedTable, name: &str) -> (usize, KqlType) {
    let i = t.cols.iter().position(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}"));
    (i, t.cols[i].ty)
}

fn strings(t: &LoadedTable, name: &str) -> Vec<Option<String>> {
    let (i, _) = col(t, name);
    t.batches
        .iter()
        .flat_map(|b| {
            let a = b.column(i).as_string::<i32>().clone();
            (0..a.len()).map(move |k| if a.is_null(k) { None } else { Some(a.value(k).to_string()) })
        })
        .collect()
}

fn longs(t: &LoadedTable, name: &str) -> Vec<Option<i64>> {
    let (i, _) = col(t, name);
    t.batches.iter().flat_map(|b| b.column(i).as_primitive::<Int64Type>().iter().collect::<Vec<_>>()).collect()
}

fn ticks(s: &str) -> i64 {
    crate::value::datetime::parse_datetime(s).unwrap()
}

const WS: &str = "WorkspaceResourceId=/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/soc-rg/providers/microsoft.operationalinsights/workspaces/soc-ws";

/// Five ContainerLogV2 rows as JSON lines, as the workspace export writes them.
const CONTAINER_LINES: [&str; 5] = [
    r#"{"TimeGenerated":"2025-02-25T09:19:25.391Z","Computer":"aks-node-1","ContainerId":"3f2a","ContainerName":"web","PodName":"web-7d9f","PodNamespace":"default","LogLevel":"info","LogMessage":{"msg":"GET /health","status":200},"LogSource":"stdout","KubernetesMetadata":{"podLabels":{"app":"web"}},"_BilledSize":312,"TenantId":"6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f","Type":"ContainerLogV2"}"#,
    r#"{"TimeGenerated":"2025-02-25T09:19:26.002Z","Computer":"aks-node-1","ContainerId":"3f2a","ContainerName":"web","PodName":"web-7d9f","PodNamespace":"default","LogLevel":"error","LogMessage":{"msg":"upstream timeout","status":504},"LogSource":"stderr","_BilledSize":298.5,"TenantId":"6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f","Type":"ContainerLogV2"}"#,
    r#"{"TimeGenerated":"2025-02-25T09:20:01.5Z","Computer":"aks-node-2","ContainerId":"77c1","ContainerName":"api","PodName":"api-55b6","PodNamespace":"prod","LogLevel":"warning","LogMessage":"plain text line","LogSource":"stdout","_BilledSize":120,"TenantId":"6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f","Type":"ContainerLogV2"}"#,
    r#"{"TimeGenerated":"2025-02-25T09:21:00Z","Computer":"aks-node-2","ContainerId":"77c1","ContainerName":"api","PodName":"api-55b6","PodNamespace":"prod","LogLevel":"info","LogMessage":["a",1,true],"LogSource":"stdout","_BilledSize":99,"TenantId":"6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f","Type":"ContainerLogV2"}"#,
    r#"{"TimeGenerated":"2025-02-25T09:21:00Z","Computer":"aks-node-2","ContainerId":"77c1","ContainerName":"api","PodName":"api-55b6","PodNamespace":"prod","LogLevel":"info","LogMessage":["a",1,true],"LogSource":"stdout","_BilledSize":99,"TenantId":"6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f","Type":"ContainerLogV2"}"#,
];

fn export_tree(root: &Path) -> PathBuf {
    let container = root.join("am-containerlogv2");
    let dir = container.join(WS).join("y=2025/m=02/d=25/h=09/m=15");
    write(&dir.join("PT05M.json"), &(CONTAINER_LINES[..3].join("\n") + "\n"));
    // a continuation blob, holding a record the export retried (kept twice, as Kusto keeps it)
    write(&dir.join("PT05M_1.json"), &(CONTAINER_LINES[3..].join("\n") + "\n"));
    container
}

#[test]
fn workspace_export_tree() {
    let root = tmp("ws-export");
    let container = export_tree(&root);
    // the export root, the container, a folder inside it and a blob all name ContainerLogV2
    for p in [
        root.clone(),
        container.clone(),
        container.join(WS),
        container.join(WS).join("y=2025/m=02/d=25/h=09/m=15/PT05M.json"),
    ] {
        let found = discover(&p, builtin()).unwrap();
        assert_eq!(found.len(), 1, "{}", p.display());
        assert_eq!(found[0].0, "ContainerLogV2", "{}", p.display());
    }
    let t = load_one(&root);
    assert_eq!(t.report.rows, 5, "duplicates are kept");
    assert_eq!(t.report.files, 2);
    assert!(!t.report.has_problems(), "{}", t.report);
    assert_eq!(col(&t, "TimeGenerated").1, KqlType::DateTime);
    assert_eq!(col(&t, "LogMessage").1, KqlType::Dynamic);
    assert_eq!(longs(&t, "TimeGenerated")[0], Some(ticks("2025-02-25T09:19:25.391Z")));
    let msgs = strings(&t, "LogMessage");
    assert_eq!(msgs[0].as_deref(), Some(r#"{"msg":"GET /health","status":200}"#));
    assert_eq!(msgs[2].as_deref(), Some(r#""plain text line""#));
    assert_eq!(msgs[4].as_deref(), Some(r#"["a",1,true]"#));
    // absent schema columns exist: null, or empty for strings
    assert_eq!(strings(&t, "SourceSystem"), vec![Some(String::new()); 5]);
    assert_eq!(strings(&t, "KubernetesMetadata")[1], None);
}

#[test]
fn defender_xdr_streaming_export() {
    let root = tmp("xdr");
    let dir = root
        .join("insights-logs-advancedhunting-deviceprocessevents")
        .join("tenantId=6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f/y=2025/m=02/d=25/h=09/m=00");
    let line = |ts: &str, cmd: &str, extra: &str| {
        let props = serde_json::json!({
            "Timestamp": ts, "DeviceId": "d1", "DeviceName": "ws-001.contoso.com", "ActionType": "ProcessCreated",
            "FileName": "powershell.exe", "ProcessCommandLine": cmd, "ProcessId": 4242,
            "AdditionalFields": extra, "InitiatingProcessFileName": "cmd.exe", "FileSize": "12345"
        });
        serde_json::json!({
            "time": ts, "tenantId": "6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f", "operationName": "Publish",
            "category": "AdvancedHunting-DeviceProcessEvents", "properties": props
        })
        .to_string()
    };
    let text = [
        line("2025-02-25T09:01:02.1234567Z", "powershell -enc AAAA", r#"{"ProcessStartKey":1234}"#),
        line("2025-02-25T09:05:00Z", "powershell -nop", ""),
    ]
    .join("\n");
    write(&dir.join("PT1H.json"), &text);
    let t = load_one(&root);
    assert_eq!(t.name, "DeviceProcessEvents");
    assert_eq!(t.report.rows, 2);
    assert!(!t.report.has_problems(), "{}", t.report);
    assert_eq!(col(&t, "AdditionalFields").1, KqlType::Dynamic);
    assert_eq!(strings(&t, "AdditionalFields"), vec![Some(r#"{"ProcessStartKey":1234}"#.into()), None]);
    let ts = longs(&t, "Timestamp");
    assert_eq!(ts[0], Some(ticks("2025-02-25T09:01:02.1234567Z")));
    assert_eq!(longs(&t, "TimeGenerated"), ts, "TimeGenerated is filled from Timestamp");
    assert_eq!(longs(&t, "FileSize")[0], Some(12345));
    assert_eq!(strings(&t, "ProcessCommandLine")[0].as_deref(), Some("powershell -enc AAAA"));
    assert!(t.cols.iter().all(|c| c.name != "properties" && c.name != "category"));
}

const KV_ID: &str = "/SUBSCRIPTIONS/0B1F6471-1BF0-4DDA-AEC3-CB9272F09590/RESOURCEGROUPS/SEC-RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-PROD-01";

fn kv_record(time: &str, op: &str, status: i64) -> serde_json::Value {
    serde_json::json!({
        "time": time, "category": "AuditEvent", "operationName": op, "resultType": "Success",
        "resultSignature": "OK", "durationMs": "12", "callerIpAddress": "203.0.113.7",
        "correlationId": "a1b2c3d4-0000-4000-8000-000000000001", "resourceId": KV_ID, "Level": "Informational",
        "identity": {"claim": {"appid": "11111111-2222-3333-4444-555555555555", "ipaddr": "203.0.113.7"}},
        "properties": {"id": "https://kv-prod-01.vault.azure.net/secrets/db", "requestUri": "https://kv-prod-01.vault.azure.net/secrets/db?api-version=7.4",
            "httpStatusCode": status, "isAccessPolicyMatch": true, "clientInfo": "azsdk/1.0", "tlsVersion": "TLS1.2",
            "addrs": ["10.0.0.1"]}
    })
}

#[test]
fn diagnostic_settings_to_azure_diagnostics() {
    let root = tmp("diag");
    let base = root.join("insights-logs-auditevent").join(format!("resourceId={KV_ID}"));
    // the older envelope, pretty-printed, and JSON lines
    let env = serde_json::json!({"records": [kv_record("2025-02-25T09:10:00.0000000Z", "SecretGet", 200),
        kv_record("2025-02-25T09:11:00Z", "SecretList", 403)]});
    write(&base.join("y=2025/m=02/d=25/h=09/m=00/PT1H.json"), &serde_json::to_string_pretty(&env).unwrap());
    write(
        &base.join("y=2025/m=02/d=25/h=10/m=00/PT1H.json"),
        &kv_record("2025-02-25T10:00:00Z", "VaultGet", 200).to_string(),
    );
    // a second category goes to the same table
    let other = root.join("insights-logs-applicationgatewayaccesslog/resourceId=/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/AGW/y=2025/m=02/d=25/h=09/m=00/PT1H.json");
    write(
        &other,
        r#"{"time":"2025-02-25T09:30:00Z","resourceId":"/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/AGW","category":"ApplicationGatewayAccessLog","operationName":"ApplicationGatewayAccess","properties":{"clientIP":"198.51.100.4","httpStatus":404,"timeTaken":0.012}}"#,
    );
    let t = load_one(&root);
    assert_eq!(t.name, "AzureDiagnostics");
    assert_eq!(t.report.rows, 4);
    // files in path order: the gateway's container first
    assert!(!t.report.has_problems(), "{}", t.report);
    assert_eq!(longs(&t, "TimeGenerated")[1], Some(ticks("2025-02-25T09:10:00Z")));
    assert_eq!(strings(&t, "Category")[1].as_deref(), Some("AuditEvent"));
    assert_eq!(strings(&t, "OperationName")[2].as_deref(), Some("SecretList"));
    assert_eq!(strings(&t, "ResourceId")[1].as_deref(), Some(KV_ID));
    assert_eq!(strings(&t, "_ResourceId")[1], Some(KV_ID.to_lowercase()));
    assert_eq!(strings(&t, "Resource")[1].as_deref(), Some("KV-PROD-01"));
    assert_eq!(strings(&t, "ResourceType")[1].as_deref(), Some("VAULTS"));
    assert_eq!(strings(&t, "ResourceProvider")[1].as_deref(), Some("MICROSOFT.KEYVAULT"));
    assert_eq!(strings(&t, "ResourceGroup")[1].as_deref(), Some("SEC-RG"));
    assert_eq!(strings(&t, "CallerIPAddress")[1].as_deref(), Some("203.0.113.7"));
    assert_eq!(longs(&t, "DurationMs")[1], Some(12));
    assert_eq!(col(&t, "httpStatusCode_d").1, KqlType::Real);
    assert_eq!(col(&t, "isAccessPolicyMatch_b").1, KqlType::Bool);
    // the schema's type wins (this column is a string in the catalog); else the suffix's
    assert_eq!(col(&t, "identity_claim_appid_g").1, KqlType::String);
    assert_eq!(strings(&t, "identity_claim_appid_g")[1].as_deref(), Some("11111111-2222-3333-4444-555555555555"));
    assert_eq!(col(&t, "tlsVersion_s").1, KqlType::String);
    assert_eq!(col(&t, "timeTaken_d").1, KqlType::Real);
    assert_eq!(
        strings(&t, "requestUri_s")[1].as_deref(),
        Some("https://kv-prod-01.vault.azure.net/secrets/db?api-version=7.4")
    );
    assert_eq!(strings(&t, "addrs_s")[1].as_deref(), Some(r#"["10.0.0.1"]"#));
    assert_eq!(strings(&t, "clientIP_s")[0].as_deref(), Some("198.51.100.4"));
    assert_eq!(strings(&t, "Type")[1].as_deref(), Some("AzureDiagnostics"));
    let (i, _) = col(&t, "httpStatusCode_d");
    let codes: Vec<Option<f64>> = t
        .batches
        .iter()
        .flat_map(|b| {
            b.column(i).as_primitive::<datafusion::arrow::datatypes::Float64Type>().iter().collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(codes, vec![None, Some(200.0), Some(403.0), Some(200.0)]);
}

#[test]
fn diagnostic_settings_resource_specific_signin_logs() {
    let root = tmp("diag-signin");
    let p = root.join("insights-logs-signinlogs/resourceId=/tenants/6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f/providers/Microsoft.aadiam/y=2025/m=02/d=25/h=09/m=00/PT1H.json");
    write(
        &p,
        r#"{"time":"2025-02-25T09:12:13.1234567Z","resourceId":"/tenants/6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","resultType":"50126","durationMs":0,"callerIpAddress":"203.0.113.9","Level":4,"properties":{"id":"e3b0","createdDateTime":"2025-02-25T09:12:10Z","userPrincipalName":"alice@contoso.com","appDisplayName":"Azure Portal","ipAddress":"203.0.113.9","deviceDetail":{"operatingSystem":"Windows 10","browser":"Edge"},"status":{"errorCode":50126}}}"#,
    );
    let t = load_one(&root);
    assert_eq!(t.name, "SigninLogs");
    assert_eq!(strings(&t, "UserPrincipalName")[0].as_deref(), Some("alice@contoso.com"));
    assert_eq!(strings(&t, "ResultType")[0].as_deref(), Some("50126"));
    assert_eq!(longs(&t, "TimeGenerated")[0], Some(ticks("2025-02-25T09:12:13.1234567Z")));
    assert_eq!(longs(&t, "CreatedDateTime")[0], Some(ticks("2025-02-25T09:12:10Z")));
    assert_eq!(strings(&t, "DeviceDetail")[0].as_deref(), Some(r#"{"operatingSystem":"Windows 10","browser":"Edge"}"#));
    // the same blob copied out of its container, named after the table
    let copy = root.join("copy/SigninLogs.json");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&p, &copy).unwrap();
    let c = load_one(&copy);
    assert_eq!(c.name, "SigninLogs");
    assert_eq!(concat(&c), concat(&t));
}

const PORTAL_CSV: &str = "TimeGenerated [UTC],Computer,ContainerId,ContainerName,PodName,PodNamespace,LogLevel,LogMessage,LogSource,KubernetesMetadata,_BilledSize,TenantId,Type,SourceSystem\n\
\"2/25/2025, 9:19:25.391 AM\",aks-node-1,3f2a,web,web-7d9f,default,info,\"{\"\"msg\"\":\"\"GET /health\"\",\"\"status\"\":200}\",stdout,\"{\"\"podLabels\"\":{\"\"app\"\":\"\"web\"\"}}\",312,6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f,ContainerLogV2,\n\
\"2/25/2025, 9:19:26.002 AM\",aks-node-1,3f2a,web,web-7d9f,default,error,\"{\"\"msg\"\":\"\"upstream timeout\"\",\"\"status\"\":504}\",stderr,,298.5,6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f,ContainerLogV2,\n\
\"2/25/2025, 9:20:01.500 AM\",aks-node-2,77c1,api,api-55b6,prod,warning,plain text line,stdout,,120,6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f,ContainerLogV2,\n\
\"2/25/2025, 9:21:00.000 AM\",aks-node-2,77c1,api,api-55b6,prod,info,\"[\"\"a\"\",1,true]\",stdout,,99,6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f,ContainerLogV2,\n\
\"2/25/2025, 9:21:00.000 AM\",aks-node-2,77c1,api,api-55b6,prod,info,\"[\"\"a\"\",1,true]\",stdout,,99,6f1c8a36-8e0b-4b8c-9a5e-1f1f1f1f1f1f,ContainerLogV2,\n";

#[test]
fn portal_csv_typed_by_schema() {
    let root = tmp("csv");
    write(&root.join("ContainerLogV2.csv"), PORTAL_CSV);
    let t = load_one(&root);
    assert_eq!(t.name, "ContainerLogV2");
    assert!(!t.report.has_problems(), "{}", t.report);
    assert_eq!(longs(&t, "TimeGenerated")[0], Some(ticks("2025-02-25T09:19:25.391Z")));
    assert_eq!(strings(&t, "LogMessage")[0].as_deref(), Some(r#"{"msg":"GET /health","status":200}"#));
    // a string column full of digits stays a string
    assert_eq!(strings(&t, "ContainerId")[0].as_deref(), Some("3f2a"));
}

/// A Parquet file as a user's pipeline writes it: microsecond timestamps, JSON text, no metadata.
fn pipeline_parquet(path: &Path) {
    use datafusion::arrow::array::{Float64Array, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{DataType, TimeUnit};
    let rows: Vec<serde_json::Value> = CONTAINER_LINES.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let s = |k: &str| -> ArrayRef {
        Arc::new(
            rows.iter()
                .map(|r| r.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string())))
                .collect::<StringArray>(),
        )
    };
    let times: TimestampMicrosecondArray = rows
        .iter()
        .map(|r| Some(ticks(r["TimeGenerated"].as_str().unwrap()) / 10))
        .collect::<TimestampMicrosecondArray>()
        .with_timezone("UTC");
    let billed: Float64Array = rows.iter().map(|r| r["_BilledSize"].as_f64()).collect();
    let names = [
        "Computer",
        "ContainerId",
        "ContainerName",
        "PodName",
        "PodNamespace",
        "LogLevel",
        "LogMessage",
        "LogSource",
        "KubernetesMetadata",
        "TenantId",
        "Type",
    ];
    let mut fields =
        vec![Field::new("TimeGenerated", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), true)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(times)];
    for n in names {
        fields.push(Field::new(n, DataType::Utf8, true));
        arrays.push(s(n));
    }
    fields.push(Field::new("_BilledSize", DataType::Float64, true));
    arrays.push(Arc::new(billed));
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn concat(t: &LoadedTable) -> RecordBatch {
    let schema =
        Arc::new(Schema::new(t.cols.iter().map(|c| Field::new(&c.name, arrow_type(c.ty), true)).collect::<Vec<_>>()));
    datafusion::arrow::compute::concat_batches(&schema, &t.batches).unwrap()
}

#[test]
fn same_dataset_in_every_format_loads_identically() {
    let root = tmp("same");
    let jsonl = root.join("jsonl/ContainerLogV2.jsonl");
    write(&jsonl, &CONTAINER_LINES.join("\n"));
    // gzip-compressed JSON lines too
    let gz = root.join("gz/ContainerLogV2.json.gz");
    std::fs::create_dir_all(gz.parent().unwrap()).unwrap();
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(CONTAINER_LINES.join("\n").as_bytes()).unwrap();
    enc.finish().unwrap();
    // a JSON array
    let arr = root.join("array/ContainerLogV2.json");
    write(&arr, &format!("[{}]", CONTAINER_LINES.join(",\n")));
    let tree = export_tree(&root.join("export"));
    let csv = root.join("csv/ContainerLogV2.csv");
    write(&csv, PORTAL_CSV);
    let pq = root.join("parquet/ContainerLogV2.parquet");
    std::fs::create_dir_all(pq.parent().unwrap()).unwrap();
    pipeline_parquet(&pq);

    let reference = load_one(&jsonl);
    assert_eq!(reference.name, "ContainerLogV2");
    let want = concat(&reference);
    assert_eq!(want.num_rows(), 5);
    for p in [gz, arr, tree, csv, pq] {
        let t = load_one(&p);
        assert_eq!(t.name, "ContainerLogV2", "{}", p.display());
        assert!(!t.report.has_problems(), "{}: {}", p.display(), t.report);
        // the same columns and types; their order is each file's own (a CSV header's, the
        // JSON keys'), then the schema's columns the file lacks
        let sorted = |cols: &[Col]| {
            let mut v: Vec<(String, KqlType)> = cols.iter().map(|c| (c.name.clone(), c.ty)).collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&t.cols), sorted(&reference.cols), "{}", p.display());
        let got = concat(&t);
        for (i, c) in reference.cols.iter().enumerate() {
            let j = t.cols.iter().position(|x| x.name == c.name).unwrap();
            assert_eq!(got.column(j).as_ref(), want.column(i).as_ref(), "{}: column {}", p.display(), c.name);
        }
    }
    // and through `kql convert`: typed Parquet reads back exactly
    let out = root.join("converted.parquet");
    parquet::write_table(&out, &reference.cols, &reference.batches).unwrap();
    let back = load_table("ContainerLogV2", std::slice::from_ref(&out), None, &LoadOptions::default()).unwrap();
    assert_eq!(back.cols, reference.cols, "types come from the metadata, without a schema");
    assert_eq!(concat(&back), want);
}

#[test]
fn convert_round_trip_is_exact_for_every_type() {
    let root = tmp("roundtrip");
    let mut schema = TableSchema::new("T", vec![]);
    for t in KqlType::ALL {
        schema.columns.push((format!("c_{}", t.name()), t));
    }
    let line1 = r#"{"c_bool":true,"c_int":-7,"c_long":9007199254740993,"c_real":1.5,"c_decimal":2.25,"c_datetime":"0001-01-01T00:00:00.0000001Z","c_timespan":"1.02:03:04.5","c_string":"x","c_guid":"6F1C8A36-8E0B-4B8C-9A5E-1F1F1F1F1F1F","c_dynamic":{"a":[1,2]}}"#;
    let line2 = r#"{"c_datetime":"2025-02-25T09:19:25.1234567Z","c_dynamic":"s"}"#;
    write(&root.join("T.jsonl"), &format!("{line1}\n{line2}\n"));
    let t = load_table("T", &[root.join("T.jsonl")], Some(&schema), &LoadOptions::default()).unwrap();
    assert!(!t.report.has_problems(), "{}", t.report);
    let out = root.join("T.parquet");
    assert_eq!(parquet::write_table(&out, &t.cols, &t.batches).unwrap(), 2);
    let back = load_table("T", &[out], None, &LoadOptions::default()).unwrap();
    assert_eq!(back.cols, t.cols);
    assert_eq!(concat(&back), concat(&t));
}

#[test]
fn prune_export_folders_by_time() {
    let day = |d: u32, h: u32| PathBuf::from(format!("am-x/{WS}/y=2025/m=02/d={d:02}/h={h:02}/m=00/PT05M.json"));
    let paths: Vec<PathBuf> = vec![
        day(10, 0),
        day(20, 9),
        day(24, 23),
        day(25, 9),
        day(26, 0),
        day(28, 12),
        PathBuf::from("am-x/other.json"),
    ];
    let from = ticks("2025-02-25T09:00:00Z");
    let to = ticks("2025-02-25T10:00:00Z");
    // TimeGenerated precedes the export by up to 2 days, or follows it by up to one
    let kept = export::prune(&paths, from, to);
    assert_eq!(kept, vec![day(24, 23), day(25, 9), day(26, 0), PathBuf::from("am-x/other.json")]);
    let exact = export::prune_with(&paths, from, to, export::Slack { before: 0, after: 0 });
    assert_eq!(exact, vec![day(25, 9), PathBuf::from("am-x/other.json")]);
    // open ends
    assert_eq!(export::prune(&paths, i64::MIN, i64::MAX), paths);
    assert_eq!(export::prune(&paths, ticks("2025-03-05T00:00:00Z"), i64::MAX), vec![PathBuf::from("am-x/other.json")]);
    // windows: the minute folder and the blob's duration; coarser folders
    let w = export::export_window(Path::new("y=2025/m=02/d=25/h=09/m=15/PT05M.json")).unwrap();
    assert_eq!(w, (ticks("2025-02-25T09:15:00Z"), ticks("2025-02-25T09:20:00Z")));
    let w = export::export_window(Path::new("y=2025/m=02/d=25/h=09/m=00/PT1H.json")).unwrap();
    assert_eq!(w, (ticks("2025-02-25T09:00:00Z"), ticks("2025-02-25T10:00:00Z")));
    let w = export::export_window(Path::new("y=2025/m=12")).unwrap();
    assert_eq!(w, (ticks("2025-12-01T00:00:00Z"), ticks("2026-01-01T00:00:00Z")));
    assert_eq!(export::export_window(Path::new("data/x.json")), None);
}

#[test]
fn bad_input_is_skipped_and_reported() {
    let root = tmp("bad");
    let f = root.join("ContainerLogV2.jsonl");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(CONTAINER_LINES[0].as_bytes());
    bytes.extend_from_slice(b"\n{\"TimeGenerated\": \"2025-02-25T09:19:26Z\", \"Computer\": \n"); // truncated
    bytes.extend_from_slice(b"{\"Computer\":\"caf\xe9\"}\n"); // Latin-1, not UTF-8
    bytes.extend_from_slice(b"42\n"); // not an object
    bytes.extend_from_slice(br#"{"TimeGenerated":"yesterday","Computer":"n3","_BilledSize":"abc"}"#); // wrong types
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(CONTAINER_LINES[1].as_bytes());
    std::fs::write(&f, &bytes).unwrap();
    let t = load_one(&f);
    assert_eq!(t.report.rows, 3);
    assert_eq!(t.report.skipped, 3);
    assert_eq!(t.report.bad_values, 2);
    let at = |line: usize| format!("{}:{line}: ", f.display());
    let p = &t.report.problems;
    assert_eq!(p.len(), 5);
    assert!(p[0].starts_with(&at(2)) && p[0].contains("invalid JSON"), "{p:?}");
    assert!(p[1].starts_with(&at(3)) && p[1].contains("invalid UTF-8"), "{p:?}");
    assert!(p[2].starts_with(&at(4)) && p[2].contains("expected a JSON object"), "{p:?}");
    assert!(
        p.iter().any(|x| x.starts_with(&at(5)) && x.contains("`TimeGenerated`") && x.contains("not a datetime")),
        "{p:?}"
    );
    assert!(p.iter().any(|x| x.starts_with(&at(5)) && x.contains("`_BilledSize`") && x.contains("\"abc\"")), "{p:?}");
    assert_eq!(longs(&t, "TimeGenerated")[1], None, "a wrong-type value is null");
    let shown = t.report.to_string();
    assert!(shown.contains("read 3 row(s)") && shown.contains("skipped 3") && shown.contains("2 value(s)"), "{shown}");
    // strict: the first problem is an error
    let strict = LoadOptions { strict: true, ..Default::default() };
    let e = load_table("ContainerLogV2", std::slice::from_ref(&f), builtin().table("ContainerLogV2"), &strict)
        .err()
        .unwrap();
    assert!(e.to_string().contains(":2: invalid JSON"), "{e}");
    // a wrong-type value alone is an error too under strict
    let g = root.join("wrong.jsonl");
    write(&g, r#"{"TimeGenerated":"2025-02-25T09:19:26Z","_BilledSize":"abc"}"#);
    let e = load_table("ContainerLogV2", &[g], builtin().table("ContainerLogV2"), &strict).err().unwrap();
    assert!(e.to_string().contains("wrong.jsonl:1: column `_BilledSize`"), "{e}");
}

#[test]
fn truncated_gzip_keeps_what_was_read() {
    let root = tmp("gz");
    let f = root.join("ContainerLogV2.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        writeln!(enc, r#"{{"TimeGenerated":"2025-02-25T09:19:25Z","Computer":"n{i}","LogMessage":"line {i} with some padding text to make the stream longer"}}"#).unwrap();
    }
    let full = enc.finish().unwrap();
    std::fs::write(&f, &full[..full.len() / 2]).unwrap();
    let t = load_one(&f);
    assert!(t.report.rows > 100 && t.report.rows < 2000, "{}", t.report.rows);
    assert_eq!(t.report.skipped, 1);
    assert!(t.report.problems[0].contains("read error"), "{:?}", t.report.problems);
    let strict = LoadOptions { strict: true, ..Default::default() };
    assert!(load_table("ContainerLogV2", &[f], None, &strict).is_err());
    // the same for CSV
    let c = root.join("ContainerLogV2.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(enc, "TimeGenerated [UTC],Computer").unwrap();
    for i in 0..3000 {
        writeln!(enc, "\"2/25/2025, 9:19:25.391 AM\",node-{i}-padding-padding-padding").unwrap();
    }
    let full = enc.finish().unwrap();
    std::fs::write(&c, &full[..full.len() / 2]).unwrap();
    let t = load_table("ContainerLogV2", &[c], builtin().table("ContainerLogV2"), &LoadOptions::default()).unwrap();
    assert!(t.report.rows > 100 && t.report.rows < 3000, "{}", t.report.rows);
    assert_eq!(t.report.skipped, 1, "{}", t.report);
}

#[test]
fn huge_line_is_skipped_without_holding_it() {
    let root = tmp("huge");
    let f = root.join("ContainerLogV2.jsonl");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        writeln!(w, "{}", CONTAINER_LINES[0]).unwrap();
        w.write_all(br#"{"TimeGenerated":"2025-02-25T09:19:25Z","LogMessage":""#).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            w.write_all(&chunk).unwrap();
        }
        w.write_all(b"\"}\n").unwrap();
        writeln!(w, "{}", CONTAINER_LINES[1]).unwrap();
    }
    let t = load_one(&f);
    assert_eq!(t.report.rows, 2);
    assert_eq!(t.report.skipped, 1);
    assert!(t.report.problems[0].starts_with(&format!("{}:2: line of", f.display())), "{:?}", t.report.problems);
    // the reader itself never holds more than the limit
    let mut r = std::io::BufReader::new(std::fs::File::open(&f).unwrap());
    let mut buf = Vec::new();
    json::read_line_capped(&mut r, &mut buf, 1 << 16).unwrap();
    buf.clear();
    let (n, too_long) = json::read_line_capped(&mut r, &mut buf, 1 << 16).unwrap();
    assert!(too_long && n > 100 << 20);
    assert!(buf.capacity() <= 1 << 17, "{}", buf.capacity());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn corrupt_parquet_is_reported() {
    let root = tmp("badpq");
    let f = root.join("ContainerLogV2.parquet");
    write(&f, "PAR1 this is not parquet");
    let t = load_one(&root);
    assert_eq!(t.report.skipped, 1);
    assert!(t.report.problems[0].contains("not a readable Parquet file"), "{:?}", t.report.problems);
    let strict = LoadOptions { strict: true, ..Default::default() };
    assert!(load_table("ContainerLogV2", &[f], None, &strict).is_err());
}

/// A query's time filter decides which export folders are read: the bounds found by binding
/// the query (no data needed), the folders pruned by them, and the same answer as reading all.
#[test]
fn a_time_filtered_query_reads_only_the_folders_it_can_see() {
    use crate::session::{Catalog, Session, SessionOptions};
    let root = tmp("query-pruning");
    let container = root.join("am-signinlogs");
    for d in 10..22u32 {
        for h in [3u32, 15] {
            let lines: Vec<String> = (0..3)
                .map(|i| {
                    format!(r#"{{"TimeGenerated":"2025-10-{d:02}T{h:02}:0{i}:00Z","UserPrincipalName":"u{d}@x"}}"#)
                })
                .collect();
            write(
                &container.join(WS).join(format!("y=2025/m=10/d={d:02}/h={h:02}/m=00/PT05M.json")),
                &lines.join("\n"),
            );
        }
    }
    let now = Some(ticks("2025-10-21T16:00:00Z"));
    let session = |files: &[PathBuf]| {
        let mut s = Session::new(
            Catalog::with_builtin_schemas(),
            SessionOptions { now, threads: Some(1), ..Default::default() },
        )
        .unwrap();
        let t = load_table("SigninLogs", files, builtin().table("SigninLogs"), &LoadOptions::default()).unwrap();
        s.add_batches(&t.name, t.cols, t.batches).unwrap();
        s
    };
    let (name, all) = discover(&container, builtin()).unwrap().remove(0);
    assert_eq!((name.as_str(), all.len()), ("SigninLogs", 24));
    let planner = Session::new(Catalog::with_builtin_schemas(), SessionOptions { now, ..Default::default() }).unwrap();
    let cases = [
        ("SigninLogs | where TimeGenerated > ago(1d) | count", 4, 6),
        ("let t = 2d; SigninLogs | where TimeGenerated between (ago(t) .. ago(1d)) | count", 6, 6),
        ("SigninLogs | where UserPrincipalName != '' | where TimeGenerated >= datetime(2025-10-21) | count", 4, 6),
        // one unfiltered scan reads everything
        ("SigninLogs | where TimeGenerated > ago(1d) | join (SigninLogs) on UserPrincipalName | count", 24, 6),
        // a filter after another operator is not a scan filter
        ("SigninLogs | extend x = 1 | where TimeGenerated > ago(1d) | count", 24, 6),
        // wildcards depend on what is loaded: nothing is pruned
        ("union Signin* | where TimeGenerated > ago(1d) | count", 24, 6),
    ];
    for (q, files, count) in cases {
        let bounds = planner.time_bounds(q).unwrap();
        let kept = export::prune_for_bounds("SigninLogs", &all, &bounds);
        assert_eq!(kept.len(), files, "{q}: {bounds:?}");
        let n = |s: &Session| {
            s.query(q).unwrap().batches.iter().map(|b| b.column(0).as_primitive::<Int64Type>().value(0)).sum::<i64>()
        };
        let pruned = n(&session(&kept));
        assert_eq!(pruned, count, "{q}");
        if files < all.len() {
            assert_eq!(pruned, n(&session(&all)), "{q}: pruning changed the answer");
        }
    }
}

#[test]
fn exports_named_after_their_content_are_tables_by_their_type_column() {
    let root = tmp("typecol");
    write(
        &root.join("Cisco_Meraki_Authentication_IngestedLogs.csv"),
        "TimeGenerated [UTC],Type,SyslogMessage\n\"7/28/2023, 8:07:14.552 PM\",Syslog,hello\n",
    );
    write(&root.join("okta_sample.jsonl"), "{\"TimeGenerated\":\"2025-01-01T00:00:00Z\",\"Type\":\"OktaV2_CL\"}\n");
    write(&root.join("Unnamed_Export.csv"), "a,b\n1,2\n");
    let mut found = discover(&root, SchemaCatalog::builtin()).unwrap();
    found.sort();
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["OktaV2_CL", "Syslog", "Unnamed_Export"]);
}
