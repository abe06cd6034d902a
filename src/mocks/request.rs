//! An incoming request as the engine sees it, with the parts only some stubs
//! need (decoded query, cookies, JSON body) parsed lazily, once.

use std::sync::OnceLock;

use bytes::Bytes;
use hyper::HeaderMap;
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Upper case, as sent.
    pub method: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query string without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    /// Path plus query, as WireMock's `url` sees it.
    pub fn url(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }
}

/// A request plus the lazily parsed parts, for one matching pass.
pub struct View<'a> {
    pub req: &'a Request,
    query: OnceLock<Vec<(String, String)>>,
    cookies: OnceLock<Vec<(String, String)>>,
    json: OnceLock<Option<Value>>,
    url: OnceLock<String>,
}

impl<'a> View<'a> {
    pub fn new(req: &'a Request) -> Self {
        View {
            req,
            query: OnceLock::new(),
            cookies: OnceLock::new(),
            json: OnceLock::new(),
            url: OnceLock::new(),
        }
    }

    pub fn url(&self) -> &str {
        if self.req.query.is_none() {
            return &self.req.path;
        }
        self.url.get_or_init(|| self.req.url())
    }

    pub fn query(&self) -> &[(String, String)] {
        self.query.get_or_init(|| {
            self.req
                .query
                .as_deref()
                .map(parse_query)
                .unwrap_or_default()
        })
    }

    pub fn query_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.query()
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn cookies(&self) -> &[(String, String)] {
        self.cookies.get_or_init(|| {
            let mut out = Vec::new();
            for v in self.req.headers.get_all(hyper::header::COOKIE) {
                for part in v.to_str().unwrap_or("").split(';') {
                    if let Some((k, v)) = part.trim().split_once('=') {
                        out.push((k.to_string(), v.to_string()));
                    }
                }
            }
            out
        })
    }

    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.req.body)
    }

    pub fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| serde_json::from_slice(&self.req.body).ok())
            .as_ref()
    }
}

/// `a=1&b=x%20y` -> decoded pairs, in order.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() && s.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(
            parse_query("a=1&b=x%20y+z&c"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), String::new())
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
    }
}
