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

/// Kusto's `parse_urlquery` result as JSON text: `{"Query Parameters": {name: value, ...}}`,
/// names and values percent-decoded (`+` as a space), a leading `?` ignored, a repeated name
/// keeping its last value.
pub fn parse_urlquery_json(s: &str) -> String {
    let q = s.trim();
    let q = q.strip_prefix('?').unwrap_or(q);
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        match params.iter_mut().find(|(pk, _)| *pk == k) {
            Some(p) => p.1 = v.into_owned(),
            None => params.push((k.into_owned(), v.into_owned())),
        }
    }
    let body: Vec<String> = params.iter().map(|(k, v)| format!("{}:{}", json_string(k), json_string(v))).collect();
    format!("{{\"Query Parameters\":{{{}}}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlquery() {
        assert_eq!(parse_urlquery_json("k1=v1&k2=v2&k3=v3"), r#"{"Query Parameters":{"k1":"v1","k2":"v2","k3":"v3"}}"#);
        assert_eq!(
            parse_urlquery_json("view=vs-2019&preserve-view=true"),
            r#"{"Query Parameters":{"view":"vs-2019","preserve-view":"true"}}"#
        );
        assert_eq!(parse_urlquery_json("?a=%20b+c&a=2&flag"), r#"{"Query Parameters":{"a":"2","flag":""}}"#);
        assert_eq!(parse_urlquery_json(""), r#"{"Query Parameters":{}}"#);
        assert_eq!(parse_urlquery_json("%zz=%"), r#"{"Query Parameters":{"%zz":"%"}}"#);
    }
}
