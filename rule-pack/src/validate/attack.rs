//! MITRE ATT&CK as Sentinel's rule validation knows it: the tactic names a rule may list, the
//! technique id format, and which tactics each technique belongs to (Sentinel rejects a
//! technique none of whose tactics the rule lists).

/// The tactics Sentinel accepts in `tactics:` (its `AttackTactic` names), in ATT&CK order.
pub const TACTICS: &[&str] = &[
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "CommandAndControl",
    "Exfiltration",
    "Impact",
    "ImpairProcessControl",
    "InhibitResponseFunction",
    "PreAttack",
];

/// Techniques by tactic, as the validation of Azure-Sentinel's content repository maps them
/// (ATT&CK Enterprise and ICS technique ids; sub-techniques map through their parent).
const TECHNIQUES: &[(&str, &[&str])] = &[
    (
        "PreAttack",
        &[
            "T1583", "T1584", "T1585", "T1586", "T1587", "T1588", "T1589", "T1590", "T1591", "T1592", "T1593", "T1594",
            "T1595", "T1596", "T1597", "T1598",
        ],
    ),
    (
        "InitialAccess",
        &[
            "T1078", "T1091", "T1133", "T1195", "T1199", "T1200", "T1189", "T1190", "T1566", "T0810", "T0817", "T0818",
            "T0819", "T0822", "T0883", "T0847", "T0848", "T0865", "T0862", "T0860", "T0866", "T0886",
        ],
    ),
    (
        "Persistence",
        &[
            "T1037", "T1053", "T1078", "T1098", "T1136", "T1137", "T1176", "T1197", "T1133", "T1205", "T1505", "T1525",
            "T1542", "T1543", "T1546", "T1547", "T1554", "T1574", "T0889", "T0839", "T0873", "T0857", "T0859", "T1556",
        ],
    ),
    (
        "PrivilegeEscalation",
        &[
            "T1037", "T1053", "T1055", "T1068", "T1078", "T1134", "T1484", "T1543", "T1546", "T1547", "T1548", "T1574",
            "T0874", "T0890", "T1611",
        ],
    ),
    (
        "DefenseEvasion",
        &[
            "T1006", "T1014", "T1027", "T1036", "T1055", "T1070", "T1078", "T1112", "T1127", "T1134", "T1140", "T1197",
            "T1202", "T1205", "T1207", "T1211", "T1216", "T1218", "T1220", "T1221", "T1222", "T1480", "T1484", "T1497",
            "T1535", "T1542", "T1548", "T1550", "T1553", "T1556", "T1562", "T1564", "T1574", "T1578", "T1599", "T1600",
            "T1601", "T0858", "T0820", "T0872", "T0849", "T0851", "T0856", "T1612", "T1610",
        ],
    ),
    (
        "CredentialAccess",
        &[
            "T1003", "T1040", "T1056", "T1110", "T1111", "T1187", "T1212", "T1528", "T1539", "T1552", "T1555", "T1556",
            "T1557", "T1558", "T1606", "T1613", "T1614", "T1621",
        ],
    ),
    (
        "Discovery",
        &[
            "T1007", "T1010", "T1012", "T1016", "T1018", "T1033", "T1040", "T1046", "T1049", "T1057", "T1069", "T1082",
            "T1083", "T1087", "T1120", "T1124", "T1135", "T1201", "T1217", "T1482", "T1497", "T1518", "T1526", "T1538",
            "T1580", "T0840", "T0842", "T0846", "T0888", "T0887",
        ],
    ),
    (
        "LateralMovement",
        &[
            "T1021", "T1072", "T1080", "T1091", "T1210", "T1534", "T1550", "T1563", "T1570", "T0866", "T0886", "T0859",
            "T0812", "T0867", "T0843",
        ],
    ),
    (
        "Execution",
        &[
            "T1047", "T1053", "T1059", "T1072", "T1106", "T1129", "T1203", "T1204", "T1559", "T1569", "T0807", "T0871",
            "T0823", "T0821", "T0834", "T0853", "T0863", "T0874", "T0858",
        ],
    ),
    (
        "Collection",
        &[
            "T1005", "T1025", "T1039", "T1056", "T1074", "T1113", "T1114", "T1115", "T1119", "T1123", "T1125", "T1185",
            "T1213", "T1530", "T1557", "T1560", "T1602", "T0887", "T0802", "T0811", "T0868", "T0877", "T0830", "T0801",
            "T0861", "T0845", "T0852", "T1609", "T1610",
        ],
    ),
    ("Exfiltration", &["T1011", "T1020", "T1029", "T1030", "T1041", "T1048", "T1052", "T1537", "T1567"]),
    (
        "CommandAndControl",
        &[
            "T1001", "T1008", "T1071", "T1090", "T1092", "T1095", "T1102", "T1104", "T1105", "T1132", "T1205", "T1219",
            "T1568", "T1571", "T1572", "T1573", "T0885", "T0884", "T0869",
        ],
    ),
    (
        "Impact",
        &[
            "T1485", "T1486", "T1489", "T1490", "T1491", "T1495", "T1496", "T1498", "T1499", "T1529", "T1531", "T1561",
            "T1565", "T0879", "T0813", "T0815", "T0826", "T0827", "T0828", "T0837", "T0880", "T0829", "T0831", "T0832",
            "T0882",
        ],
    ),
    ("ImpairProcessControl", &["T0839", "T0856", "T0806", "T0836", "T0855"]),
    (
        "InhibitResponseFunction",
        &[
            "T0857", "T0851", "T0800", "T0878", "T0803", "T0804", "T0805", "T0809", "T0814", "T0816", "T0835", "T0838",
            "T0881",
        ],
    ),
    ("Reconnaissance", &["T1595", "T1592", "T1589", "T1590", "T1591", "T1598", "T1597", "T1596", "T1593", "T1594"]),
    ("ResourceDevelopment", &["T1583", "T1586", "T1584", "T1587", "T1585", "T1588", "T1608"]),
];

/// The tactic's canonical name when `name` is one (case-insensitively, as Sentinel reads
/// enum names).
pub fn tactic(name: &str) -> Option<&'static str> {
    TACTICS.iter().copied().find(|t| t.eq_ignore_ascii_case(name))
}

/// A tactic name written the way ATT&CK's site writes it (`Initial Access`,
/// `command-and-control`): the name Sentinel expects.
pub fn tactic_suggestion(name: &str) -> Option<&'static str> {
    let squashed: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let squashed = squashed.replace("and", "And");
    tactic(&squashed)
}

/// Is `id` a technique id as Sentinel writes them (`T1234` or `T1234.001`)?
pub fn is_technique_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix('T') else { return false };
    let (main, sub) = match rest.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (rest, None),
    };
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && sub.is_none_or(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
}

/// The tactics a technique (or its parent, for a sub-technique) belongs to.
pub fn tactics_of(technique: &str) -> Vec<&'static str> {
    let parent = technique.split('.').next().unwrap_or(technique);
    TECHNIQUES.iter().filter(|(_, ids)| ids.contains(&parent)).map(|(t, _)| *t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tactics_and_techniques() {
        assert_eq!(tactic("initialaccess"), Some("InitialAccess"));
        assert_eq!(tactic("Initial Access"), None);
        assert_eq!(tactic_suggestion("Initial Access"), Some("InitialAccess"));
        assert_eq!(tactic_suggestion("command-and-control"), Some("CommandAndControl"));
        assert!(is_technique_id("T1190") && is_technique_id("T1059.001"));
        assert!(!is_technique_id("T190") && !is_technique_id("T1059.1") && !is_technique_id("t1190"));
        assert_eq!(
            tactics_of("T1078.004"),
            vec!["InitialAccess", "Persistence", "PrivilegeEscalation", "DefenseEvasion"]
        );
        assert!(tactics_of("T9999").is_empty());
        // the 14 Enterprise tactics come first (coverage counts against them)
        assert_eq!((TACTICS[0], TACTICS[13]), ("Reconnaissance", "Impact"));
    }
}
