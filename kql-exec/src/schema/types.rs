//! [`KqlType`]: the ten KQL scalar types and their names (KQL, aliases, .NET).

use std::fmt;

/// A KQL scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KqlType {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    DateTime,
    TimeSpan,
    String,
    Guid,
    Dynamic,
}

impl KqlType {
    /// Every type, in declaration order.
    pub const ALL: [KqlType; 10] = [
        KqlType::Bool,
        KqlType::Int,
        KqlType::Long,
        KqlType::Real,
        KqlType::Decimal,
        KqlType::DateTime,
        KqlType::TimeSpan,
        KqlType::String,
        KqlType::Guid,
        KqlType::Dynamic,
    ];

    /// Reads a type name: a KQL name or alias (`bool`/`boolean`, `int`/`int32`, `long`/`int64`,
    /// `real`/`double`, `decimal`, `datetime`/`date`, `timespan`/`time`, `string`,
    /// `guid`/`uuid`/`uniqueid`, `dynamic`) or a .NET name (`Boolean`, `SByte`, `Int32`, `Int64`,
    /// `Double`, `Single`, `Decimal`, `SqlDecimal`, `DateTime`, `TimeSpan`, `String`, `Guid`,
    /// `Object`, optionally prefixed by `System.` or `System.Data.SqlTypes.`).
    /// Case-insensitive; surrounding blanks are ignored.
    pub fn parse(name: &str) -> Option<KqlType> {
        let name = name.trim();
        if let Some(t) = Self::from_kql_name(name) {
            return Some(t); // the common case, without allocating
        }
        let lower = name.to_ascii_lowercase();
        let key =
            lower.strip_prefix("system.data.sqltypes.").or_else(|| lower.strip_prefix("system.")).unwrap_or(&lower);
        Some(match key {
            "bool" | "boolean" | "sbyte" => KqlType::Bool,
            "int" | "int32" => KqlType::Int,
            "long" | "int64" => KqlType::Long,
            "real" | "double" | "single" => KqlType::Real,
            "decimal" | "sqldecimal" => KqlType::Decimal,
            "datetime" | "date" => KqlType::DateTime,
            "timespan" | "time" => KqlType::TimeSpan,
            "string" => KqlType::String,
            "guid" | "uuid" | "uniqueid" => KqlType::Guid,
            "dynamic" | "object" => KqlType::Dynamic,
            _ => return None,
        })
    }

    /// Reads a column type as schema files write it: everything [`KqlType::parse`] accepts, the
    /// looser names kusto-oracle accepts (`text`, `varchar`, `bigint`, `integer`, `int16`, `byte`,
    /// `float`, `number`, `timestamp`, `json`, `array`, `uniqueidentifier`), and a stray trailing
    /// `,` or `;` (`"string,"` occurs in the Sentinel test schemas).
    pub fn parse_schema_type(name: &str) -> Option<KqlType> {
        let name = name.trim().trim_end_matches([',', ';']).trim_end();
        if let Some(t) = Self::parse(name) {
            return Some(t);
        }
        Some(match name.to_ascii_lowercase().as_str() {
            "text" | "varchar" => KqlType::String,
            "bigint" => KqlType::Long,
            "integer" | "int16" | "byte" => KqlType::Int,
            "float" | "number" => KqlType::Real,
            "timestamp" => KqlType::DateTime,
            "json" | "array" => KqlType::Dynamic,
            "uniqueidentifier" => KqlType::Guid,
            _ => return None,
        })
    }

    /// The exact (lower-case) KQL name, as [`KqlType::name`] writes it.
    pub(crate) fn from_kql_name(name: &str) -> Option<KqlType> {
        Some(match name {
            "bool" => KqlType::Bool,
            "int" => KqlType::Int,
            "long" => KqlType::Long,
            "real" => KqlType::Real,
            "decimal" => KqlType::Decimal,
            "datetime" => KqlType::DateTime,
            "timespan" => KqlType::TimeSpan,
            "string" => KqlType::String,
            "guid" => KqlType::Guid,
            "dynamic" => KqlType::Dynamic,
            _ => return None,
        })
    }

    /// The KQL name: `bool`, `int`, `long`, `real`, `decimal`, `datetime`, `timespan`, `string`,
    /// `guid`, `dynamic`.
    pub fn name(self) -> &'static str {
        match self {
            KqlType::Bool => "bool",
            KqlType::Int => "int",
            KqlType::Long => "long",
            KqlType::Real => "real",
            KqlType::Decimal => "decimal",
            KqlType::DateTime => "datetime",
            KqlType::TimeSpan => "timespan",
            KqlType::String => "string",
            KqlType::Guid => "guid",
            KqlType::Dynamic => "dynamic",
        }
    }

    /// The .NET type name Kusto result sets use (`DataType`): `SByte` (bool), `Int32`, `Int64`,
    /// `Double`, `SqlDecimal`, `DateTime`, `TimeSpan`, `String`, `Guid`, `Object` (dynamic).
    pub fn dotnet_name(self) -> &'static str {
        match self {
            KqlType::Bool => "SByte",
            KqlType::Int => "Int32",
            KqlType::Long => "Int64",
            KqlType::Real => "Double",
            KqlType::Decimal => "SqlDecimal",
            KqlType::DateTime => "DateTime",
            KqlType::TimeSpan => "TimeSpan",
            KqlType::String => "String",
            KqlType::Guid => "Guid",
            KqlType::Dynamic => "Object",
        }
    }

    /// The full .NET name, as `getschema` writes it: `System.Int64`, `System.Data.SqlTypes.SqlDecimal`, ...
    pub fn dotnet_full_name(self) -> &'static str {
        match self {
            KqlType::Bool => "System.SByte",
            KqlType::Int => "System.Int32",
            KqlType::Long => "System.Int64",
            KqlType::Real => "System.Double",
            KqlType::Decimal => "System.Data.SqlTypes.SqlDecimal",
            KqlType::DateTime => "System.DateTime",
            KqlType::TimeSpan => "System.TimeSpan",
            KqlType::String => "System.String",
            KqlType::Guid => "System.Guid",
            KqlType::Dynamic => "System.Object",
        }
    }

    /// True for `int`, `long`, `real` and `decimal`.
    pub fn is_numeric(self) -> bool {
        matches!(self, KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal)
    }
}

impl fmt::Display for KqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for KqlType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for KqlType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        KqlType::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown KQL type {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::KqlType::{self, *};

    #[test]
    fn kql_names_and_aliases() {
        for t in KqlType::ALL {
            assert_eq!(KqlType::parse(t.name()), Some(t));
            assert_eq!(KqlType::parse(&t.name().to_uppercase()), Some(t));
            assert_eq!(KqlType::parse(t.dotnet_name()), Some(t));
            assert_eq!(KqlType::parse(t.dotnet_full_name()), Some(t));
            assert_eq!(t.to_string(), t.name());
        }
        let cases = [
            ("boolean", Bool),
            ("int32", Int),
            ("int64", Long),
            ("double", Real),
            ("date", DateTime),
            ("time", TimeSpan),
            ("uniqueid", Guid),
            ("uuid", Guid),
            (" Long ", Long),
        ];
        for (name, t) in cases {
            assert_eq!(KqlType::parse(name), Some(t), "{name}");
        }
    }

    #[test]
    fn dotnet_names() {
        let cases = [
            ("Boolean", Bool),
            ("SByte", Bool),
            ("Int32", Int),
            ("Int64", Long),
            ("Double", Real),
            ("Single", Real),
            ("Decimal", Decimal),
            ("SqlDecimal", Decimal),
            ("System.Data.SqlTypes.SqlDecimal", Decimal),
            ("DateTime", DateTime),
            ("DATETIME", DateTime),
            ("TimeSpan", TimeSpan),
            ("String", String),
            ("System.String", String),
            ("Guid", Guid),
            ("Object", Dynamic),
            ("Dynamic", Dynamic),
        ];
        for (name, t) in cases {
            assert_eq!(KqlType::parse(name), Some(t), "{name}");
        }
        assert_eq!(Bool.dotnet_name(), "SByte");
        assert_eq!(Dynamic.dotnet_name(), "Object");
        assert_eq!(Decimal.dotnet_name(), "SqlDecimal");
    }

    #[test]
    fn unknown_and_schema_only_names() {
        for name in ["", "strnig", "float", "text", "string,", "timetamp", "Date/time"] {
            assert_eq!(KqlType::parse(name), None, "{name}");
        }
        assert_eq!(KqlType::parse_schema_type("string,"), Some(String));
        assert_eq!(KqlType::parse_schema_type("string "), Some(String));
        assert_eq!(KqlType::parse_schema_type("BigInt"), Some(Long));
        assert_eq!(KqlType::parse_schema_type("Integer"), Some(Int));
        assert_eq!(KqlType::parse_schema_type("timestamp"), Some(DateTime));
        assert_eq!(KqlType::parse_schema_type("float"), Some(Real));
        assert_eq!(KqlType::parse_schema_type("timetamp"), None);
        assert_eq!(KqlType::parse_schema_type("..."), None);
    }

    #[test]
    fn serde_round_trip() {
        let json = serde_json::to_string(&[DateTime, Dynamic]).unwrap();
        assert_eq!(json, r#"["datetime","dynamic"]"#);
        let back: Vec<KqlType> = serde_json::from_str(r#"["datetime","Int64","boolean"]"#).unwrap();
        assert_eq!(back, [DateTime, Long, Bool]);
        assert!(serde_json::from_str::<KqlType>(r#""nope""#).is_err());
    }
}
