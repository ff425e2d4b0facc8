//! KQL scalar values and their physical representation on Arrow.
//!
//! | KQL type  | Arrow type | representation |
//! |-----------|------------|----------------|
//! | bool      | Boolean    | |
//! | int       | Int32      | |
//! | long      | Int64      | |
//! | real      | Float64    | |
//! | decimal   | Float64    | (decimal arithmetic is rare in security data) |
//! | datetime  | Int64      | ticks of 100 ns since 1970-01-01T00:00:00Z; negative before 1970; covers 0001-9999 |
//! | timespan  | Int64      | ticks of 100 ns |
//! | string    | Utf8       | never null: Kusto's empty string |
//! | guid      | Utf8       | lower-case `8-4-4-4-12` text |
//! | dynamic   | Utf8       | compact JSON text; an Arrow null is dynamic `null` |
//!
//! The pure logic of each type lives here ([`datetime`], [`dynamic`], KQL's RE2 regexes in [`re2`]); the DataFusion
//! functions that use it live in `crate::functions`.

pub mod datetime;
pub mod dynamic;
pub mod hash;
pub mod re2;
pub mod url;
pub mod xml;
