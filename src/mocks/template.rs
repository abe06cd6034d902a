//! WireMock's response templating (`"transformers": ["response-template"]`),
//! the request helpers only: `{{request.path}}`, `{{request.path.[1]}}`,
//! `{{request.pathSegments.[1]}}`, `{{request.path.id}}` (urlPathTemplate
//! parameters), `{{request.query.q}}`, `{{request.query.q.[1]}}`,
//! `{{request.headers.X-Name}}`, `{{request.cookies.c}}`, `{{request.method}}`,
//! `{{request.url}}`, `{{request.baseUrl}}`, `{{request.body}}`,
//! `{{request.port}}`, `{{request.host}}`, `{{request.scheme}}` (also under
//! `request.requestLine`), `{{jsonPath request.body '$.a.b'}}` and
//! `{{now}}`; in a webhook, `originalRequest` in place of `request`. Values are inserted as
//! is (no HTML escaping), so `{{...}}` and `{{{...}}}` behave alike.

use super::json_text::json_text;
use super::jsonpath::JsonPath;
use super::path_template::PathTemplate;
use super::request::View;

#[derive(Debug)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    Expr(Expr),
}

#[derive(Debug)]
enum Expr {
    /// `request.<field>` then selectors.
    Request(Vec<String>),
    JsonPath(JsonPath),
    Now,
}

impl Template {
    pub fn compile(src: &str) -> Result<Template, String> {
        Self::compile_with_root(src, "request")
    }

    /// As `compile`, with the request named `root` (`originalRequest` in a
    /// webhook's parameters).
    pub fn compile_with_root(src: &str, root: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = src;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let triple = rest[start..].starts_with("{{{");
            let (open, close) = if triple { (3, "}}}") } else { (2, "}}") };
            let body_start = start + open;
            let end = rest[body_start..]
                .find(close)
                .ok_or_else(|| format!("`{{{{` at {start} is never closed"))?;
            let inner = rest[body_start..body_start + end].trim();
            parts.push(Part::Expr(expr(inner, root)?));
            rest = &rest[body_start + end + close.len()..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    pub fn render(&self, v: &View<'_>, params: Option<&PathTemplate>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => out.push_str(&eval(e, v, params)),
            }
        }
        out
    }
}

fn expr(inner: &str, root: &str) -> Result<Expr, String> {
    if inner == "now" {
        return Ok(Expr::Now);
    }
    if let Some(rest) = inner.strip_prefix("jsonPath ") {
        let rest = rest.trim();
        let arg = rest
            .strip_prefix(root)
            .and_then(|r| r.strip_prefix(".body"))
            .map(str::trim)
            .ok_or_else(|| format!("`{inner}`: jsonPath works on {root}.body"))?;
        let path = arg.trim_matches(|c| c == '\'' || c == '"');
        return JsonPath::parse(path).map(Expr::JsonPath);
    }
    if let Some(rest) = inner.strip_prefix(root).and_then(|r| r.strip_prefix('.')) {
        let mut sel = Vec::new();
        for s in rest.split('.') {
            let s = s.trim_start_matches('[').trim_end_matches(']');
            sel.push(s.trim_matches(|c| c == '\'' || c == '"').to_string());
        }
        let known = [
            "path",
            "pathSegments",
            "pathParams",
            "query",
            "headers",
            "cookies",
            "method",
            "url",
            "baseUrl",
            "body",
            "port",
            "host",
            "scheme",
            "requestLine",
        ];
        if !known.contains(&sel[0].as_str()) {
            return Err(format!(
                "`{{{{{inner}}}}}`: {root}.{} is not known (try {})",
                sel[0],
                known.join(", ")
            ));
        }
        if sel[0] == "requestLine" {
            let line = ["method", "scheme", "host", "port", "path", "baseUrl"];
            match sel.get(1) {
                Some(f) if line.contains(&f.as_str()) => {
                    sel.remove(0);
                }
                _ => {
                    return Err(format!(
                        "`{{{{{inner}}}}}`: {root}.requestLine has {}",
                        line.join(", ")
                    ))
                }
            }
        }
        return Ok(Expr::Request(sel));
    }
    Err(format!(
        "`{{{{{inner}}}}}` is not supported: use {root}.* helpers, jsonPath or now"
    ))
}

/// The request's `Host` header as (host, port); port 80 when it has none.
fn host_port<'v>(v: &'v View<'_>) -> (&'v str, &'v str) {
    let host = v
        .req
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
        _ => (host, "80"),
    }
}

fn eval(e: &Expr, v: &View<'_>, params: Option<&PathTemplate>) -> String {
    match e {
        Expr::Now => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Expr::JsonPath(p) => v
            .json()
            .and_then(|j| p.select(j).into_iter().next().map(json_text))
            .unwrap_or_default(),
        Expr::Request(sel) => {
            let arg = sel.get(1).map(String::as_str);
            let nth = |n: Option<&String>| n.and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
            let segments = || v.req.path.trim_start_matches('/').split('/');
            match (sel[0].as_str(), arg) {
                ("path" | "pathSegments", Some(a)) if a.parse::<usize>().is_ok() => {
                    segments().nth(nth(sel.get(1))).unwrap_or("").to_string()
                }
                ("path" | "pathParams", Some(name)) => params
                    .and_then(|t| t.captures(&v.req.path))
                    .and_then(|c| c.into_iter().find(|(k, _)| *k == name).map(|(_, x)| x))
                    .unwrap_or("")
                    .to_string(),
                ("path", None) => v.req.path.clone(),
                ("pathSegments", None) => segments().collect::<Vec<_>>().join(", "),
                ("query", Some(name)) => v
                    .query_values(name)
                    .nth(nth(sel.get(2)))
                    .unwrap_or("")
                    .to_string(),
                ("headers", Some(name)) => v
                    .req
                    .headers
                    .get_all(name)
                    .iter()
                    .nth(nth(sel.get(2)))
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
                ("cookies", Some(name)) => v
                    .cookies()
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, x)| x.clone())
                    .unwrap_or_default(),
                ("method", _) => v.req.method.clone(),
                ("port", _) => host_port(v).1.to_string(),
                ("host", _) => host_port(v).0.to_string(),
                ("scheme", _) => "http".to_string(),
                ("url", _) => v.url().to_string(),
                ("baseUrl", _) => format!(
                    "http://{}",
                    v.req
                        .headers
                        .get(hyper::header::HOST)
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or("localhost")
                ),
                ("body", _) => v.body_text().into_owned(),
                _ => String::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mocks::request::Request;

    #[test]
    fn renders_request_helpers() {
        let mut req = Request {
            method: "POST".into(),
            path: "/v1/orders/42".into(),
            query: Some("q=x&q=y".into()),
            body: bytes::Bytes::from_static(br#"{"a": {"b": "deep"}}"#),
            ..Default::default()
        };
        req.headers.insert("x-trace", "t-1".parse().unwrap());
        let v = View::new(&req);
        let t = Template::compile(
            "{{request.method}} {{request.path.[2]}} {{request.query.q.[1]}} {{request.headers.X-Trace}} {{{jsonPath request.body '$.a.b'}}} {{request.path.id}}",
        )
        .unwrap();
        let pt = PathTemplate::parse("/v1/orders/{id}");
        assert_eq!(t.render(&v, Some(&pt)), "POST 42 y t-1 deep 42");
        assert!(Template::compile("{{randomValue length=3}}").is_err());
        assert!(Template::compile("{{request.nope}}").is_err());
    }
}
