//! Pact files (specification v1 to v4; HTTP interactions only). Each
//! interaction becomes a stub answering its response when a request fits
//! its request, loosened by the request's matching rules. A provider state
//! is picked per request with the `X-Pact-Provider-State` header, or for the
//! whole mock with `provider_state` in devenv.toml; then only interactions
//! declaring it answer. Otherwise the first declared interaction that fits
//! answers. `pact-stub-server` is the reference for all of it.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use regex::Regex;
use serde_json::{json, Map, Value};

use super::{json_syntax, read, stable_id, Ctx};
use crate::diagnostic::Diagnostics;
use crate::mocks::json_pos::Seg;
use crate::mocks::pact_rules::{self, parse_ruleset, RuleSet, Rules};
use crate::mocks::request::parse_query;
use crate::mocks::string_matcher::StringMatcher;
use crate::mocks::stub::{BodyMatcher, Origin, RequestPattern, ResponseDef, Stub, UrlMatch};

/// A pact file, or a directory of them.
pub fn load_path(root: &Path, path: &Path) -> Result<Vec<Stub>, Diagnostics> {
    let files = if path.is_dir() {
        super::files_with_ext(path, &["json"])
    } else {
        vec![path.to_path_buf()]
    };
    let mut stubs = Vec::new();
    let mut problems = Diagnostics::default();
    for f in files {
        match read(root, &f).and_then(|src| load_text(&f, &src)) {
            Ok(s) => stubs.extend(s),
            Err(d) => problems.extend(d),
        }
    }
    problems.into_result(stubs)
}

/// The specification's major version; files without one (pact gem 1.x)
/// are v1/v2 files, read the same way.
fn spec_version(v: &Value) -> u32 {
    let m = &v["metadata"];
    let raw = m["pactSpecification"]["version"]
        .as_str()
        .or(m["pact-specification"]["version"].as_str())
        .or(m["pactSpecificationVersion"].as_str())
        .unwrap_or("2.0.0");
    raw.split('.')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(2)
}

pub fn load_text(file: &Path, src: &str) -> Result<Vec<Stub>, Diagnostics> {
    let v: Value = serde_json::from_str(src).map_err(|e| json_syntax(file, src, &e))?;
    let mut ctx = Ctx::new(file, src);
    let version = spec_version(&v);
    let Some(list) = v.get("interactions").and_then(Value::as_array) else {
        ctx.err(&[], "a pact file needs an `interactions` array");
        return Err(Diagnostics(ctx.problems));
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut stubs = Vec::new();
    for (i, it) in list.iter().enumerate() {
        let at = vec![Seg::Key("interactions".into()), Seg::Index(i)];
        if version >= 4 {
            match it.get("type").and_then(Value::as_str) {
                Some("Synchronous/HTTP") | None => {}
                Some(_) => continue, // messages are not HTTP
            }
        }
        if let Some(mut s) = interaction(it, &at, &mut ctx, version, &name) {
            // Declaration order decides among interactions that all fit.
            s.specificity = FIRST_DECLARED.saturating_sub(i as u32);
            stubs.push(s);
        }
    }
    Diagnostics(ctx.problems).into_result(stubs)
}

/// Pact interactions rank above other stubs of equal priority, and the
/// first declared above later ones (the engine tries higher specificity first).
const FIRST_DECLARED: u32 = 1 << 24;

fn k(at: &[Seg], key: &str) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Key(key.into()));
    v
}

/// Rules of one category (`body`, `header`, `query`, `path`) in v3+ form,
/// or gathered from v2's flat `$.body.x`, `$.headers.X`, `$.query.q`, `$.path`.
fn rules_of<'v>(rules: &'v Value, version: u32, category: &str) -> Vec<(String, &'v Value)> {
    let Some(o) = rules.as_object() else {
        return Vec::new();
    };
    if version >= 3 {
        return match o.get(category) {
            Some(Value::Object(c)) if category == "path" && c.contains_key("matchers") => {
                vec![(String::new(), &o[category])]
            }
            Some(Value::Object(c)) => c.iter().map(|(k, v)| (k.clone(), v)).collect(),
            _ => Vec::new(),
        };
    }
    let prefix = match category {
        "body" => "$.body",
        "header" => "$.headers.",
        "query" => "$.query.",
        _ => "$.path",
    };
    o.iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(prefix)?;
            Some(match category {
                "body" => (format!("${rest}"), v),
                _ => (rest.trim_start_matches('.').to_string(), v),
            })
        })
        .collect()
}

fn interaction(
    it: &Value,
    at: &[Seg],
    ctx: &mut Ctx<'_>,
    version: u32,
    file: &str,
) -> Option<Stub> {
    let desc = it["description"]
        .as_str()
        .unwrap_or("interaction")
        .to_string();
    let Some(req) = it.get("request").and_then(Value::as_object) else {
        ctx.err(at, "an interaction needs a `request` object");
        return None;
    };
    let rat = k(at, "request");
    let rules = req.get("matchingRules").cloned().unwrap_or(Value::Null);
    let mut ok = true;
    let mut p = RequestPattern {
        method: req
            .get("method")
            .and_then(Value::as_str)
            .map(|m| m.to_ascii_uppercase()),
        query_exact: true,
        soft_headers: true,
        ..Default::default()
    };
    let path = req.get("path").and_then(Value::as_str).unwrap_or("/");
    let set_of = |cat: &str, name: &str, ctx: &mut Ctx<'_>| -> Option<RuleSet> {
        let r = rules_of(&rules, version, cat)
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        match parse_ruleset(r.1) {
            Ok(s) => Some(s),
            Err(e) => {
                // Reported here; the stub is dropped below when problems exist.
                ctx.err(&k(&rat, "matchingRules"), e);
                None
            }
        }
    };
    let before = ctx.problems.len();
    p.url = match set_of("path", "", ctx) {
        Some(set) => match set.matchers.iter().find_map(|m| match m {
            pact_rules::Rule::Regex(r) => Some(r.clone()),
            _ => None,
        }) {
            Some(r) => UrlMatch::PathPattern(r),
            None => UrlMatch::Path(path.to_string()),
        },
        None => UrlMatch::Path(path.to_string()),
    };
    // Query: v2 a string, v3+ a map of name -> [values].
    let query: Vec<(String, Vec<String>)> = match req.get("query") {
        Some(Value::String(q)) => {
            let mut out: Vec<(String, Vec<String>)> = Vec::new();
            for (n, v) in parse_query(q) {
                match out.iter_mut().find(|(x, _)| *x == n) {
                    Some((_, vs)) => vs.push(v),
                    None => out.push((n, vec![v])),
                }
            }
            out
        }
        Some(Value::Object(o)) => o.iter().map(|(n, v)| (n.clone(), strings(v))).collect(),
        _ => Vec::new(),
    };
    for (name, values) in query {
        let m = match set_of("query", &name, ctx) {
            Some(set) => {
                pact_rules::string_matcher(&set, values.first().map_or("", String::as_str))
            }
            None => StringMatcher::Values(values),
        };
        p.query.push((name, m));
    }
    if let Some(Value::Object(h)) = req.get("headers") {
        for (name, v) in h {
            let Ok(hn) = HeaderName::from_bytes(name.as_bytes()) else {
                ctx.err(
                    &k(&k(&rat, "headers"), name),
                    format!("`{name}` is not a header name"),
                );
                ok = false;
                continue;
            };
            let value = strings(v).join(", ");
            let m = match set_of("header", name, ctx) {
                Some(set) => pact_rules::string_matcher(&set, &value),
                // Media types match without their parameters (charset=...).
                None if hn == CONTENT_TYPE => StringMatcher::Matches(
                    Regex::new(&format!(r"^{}\s*(;.*)?$", any_case(&value)))
                        .expect("escaped literal"),
                ),
                None => StringMatcher::EqualTo {
                    value,
                    case_insensitive: false,
                },
            };
            p.headers.push((hn, m));
        }
    }
    // pact-stub-server never looks at the body of a GET or HEAD.
    let body = match p.method.as_deref() {
        Some("GET" | "HEAD") => None,
        _ => req.get("body"),
    };
    if let Some(bytes) = body.and_then(|b| binary(b, version)) {
        match bytes {
            Ok(b) => p.body.push(BodyMatcher::Binary(Bytes::from(b))),
            Err(e) => {
                ctx.err(&k(&k(&rat, "body"), "content"), e);
                ok = false;
            }
        }
    } else if let Some(body) = body {
        let expected = if version >= 4 {
            v4_content(body)
        } else {
            body.clone()
        };
        let mut r = Rules::default();
        for (path, v) in rules_of(&rules, version, "body") {
            match parse_ruleset(v).and_then(|set| r.add_body(&path, set)) {
                Ok(()) => {}
                Err(e) => {
                    ctx.err(&k(&rat, "matchingRules"), e);
                    ok = false;
                }
            }
        }
        if !expected.is_null() {
            p.body.push(BodyMatcher::Pact {
                expected,
                rules: Arc::new(r),
            });
        }
    }
    p.provider_states = Some(provider_states(it));
    let response = response(it.get("response"), &k(at, "response"), ctx, version)?;
    if !ok || ctx.problems.len() > before {
        return None;
    }
    let source = file.to_string();
    let json = json!({
        "name": desc,
        "request": {"method": p.method.clone().unwrap_or("ANY".into()), "urlPath": path},
        "response": {"status": response.status},
        "metadata": {"pact": file, "providerStates": p.provider_states},
    });
    let id = stable_id(&format!("{source}\n{it}"));
    let mut json = json;
    json["id"] = id.clone().into();
    Some(Stub {
        id,
        name: Some(desc),
        source,
        origin: Origin::File,
        priority: 5,
        specificity: super::wiremock::specificity(&p),
        seq: 0,
        request: p,
        response,
        scenario: None,
        json,
    })
}

/// `value` as a regex matching it in any ASCII case (the regex crate is
/// built without Unicode case tables).
fn any_case(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
            } else {
                regex::escape(&c.to_string())
            }
        })
        .collect()
}

/// Headers whose comma-separated values are several values, as
/// pact-stub-server (pact_models) splits them when a file gives one string.
const MULTI_VALUE_HEADERS: &[&str] = &[
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-expose-headers",
    "access-control-request-headers",
    "allow",
    "cache-control",
    "connection",
    "content-encoding",
    "content-language",
    "expect",
    "if-match",
    "if-none-match",
    "pragma",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "x-forwarded-for",
];

fn split_header(name: &str, value: &str) -> Vec<String> {
    if MULTI_VALUE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        value.split(',').map(|v| v.trim().to_string()).collect()
    } else {
        vec![value.trim().to_string()]
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(crate::mocks::json_text::json_text).collect(),
        other => vec![crate::mocks::json_text::json_text(other)],
    }
}

/// The states an interaction declares: v3+ `providerStates` names, or the
/// single v1/v2 `providerState` (`provider_state` as the Ruby pact gem and
/// older pact-jvm write it). Read in every version, as pact-stub-server does.
fn provider_states(it: &Value) -> Vec<String> {
    if let Some(list) = it.get("providerStates").and_then(Value::as_array) {
        return list
            .iter()
            .filter_map(|s| s["name"].as_str().map(str::to_string))
            .collect();
    }
    ["providerState", "provider_state"]
        .iter()
        .find_map(|k| it.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(|s| vec![s.to_string()])
        .unwrap_or_default()
}

/// A v4 body `{"content": "...", "encoded": "base64"}` as its bytes, which
/// are served and compared as they are (an image, a PDF...).
fn binary(b: &Value, version: u32) -> Option<Result<Vec<u8>, String>> {
    use base64::Engine as _;
    if version < 4 || !(b["encoded"] == Value::String("base64".into()) || b["encoded"] == true) {
        return None;
    }
    let s = b.get("content")?.as_str()?;
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| format!("the body is marked base64 but is not: {e}")),
    )
}

/// A v4 body `{"content": ..., "contentType": ..., "encoded": false}` as
/// the value it stands for (JSON stays JSON, text becomes a string).
fn v4_content(b: &Value) -> Value {
    match b.get("content") {
        Some(c) => c.clone(),
        None => b.clone(),
    }
}

fn response(r: Option<&Value>, at: &[Seg], ctx: &mut Ctx<'_>, version: u32) -> Option<ResponseDef> {
    let Some(r) = r.and_then(Value::as_object) else {
        ctx.err(at, "an interaction needs a `response` object");
        return None;
    };
    let status = match r.get("status") {
        None => 200,
        Some(v) => match v.as_u64().filter(|s| (100..=599).contains(s)) {
            Some(s) => s as u16,
            None => {
                let mut p = at.to_vec();
                p.push(Seg::Key("status".into()));
                ctx.err(&p, "`status` must be an HTTP status (100-599)");
                return None;
            }
        },
    };
    let mut out = ResponseDef::plain(status);
    let mut headers = Vec::new();
    let empty = Map::new();
    for (name, v) in r
        .get("headers")
        .and_then(Value::as_object)
        .unwrap_or(&empty)
    {
        let values = match v {
            Value::String(s) => split_header(name, s),
            other => strings(other),
        };
        for value in values {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.push((n, v));
            }
        }
    }
    let binary_body = r.get("body").and_then(|b| binary(b, version));
    if let Some(bytes) = binary_body {
        match bytes {
            Ok(b) => out.body = Bytes::from(b),
            Err(e) => {
                let mut p = at.to_vec();
                p.push(Seg::Key("body".into()));
                ctx.err(&p, e);
                return None;
            }
        }
        if let Some(ct) = r["body"]["contentType"].as_str() {
            if !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
                if let Ok(v) = HeaderValue::from_str(ct) {
                    headers.push((CONTENT_TYPE, v));
                }
            }
        }
    } else if let Some(b) = r.get("body") {
        let body = if version >= 4 {
            v4_content(b)
        } else {
            b.clone()
        };
        out.body = match &body {
            Value::String(s) => {
                // As pact-stub-server: a text body without a declared type is text/plain.
                if !s.is_empty() && !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
                    headers.push((CONTENT_TYPE, HeaderValue::from_static("text/plain")));
                }
                Bytes::from(s.clone())
            }
            Value::Null => Bytes::new(),
            other => {
                if !headers.iter().any(|(n, _)| n == CONTENT_TYPE) {
                    headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
                }
                Bytes::from(other.to_string())
            }
        };
    }
    out.headers = Arc::new(headers);
    Some(out)
}
