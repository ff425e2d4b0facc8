//! The smaller tables (everything but ContainerLogV2): record builders and background rows.

use serde_json::{json, Value};

use super::background::{is_roaming_ip, Chunk, ChunkGen, TimeMap};
use super::model::{LogRow, Record};
use super::rng::{derive, Rng};
use super::time::{floor, DAY, HOUR, MINUTE, SECOND};
use super::world::{World, APPS, SUBSCRIPTION_ID, TENANT_ID, WORKSPACE_ID};
use super::Config;

pub const DFAI: &str = "Microsoft Defender for AI Services";

pub const TITLE_JAILBREAK_BLOCKED: &str =
    "A Jailbreak attempt on your Azure AI model deployment was blocked by Prompt Shields";
pub const TITLE_JAILBREAK_DETECTED: &str =
    "A Jailbreak attempt on your Azure AI model deployment was detected by Prompt Shields";
pub const TITLE_DATA_EXPOSURE: &str = "Sensitive Data Exposure Detected in Azure AI Model Deployment";
pub const TITLE_PROMPT_INJECTION: &str = "Indirect prompt injection attempt detected in an AI application";
pub const TITLE_SUSPICIOUS_UA: &str = "Suspicious user agent detected on an Azure AI model deployment";
pub const TITLE_CREDENTIAL: &str = "Credential theft attempt detected on an Azure AI model deployment";

/// All generated tables except ContainerLogV2.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    pub alert_evidence: Vec<Record>,
    pub alert_info: Vec<Record>,
    pub azure_diagnostics: Vec<Record>,
    pub identity_logon_events: Vec<Record>,
    pub signin_logs: Vec<Record>,
    pub threat_intel_indicators: Vec<Record>,
    pub security_incident: Vec<Record>,
    pub resources: Vec<Record>,
}

impl Tables {
    /// (table name, rows) pairs, in the order they are written.
    pub fn all(&self) -> [(&'static str, &Vec<Record>); 8] {
        [
            ("AlertEvidence", &self.alert_evidence),
            ("AlertInfo", &self.alert_info),
            ("AzureDiagnostics", &self.azure_diagnostics),
            ("IdentityLogonEvents", &self.identity_logon_events),
            ("SigninLogs", &self.signin_logs),
            ("ThreatIntelIndicators", &self.threat_intel_indicators),
            ("SecurityIncident", &self.security_incident),
            ("resources", &self.resources),
        ]
    }

    pub(crate) fn all_mut(&mut self) -> [&mut Vec<Record>; 8] {
        [
            &mut self.alert_evidence,
            &mut self.alert_info,
            &mut self.azure_diagnostics,
            &mut self.identity_logon_events,
            &mut self.signin_logs,
            &mut self.threat_intel_indicators,
            &mut self.security_incident,
            &mut self.resources,
        ]
    }

    pub fn get(&self, name: &str) -> Option<&Vec<Record>> {
        self.all().into_iter().find(|(n, _)| *n == name).map(|(_, r)| r)
    }
}

/// One alert: an AlertInfo row and its AlertEvidence rows.
#[derive(Clone, Debug)]
pub struct AlertSpec {
    pub id: String,
    pub title: &'static str,
    pub time: i64,
    pub detection_source: &'static str,
    pub severity: &'static str,
    pub category: &'static str,
    /// The AI application (`CloudResource`).
    pub app: String,
    pub user: String,
    pub ip: String,
    /// Is the AI resource marked as the impacted asset (`AdditionalFields.Asset == "true"`)?
    pub asset: bool,
    /// Evidence row kinds to write (subset of "Ip", "AzureResource", "User").
    pub entities: &'static [&'static str],
}

impl AlertSpec {
    pub fn ai(id: impl Into<String>, title: &'static str, time: i64, app: &str, user: &str, ip: &str) -> AlertSpec {
        let category = match title {
            TITLE_DATA_EXPOSURE => "Exfiltration",
            TITLE_CREDENTIAL => "CredentialAccess",
            TITLE_SUSPICIOUS_UA => "Discovery",
            _ => "InitialAccess",
        };
        let severity = match title {
            TITLE_JAILBREAK_DETECTED | TITLE_DATA_EXPOSURE | TITLE_CREDENTIAL => "High",
            TITLE_SUSPICIOUS_UA => "Low",
            _ => "Medium",
        };
        AlertSpec {
            id: id.into(),
            title,
            time,
            detection_source: DFAI,
            severity,
            category,
            app: app.to_string(),
            user: user.to_string(),
            ip: ip.to_string(),
            asset: true,
            entities: &["Ip", "AzureResource", "User"],
        }
    }
}

fn aoai_account_id(app: &str) -> String {
    format!(
        "/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-genai-prod/providers/Microsoft.CognitiveServices/accounts/aoai-prod-eastus/deployments/{}",
        app.to_lowercase()
    )
}

/// Append the AlertInfo row and AlertEvidence rows of `a`.
pub fn push_alert(t: &mut Tables, a: &AlertSpec) {
    let mut info = Record::new();
    info.t("TimeGenerated", a.time)
        .t("Timestamp", a.time)
        .s("AlertId", a.id.clone())
        .s("Title", a.title)
        .s("Category", a.category)
        .s("Severity", a.severity)
        .s("DetectionSource", a.detection_source)
        .s("ServiceSource", "Microsoft Defender for Cloud")
        .s("AttackTechniques", if a.category == "InitialAccess" { "[\"LLM Jailbreak (T1190)\"]" } else { "" })
        .s("SourceSystem", "")
        .s("TenantId", WORKSPACE_ID)
        .s("Type", "AlertInfo")
        .s("_IsBillable", "True")
        .r("_BilledSize", 412.0);
    t.alert_info.push(info);
    for kind in a.entities {
        let mut e = Record::new();
        e.t("TimeGenerated", a.time)
            .t("Timestamp", a.time)
            .s("AlertId", a.id.clone())
            .s("Title", a.title)
            .s("Categories", format!("[\"{}\"]", a.category))
            .s("Severity", a.severity)
            .s("DetectionSource", a.detection_source)
            .s("ServiceSource", "Microsoft Defender for Cloud")
            .s("EntityType", *kind)
            .s("CloudPlatform", "Azure")
            .s("AzureSubscriptionId", SUBSCRIPTION_ID)
            .s("SourceSystem", "")
            .s("TenantId", WORKSPACE_ID)
            .s("Type", "AlertEvidence")
            .s("_IsBillable", "True")
            .r("_BilledSize", 655.0);
        let asset = |b: bool| if b { "true" } else { "false" };
        match *kind {
            "Ip" => {
                e.s("EvidenceRole", "Related").s("EvidenceDirection", "Source").s("RemoteIP", a.ip.clone());
                e.s("CloudResource", a.app.clone());
                e.d(
                    "AdditionalFields",
                    json!({"Type": "ip", "Address": a.ip, "Asset": asset(false), "AadUserId": a.user,
                           "Location": {"CountryCode": "US", "State": "Washington", "City": "Redmond"}}),
                );
            }
            "AzureResource" => {
                let rid = aoai_account_id(&a.app);
                e.s("EvidenceRole", "Impacted").s("AzureResourceId", rid.clone());
                e.s("AzureResourceType", "Microsoft.CognitiveServices/accounts/deployments");
                e.s("CloudResource", a.app.clone()).s("RemoteIP", "");
                e.d(
                    "AdditionalFields",
                    json!({"Type": "azure-resource", "ResourceId": rid, "Asset": asset(a.asset), "AadUserId": a.user,
                           "ApplicationName": a.app}),
                );
            }
            _ => {
                e.s("EvidenceRole", "Related").s("AccountUpn", a.user.clone()).s("AccountName", a.user.clone());
                e.s("CloudResource", "").s("RemoteIP", "");
                e.d(
                    "AdditionalFields",
                    json!({"Type": "account", "Name": a.user, "AadUserId": a.user, "Asset": asset(false)}),
                );
            }
        }
        t.alert_evidence.push(e);
    }
}

/// A SigninLogs row.
pub struct Signin<'a> {
    pub time: i64,
    pub upn: &'a str,
    pub ip: &'a str,
    pub result: &'a str,
    pub app: &'a str,
}

pub fn signin_description(code: &str) -> &'static str {
    match code {
        "0" => "",
        "50126" => "Error validating credentials due to invalid username or password.",
        "50074" => "Strong Authentication is required.",
        "53003" => "Access has been blocked by Conditional Access policies.",
        "50053" => {
            "The account is locked, you've tried to sign in too many times with an incorrect user ID or password."
        }
        _ => "Other.",
    }
}

pub fn push_signin(t: &mut Tables, rng: &mut Rng, s: &Signin<'_>) {
    let mut r = Record::new();
    let code: i64 = s.result.parse().unwrap_or(0);
    let (city, country) = if s.ip.starts_with("10.") { ("Redmond", "US") } else { ("Amsterdam", "NL") };
    r.t("TimeGenerated", s.time)
        .t("CreatedDateTime", s.time)
        .s("Id", rng.uuid())
        .s("CorrelationId", rng.uuid())
        .s("OperationName", "Sign-in activity")
        .s("OperationVersion", "1.0")
        .s("Category", "SignInLogs")
        .s("Level", if code == 0 { "4" } else { "2" })
        .s("Identity", s.upn)
        .s("UserPrincipalName", s.upn)
        .s("UserDisplayName", s.upn)
        .s("UserId", rng.uuid())
        .s("UserType", "Member")
        .s("AppDisplayName", s.app)
        .s("AppId", "a3b79187-70b2-4139-83f9-6016c58cd27b")
        .s("ResourceDisplayName", "Azure OpenAI")
        .s("IPAddress", s.ip)
        .s("Location", country)
        .s("ResultType", s.result)
        .s("ResultSignature", if code == 0 { "SUCCESS" } else { "None" })
        .s("ResultDescription", signin_description(s.result))
        .d(
            "Status",
            if code == 0 {
                json!({"errorCode": 0})
            } else {
                json!({"errorCode": code, "failureReason": signin_description(s.result)})
            },
        )
        .d("LocationDetails", json!({"city": city, "countryOrRegion": country}))
        .d("DeviceDetail", json!({"operatingSystem": "Windows 10", "browser": "Edge 129.0.0"}))
        .s("ClientAppUsed", "Browser")
        .s("ConditionalAccessStatus", if s.result == "53003" { "failure" } else { "success" })
        .b("IsInteractive", true)
        .b("IsRisky", false)
        .s("AuthenticationRequirement", "singleFactorAuthentication")
        .s("TokenIssuerType", "AzureAD")
        .s("AADTenantId", TENANT_ID)
        .s("HomeTenantId", TENANT_ID)
        .s("ResourceTenantId", TENANT_ID)
        .s("SourceSystem", "Azure AD")
        .s("Type", "SigninLogs")
        .s("_IsBillable", "True")
        .r("_BilledSize", 4210.0)
        .i("DurationMs", 0);
    t.signin_logs.push(r);
}

/// An IdentityLogonEvents row.
pub fn push_logon(t: &mut Tables, rng: &mut Rng, time: i64, upn: &str, ip: &str, success: bool) {
    let mut r = Record::new();
    let name = upn.split('@').next().unwrap_or(upn).to_string();
    r.t("TimeGenerated", time)
        .t("Timestamp", time)
        .s("ActionType", if success { "LogonSuccess" } else { "LogonFailed" })
        .s("Application", "Microsoft Entra ID")
        .s("LogonType", "Interactive")
        .s("Protocol", if ip.is_empty() { "Kerberos" } else { "OAuth2:Authorize" })
        .s("AccountUpn", upn)
        .s("AccountName", name.clone())
        .s("AccountDisplayName", name)
        .s("AccountDomain", "contoso.com")
        .s("AccountObjectId", rng.uuid())
        .s("IPAddress", ip)
        .s("Port", "")
        .s("DeviceName", format!("cpc-{}", rng.hex(5)))
        .s("DeviceType", "Workstation")
        .s("OSPlatform", "Windows 11")
        .s("Location", if ip.starts_with("10.") { "US" } else { "NL" })
        .s("ISP", if ip.starts_with("10.") { "Contoso Corp" } else { "Example Telecom" })
        .s("FailureReason", if success { "" } else { "WrongPassword" })
        .s("ReportId", rng.uuid())
        .d("AdditionalFields", json!({"Count": 1, "ARG.CLOUDSERVICE": "Microsoft Entra ID"}))
        .d("UncommonForUser", json!([]))
        .d("LastSeenForUser", json!({"IPAddress": 0}))
        .s("SourceSystem", "")
        .s("TenantId", WORKSPACE_ID)
        .s("Type", "IdentityLogonEvents")
        .s("_IsBillable", "True")
        .r("_BilledSize", 1312.0);
    t.identity_logon_events.push(r);
}

/// A ThreatIntelIndicators row.
pub struct Indicator<'a> {
    pub time: i64,
    pub key: &'a str,
    pub value: &'a str,
    pub active: bool,
    pub confidence: i64,
    pub tags: &'a str,
}

pub fn push_indicator(t: &mut Tables, rng: &mut Rng, i: &Indicator<'_>) {
    let id = format!("indicator--{}", rng.uuid());
    let pattern = format!("[{} = '{}']", i.key, i.value);
    let mut r = Record::new();
    r.t("TimeGenerated", i.time)
        .s("Id", id.clone())
        .s("ObservableKey", i.key)
        .s("ObservableValue", i.value)
        .s("Pattern", pattern.clone())
        .b("IsActive", i.active)
        .b("IsDeleted", false)
        .b("Revoked", false)
        .i("Confidence", i.confidence)
        .t("Created", i.time - 3 * DAY)
        .t("Modified", i.time)
        .t("ValidFrom", i.time - 3 * DAY)
        .t("ValidUntil", if i.active { i.time + 30 * DAY } else { i.time - HOUR })
        .s("Tags", i.tags)
        .s("LastUpdateMethod", "TAXII")
        .s("SourceSystem", "Microsoft Defender Threat Intelligence")
        .d(
            "Data",
            json!({"type": "indicator", "spec_version": "2.1", "id": id, "pattern": pattern, "pattern_type": "stix",
                   "name": i.value, "confidence": i.confidence, "labels": [i.tags]}),
        )
        .d("AdditionalFields", json!({"TLPLevel": "Amber"}))
        .s("AzureTenantId", TENANT_ID)
        .s("TenantId", WORKSPACE_ID)
        .s("WorkspaceId", WORKSPACE_ID)
        .s("Type", "ThreatIntelIndicators")
        .s("_IsBillable", "True")
        .r("_BilledSize", 980.0);
    t.threat_intel_indicators.push(r);
}

/// One SecurityIncident row (one version of an incident).
pub struct IncidentRow<'a> {
    pub number: i64,
    pub name: &'a str,
    pub title: &'a str,
    pub severity: &'a str,
    pub status: &'a str,
    pub created: i64,
    pub first_activity: i64,
    pub last_activity: i64,
    pub modified: i64,
}

pub fn push_incident(t: &mut Tables, i: &IncidentRow<'_>) {
    let mut r = Record::new();
    r.t("TimeGenerated", i.modified)
        .i("IncidentNumber", i.number)
        .s("IncidentName", i.name)
        .s("Title", i.title)
        .s("Description", format!("{} (generated by kql-datagen)", i.title))
        .s("Severity", i.severity)
        .s("Status", i.status)
        .t("CreatedTime", i.created)
        .t("FirstActivityTime", i.first_activity)
        .t("LastActivityTime", i.last_activity)
        .t("FirstModifiedTime", i.created)
        .t("LastModifiedTime", i.modified)
        .s("ProviderName", "Azure Sentinel")
        .s("ProviderIncidentId", i.number.to_string())
        .s(
            "IncidentUrl",
            format!("https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-sentinel/providers/Microsoft.OperationalInsights/workspaces/law-sentinel/providers/Microsoft.SecurityInsights/Incidents/{}", i.name),
        )
        .s("ModifiedBy", if i.status == "New" { "Microsoft Sentinel" } else { "soc.analyst@contoso.com" })
        .d("Owner", json!({"objectId": null, "email": null, "assignedTo": null, "userPrincipalName": null}))
        .d("AdditionalData", json!({"alertsCount": 1, "bookmarksCount": 0, "commentsCount": 0, "alertProductNames": ["Azure Sentinel"], "tactics": ["InitialAccess"]}))
        .d("AlertIds", json!([format!("{:x}", i.number * 7919)]))
        .d("BookmarkIds", json!([]))
        .d("Comments", json!([]))
        .d("Tasks", json!([]))
        .d("Labels", json!([]))
        .d("RelatedAnalyticRuleIds", json!(["8f1b1f5e-2c3d-4e5f-9a0b-1c2d3e4f5a6b"]))
        .s("Classification", if i.status == "Closed" { "TruePositive" } else { "" })
        .s("ClassificationReason", if i.status == "Closed" { "SuspiciousActivity" } else { "" })
        .s("ClassificationComment", "")
        .s("SourceSystem", "Azure")
        .s("TenantId", WORKSPACE_ID)
        .s("Type", "SecurityIncident")
        .s("_IsBillable", "True")
        .r("_BilledSize", 2480.0);
    if i.status == "Closed" {
        r.t("ClosedTime", i.modified);
    }
    t.security_incident.push(r);
}

/// An Azure OpenAI request log row in AzureDiagnostics.
pub struct AoaiRequest<'a> {
    pub time: i64,
    pub caller_ip: &'a str,
    pub operation: &'a str,
    pub status: &'a str,
    /// `properties_s` as written (a JSON string).
    pub properties: String,
    pub provider: &'a str,
}

pub fn aoai_properties(rng: &mut Rng, model: &str, tokens: Option<i64>) -> String {
    match tokens {
        Some(n) => {
            let prompt = n * 2 / 3;
            json!({"apiName": "Azure OpenAI API version 2024-06-01", "requestTime": rng.range(900, 9000), "modelDeploymentName": model,
                   "modelName": model, "streamType": "Non-Streaming",
                   "usage": {"prompt_tokens": prompt, "completion_tokens": n - prompt, "total_tokens": n}})
            .to_string()
        }
        None => json!({"apiName": "Azure OpenAI API version 2024-06-01", "modelDeploymentName": model,
                       "error": {"code": "429", "message": "Requests to the ChatCompletions_Create Operation have exceeded call rate limit."}})
        .to_string(),
    }
}

pub fn push_aoai(t: &mut Tables, rng: &mut Rng, a: &AoaiRequest<'_>) {
    let mut r = Record::new();
    let res = "AOAI-PROD-EASTUS";
    r.t("TimeGenerated", a.time)
        .s("TenantId", WORKSPACE_ID)
        .s("ResourceId", format!("/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-GENAI-PROD/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/{res}", SUBSCRIPTION_ID.to_uppercase()))
        .s("Category", "RequestResponse")
        .s("ResourceGroup", "RG-GENAI-PROD")
        .s("SubscriptionId", SUBSCRIPTION_ID)
        .s("ResourceProvider", a.provider)
        .s("Resource", res)
        .s("ResourceType", "ACCOUNTS")
        .s("OperationName", a.operation)
        .s("ResultType", if a.status == "200" { "Success" } else { "Failed" })
        .s("ResultSignature", a.status)
        .s("CorrelationId", rng.uuid())
        .s("CallerIPAddress", a.caller_ip)
        .s("OperationVersion", "2024-06-01")
        .i("DurationMs", if a.status == "200" { rng.range(300, 9000) } else { rng.range(5, 40) })
        .s("properties_s", a.properties.clone())
        .s("httpstatuscode_s", a.status)
        .s("Tenant_g", TENANT_ID)
        .s("SourceSystem", "Azure")
        .s("Type", "AzureDiagnostics")
        .s("_ResourceId", format!("/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/rg-genai-prod/providers/microsoft.cognitiveservices/accounts/{}", res.to_lowercase()));
    t.azure_diagnostics.push(r);
}

/// A Resource Graph row.
pub struct ArgResource<'a> {
    pub name: &'a str,
    pub kind_type: &'a str,
    pub location: &'a str,
    pub subscription: &'a str,
    pub group: &'a str,
    pub properties: Value,
}

pub fn push_resource(t: &mut Tables, r: &ArgResource<'_>) {
    let provider_path = match r.kind_type.split_once('/') {
        Some((ns, ty)) => format!("{ns}/{ty}"),
        None => r.kind_type.to_string(),
    };
    let mut rec = Record::new();
    rec.s(
        "id",
        format!("/subscriptions/{}/resourceGroups/{}/providers/{}/{}", r.subscription, r.group, provider_path, r.name),
    )
    .s("name", r.name)
    .s("type", r.kind_type)
    .s("tenantId", TENANT_ID)
    .s("kind", "")
    .s("location", r.location)
    .s("resourceGroup", r.group)
    .s("subscriptionId", r.subscription)
    .s("managedBy", "")
    .d("sku", Value::Null)
    .d("plan", Value::Null)
    .d("properties", r.properties.clone())
    .d("tags", json!({"env": "prod", "owner": "secops"}))
    .d("identity", Value::Null)
    .d("zones", Value::Null)
    .d("extendedLocation", Value::Null);
    t.resources.push(rec);
}

/// Background rows of the smaller tables.
pub fn background(world: &World, cfg: &Config, tm: &TimeMap, chunks: &[Chunk], pool: usize, t: &mut Tables) {
    let (seed, now, n) = (cfg.seed, cfg.now, cfg.rows);
    let mut rng = Rng::new(derive(seed, 3));
    let start = now - 14 * DAY;
    let rand_time = |rng: &mut Rng, lo: i64, hi: i64| -> i64 { floor(rng.range(lo, hi), 10 * super::time::MILLI) + 1 };

    // Sign-ins and AD logons of the users with an identity; some unrelated accounts too.
    for u in &world.users {
        if !u.has_identity {
            continue;
        }
        for d in 0..14 {
            let k = 1 + rng.below(2);
            for _ in 0..k {
                let time = rand_time(&mut rng, start + d * DAY, start + (d + 1) * DAY);
                let ip = if rng.chance(0.8) || u.ips.len() == 1 { &u.ips[0] } else { &u.ips[1] };
                let result = if rng.chance(0.9) { "0" } else { *rng.pick(&["50126", "50074", "53003"]) };
                let app = APPS[u.apps[0]].name;
                push_signin(t, &mut rng, &Signin { time, upn: &u.id, ip, result, app });
                if d >= 5 {
                    let ip2: &str = if rng.chance(0.05) { "" } else { ip };
                    push_logon(t, &mut rng, time + 3 * SECOND, &u.id, ip2, result == "0");
                }
            }
        }
    }
    const PEOPLE: &[&str] =
        &["adele.vance", "alex.wilber", "diego.siciliani", "grady.archie", "henrietta.mueller", "isaiah.langer"];
    for p in PEOPLE {
        let upn = format!("{p}@contoso.com");
        for _ in 0..10 {
            let time = rand_time(&mut rng, start, now);
            let ip = format!("10.20.{}.{}", 64 + rng.below(32), 1 + rng.below(254));
            let result = if rng.chance(0.85) { "0" } else { "50126" };
            push_signin(t, &mut rng, &Signin { time, upn: &upn, ip: &ip, result, app: "Microsoft Teams" });
            push_logon(t, &mut rng, time, &upn, &ip, result == "0");
        }
    }

    // Threat intelligence: addresses in ranges that app traffic never uses, plus other observables.
    for k in 0..120 {
        let time = rand_time(&mut rng, start, now);
        let active = rng.chance(0.85);
        let (key, value) = match k % 5 {
            0 | 1 => (
                "ipv4-addr:value",
                format!("{}.{}", ["203.0.113", "198.51.100", "192.0.2"][rng.index(3)], 200 + rng.below(55)),
            ),
            2 => (
                "domain-name:value",
                format!("{}-{}.example.net", ["login", "cdn", "update", "secure"][rng.index(4)], rng.hex(6)),
            ),
            3 => ("url:value", format!("https://files-{}.example.org/payload.bin", rng.hex(5))),
            _ => ("file:hashes.'SHA-256'", rng.hex(64)),
        };
        let tags = *rng.pick(&["Botnet", "Phishing", "C2", "Malware"]);
        let confidence = 50 + rng.range(0, 50);
        push_indicator(t, &mut rng, &Indicator { time, key, value: &value, active, confidence, tags });
    }

    // Sentinel incidents, 1-3 versions each.
    let titles = [
        "Multistage incident involving Initial access & Execution",
        "Suspicious sign-in followed by mailbox rule creation",
        "Jailbreak attempts against Azure OpenAI deployment",
        "Password spray against Entra ID",
        "Malware detected on multiple endpoints",
    ];
    for k in 0..40i64 {
        let created = rand_time(&mut rng, now - 18 * DAY, now - HOUR);
        let number = 8000 + k;
        let name = rng.uuid();
        let title = titles[rng.index(titles.len())];
        let severity = *rng.pick(&["High", "Medium", "Low", "Informational"]);
        let first = created - rng.range(1, 120) * MINUTE - rng.range(0, 60) * SECOND;
        let mut last = created - rng.range(0, 30) * SECOND;
        let versions = 1 + rng.below(3);
        let mut modified = created;
        for v in 0..versions {
            let status = match v {
                0 => "New",
                1 if rng.chance(0.5) => "Active",
                _ => "Closed",
            };
            push_incident(
                t,
                &IncidentRow {
                    number,
                    name: &name,
                    title,
                    severity,
                    status,
                    created,
                    first_activity: first,
                    last_activity: last,
                    modified,
                },
            );
            modified += rng.range(5, 600) * MINUTE;
            last += rng.range(1, 240) * MINUTE + rng.range(0, 60) * SECOND;
            if modified >= now {
                break;
            }
        }
    }

    // Azure OpenAI diagnostics: a few requests an hour from the apps' egress addresses.
    let egress: Vec<String> = (0..6).map(|i| format!("10.240.0.{}", 10 + i)).collect();
    let mut time = start + rng.range(0, 20 * MINUTE);
    while time < now {
        let ip = &egress[rng.index(egress.len())];
        let r = rng.below(100);
        let operation = if r < 80 {
            "ChatCompletions_Create"
        } else if r < 90 {
            "Embeddings_Create"
        } else {
            "Completions_Create"
        };
        let throttled = rng.chance(0.04);
        let model = ["gpt-4o", "gpt-4-turbo", "gpt-4o-mini"][rng.index(3)];
        let tokens = if throttled { None } else { Some(rng.range(40, 4000)) };
        let properties = aoai_properties(&mut rng, model, tokens);
        let status = if throttled { "429" } else { "200" };
        push_aoai(
            t,
            &mut rng,
            &AoaiRequest {
                time,
                caller_ip: ip,
                operation,
                status,
                properties,
                provider: "MICROSOFT.COGNITIVESERVICES",
            },
        );
        let busy = super::time::hour_of_day(time) >= 8 && super::time::hour_of_day(time) < 20;
        let gap = if busy { rng.range(3, 26) } else { rng.range(15, 70) };
        time += gap * MINUTE + rng.range(0, 60) * SECOND + 1;
    }

    // Resource Graph: a few ordinary resources.
    for (name, ty) in [
        ("aoai-prod-eastus", "microsoft.cognitiveservices/accounts"),
        ("aks-genai-prod", "microsoft.containerservice/managedclusters"),
        ("law-sentinel", "microsoft.operationalinsights/workspaces"),
        ("stgenaiprompts01", "microsoft.storage/storageaccounts"),
        ("kv-genai-prod", "microsoft.keyvault/vaults"),
    ] {
        push_resource(
            t,
            &ArgResource {
                name,
                kind_type: ty,
                location: "eastus",
                subscription: SUBSCRIPTION_ID,
                group: "rg-genai-prod",
                properties: json!({"provisioningState": "Succeeded"}),
            },
        );
    }

    // Non-AI alerts (other detection sources).
    let other = [
        ("Suspicious PowerShell command line", "EDR", "Execution", "Medium"),
        ("Possible credential theft activity", "EDR", "CredentialAccess", "High"),
        ("Password spray attack", "Microsoft Defender for Identity", "CredentialAccess", "Medium"),
        ("Impossible travel activity", "Microsoft Defender for Cloud Apps", "InitialAccess", "Low"),
    ];
    for k in 0..24 {
        let (title, source, category, severity) = other[k % other.len()];
        let time = rand_time(&mut rng, start, now);
        let mut info = Record::new();
        let id = format!("da{}", rng.hex(30));
        info.t("TimeGenerated", time)
            .t("Timestamp", time)
            .s("AlertId", id.clone())
            .s("Title", title)
            .s("Category", category)
            .s("Severity", severity)
            .s("DetectionSource", source)
            .s("ServiceSource", "Microsoft Defender for Endpoint")
            .s("Type", "AlertInfo")
            .s("TenantId", WORKSPACE_ID);
        t.alert_info.push(info);
        let mut e = Record::new();
        e.t("TimeGenerated", time)
            .t("Timestamp", time)
            .s("AlertId", id)
            .s("Title", title)
            .s("Categories", format!("[\"{category}\"]"))
            .s("Severity", severity)
            .s("DetectionSource", source)
            .s("ServiceSource", "Microsoft Defender for Endpoint")
            .s("EntityType", "Ip")
            .s("EvidenceRole", "Related")
            .s("RemoteIP", format!("203.0.113.{}", 200 + rng.below(55)))
            .s("DeviceName", format!("cpc-{}", rng.hex(5)))
            .d("AdditionalFields", json!({"Type": "ip", "Asset": "false"}))
            .s("Type", "AlertEvidence")
            .s("TenantId", WORKSPACE_ID);
        t.alert_evidence.push(e);
    }

    // Defender for AI alerts on real background sessions: sample some days, take FAIL requests of
    // roaming sessions (an address the user does not usually use), alert a few minutes later.
    let mut days: Vec<&Chunk> = chunks.iter().filter(|c| c.hi > c.lo).collect();
    let mut picked = Vec::new();
    for _ in 0..12 {
        if days.is_empty() {
            break;
        }
        let k = rng.index(days.len());
        picked.push(days.remove(k));
    }
    picked.sort_by_key(|c| c.index);
    let titles = [TITLE_JAILBREAK_BLOCKED, TITLE_DATA_EXPOSURE, TITLE_CREDENTIAL, TITLE_SUSPICIOUS_UA];
    let mut seq = 0;
    for c in picked {
        let mut found = 0;
        let mut last_t = i64::MIN / 2;
        for row in ChunkGen::new(world, tm, seed, n, c, pool) {
            if found >= 2 {
                break;
            }
            if let Some(cand) = candidate(&row) {
                if row.time - last_t < 2 * HOUR || row.time > now - 3 * HOUR {
                    continue;
                }
                last_t = row.time;
                found += 1;
                seq += 1;
                let title = titles[seq % titles.len()];
                let time = row.time + rng.range(2, 40) * MINUTE + rng.range(0, 60) * SECOND + 5;
                let mut a = AlertSpec::ai(format!("ai{}", rng.hex(30)), title, time, &cand.0, &cand.1, &cand.2);
                a.asset = rng.chance(0.7);
                push_alert(t, &a);
            }
        }
    }
}

/// (app, user, ip) of a FAIL request from a roaming address.
fn candidate(row: &LogRow) -> Option<(String, String, String)> {
    if row.tostring("security_check_passed") != "FAIL" {
        return None;
    }
    let ip = row.tostring("source_ip");
    if !is_roaming_ip(&ip) {
        return None;
    }
    Some((row.tostring("application_name").into_owned(), row.tostring("end_user_id").into_owned(), ip.into_owned()))
}
