//! Sentinel's entity types and their identifiers: which identifiers an entity mapping may use,
//! and which combinations identify the entity (a mapping needs one of them whole).

/// An entity type: its name, its identifiers, and the identifier sets that identify it.
pub struct EntityType {
    /// `Account`, `Host`, `IP`...
    pub name: &'static str,
    /// Every identifier a field mapping may name.
    pub identifiers: &'static [&'static str],
    /// A mapping must use all identifiers of at least one of these sets.
    pub required: &'static [&'static [&'static str]],
}

/// The entity types analytic rules can map.
pub const ENTITY_TYPES: &[EntityType] = &[
    EntityType {
        name: "Account",
        identifiers: &[
            "Name",
            "FullName",
            "NTDomain",
            "DnsDomain",
            "UPNSuffix",
            "Sid",
            "AadTenantId",
            "AadUserId",
            "PUID",
            "IsDomainJoined",
            "DisplayName",
            "ObjectGuid",
            "CloudAppAccountId",
        ],
        required: &[&["FullName"], &["Sid"], &["Name"], &["AadUserId"], &["PUID"], &["ObjectGuid"]],
    },
    EntityType { name: "AzureResource", identifiers: &["ResourceId"], required: &[&["ResourceId"]] },
    EntityType {
        name: "CloudApplication",
        identifiers: &["AppId", "Name", "InstanceName"],
        required: &[&["AppId"], &["Name"]],
    },
    EntityType { name: "DNS", identifiers: &["DomainName"], required: &[&["DomainName"]] },
    EntityType { name: "File", identifiers: &["Directory", "Name"], required: &[&["Name"]] },
    EntityType { name: "FileHash", identifiers: &["Algorithm", "Value"], required: &[&["Algorithm", "Value"]] },
    EntityType {
        name: "Host",
        identifiers: &[
            "DnsDomain",
            "NTDomain",
            "HostName",
            "FullName",
            "NetBiosName",
            "AzureID",
            "OMSAgentID",
            "OSFamily",
            "OSVersion",
            "IsDomainJoined",
        ],
        required: &[&["FullName"], &["HostName"], &["NetBiosName"], &["AzureID"], &["OMSAgentID"]],
    },
    EntityType {
        name: "IoTDevice",
        identifiers: &[
            "DeviceId",
            "DeviceName",
            "Manufacturer",
            "Model",
            "FirmwareVersion",
            "OperatingSystem",
            "MacAddress",
            "Protocols",
            "SerialNumber",
            "Source",
            "IoTSecurityAgentId",
            "DeviceType",
        ],
        required: &[&["DeviceId"]],
    },
    EntityType { name: "IP", identifiers: &["Address"], required: &[&["Address"]] },
    EntityType {
        name: "Mailbox",
        identifiers: &["MailboxPrimaryAddress", "DisplayName", "Upn", "ExternalDirectoryObjectId", "RiskLevel"],
        required: &[&["MailboxPrimaryAddress"]],
    },
    EntityType {
        name: "MailCluster",
        identifiers: &[
            "NetworkMessageIds",
            "CountByDeliveryStatus",
            "CountByThreatType",
            "CountByProtectionStatus",
            "Threats",
            "Query",
            "QueryTime",
            "MailCount",
            "IsVolumeAnomaly",
            "Source",
            "ClusterSourceIdentifier",
            "ClusterSourceType",
            "ClusterQueryStartTime",
            "ClusterQueryEndTime",
            "ClusterGroup",
        ],
        required: &[&["Query"], &["Source"]],
    },
    EntityType {
        name: "MailMessage",
        identifiers: &[
            "Recipient",
            "Urls",
            "Threats",
            "Sender",
            "P1Sender",
            "P1SenderDisplayName",
            "P1SenderDomain",
            "SenderIP",
            "P2Sender",
            "P2SenderDisplayName",
            "P2SenderDomain",
            "ReceivedDate",
            "NetworkMessageId",
            "InternetMessageId",
            "Subject",
            "BodyFingerprintBin1",
            "BodyFingerprintBin2",
            "BodyFingerprintBin3",
            "BodyFingerprintBin4",
            "BodyFingerprintBin5",
            "AntispamDirection",
            "DeliveryAction",
            "DeliveryLocation",
            "Language",
            "ThreatDetectionMethods",
        ],
        required: &[&["NetworkMessageId"], &["Recipient"]],
    },
    EntityType { name: "Malware", identifiers: &["Name", "Category"], required: &[&["Name"]] },
    EntityType {
        name: "Process",
        identifiers: &["ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"],
        required: &[&["CommandLine"], &["ProcessId"]],
    },
    EntityType { name: "RegistryKey", identifiers: &["Hive", "Key"], required: &[&["Key"], &["Hive"]] },
    EntityType { name: "RegistryValue", identifiers: &["Name", "Value", "ValueType"], required: &[&["Name"]] },
    EntityType {
        name: "SecurityGroup",
        identifiers: &["DistinguishedName", "SID", "ObjectGuid"],
        required: &[&["DistinguishedName"], &["SID"], &["ObjectGuid"]],
    },
    EntityType {
        name: "SubmissionMail",
        identifiers: &[
            "NetworkMessageId",
            "Timestamp",
            "Recipient",
            "Sender",
            "SenderIp",
            "Subject",
            "ReportType",
            "SubmissionId",
            "SubmissionDate",
            "Submitter",
        ],
        required: &[&["SubmissionId"], &["NetworkMessageId"], &["Recipient"], &["Submitter"]],
    },
    EntityType { name: "URL", identifiers: &["Url"], required: &[&["Url"]] },
];

/// The entity type named `name` (case-insensitively, as Sentinel reads enum names).
pub fn entity_type(name: &str) -> Option<&'static EntityType> {
    ENTITY_TYPES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The column names of Sentinel's legacy entity mapping (`AccountCustomEntity`...): a query
/// that still projects one needs an entity mapping that uses it.
pub const LEGACY_ENTITY_COLUMNS: &[&str] = &[
    "AccountCustomEntity",
    "HostCustomEntity",
    "IPCustomEntity",
    "URLCustomEntity",
    "ProcessCustomEntity",
    "FileHashCustomEntity",
];
