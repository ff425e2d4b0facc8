//! KQL exec
