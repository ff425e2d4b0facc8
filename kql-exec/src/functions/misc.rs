//! Everything else: hashes (`hash`, `hash_xxhash64`, `hash_sha1`, `hash_md5`), bitwise
//! functions, `format_bytes`, unit conversions (`convert_*`), trigonometry and special functions
//! (`gamma`, `erf`, `beta_pdf`...), encodings (`url_encode`, punycode, base64 arrays and guids,
//! zlib/gzip), `replace_strings`, `translate`, `parse_path`, `parse_command_line`, `parse_csv`,
//! `indexof_regex`, `around`, `rand`, `new_guid`.

use super::array::{row_call, Out, V};
use super::BindCtx;
use crate::binder::Bound;
use crate::error::Result;
use crate::schema::KqlType;
use crate::value::datetime as dt;
use crate::value::dynamic as dj;
use crate::value::hash as hh;
use datafusion::arrow::array::{ArrayRef, Float64Builder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    lit, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

// ---------------------------------------------------------------------------------------------
// estimate_data_size
// ---------------------------------------------------------------------------------------------

/// The bytes a value of type `ty` takes when its size does not depend on the value (`None`
/// for strings and dynamic values, measured per row).
fn fixed_data_size(ty: KqlType) -> Option<i64> {
    match ty {
        KqlType::Bool => Some(1),
        KqlType::Int => Some(4),
        KqlType::Long | KqlType::Real | KqlType::DateTime | KqlType::TimeSpan => Some(8),
        KqlType::Guid | KqlType::Decimal => Some(16),
        KqlType::String | KqlType::Dynamic => None,
    }
}

/// `estimate_data_size(*)` / `estimate_data_size(c1, c2, ...)`: the estimated bytes of the
/// row's columns (all of them for `*`): 1 for a bool, 4 for an int, 8 for a long, real,
/// datetime or timespan, 16 for a guid or decimal, a string's UTF-8 length, a dynamic value's
/// JSON text length (nulls and empty strings count 0).
pub fn estimate_data_size(
    b: &mut crate::binder::Binder,
    args: &[kql_parser::ast::Arg],
    rel: &crate::binder::Rel,
    span: kql_parser::Span,
) -> Result<Bound> {
    use datafusion::functions::core::expr_fn::coalesce;
    use datafusion::logical_expr::cast;
    if args.is_empty() {
        return Err(crate::error::KqlError::new(
            "KS119",
            "The function 'estimate_data_size' expects at least 1 argument.",
            span,
        ));
    }
    let mut parts: Vec<Bound> = Vec::new();
    for a in args {
        if matches!(a.expr().kind, kql_parser::ast::ExprKind::Star) {
            let cols = rel.cols.clone();
            parts.extend(cols.iter().map(|c| Bound::new(crate::binder::scalar::column(&c.name), c.ty)));
        } else {
            parts.push(b.bind_scalar(a.expr(), rel)?);
        }
    }
    let mut fixed = 0i64;
    let mut total: Option<Expr> = None;
    for p in parts {
        if let Some(n) = fixed_data_size(p.ty) {
            fixed += n;
            continue;
        }
        let bytes = coalesce(vec![
            cast(datafusion::functions::string::expr_fn::octet_length(p.expr), DataType::Int64),
            lit(0i64),
        ]);
        total = Some(match total {
            Some(t) => t + bytes,
            None => bytes,
        });
    }
    let e = match total {
        Some(t) => t + lit(fixed),
        None => lit(fixed),
    };
    Ok(Bound::new(e, KqlType::Long))
}

// ---------------------------------------------------------------------------------------------
// xxhash64
// ---------------------------------------------------------------------------------------------

const P1: u64 = 11400714785074694791;
const P2: u64 = 14029467366897019727;
const P3: u64 = 1609587929392839161;
const P4: u64 = 9650029242287828579;
const P5: u64 = 2870177450012600261;

fn xx_round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
}

fn xx_merge(acc: u64, v: u64) -> u64 {
    (acc ^ xx_round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]))
}

/// XXH64 of `data` with `seed`.
pub(crate) fn xxhash64(data: &[u8], seed: u64) -> u64 {
    let n = data.len();
    let mut i = 0;
    let mut h = if n >= 32 {
        let (mut v1, mut v2, mut v3, mut v4) =
            (seed.wrapping_add(P1).wrapping_add(P2), seed.wrapping_add(P2), seed, seed.wrapping_sub(P1));
        while i + 32 <= n {
            v1 = xx_round(v1, le64(&data[i..]));
            v2 = xx_round(v2, le64(&data[i + 8..]));
            v3 = xx_round(v3, le64(&data[i + 16..]));
            v4 = xx_round(v4, le64(&data[i + 24..]));
            i += 32;
        }
        let mut h = v1
            .rotate_left(1)
            .wrapping_add(v2.rotate_left(7))
            .wrapping_add(v3.rotate_left(12))
            .wrapping_add(v4.rotate_left(18));
        for v in [v1, v2, v3, v4] {
            h = xx_merge(h, v);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(n as u64);
    while i + 8 <= n {
        h ^= xx_round(0, le64(&data[i..]));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= n {
        let k = u32::from_le_bytes(data[i..i + 4].try_into().unwrap_or([0; 4])) as u64;
        h ^= k.wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < n {
        h ^= (data[i] as u64).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

/// The bytes `hash()` hashes for a value of KQL type `ty` (strings as UTF-8, datetimes and
/// timespans as .NET ticks, numbers little-endian, guids in .NET byte order).
fn hash_bytes(v: V, ty: KqlType) -> Option<Vec<u8>> {
    Some(match (ty, v) {
        (_, V::Null) => return None,
        (KqlType::DateTime, V::I(t)) => dt::to_dotnet_ticks(t)?.to_le_bytes().to_vec(),
        (KqlType::Int, V::I(i)) => (i as i32).to_le_bytes().to_vec(),
        (_, V::I(i)) => i.to_le_bytes().to_vec(),
        (_, V::F(f)) => f.to_le_bytes().to_vec(),
        (_, V::B(b)) => vec![u8::from(b)],
        (KqlType::Guid, V::S(s)) => guid_bytes(s).map(|g| g.to_vec()).unwrap_or_else(|| s.as_bytes().to_vec()),
        (KqlType::Dynamic, V::S(s)) => dj::to_kql_string(s).into_bytes(),
        (_, V::S(s)) => s.as_bytes().to_vec(),
    })
}

fn hash_with(a: &[V], ty: KqlType) -> Out {
    let Some(bytes) = hash_bytes(a[0], ty) else { return Out::Null };
    let h = xxhash64(&bytes, 0) as i64;
    match a.get(1) {
        Some(m) => match m.i() {
            Some(m) if m > 0 => Out::I(h.rem_euclid(m)),
            _ => Out::Null,
        },
        None => Out::I(h),
    }
}

macro_rules! hash_fns {
    ($($f:ident => $t:expr),* $(,)?) => {
        $(fn $f(a: &[V]) -> Out { hash_with(a, $t) })*
    };
}
hash_fns!(hash_str => KqlType::String, hash_long => KqlType::Long, hash_int => KqlType::Int,
    hash_real => KqlType::Real, hash_bool => KqlType::Bool, hash_dt => KqlType::DateTime,
    hash_ts => KqlType::TimeSpan, hash_guid => KqlType::Guid, hash_dyn => KqlType::Dynamic);

fn f_sha1(a: &[V]) -> Out {
    Out::S(hh::sha1_hex(a[0].s().unwrap_or("").as_bytes()))
}
fn f_md5(a: &[V]) -> Out {
    Out::S(hh::md5_hex(a[0].s().unwrap_or("").as_bytes()))
}
fn f_sha256(a: &[V]) -> Out {
    Out::S(hh::sha256_hex(a[0].s().unwrap_or("").as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// bits
// ---------------------------------------------------------------------------------------------

fn f_and(a: &[V]) -> Out {
    (|| Some(a[0].i()? & a[1].i()?))().into()
}
fn f_or(a: &[V]) -> Out {
    (|| Some(a[0].i()? | a[1].i()?))().into()
}
fn f_xor(a: &[V]) -> Out {
    (|| Some(a[0].i()? ^ a[1].i()?))().into()
}
fn f_not(a: &[V]) -> Out {
    a[0].i().map(|x| !x).into()
}
fn f_shl(a: &[V]) -> Out {
    (|| Some(a[0].i()?.wrapping_shl(a[1].i()? as u32)))().into()
}
fn f_shr(a: &[V]) -> Out {
    (|| Some(a[0].i()?.wrapping_shr(a[1].i()? as u32)))().into()
}
fn f_popcount(a: &[V]) -> Out {
    a[0].i().map(|x| x.count_ones() as i64).into()
}

// ---------------------------------------------------------------------------------------------
// format_bytes and units
// ---------------------------------------------------------------------------------------------

const BYTE_UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];

/// Rounds `v` to `precision` digits and prints it without trailing zeros.
fn fmt_rounded(v: f64, precision: i64) -> String {
    let p = precision.clamp(0, 15) as i32;
    let m = 10f64.powi(p);
    let r = (v * m).round() / m;
    let s = format!("{:.*}", p as usize, r);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Kusto `format_bytes(size, precision, units)`.
pub(crate) fn format_bytes(size: f64, precision: i64, units: &str) -> Option<String> {
    let idx = if units.is_empty() {
        let mut k = 0;
        let mut v = size.abs();
        while v >= 1024.0 && k < BYTE_UNITS.len() - 1 {
            v /= 1024.0;
            k += 1;
        }
        k
    } else {
        BYTE_UNITS.iter().position(|u| u.eq_ignore_ascii_case(units))?
    };
    let v = size / 1024f64.powi(idx as i32);
    Some(format!("{} {}", fmt_rounded(v, precision), BYTE_UNITS[idx]))
}

fn f_format_bytes(a: &[V]) -> Out {
    (|| {
        let p = a.get(1).map_or(Some(0), |v| v.i())?;
        let u = a.get(2).and_then(|v| v.s()).unwrap_or("");
        format_bytes(a[0].f()?, p, u)
    })()
    .into()
}

const ENERGY: &[(&str, f64)] = &[
    ("BritishThermalUnit", 1055.05585262),
    ("Calorie", 4.184),
    ("DecathermEc", 1.05505585262e9),
    ("DecathermImperial", 1.05505585257348e9),
    ("DecathermUs", 1.054804e9),
    ("ElectronVolt", 1.602176634e-19),
    ("Erg", 1e-7),
    ("FootPound", 1.355817948),
    ("GigabritishThermalUnit", 1.05505585262e12),
    ("GigaelectronVolt", 1.602176634e-10),
    ("Gigajoule", 1e9),
    ("GigawattDay", 8.64e13),
    ("GigawattHour", 3.6e12),
    ("HorsepowerHour", 2.6845195377e6),
    ("Joule", 1.0),
    ("KilobritishThermalUnit", 1.05505585262e6),
    ("Kilocalorie", 4184.0),
    ("KiloelectronVolt", 1.602176634e-16),
    ("Kilojoule", 1e3),
    ("KilowattDay", 8.64e7),
    ("KilowattHour", 3.6e6),
    ("MegabritishThermalUnit", 1.05505585262e9),
    ("Megacalorie", 4.184e6),
    ("MegaelectronVolt", 1.602176634e-13),
    ("Megajoule", 1e6),
    ("MegawattDay", 8.64e10),
    ("MegawattHour", 3.6e9),
    ("Millijoule", 1e-3),
    ("TeraelectronVolt", 1.602176634e-7),
    ("TerawattDay", 8.64e16),
    ("TerawattHour", 3.6e15),
    ("ThermEc", 1.05505585262e8),
    ("ThermImperial", 1.05505585257348e8),
    ("ThermUs", 1.054804e8),
    ("WattDay", 86400.0),
    ("WattHour", 3600.0),
];

const FORCE: &[(&str, f64)] = &[
    ("Decanewton", 10.0),
    ("Dyn", 1e-5),
    ("KilogramForce", 9.80665),
    ("Kilonewton", 1e3),
    ("KiloPond", 9.80665),
    ("KilopoundForce", 4448.2216152605),
    ("Meganewton", 1e6),
    ("Micronewton", 1e-6),
    ("Millinewton", 1e-3),
    ("Newton", 1.0),
    ("OunceForce", 0.278013850953781),
    ("Poundal", 0.138254954376),
    ("PoundForce", 4.4482216152605),
    ("ShortTonForce", 8896.443230521),
    ("TonneForce", 9806.65),
];

const MASS: &[(&str, f64)] = &[
    ("Centigram", 1e-5),
    ("Decagram", 1e-2),
    ("Decigram", 1e-4),
    ("EarthMass", 5.9722e24),
    ("Grain", 6.479891e-5),
    ("Gram", 1e-3),
    ("Hectogram", 0.1),
    ("Kilogram", 1.0),
    ("Kilopound", 453.59237),
    ("Kilotonne", 1e6),
    ("LongHundredweight", 50.80234544),
    ("LongTon", 1016.0469088),
    ("Megapound", 453592.37),
    ("Megatonne", 1e9),
    ("Microgram", 1e-9),
    ("Milligram", 1e-6),
    ("Nanogram", 1e-12),
    ("Ounce", 0.028349523125),
    ("Pound", 0.45359237),
    ("ShortHundredweight", 45.359237),
    ("ShortTon", 907.18474),
    ("Slug", 14.593902937206364),
    ("SolarMass", 1.98947e30),
    ("Stone", 6.35029318),
    ("Tonne", 1000.0),
];

const SPEED: &[(&str, f64)] = &[
    ("CentimeterPerHour", 0.01 / 3600.0),
    ("CentimeterPerMinute", 0.01 / 60.0),
    ("CentimeterPerSecond", 0.01),
    ("DecimeterPerMinute", 0.1 / 60.0),
    ("DecimeterPerSecond", 0.1),
    ("FootPerHour", 0.3048 / 3600.0),
    ("FootPerMinute", 0.3048 / 60.0),
    ("FootPerSecond", 0.3048),
    ("InchPerHour", 0.0254 / 3600.0),
    ("InchPerMinute", 0.0254 / 60.0),
    ("InchPerSecond", 0.0254),
    ("KilometerPerHour", 1000.0 / 3600.0),
    ("KilometerPerMinute", 1000.0 / 60.0),
    ("KilometerPerSecond", 1000.0),
    ("Knot", 1852.0 / 3600.0),
    ("MeterPerHour", 1.0 / 3600.0),
    ("MeterPerMinute", 1.0 / 60.0),
    ("MeterPerSecond", 1.0),
    ("MicrometerPerMinute", 1e-6 / 60.0),
    ("MicrometerPerSecond", 1e-6),
    ("MilePerHour", 0.44704),
    ("MillimeterPerHour", 1e-3 / 3600.0),
    ("MillimeterPerMinute", 1e-3 / 60.0),
    ("MillimeterPerSecond", 1e-3),
    ("NanometerPerMinute", 1e-9 / 60.0),
    ("NanometerPerSecond", 1e-9),
    ("UsSurveyFootPerHour", 1200.0 / 3937.0 / 3600.0),
    ("UsSurveyFootPerMinute", 1200.0 / 3937.0 / 60.0),
    ("UsSurveyFootPerSecond", 1200.0 / 3937.0),
    ("YardPerHour", 0.9144 / 3600.0),
    ("YardPerMinute", 0.9144 / 60.0),
    ("YardPerSecond", 0.9144),
];

const VOLUME: &[(&str, f64)] = &[
    ("AcreFoot", 1.0 / 0.000810714),
    ("AuTablespoon", 2e-5),
    ("Centiliter", 1e-5),
    ("CubicCentimeter", 1e-6),
    ("CubicDecimeter", 1e-3),
    ("CubicFoot", 0.0283168),
    ("CubicHectometer", 1e6),
    ("CubicInch", 1.6387e-5),
    ("CubicKilometer", 1e9),
    ("CubicMeter", 1.0),
    ("CubicMicrometer", 1e-18),
    ("CubicMile", 4.16818182544058e9),
    ("CubicMillimeter", 1e-9),
    ("CubicYard", 0.764554858),
    ("Decaliter", 1e-2),
    ("DecausGallon", 0.03785411784),
    ("Deciliter", 1e-4),
    ("DeciusGallon", 0.0003785411784),
    ("HectocubicFoot", 2.83168),
    ("HectocubicMeter", 100.0),
    ("Hectoliter", 0.1),
    ("HectousGallon", 0.3785411784),
    ("ImperialBeerBarrel", 0.16365924),
    ("ImperialGallon", 0.00454609),
    ("ImperialOunce", 2.841_306_25e-5),
    ("ImperialPint", 5.6826125e-4),
    ("KilocubicFoot", 28.3168),
    ("KilocubicMeter", 1e3),
    ("KiloimperialGallon", 4.54609),
    ("Kiloliter", 1.0),
    ("KilousGallon", 3.785411784),
    ("Liter", 1e-3),
    ("MegacubicFoot", 28316.8),
    ("MegaimperialGallon", 4546.09),
    ("Megaliter", 1e3),
    ("MegausGallon", 3785.411784),
    ("MetricCup", 0.00025),
    ("MetricTeaspoon", 0.5e-5),
    ("Microliter", 1e-9),
    ("Milliliter", 1e-6),
    ("OilBarrel", 0.158987294928),
    ("UkTablespoon", 1.5e-5),
    ("UsBeerBarrel", 0.1173477658),
    ("UsCustomaryCup", 0.0002365882365),
    ("UsGallon", 0.003785411784),
    ("UsLegalCup", 0.00024),
    ("UsOunce", 2.957_352_956_253_76e-5),
    ("UsPint", 4.73176473e-4),
    ("UsQuart", 9.46352946e-4),
    ("UsTablespoon", 1.478676478125e-5),
    ("UsTeaspoon", 4.92892159375e-6),
];

const LENGTH: &[(&str, f64)] = &[
    ("Angstrom", 1e-10),
    ("AstronomicalUnit", 1.4959787070e11),
    ("Centimeter", 1e-2),
    ("Chain", 20.1168),
    ("DataMile", 1828.8),
    ("Decameter", 10.0),
    ("Decimeter", 0.1),
    ("DtpPica", 1.0 / 236.220472441),
    ("DtpPoint", 2.54e-2 / 72.0),
    ("Fathom", 1.8288),
    ("Foot", 0.3048),
    ("Hand", 0.1016),
    ("Hectometer", 100.0),
    ("Inch", 0.0254),
    ("KilolightYear", 9.46073047258e18),
    ("Kilometer", 1e3),
    ("Kiloparsec", 3.08567758128e19),
    ("LightYear", 9.46073047258e15),
    ("MegalightYear", 9.46073047258e21),
    ("Megaparsec", 3.08567758128e22),
    ("Meter", 1.0),
    ("Microinch", 2.54e-8),
    ("Micrometer", 1e-6),
    ("Mil", 2.54e-5),
    ("Mile", 1609.344),
    ("Millimeter", 1e-3),
    ("Nanometer", 1e-9),
    ("NauticalMile", 1852.0),
    ("Parsec", 3.08567758128e16),
    ("PrinterPica", 1.0 / 237.106301584),
    ("PrinterPoint", 0.0254 / 72.27),
    ("Shackle", 27.432),
    ("SolarRadius", 6.95510000e8),
    ("Twip", 0.0254 / 1440.0),
    ("UsSurveyFoot", 1200.0 / 3937.0),
    ("Yard", 0.9144),
];

const ANGLE: &[(&str, f64)] = &[
    ("Arcminute", 1.0 / 60.0),
    ("Arcsecond", 1.0 / 3600.0),
    ("Centiradian", 0.01 * 180.0 / std::f64::consts::PI),
    ("Deciradian", 0.1 * 180.0 / std::f64::consts::PI),
    ("Degree", 1.0),
    ("Gradian", 0.9),
    ("Microdegree", 1e-6),
    ("Microradian", 1e-6 * 180.0 / std::f64::consts::PI),
    ("Millidegree", 1e-3),
    ("Milliradian", 1e-3 * 180.0 / std::f64::consts::PI),
    ("Nanodegree", 1e-9),
    ("Nanoradian", 1e-9 * 180.0 / std::f64::consts::PI),
    ("NatoMil", 360.0 / 6400.0),
    ("Radian", 180.0 / std::f64::consts::PI),
    ("Revolution", 360.0),
    ("Tilt", f64::NAN),
];

fn unit(table: &[(&str, f64)], name: &str) -> Option<f64> {
    table.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).filter(|f| !f.is_nan())
}

fn convert_linear(table: &[(&str, f64)], a: &[V]) -> Out {
    (|| {
        let v = a[0].f()?;
        let from = unit(table, a[1].s()?)?;
        let to = unit(table, a[2].s()?)?;
        Some(if from == to { v } else { v * from / to })
    })()
    .into()
}

fn f_conv_energy(a: &[V]) -> Out {
    convert_linear(ENERGY, a)
}
fn f_conv_force(a: &[V]) -> Out {
    convert_linear(FORCE, a)
}
fn f_conv_mass(a: &[V]) -> Out {
    convert_linear(MASS, a)
}
fn f_conv_speed(a: &[V]) -> Out {
    convert_linear(SPEED, a)
}
fn f_conv_volume(a: &[V]) -> Out {
    convert_linear(VOLUME, a)
}
fn f_conv_length(a: &[V]) -> Out {
    convert_linear(LENGTH, a)
}
fn f_conv_angle(a: &[V]) -> Out {
    convert_linear(ANGLE, a)
}

fn to_kelvin(unit: &str, v: f64) -> Option<f64> {
    Some(match unit {
        "DegreeCelsius" => v + 273.15,
        "DegreeDelisle" => 373.15 - v * 2.0 / 3.0,
        "DegreeFahrenheit" => (v + 459.67) * 5.0 / 9.0,
        "DegreeNewton" => v * 100.0 / 33.0 + 273.15,
        "DegreeRankine" => v * 5.0 / 9.0,
        "DegreeReaumur" => v * 5.0 / 4.0 + 273.15,
        "DegreeRoemer" => (v - 7.5) * 40.0 / 21.0 + 273.15,
        "Kelvin" => v,
        "MillidegreeCelsius" => v / 1000.0 + 273.15,
        "SolarTemperature" => v * 5778.0,
        _ => return None,
    })
}

fn from_kelvin(unit: &str, k: f64) -> Option<f64> {
    Some(match unit {
        "DegreeCelsius" => k - 273.15,
        "DegreeDelisle" => (373.15 - k) * 3.0 / 2.0,
        "DegreeFahrenheit" => k * 9.0 / 5.0 - 459.67,
        "DegreeNewton" => (k - 273.15) * 33.0 / 100.0,
        "DegreeRankine" => k * 9.0 / 5.0,
        "DegreeReaumur" => (k - 273.15) * 4.0 / 5.0,
        "DegreeRoemer" => (k - 273.15) * 21.0 / 40.0 + 7.5,
        "Kelvin" => k,
        "MillidegreeCelsius" => (k - 273.15) * 1000.0,
        "SolarTemperature" => k / 5778.0,
        _ => return None,
    })
}

fn f_conv_temperature(a: &[V]) -> Out {
    (|| {
        let v = a[0].f()?;
        let (from, to) = (a[1].s()?, a[2].s()?);
        let k = to_kelvin(from, v)?;
        from_kelvin(to, 0.0)?;
        if from == to {
            return Some(v);
        }
        from_kelvin(to, k)
    })()
    .into()
}

// ---------------------------------------------------------------------------------------------
// math
// ---------------------------------------------------------------------------------------------

/// The error function.
pub(crate) fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.abs() >= 3.0 {
        let c = erfc_cf(x.abs());
        return if x > 0.0 { 1.0 - c } else { c - 1.0 };
    }
    // Taylor series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let mut sum = 0.0;
    let mut term = x;
    let x2 = x * x;
    let mut n = 0.0;
    while n < 200.0 {
        let t = term / (2.0 * n + 1.0);
        sum += t;
        if t.abs() < 1e-17 * sum.abs() {
            break;
        }
        n += 1.0;
        term *= -x2 / n;
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

/// erfc(x) for x >= 2 by its continued fraction.
fn erfc_cf(x: f64) -> f64 {
    let mut k = x;
    for n in (1..=80).rev() {
        k = x + (n as f64 / 2.0) / k;
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / k
}

/// The complementary error function.
pub(crate) fn erfc(x: f64) -> f64 {
    if x >= 3.0 {
        erfc_cf(x)
    } else {
        1.0 - erf(x)
    }
}

const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.5203681218851,
    -1259.1392167224028,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507343278686905,
    -0.13857109526572012,
    9.984_369_578_019_572e-6,
    1.5056327351493116e-7,
];

/// The gamma function.
pub(crate) fn gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x == x.floor() {
        if x <= 0.0 {
            return f64::NAN;
        }
        if x <= 171.0 {
            let mut p = 1.0;
            let mut k = 2.0;
            while k < x {
                p *= k;
                k += 1.0;
            }
            return p;
        }
    }
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = LANCZOS[0];
    let t = x + 7.5;
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

/// ln |gamma(x)|.
pub(crate) fn loggamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 && x == x.floor() {
        return f64::INFINITY;
    }
    if x < 0.5 {
        let s = (std::f64::consts::PI * x).sin().abs();
        return std::f64::consts::PI.ln() - s.ln() - loggamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = LANCZOS[0];
    let t = x + 7.5;
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

fn ln_beta(a: f64, b: f64) -> f64 {
    loggamma(a) + loggamma(b) - loggamma(a + b)
}

/// The beta distribution's density.
pub(crate) fn beta_pdf(x: f64, a: f64, b: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) || a <= 0.0 || b <= 0.0 || x.is_nan() || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    ((a - 1.0) * x.ln() + (b - 1.0) * (1.0 - x).ln() - ln_beta(a, b)).exp()
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let tiny = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The beta distribution's cumulative distribution (regularized incomplete beta).
pub(crate) fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if a <= 0.0 || b <= 0.0 || x.is_nan() || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return 0.0;
    }
    if x == 1.0 {
        return 1.0;
    }
    if !(0.0..=1.0).contains(&x) {
        // Kusto: x outside [0, 1] gives NaN
        return f64::NAN;
    }
    let bt = (a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        bt * beta_cf(x, a, b) / a
    } else {
        1.0 - bt * beta_cf(1.0 - x, b, a) / b
    }
}

/// The inverse of [`beta_cdf`] (bisection).
pub(crate) fn beta_inv(p: f64, a: f64, b: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || a <= 0.0 || b <= 0.0 || a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if beta_cdf(mid, a, b) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// `welch_test(mean1, variance1, count1, mean2, variance2, count2)`: the two-sided p-value of
/// Welch's t-test (unequal variances), with the Welch–Satterthwaite degrees of freedom. `None`
/// (null) when a count is below 2 or both variances are 0.
pub(crate) fn welch_test(m1: f64, v1: f64, n1: f64, m2: f64, v2: f64, n2: f64) -> Option<f64> {
    if n1 < 2.0 || n2 < 2.0 || v1 < 0.0 || v2 < 0.0 {
        return None;
    }
    let (a, b) = (v1 / n1, v2 / n2);
    let se2 = a + b;
    if se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let t = (m1 - m2) / se2.sqrt();
    let df = se2 * se2 / (a * a / (n1 - 1.0) + b * b / (n2 - 1.0));
    let p = beta_cdf(df / (df + t * t), df / 2.0, 0.5);
    p.is_finite().then_some(p)
}

fn f_welch_test(a: &[V]) -> Out {
    (|| welch_test(a[0].f()?, a[1].f()?, a[2].f()?, a[3].f()?, a[4].f()?, a[5].f()?))().into()
}

macro_rules! real1 {
    ($($f:ident => $e:expr),* $(,)?) => {
        $(fn $f(a: &[V]) -> Out {
            let g: fn(f64) -> f64 = $e;
            a[0].f().map(g).into()
        })*
    };
}
real1!(
    f_sin => f64::sin, f_cos => f64::cos, f_tan => f64::tan, f_asin => f64::asin, f_acos => f64::acos,
    f_atan => f64::atan, f_cot => |x| 1.0 / x.tan(), f_degrees => f64::to_degrees, f_radians => f64::to_radians,
    f_erf => erf, f_erfc => erfc, f_gamma => gamma, f_loggamma => loggamma,
);

fn f_atan2(a: &[V]) -> Out {
    (|| Some(a[0].f()?.atan2(a[1].f()?)))().into()
}
fn f_beta_pdf(a: &[V]) -> Out {
    (|| Some(beta_pdf(a[0].f()?, a[1].f()?, a[2].f()?)))().into()
}
/// The parameters `beta_cdf` accepts: alpha and beta in (0, 10000].
fn beta_params_ok(a: f64, b: f64) -> bool {
    a > 0.0 && a <= 10000.0 && b > 0.0 && b <= 10000.0
}
fn f_beta_cdf(a: &[V]) -> Out {
    (|| {
        let (x, al, be) = (a[0].f()?, a[1].f()?, a[2].f()?);
        Some(if beta_params_ok(al, be) { beta_cdf(x, al, be) } else { f64::NAN })
    })()
    .into()
}
/// `beta_inv`: a probability outside (0, 1] gives null, alpha or beta not above 0 gives NaN (what
/// the page's example prints: "p > 1, yields null", "alpha is < 0, yields NaN").
fn f_beta_inv(a: &[V]) -> Out {
    (|| {
        let (p, al, be) = (a[0].f()?, a[1].f()?, a[2].f()?);
        if !(al > 0.0 && be > 0.0) {
            return Some(f64::NAN);
        }
        if !(p > 0.0 && p <= 1.0) {
            return None;
        }
        Some(beta_inv(p, al, be))
    })()
    .into()
}

fn f_around(a: &[V]) -> Out {
    (|| {
        let (v, c, d) = (a[0].f()?, a[1].f()?, a[2].f()?);
        Some(v >= c - d && v <= c + d)
    })()
    .into()
}

// ---------------------------------------------------------------------------------------------
// strings and encodings
// ---------------------------------------------------------------------------------------------

/// Kusto `replace_strings(text, lookups, rewrites)`: lookups in order, each replacing its matches
/// in the parts of the text no earlier lookup matched; a non-string rewrite keeps the match.
pub(crate) fn replace_strings(text: &str, lookups: &str, rewrites: &str) -> String {
    let look = dj::array_elements(lookups).unwrap_or_default();
    let rew = dj::array_elements(rewrites).unwrap_or_default();
    // segments: (text, done)
    let mut segs: Vec<(String, bool)> = vec![(text.to_string(), false)];
    for (i, l) in look.iter().enumerate() {
        if dj::kind(l) != Some(dj::JsonKind::String) {
            continue;
        }
        let Some(pat) = dj::scalar_string(l) else { continue };
        if pat.is_empty() {
            continue;
        }
        let rep: Option<String> = rew
            .get(i)
            .filter(|r| dj::kind(r) == Some(dj::JsonKind::String))
            .and_then(|r| dj::scalar_string(r))
            .map(|c| c.into_owned());
        let mut next = Vec::with_capacity(segs.len());
        for (s, done) in segs {
            if done || !s.contains(pat.as_ref()) {
                next.push((s, done));
                continue;
            }
            let mut rest = s.as_str();
            while let Some(p) = rest.find(pat.as_ref()) {
                if p > 0 {
                    next.push((rest[..p].to_string(), false));
                }
                next.push((rep.clone().unwrap_or_else(|| pat.to_string()), true));
                rest = &rest[p + pat.len()..];
            }
            if !rest.is_empty() {
                next.push((rest.to_string(), false));
            }
        }
        segs = next;
    }
    segs.into_iter().map(|(s, _)| s).collect()
}

fn f_replace_strings(a: &[V]) -> Out {
    Out::S(replace_strings(a[0].s().unwrap_or(""), a[1].json(), a[2].json()))
}

/// Kusto `translate(searchList, replacementList, text)`.
pub(crate) fn translate(search: &str, repl: &str, text: &str) -> String {
    let s: Vec<char> = search.chars().collect();
    let r: Vec<char> = repl.chars().collect();
    text.chars()
        .filter_map(|c| match s.iter().position(|x| *x == c) {
            Some(_) if r.is_empty() => None,
            Some(i) => Some(*r.get(i).unwrap_or(&r[r.len() - 1])),
            None => Some(c),
        })
        .collect()
}

fn f_translate(a: &[V]) -> Out {
    Out::S(translate(a[0].s().unwrap_or(""), a[1].s().unwrap_or(""), a[2].s().unwrap_or("")))
}

fn url_encode_impl(s: &str, space_plus: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'!' | b'*' | b'(' | b')' => {
                out.push(b as char)
            }
            b' ' if space_plus => out.push('+'),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

/// `url_decode`: `%xx`, `%uxxxx` and `+` decoded; invalid sequences kept.
pub(crate) fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let hexv = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                if i + 5 < b.len() && (b[i + 1] == b'u' || b[i + 1] == b'U') {
                    let h = &s[i + 2..(i + 6).min(s.len())];
                    if h.len() == 4 {
                        if let Some(c) = u32::from_str_radix(h, 16).ok().and_then(char::from_u32) {
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                            i += 6;
                            continue;
                        }
                    }
                }
                match (b.get(i + 1).and_then(|c| hexv(*c)), b.get(i + 2).and_then(|c| hexv(*c))) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn f_url_encode(a: &[V]) -> Out {
    Out::S(url_encode_impl(a[0].s().unwrap_or(""), true))
}
fn f_url_encode_component(a: &[V]) -> Out {
    Out::S(url_encode_impl(a[0].s().unwrap_or(""), false))
}
fn f_url_decode(a: &[V]) -> Out {
    Out::S(url_decode(a[0].s().unwrap_or("")))
}

// RFC 3492 punycode
const PC_BASE: u32 = 36;
const PC_TMIN: u32 = 1;
const PC_TMAX: u32 = 26;
const PC_SKEW: u32 = 38;
const PC_DAMP: u32 = 700;

fn pc_adapt(mut delta: u32, numpoints: u32, first: bool) -> u32 {
    delta = if first { delta / PC_DAMP } else { delta / 2 };
    delta += delta / numpoints;
    let mut k = 0;
    while delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2 {
        delta /= PC_BASE - PC_TMIN;
        k += PC_BASE;
    }
    k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW)
}

fn pc_digit(d: u32) -> char {
    (if d < 26 { b'a' + d as u8 } else { b'0' + (d - 26) as u8 }) as char
}

/// RFC 3492 punycode encoding (without the `xn--` prefix).
pub(crate) fn punycode_encode(input: &str) -> Option<String> {
    let cps: Vec<u32> = input.chars().map(|c| c as u32).collect();
    let mut out: String = input.chars().filter(|c| c.is_ascii()).collect();
    let b = out.len() as u32;
    let mut h = b;
    if b > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias) = (128u32, 0u32, 72u32);
    while (h as usize) < cps.len() {
        let m = *cps.iter().filter(|&&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(h + 1)?)?;
        n = m;
        for &c in &cps {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = PC_BASE;
                loop {
                    let t = if k <= bias {
                        PC_TMIN
                    } else if k >= bias + PC_TMAX {
                        PC_TMAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(pc_digit(t + (q - t) % (PC_BASE - t)));
                    q = (q - t) / (PC_BASE - t);
                    k += PC_BASE;
                }
                out.push(pc_digit(q));
                bias = pc_adapt(delta, h + 1, h == b);
                delta = 0;
                h += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Some(out)
}

/// RFC 3492 punycode decoding (without the `xn--` prefix).
pub(crate) fn punycode_decode(input: &str) -> Option<String> {
    let (basic, rest) = match input.rfind('-') {
        Some(p) => (&input[..p], &input[p + 1..]),
        None => ("", input),
    };
    if !basic.is_ascii() {
        return None;
    }
    let mut out: Vec<u32> = basic.chars().map(|c| c as u32).collect();
    let (mut n, mut i, mut bias) = (128u32, 0u32, 72u32);
    let digits: Vec<u8> = rest.bytes().collect();
    let mut pos = 0;
    while pos < digits.len() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = PC_BASE;
        loop {
            let c = *digits.get(pos)?;
            pos += 1;
            let d = match c {
                b'a'..=b'z' => c - b'a',
                b'A'..=b'Z' => c - b'A',
                b'0'..=b'9' => c - b'0' + 26,
                _ => return None,
            } as u32;
            i = i.checked_add(d.checked_mul(w)?)?;
            let t = if k <= bias {
                PC_TMIN
            } else if k >= bias + PC_TMAX {
                PC_TMAX
            } else {
                k - bias
            };
            if d < t {
                break;
            }
            w = w.checked_mul(PC_BASE - t)?;
            k += PC_BASE;
        }
        let len = out.len() as u32 + 1;
        bias = pc_adapt(i - old_i, len, old_i == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        out.insert(i as usize, n);
        i += 1;
    }
    out.into_iter().map(char::from_u32).collect()
}

fn f_puny_from(a: &[V]) -> Out {
    Out::S(punycode_encode(a[0].s().unwrap_or("")).unwrap_or_default())
}
fn f_puny_to(a: &[V]) -> Out {
    Out::S(punycode_decode(a[0].s().unwrap_or("")).unwrap_or_default())
}

fn f_codepoints_from(a: &[V]) -> Out {
    let items: Vec<String> = a[0].s().unwrap_or("").chars().map(|c| (c as u32).to_string()).collect();
    Out::S(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
}

fn f_codepoints_to(a: &[V]) -> Out {
    let mut out = String::new();
    for v in a {
        let raw = v.json();
        let list = dj::array_elements(raw).unwrap_or_else(|| vec![raw]);
        for x in list {
            match dj::as_i64(x).and_then(|c| u32::try_from(c).ok()).and_then(char::from_u32) {
                Some(c) => out.push(c),
                None => return Out::Null,
            }
        }
    }
    Out::S(out)
}

fn f_isutf8(a: &[V]) -> Out {
    Out::B(a[0].s().is_some())
}

/// The 16 bytes of a guid in .NET `Guid.ToByteArray()` order.
fn guid_bytes(s: &str) -> Option<[u8; 16]> {
    let hex: String = s.trim().trim_matches(['{', '}']).chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (k, r) in raw.iter_mut().enumerate() {
        *r = u8::from_str_radix(hex.get(2 * k..2 * k + 2)?, 16).ok()?;
    }
    let mut b = raw;
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

fn guid_from_bytes(b: &[u8]) -> Option<String> {
    if b.len() != 16 {
        return None;
    }
    let mut r = [0u8; 16];
    r.copy_from_slice(b);
    r[0..4].reverse();
    r[4..6].reverse();
    r[6..8].reverse();
    let h: String = r.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

fn f_b64_toarray(a: &[V]) -> Out {
    (|| {
        let bytes = hh::base64_decode(a[0].s()?)?;
        let items: Vec<String> = bytes.iter().map(|b| b.to_string()).collect();
        Some(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
    })()
    .into()
}
fn f_b64_fromarray(a: &[V]) -> Out {
    (|| {
        let bytes = dj::array_elements(a[0].s()?)?
            .iter()
            .map(|x| dj::as_i64(x).and_then(|v| u8::try_from(v).ok()))
            .collect::<Option<Vec<u8>>>()?;
        Some(hh::base64_encode(&bytes))
    })()
    .into()
}
fn f_b64_toguid(a: &[V]) -> Out {
    (|| guid_from_bytes(&hh::base64_decode(a[0].s()?)?))().into()
}
fn f_b64_fromguid(a: &[V]) -> Out {
    (|| Some(hh::base64_encode(&guid_bytes(a[0].s()?)?)))().into()
}

fn f_zlib_compress(a: &[V]) -> Out {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let ok = e.write_all(a[0].s().unwrap_or("").as_bytes()).is_ok();
    match e.finish() {
        Ok(v) if ok => Out::S(hh::base64_encode(&v)),
        _ => Out::S(String::new()),
    }
}
fn f_zlib_decompress(a: &[V]) -> Out {
    (|| {
        let bytes = hh::base64_decode(a[0].s()?)?;
        let mut s = String::new();
        flate2::read::ZlibDecoder::new(bytes.as_slice()).read_to_string(&mut s).ok()?;
        Some(s)
    })()
    .into()
}
fn f_gzip_compress(a: &[V]) -> Out {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let ok = e.write_all(a[0].s().unwrap_or("").as_bytes()).is_ok();
    match e.finish() {
        Ok(v) if ok => Out::S(hh::base64_encode(&v)),
        _ => Out::S(String::new()),
    }
}
fn f_gzip_decompress(a: &[V]) -> Out {
    (|| {
        let bytes = hh::base64_decode(a[0].s()?)?;
        let mut s = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice()).read_to_string(&mut s).ok()?;
        Some(s)
    })()
    .into()
}

/// Kusto `parse_path(path)` as JSON text.
pub(crate) fn parse_path(p: &str) -> String {
    let mut rest = p;
    let mut scheme = "";
    if let Some(i) = p.find("://") {
        if i > 1 && p[..i].chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.') {
            scheme = &p[..i];
            rest = &p[i + 3..];
        }
    }
    let is_sep = |c: char| c == '\\' || c == '/';
    let bytes = rest.as_bytes();
    let has_drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let root = if has_drive && rest[2..].starts_with(is_sep) {
        &rest[..3]
    } else if has_drive {
        &rest[..2]
    } else {
        ""
    };
    let (dir, file) = match rest.rfind(is_sep) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None if has_drive => (root, &rest[2..]),
        None => ("", rest),
    };
    let dir = if dir.len() < root.len() { root } else { dir };
    let dir_name = dir.rsplit(is_sep).next().unwrap_or("");
    let (file, ads) = match file.find(':') {
        Some(i) => (&file[..i], &file[i + 1..]),
        _ => (file, ""),
    };
    let ext = match file.rfind('.') {
        Some(i) => &file[i + 1..],
        None => "",
    };
    let fields = [
        ("Scheme", scheme),
        ("RootPath", root),
        ("DirectoryPath", dir),
        ("DirectoryName", dir_name),
        ("Filename", file),
        ("Extension", ext),
        ("AlternateDataStreamName", ads),
    ];
    let vals: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, dj::json_string(v))).collect();
    let pairs: Vec<(&str, &str)> = vals.iter().map(|(k, v)| (*k, v.as_str())).collect();
    dj::build_object(&pairs)
}

fn f_parse_path(a: &[V]) -> Out {
    Out::S(parse_path(a[0].s().unwrap_or("")))
}

/// Windows command-line splitting (`CommandLineToArgvW` rules).
pub(crate) fn parse_command_line_windows(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    let n = chars.len();
    loop {
        while i < n && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= n {
            break;
        }
        let mut cur = String::new();
        let mut in_q = false;
        while i < n {
            let c = chars[i];
            if (c == ' ' || c == '\t') && !in_q {
                break;
            }
            if c == '\\' {
                let mut k = 0;
                while i < n && chars[i] == '\\' {
                    k += 1;
                    i += 1;
                }
                if i < n && chars[i] == '"' {
                    cur.extend(std::iter::repeat_n('\\', k / 2));
                    if k % 2 == 1 {
                        cur.push('"');
                        i += 1;
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', k));
                }
                continue;
            }
            if c == '"' {
                if in_q && i + 1 < n && chars[i + 1] == '"' {
                    cur.push('"');
                    i += 2;
                    continue;
                }
                in_q = !in_q;
                i += 1;
                continue;
            }
            cur.push(c);
            i += 1;
        }
        args.push(cur);
    }
    args
}

fn f_parse_command_line(a: &[V]) -> Out {
    (|| {
        let kind = a.get(1).and_then(|v| v.s()).unwrap_or("windows");
        if !kind.eq_ignore_ascii_case("windows") {
            return None;
        }
        let items: Vec<String> =
            parse_command_line_windows(a[0].s().unwrap_or("")).iter().map(|s| dj::json_string(s)).collect();
        Some(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
    })()
    .into()
}

/// `parse_csv(text)`: the fields of the first CSV record.
pub(crate) fn parse_csv(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut in_q = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if in_q {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    in_q = false;
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                in_q = true;
                at_start = false;
            }
            ',' => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
            }
            '\n' | '\r' => break,
            _ => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    out.push(cur);
    out
}

fn f_parse_csv(a: &[V]) -> Out {
    let items: Vec<String> = parse_csv(a[0].s().unwrap_or("")).iter().map(|s| dj::json_string(s)).collect();
    Out::S(dj::build_array(&items.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// `indexof_regex(text, regex, start, length, occurrence)` (character positions).
pub(crate) fn indexof_regex(s: &str, pat: &str, start: i64, length: i64, occurrence: i64) -> Option<i64> {
    if start < 0 || length < -1 || occurrence <= 0 {
        return None;
    }
    let re = crate::value::re2::compile(pat).ok()?;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let n = chars.len() as i64;
    if start > n {
        return Some(-1);
    }
    let from_b = chars.get(start as usize).map_or(s.len(), |c| c.0);
    let end_c = if length == -1 { n } else { start.saturating_add(length).min(n) };
    let to_b = chars.get(end_c as usize).map_or(s.len(), |c| c.0);
    let hay = &s[from_b..to_b];
    let found = re.find_iter(hay).nth(occurrence as usize - 1).map(|m| m.start());
    match found {
        Some(p) => Some(start + hay[..p].chars().count() as i64),
        None => Some(-1),
    }
}

fn f_indexof_regex(a: &[V]) -> Out {
    (|| {
        let start = a.get(2).map_or(Some(0), |v| v.i())?;
        let len = a.get(3).map_or(Some(-1), |v| v.i())?;
        let occ = a.get(4).map_or(Some(1), |v| v.i())?;
        indexof_regex(a[0].s()?, a[1].s()?, start, len, occ)
    })()
    .into()
}

// ---------------------------------------------------------------------------------------------
// volatile: rand, new_guid
// ---------------------------------------------------------------------------------------------

fn next_random() -> u64 {
    static STATE: OnceLock<AtomicU64> = OnceLock::new();
    let st = STATE.get_or_init(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        AtomicU64::new((t as u64) ^ 0x9E37_79B9_7F4A_7C15)
    });
    // splitmix64
    let mut z = st.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_guid() -> String {
    let (a, b) = (next_random(), next_random());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A volatile function evaluated once per row (also without arguments).
#[derive(Debug, PartialEq, Eq, Hash)]
struct VolatileFn {
    name: &'static str,
    signature: Signature,
}

impl VolatileFn {
    fn new(name: &'static str) -> Self {
        VolatileFn {
            name,
            signature: Signature::one_of(
                vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
                Volatility::Volatile,
            ),
        }
    }
}

impl ScalarUDFImpl for VolatileFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(if self.name == "kql_new_guid" { DataType::Utf8 } else { DataType::Float64 })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if args.number_rows == 0 {
            // an empty batch: no values (one would not match the batch's length)
            let t = if self.name == "kql_new_guid" { DataType::Utf8 } else { DataType::Float64 };
            return Ok(ColumnarValue::Array(datafusion::arrow::array::new_empty_array(&t)));
        }
        let rows = args.number_rows;
        if self.name == "kql_new_guid" {
            let mut b = StringBuilder::with_capacity(rows, rows * 36);
            for _ in 0..rows {
                b.append_value(random_guid());
            }
            return Ok(ColumnarValue::Array(Arc::new(b.finish()) as ArrayRef));
        }
        // rand() or rand(n)
        let n: Option<i64> = match args.args.first() {
            Some(ColumnarValue::Scalar(ScalarValue::Int64(v))) => Some(v.unwrap_or(0)),
            _ => None,
        };
        let mut b = Float64Builder::with_capacity(rows);
        for _ in 0..rows {
            let u = (next_random() >> 11) as f64 / (1u64 << 53) as f64;
            match n {
                Some(n) if n > 0 => b.append_value((u * n as f64).floor()),
                Some(_) => b.append_null(),
                None => b.append_value(u),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(b.finish()) as ArrayRef))
    }
}

fn volatile_call(name: &'static str, args: Vec<Expr>) -> Expr {
    ScalarUDF::new_from_impl(VolatileFn::new(name)).call(args)
}

// ---------------------------------------------------------------------------------------------
// binding
// ---------------------------------------------------------------------------------------------

/// Bind the misc family.
pub fn bind(ctx: &mut BindCtx, name: &str, args: &[Bound]) -> Option<Result<Bound>> {
    let b = &*ctx.binder;
    let n = args.len();
    let s = |k: usize| b.coerce(args[k].clone(), KqlType::String).expr;
    let l = |k: usize| b.coerce(args[k].clone(), KqlType::Long).expr;
    let r = |k: usize| b.coerce(args[k].clone(), KqlType::Real).expr;
    let d = |k: usize| b.coerce(args[k].clone(), KqlType::Dynamic).expr;
    let all = |f: &dyn Fn(usize) -> Expr| (0..n).map(f).collect::<Vec<_>>();
    use KqlType::{Bool, Dynamic, Guid, Long, Real, String as Str};
    let out = match (name, n) {
        ("hash" | "hash_xxhash64", 1 | 2) => {
            let (f, tag): (super::array::RowFn, &str) = match args[0].ty {
                Str => (hash_str, "string"),
                Long => (hash_long, "long"),
                KqlType::Int => (hash_int, "int"),
                Real | KqlType::Decimal => (hash_real, "real"),
                Bool => (hash_bool, "bool"),
                KqlType::DateTime => (hash_dt, "datetime"),
                KqlType::TimeSpan => (hash_ts, "timespan"),
                Guid => (hash_guid, "guid"),
                Dynamic => (hash_dyn, "dynamic"),
            };
            let mut a = vec![args[0].expr.clone()];
            if n == 2 {
                a.push(l(1));
            }
            row_call(&format!("kql_hash_{tag}"), Long, f, a)
        }
        ("hash_sha1", 1) => row_call("kql_hash_sha1", Str, f_sha1, vec![s(0)]),
        ("hash_md5", 1) => row_call("kql_hash_md5", Str, f_md5, vec![s(0)]),
        ("hash_sha256", 1) => row_call("kql_hash_sha256_any", Str, f_sha256, vec![s(0)]),
        ("binary_and", 2) => row_call("kql_binary_and", Long, f_and, all(&l)),
        ("binary_or", 2) => row_call("kql_binary_or", Long, f_or, all(&l)),
        ("binary_xor", 2) => row_call("kql_binary_xor", Long, f_xor, all(&l)),
        ("binary_not" | "bitwise_not", 1) => row_call("kql_binary_not", Long, f_not, all(&l)),
        ("binary_shift_left", 2) => row_call("kql_binary_shift_left", Long, f_shl, all(&l)),
        ("binary_shift_right", 2) => row_call("kql_binary_shift_right", Long, f_shr, all(&l)),
        ("bitset_count_ones", 1) => row_call("kql_bitset_count_ones", Long, f_popcount, all(&l)),
        ("format_bytes", 1..=3) => {
            let a = (0..n)
                .map(|k| {
                    if k == 0 {
                        r(k)
                    } else if k == 1 {
                        l(k)
                    } else {
                        s(k)
                    }
                })
                .collect();
            row_call("kql_format_bytes", Str, f_format_bytes, a)
        }
        (
            "convert_energy"
            | "convert_force"
            | "convert_mass"
            | "convert_speed"
            | "convert_volume"
            | "convert_length"
            | "convert_angle"
            | "convert_temperature",
            3,
        ) => {
            let f: super::array::RowFn = match name {
                "convert_energy" => f_conv_energy,
                "convert_force" => f_conv_force,
                "convert_mass" => f_conv_mass,
                "convert_speed" => f_conv_speed,
                "convert_volume" => f_conv_volume,
                "convert_length" => f_conv_length,
                "convert_angle" => f_conv_angle,
                _ => f_conv_temperature,
            };
            row_call(&format!("kql_{name}"), Real, f, vec![r(0), s(1), s(2)])
        }
        ("pi", 0) => Bound::new(lit(std::f64::consts::PI), Real),
        (
            "sin" | "cos" | "tan" | "asin" | "acos" | "atan" | "cot" | "degrees" | "radians" | "erf" | "erfc" | "gamma"
            | "loggamma",
            1,
        ) => {
            let f: super::array::RowFn = match name {
                "sin" => f_sin,
                "cos" => f_cos,
                "tan" => f_tan,
                "asin" => f_asin,
                "acos" => f_acos,
                "atan" => f_atan,
                "cot" => f_cot,
                "degrees" => f_degrees,
                "radians" => f_radians,
                "erf" => f_erf,
                "erfc" => f_erfc,
                "gamma" => f_gamma,
                _ => f_loggamma,
            };
            row_call(&format!("kql_{name}"), Real, f, vec![r(0)])
        }
        ("atan2", 2) => row_call("kql_atan2", Real, f_atan2, all(&r)),
        ("beta_pdf", 3) => row_call("kql_beta_pdf", Real, f_beta_pdf, all(&r)),
        ("beta_cdf", 3) => row_call("kql_beta_cdf", Real, f_beta_cdf, all(&r)),
        ("beta_inv", 3) => row_call("kql_beta_inv", Real, f_beta_inv, all(&r)),
        ("welch_test", 6) => row_call("kql_welch_test", Real, f_welch_test, all(&r)),
        ("around", 3) => row_call("kql_around", Bool, f_around, all(&r)),
        ("replace_strings", 3) => row_call("kql_replace_strings", Str, f_replace_strings, vec![s(0), d(1), d(2)]),
        ("translate", 3) => row_call("kql_translate", Str, f_translate, all(&s)),
        ("url_encode", 1) => row_call("kql_url_encode", Str, f_url_encode, vec![s(0)]),
        ("url_encode_component", 1) => row_call("kql_url_encode_component", Str, f_url_encode_component, vec![s(0)]),
        ("url_decode", 1) => row_call("kql_url_decode", Str, f_url_decode, vec![s(0)]),
        ("punycode_from_string", 1) => row_call("kql_punycode_from_string", Str, f_puny_from, vec![s(0)]),
        ("punycode_to_string", 1) => row_call("kql_punycode_to_string", Str, f_puny_to, vec![s(0)]),
        ("unicode_codepoints_from_string", 1) => {
            row_call("kql_unicode_codepoints_from_string", Dynamic, f_codepoints_from, vec![s(0)])
        }
        ("unicode_codepoints_to_string" | "make_string", _) if n >= 1 => {
            row_call("kql_unicode_codepoints_to_string", Str, f_codepoints_to, all(&d))
        }
        ("isutf8", 1) => row_call("kql_isutf8", Bool, f_isutf8, vec![s(0)]),
        ("base64_decode_toarray", 1) => row_call("kql_base64_decode_toarray", Dynamic, f_b64_toarray, vec![s(0)]),
        ("base64_encode_fromarray", 1) => row_call("kql_base64_encode_fromarray", Str, f_b64_fromarray, vec![d(0)]),
        ("base64_decode_toguid", 1) => row_call("kql_base64_decode_toguid", Guid, f_b64_toguid, vec![s(0)]),
        ("base64_encode_fromguid", 1) => {
            row_call("kql_base64_encode_fromguid", Str, f_b64_fromguid, vec![b.coerce(args[0].clone(), Guid).expr])
        }
        ("zlib_compress_to_base64_string", 1) => row_call("kql_zlib_compress", Str, f_zlib_compress, vec![s(0)]),
        ("zlib_decompress_from_base64_string", 1) => {
            row_call("kql_zlib_decompress", Str, f_zlib_decompress, vec![s(0)])
        }
        ("gzip_compress_to_base64_string", 1) => row_call("kql_gzip_compress", Str, f_gzip_compress, vec![s(0)]),
        ("gzip_decompress_from_base64_string", 1) => {
            row_call("kql_gzip_decompress", Str, f_gzip_decompress, vec![s(0)])
        }
        ("parse_path", 1) => row_call("kql_parse_path", Dynamic, f_parse_path, vec![s(0)]),
        ("parse_command_line", 1 | 2) => row_call("kql_parse_command_line", Dynamic, f_parse_command_line, all(&s)),
        ("parse_csv", 1) => row_call("kql_parse_csv", Dynamic, f_parse_csv, vec![s(0)]),
        ("indexof_regex", 2..=5) => {
            let a = (0..n).map(|k| if k < 2 { s(k) } else { l(k) }).collect();
            row_call("kql_indexof_regex", Long, f_indexof_regex, a)
        }
        ("new_guid", 0) => Bound::new(volatile_call("kql_new_guid", vec![]), Guid),
        ("rand", 0) => Bound::new(volatile_call("kql_rand", vec![]), Real),
        ("rand", 1) => Bound::new(volatile_call("kql_rand", vec![l(0)]), Real),
        _ => return None,
    };
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxhash_matches_kusto() {
        assert_eq!(xxhash64(b"World", 0) as i64, 1846988464401551951);
        assert_eq!(xxhash64(b"Hello", 0) as i64, 753694413698530628);
        let t = dt::parse_datetime("2015-01-01").unwrap();
        assert_eq!(xxhash64(&dt::to_dotnet_ticks(t).unwrap().to_le_bytes(), 0) as i64, 1380966698541616202);
        assert_eq!((xxhash64(b"World", 0) as i64).rem_euclid(100), 51);
        let long: Vec<u8> = (0..100u8).collect();
        assert_eq!(xxhash64(&long, 0), xxhash64(&long, 0));
    }

    #[test]
    fn bytes_and_units() {
        assert_eq!(format_bytes(564.0, 0, "").unwrap(), "564 Bytes");
        assert_eq!(format_bytes(10332.0, 1, "").unwrap(), "10.1 KB");
        assert_eq!(format_bytes(20010332.0, 0, "").unwrap(), "19 MB");
        assert_eq!(format_bytes(20010332.0, 2, "").unwrap(), "19.08 MB");
        assert_eq!(format_bytes(20010332.0, 0, "KB").unwrap(), "19541 KB");
        let c = |t, a: &[V]| convert_linear(t, a);
        assert_eq!(c(MASS, &[V::F(1.2), V::S("Kilogram"), V::S("Pound")]), Out::F(1.2 / 0.45359237));
        assert_eq!(c(MASS, &[V::F(1.2), V::S("Kilogram"), V::S("Nope")]), Out::Null);
    }

    #[test]
    fn special_functions() {
        assert!((erf(1.0) - 0.8427007929497149).abs() < 1e-15);
        assert!((erf(3.0) - 0.9999779095030014).abs() < 1e-15);
        assert!((erf(-2.0) + 0.9953222650189527).abs() < 1e-15);
        assert_eq!(gamma(5.0), 24.0);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-13);
        assert!((loggamma(5.0) - 3.1780538303479458).abs() < 1e-13);
        assert!((beta_pdf(0.5, 10.0, 20.0) - 0.746176019310951).abs() < 1e-12);
        assert!(beta_pdf(1.5, 10.0, 20.0).is_nan());
        assert!((beta_cdf(0.5, 2.0, 2.0) - 0.5).abs() < 1e-12);
        assert!((beta_inv(beta_cdf(0.3, 2.0, 5.0), 2.0, 5.0) - 0.3).abs() < 1e-9);
        // Welch's t-test: the Wikipedia example of Kusto's documentation (p = 0.021)
        let p = welch_test(20.82, 7.867_428_571_428_571, 15.0, 22.986_666_666_666_668, 3.812_666_666_666_667, 15.0)
            .unwrap();
        assert!((p - 0.02137800146286441).abs() < 1e-9, "{p}");
        assert_eq!(welch_test(1.0, 0.0, 5.0, 2.0, 0.0, 5.0), None);
        assert_eq!(welch_test(1.0, 1.0, 1.0, 2.0, 1.0, 5.0), None);
    }

    #[test]
    fn strings() {
        let m = "This is an example of using replace_strings()";
        assert_eq!(
            replace_strings(m, r#"["This","is"]"#, r#"["This","was"]"#),
            "This was an example of using replace_strings()"
        );
        assert_eq!(
            replace_strings(m, r#"["is","This"]"#, r#"["was","This"]"#),
            "Thwas was an example of using replace_strings()"
        );
        assert_eq!(
            replace_strings(m, r#"["This","is"]"#, r#"[12345,"was"]"#),
            "This was an example of using replace_strings()"
        );
        assert_eq!(
            replace_strings("A magic trick can turn a cat into a dog", r#"["cat","dog"]"#, r#"["dog","pigeon"]"#),
            "A magic trick can turn a dog into a pigeon"
        );
        assert_eq!(translate("abc", "x", "abcd"), "xxxd");
        assert_eq!(translate("abc", "", "abcd"), "d");
        assert_eq!(
            url_encode_impl("https://www.bing.com/hello world", true),
            "https%3a%2f%2fwww.bing.com%2fhello+world"
        );
        assert_eq!(url_decode("https%3a%2f%2fwww.bing.com%2fhello+world"), "https://www.bing.com/hello world");
        assert_eq!(punycode_encode("académie-française").unwrap(), "acadmie-franaise-npb1a");
        assert_eq!(punycode_encode("艺术").unwrap(), "cqv902d");
        assert_eq!(punycode_decode("acadmie-franaise-npb1a").unwrap(), "académie-française");
        assert_eq!(punycode_decode("cqv902d").unwrap(), "艺术");
        assert_eq!(parse_command_line_windows(r#"echo "hello world!""#), vec!["echo", "hello world!"]);
        assert_eq!(parse_command_line_windows(r#"a\\\"b "c d" e\\"#), vec![r#"a\"b"#, "c d", r"e\\"]);
        assert_eq!(parse_csv(r#"aaa,"b""bb",ccc"#), vec!["aaa", "b\"bb", "ccc"]);
    }

    #[test]
    fn guids_and_paths() {
        assert_eq!(
            guid_from_bytes(&hh::base64_decode("JpbpECu8dUy7Pv5gbeJXAA==").unwrap()).unwrap(),
            "10e99626-bc2b-4c75-bb3e-fe606de25700"
        );
        assert_eq!(
            hh::base64_encode(&guid_bytes("ae3133f2-6e22-49ae-b06a-16e6a9b212eb").unwrap()),
            "8jMxriJurkmwahbmqbIS6w=="
        );
        assert_eq!(
            parse_path(r"C:\temp\file.txt"),
            r#"{"Scheme":"","RootPath":"C:\\","DirectoryPath":"C:\\temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
        assert_eq!(
            parse_path("file://C:/temp/file.txt:some.exe"),
            r#"{"Scheme":"file","RootPath":"C:/","DirectoryPath":"C:/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":"some.exe"}"#
        );
        assert_eq!(
            parse_path("/usr/lib/temp/file.txt"),
            r#"{"Scheme":"","RootPath":"","DirectoryPath":"/usr/lib/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
        );
    }

    #[test]
    fn regex_index() {
        assert_eq!(indexof_regex("abcabc", "a.c", 0, -1, 1), Some(0));
        assert_eq!(indexof_regex("abcabcdefg", "a.c", 0, 9, 2), Some(3));
        assert_eq!(indexof_regex("abcabc", "a.c", 1, -1, 2), Some(-1));
        assert_eq!(indexof_regex("ababaa", "a.a", 0, -1, 2), Some(-1));
        assert_eq!(indexof_regex("abcabc", "a|ab", -1, -1, 1), None);
    }
}
