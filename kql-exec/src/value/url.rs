//! `parse_url`: a URL split into the parts Kusto returns.

use super::dynamic::json_string;

/// Kusto's `parse_url` result as JSON text: Scheme, Host, Port, Path, Username, Password,
/// Query Parameters, Fragment (all strings; empty when absent).
pub fn parse_url_json(s: &str) -> String {
    let Ok(u) = url::Url::parse(s.trim()) else {
        return "{}".to_string();
    };
    let mut params: Vec<String> = Vec::new();
    for (k, v) in u.query_pairs() {
        params.push(format!("{}:{}", json_string(&k), json_string(&v)));
    }
    let port = u.port().map(|p| p.to_string()).unwrap_or_default();
    format!(
        "{{\"Scheme\":{},\"Host\":{},\"Port\":{},\"Path\":{},\"Username\":{},\"Password\":{},\"Query Parameters\":{{{}}},\"Fragment\":{}}}",
        json_string(u.scheme()),
        json_string(u.host_str().unwrap_or("")),
        json_string(&port),
        json_string(u.path()),
        json_string(u.username()),
        json_string(u.password().unwrap_or("")),
        params.join(","),
        json_string(u.fragment().unwrap_or("")),
    )
}
