//! The functions and plugins of Kusto's catalog that cannot mean anything without a Kusto
//! cluster, each with the reason, so that a call gets one clear error (KQL077) instead of
//! "not supported yet".

use crate::error::KqlError;
use kql_parser::Span;

/// Why a scalar or tabular function of Kusto's catalog cannot run locally, or `None` if it can.
pub fn function_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "cluster"
        | "database"
        | "external_table"
        | "materialized_view"
        | "stored_query_result"
        | "entity_group"
        | "graph" => {
            "it refers to an entity stored in a Kusto cluster; locally, load the data as a table \
             (`--data`/`--table`) and use the table's name"
        }
        "current_cluster_endpoint" | "current_database" | "current_node_id" => {
            "it describes the Kusto cluster that serves the query"
        }
        "current_principal" | "current_principal_details" | "current_principal_is_member_of" => {
            "it reads the caller's identity as Kusto authenticated it (Microsoft Entra ID)"
        }
        "current_cursor" | "cursor_after" | "cursor_before_or_at" | "cursor_current" => {
            "database cursors track ingestion into a Kusto database; exported data has none"
        }
        "extent_id" | "extentid" | "extent_tags" | "rowstore_ordinal_range" => {
            "it reads the storage extents of a table in a Kusto database"
        }
        n if n.starts_with("__") => "it is internal to Kusto's query engine, not part of the documented language",
        _ => return None,
    })
}

/// Why an `evaluate` plugin of Kusto's catalog cannot run locally, or `None` if it can.
pub fn plugin_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "python" | "r" | "csharp" => "it runs code in the Kusto cluster's sandbox",
        "sql_request"
        | "mysql_request"
        | "postgresql_request"
        | "cosmosdb_sql_request"
        | "dax_request"
        | "azure_digital_twins_query_request"
        | "http_request"
        | "http_request_post" => {
            "it queries an external service from the Kusto cluster, over its network and credentials"
        }
        "ai_chat_completion" | "ai_chat_completion_prompt" | "ai_embed_text" | "ai_embeddings" => {
            "it calls an Azure OpenAI deployment from the Kusto cluster"
        }
        "execute_query" | "execute_show_command" => "it runs a query or a management command on a Kusto cluster",
        "infer_storage_schema" | "infer_storage_schema_with_suggestions" | "external_datatable" => {
            "it reads cloud storage through the Kusto cluster; locally, load the files as a table"
        }
        "estimate_rows_count" => "it estimates from the extent metadata of a Kusto database",
        "identity" | "identity_v3" => "it is internal to Kusto's query engine, not part of the documented language",
        _ => return None,
    })
}

/// The error for a call of `name` that needs a cluster.
pub fn error(name: &str, reason: &str, span: Span) -> KqlError {
    KqlError::new("KQL077", format!("`{name}` cannot run outside a Kusto cluster: {reason}"), span)
        .with_help("the query runs in Kusto (Log Analytics, Azure Data Explorer), not on local exports")
}
