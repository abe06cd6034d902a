//! One OpenAPI operation as stubs that answer as Prism's negotiator does
//! (`@stoplight/prism-http`, static mode, no `Accept` header):
//!
//! - no `Prefer`: the lowest 2xx response (by its code as text), else
//!   `default` (as 200), else the first; its first example;
//! - `Prefer: example=NAME`: that example of the same response, else 404;
//! - `Prefer: code=NNN`: the response for NNN (exactly, else its `NXX`
//!   range, else `default`, answered with NNN); its first example; an
//!   undeclared code is a 404;
//! - both: that example of NNN's response; else that example of the
//!   response without a code; else 500.
//!
//! Prism's own errors come as `application/problem+json`, as Prism sends
//! them. A code the operation does not declare reaches `default` or a range
//! only when it is one of [`REACHABLE`] (the statuses clients ask for):
//! each is a stub per operation, and a big spec has thousands.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use regex::Regex;
use serde_json::json;

use super::stable_id;
use crate::mocks::path_template::PathTemplate;
use crate::mocks::string_matcher::StringMatcher;
use crate::mocks::stub::{Origin, RequestPattern, ResponseDef, Stub, UrlMatch};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RespKind {
    Exact(u16),
    /// `4XX`: the first digit.
    Range(u16),
    Default,
}

/// One body a response can give.
pub struct Answer {
    /// The example's name (`default` for the media type's `example`), or
    /// `None` for a body made from the schema or an empty one.
    pub example: Option<String>,
    pub ctype: Option<String>,
    pub body: Bytes,
}

impl Answer {
    /// A response without `content`: Prism still says `text/plain`.
    pub fn empty() -> Answer {
        Answer {
            example: None,
            ctype: Some("text/plain".into()),
            body: Bytes::new(),
        }
    }
    pub fn new(example: Option<String>, ctype: &str, body: Bytes) -> Answer {
        Answer {
            example,
            ctype: Some(ctype.to_string()),
            body,
        }
    }
}

pub struct Resp<'a> {
    pub key: &'a str,
    pub kind: RespKind,
    /// Never empty: the examples in order, or the one generated body.
    pub answers: Vec<Answer>,
}

pub struct Op<'a> {
    pub file: &'a str,
    pub method: String,
    pub path: &'a str,
    pub operation_id: Option<&'a str>,
    pub responses: Vec<Resp<'a>>,
}

/// `key=value` as one token of a `Prefer` header.
fn token(key: &str, value: &str) -> String {
    format!(r"(?:^|[,;\s]){key}={value}(?:$|[,;\s])")
}

/// The `Prefer` regexes of one spec, each compiled once: a spec with
/// thousands of operations shares a few hundred (one per code and example
/// name), and a `Regex` clone is a reference count.
#[derive(Default)]
pub struct Patterns(HashMap<String, Regex>);

impl Patterns {
    fn re(&mut self, pattern: String) -> Regex {
        self.0
            .entry(pattern)
            .or_insert_with_key(|p| Regex::new(p).expect("escaped"))
            .clone()
    }

    fn has(&mut self, key: &str, value: &str) -> StringMatcher {
        StringMatcher::Matches(self.re(token(key, value)))
    }

    /// No `key=` token (or no `Prefer` header at all).
    fn lacks(&mut self, key: &str) -> StringMatcher {
        StringMatcher::Or(vec![
            StringMatcher::Absent,
            StringMatcher::DoesNotMatch(self.re(format!(r"(?:^|[,;\s]){key}="))),
        ])
    }
}

/// The codes `Prefer: code=` reaches through `default` or a range when the
/// operation does not declare them. Prism takes any code; each one here is
/// a stub per operation, so the list is the statuses clients ask for.
const REACHABLE: &[u16] = &[
    200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 406, 409, 410, 412, 415, 422, 429,
    500, 501, 502, 503, 504,
];

/// The status Prism answers a response with when no code was asked for.
fn own_status(k: RespKind) -> u16 {
    match k {
        RespKind::Exact(n) => n,
        RespKind::Range(d) => d * 100,
        RespKind::Default => 200,
    }
}

/// The response Prism answers without `Prefer: code`.
fn default_index(rs: &[Resp]) -> Option<usize> {
    let two = |r: &Resp| match r.kind {
        RespKind::Exact(n) => (200..300).contains(&n),
        RespKind::Range(d) => d == 2,
        RespKind::Default => false,
    };
    rs.iter()
        .enumerate()
        .filter(|(_, r)| two(r))
        .min_by_key(|(_, r)| r.key)
        .or_else(|| {
            rs.iter()
                .enumerate()
                .find(|(_, r)| r.kind == RespKind::Default)
        })
        .map(|(i, _)| i)
        .or(if rs.is_empty() { None } else { Some(0) })
}

/// Every code `Prefer: code=` reaches, with the response that answers it.
fn targets(rs: &[Resp]) -> Vec<(u16, usize)> {
    let wide = rs.iter().any(|r| !matches!(r.kind, RespKind::Exact(_)));
    let mut codes: Vec<u16> = rs
        .iter()
        .filter_map(|r| match r.kind {
            RespKind::Exact(n) => Some(n),
            _ => None,
        })
        .collect();
    if wide {
        codes.extend(REACHABLE);
    }
    codes.sort_unstable();
    codes.dedup();
    codes
        .into_iter()
        .filter_map(|c| {
            let at = rs
                .iter()
                .position(|r| r.kind == RespKind::Exact(c))
                .or_else(|| rs.iter().position(|r| r.kind == RespKind::Range(c / 100)))
                .or_else(|| rs.iter().position(|r| r.kind == RespKind::Default))?;
            Some((c, at))
        })
        .collect()
}

fn problem(kind: &str, title: &str, status: u16, detail: &str) -> Answer {
    let body = json!({
        "type": format!("https://stoplight.io/prism/errors#{kind}"),
        "title": title, "status": status, "detail": detail,
    });
    Answer::new(
        None,
        "application/problem+json",
        Bytes::from(body.to_string()),
    )
}

/// The stubs for one operation, most particular first (lower priority).
pub fn op_stubs(op: &Op, pats: &mut Patterns) -> Vec<Stub> {
    let rs = &op.responses;
    let Some(d) = default_index(rs) else {
        return Vec::new();
    };
    let targets = targets(rs);
    let code_list: Vec<String> = targets.iter().map(|(c, _)| c.to_string()).collect();
    let any_declared = format!("(?:{})", code_list.join("|"));
    let mut out = Vec::new();
    let mut add =
        |label: String, priority: i64, prefer: Vec<StringMatcher>, status: u16, a: &Answer| {
            out.push(stub(
                op,
                StubSpec {
                    label,
                    priority,
                    prefer,
                    status,
                    answer: a,
                },
            ));
        };
    // 1: a code and one of its response's examples.
    for (c, i) in &targets {
        for a in &rs[*i].answers {
            if let Some(e) = &a.example {
                add(
                    format!("code={c} example={e}"),
                    1,
                    vec![
                        pats.has("code", &c.to_string()),
                        pats.has("example", &regex::escape(e)),
                    ],
                    *c,
                    a,
                );
            }
        }
    }
    // 2: an example of the default response (also when the asked code's
    // response lacks it, as long as the code itself is declared).
    let code_ok = StringMatcher::Or(vec![
        pats.lacks("code"),
        StringMatcher::Matches(pats.re(token("code", &any_declared))),
    ]);
    let d_status = own_status(rs[d].kind);
    for a in &rs[d].answers {
        if let Some(e) = &a.example {
            add(
                format!("example={e}"),
                2,
                vec![pats.has("example", &regex::escape(e)), code_ok.clone()],
                d_status,
                a,
            );
        }
    }
    // 3: a code alone: its response's first answer.
    for (c, i) in &targets {
        add(
            format!("code={c}"),
            3,
            vec![pats.has("code", &c.to_string()), pats.lacks("example")],
            *c,
            &rs[*i].answers[0],
        );
    }
    // 5: nothing asked.
    add(
        String::new(),
        5,
        vec![pats.lacks("code"), pats.lacks("example")],
        d_status,
        &rs[d].answers[0],
    );
    // 6, 7: what Prism cannot find.
    let p500 = problem(
        "UNKNOWN",
        "https://stoplight.io/prism/errors#NOT_FOUND: The server cannot find the requested content. We tried default response, but we got https://stoplight.io/prism/errors#NOT_FOUND: The server cannot find the requested content",
        500,
        "",
    );
    add(
        "code=declared example=unknown".into(),
        6,
        vec![
            pats.has("code", &any_declared),
            pats.has("example", r"[^,;\s]*"),
        ],
        500,
        &p500,
    );
    let p404 = problem(
        "NOT_FOUND",
        "The server cannot find the requested content",
        404,
        "The response has no example of the name in the Prefer header.",
    );
    add(
        "example=unknown".into(),
        6,
        vec![pats.has("example", r"[^,;\s]*"), pats.lacks("code")],
        404,
        &p404,
    );
    add(
        "example=unknown code=undeclared".into(),
        7,
        vec![pats.has("example", r"[^,;\s]*")],
        404,
        &p404,
    );
    let undeclared = problem(
        "NOT_FOUND",
        "The server cannot find the requested content",
        404,
        "The requested status code is not defined in the document.",
    );
    add(
        "code=undeclared".into(),
        7,
        vec![pats.has("code", r"[^,;\s]*"), pats.lacks("example")],
        404,
        &undeclared,
    );
    out
}

/// The response as the admin API lists it: a long body by its size only,
/// so a spec's many stubs do not each hold a copy.
fn admin_response(status: u16, body: &[u8]) -> serde_json::Value {
    if body.len() <= 1024 {
        json!({"status": status, "body": String::from_utf8_lossy(body)})
    } else {
        json!({"status": status, "bodyBytes": body.len()})
    }
}

struct StubSpec<'s> {
    label: String,
    priority: i64,
    prefer: Vec<StringMatcher>,
    status: u16,
    answer: &'s Answer,
}

fn stub(op: &Op, s: StubSpec) -> Stub {
    let mut req = RequestPattern {
        method: Some(op.method.clone()),
        url: if op.path.contains('{') {
            UrlMatch::Template(PathTemplate::parse(op.path))
        } else {
            UrlMatch::Path(op.path.to_string())
        },
        ..Default::default()
    };
    for m in s.prefer {
        req.headers.push((HeaderName::from_static("prefer"), m));
    }
    let mut headers = Vec::new();
    if let Some(v) = s
        .answer
        .ctype
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        headers.push((CONTENT_TYPE, v));
    }
    let label = format!(
        "{}: {} {} -> {}{}",
        op.file,
        op.method,
        op.path,
        s.status,
        if s.label.is_empty() {
            String::new()
        } else {
            format!(" (Prefer {})", s.label)
        }
    );
    let id = stable_id(&label);
    Stub {
        json: json!({
            "id": id, "name": label, "priority": s.priority,
            "request": {"method": op.method, "urlPathTemplate": op.path},
            "response": admin_response(s.status, &s.answer.body),
        }),
        id,
        name: op.operation_id.map(str::to_string),
        source: label,
        origin: Origin::File,
        priority: s.priority,
        specificity: super::wiremock::specificity(&req),
        seq: 0,
        request: req,
        response: ResponseDef {
            status: s.status,
            headers: Arc::new(headers),
            body: s.answer.body.clone(),
            delay: None,
            fault: None,
            template: None,
        },
        scenario: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(key: &'static str, kind: RespKind, examples: &[&str]) -> Resp<'static> {
        Resp {
            key,
            kind,
            answers: if examples.is_empty() {
                vec![Answer::empty()]
            } else {
                examples
                    .iter()
                    .map(|e| {
                        Answer::new(
                            Some(e.to_string()),
                            "application/json",
                            Bytes::from(format!("\"{e}\"")),
                        )
                    })
                    .collect()
            },
        }
    }

    #[test]
    fn the_default_answer_is_the_lowest_2xx_then_default_then_the_first() {
        let rs = vec![
            resp("404", RespKind::Exact(404), &[]),
            resp("201", RespKind::Exact(201), &[]),
            resp("200", RespKind::Exact(200), &[]),
        ];
        assert_eq!(default_index(&rs), Some(2));
        let rs = vec![
            resp("400", RespKind::Exact(400), &[]),
            resp("default", RespKind::Default, &[]),
        ];
        assert_eq!(default_index(&rs), Some(1));
        let rs = vec![
            resp("400", RespKind::Exact(400), &[]),
            resp("500", RespKind::Exact(500), &[]),
        ];
        assert_eq!(default_index(&rs), Some(0));
    }

    #[test]
    fn codes_reach_ranges_and_default_only_when_common() {
        let rs = vec![
            resp("200", RespKind::Exact(200), &[]),
            resp("4XX", RespKind::Range(4), &[]),
            resp("default", RespKind::Default, &[]),
        ];
        let t = targets(&rs);
        assert!(t.contains(&(200, 0)));
        assert!(t.contains(&(404, 1)));
        assert!(t.contains(&(503, 2)));
        assert!(!t.iter().any(|(c, _)| *c == 499));
        let only = vec![resp("200", RespKind::Exact(200), &[])];
        assert_eq!(targets(&only), vec![(200, 0)]);
    }
}
