//! OpenAPI 3.0 / 3.1 (YAML or JSON), answered as Prism 5 answers in its
//! static mode: the response and example Prism would choose, with the same
//! `Prefer: code=NNN` and `Prefer: example=NAME` rules (`openapi_stubs`),
//! and, without an example, the body Prism's sampler makes from the schema
//! (`openapi_sample`).
//!
//! What devenv does not do is refused with the file's line and column:
//! `$ref`s to other files or URLs, `externalValue` examples, bodies Prism
//! cannot serialise. Paths under the admin API's prefix are served by the
//! admin API, so they are a warning with the hint to move the prefix.

use std::path::Path;

use bytes::Bytes;
use serde_json::Value;

use super::openapi_order::js_entries;
use super::openapi_sample::{sample, TooComplex};
use super::openapi_stubs::{op_stubs, Answer, Op, Patterns, Resp, RespKind};
use super::{json_syntax, read};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::mocks::stub::Stub;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// The stubs of one spec, and what it does that devenv serves differently.
pub struct Compiled {
    pub stubs: Vec<Stub>,
    pub warnings: Vec<Diagnostic>,
}

/// Loads a spec; `admin_prefix` is where this mock's admin API answers.
pub fn load_path(root: &Path, path: &Path, admin_prefix: &str) -> Result<Compiled, Diagnostics> {
    let src = read(root, path)?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let doc: Value = if is_json {
        serde_json::from_str(&src).map_err(|e| json_syntax(path, &src, &e))?
    } else {
        serde_yaml_ng::from_str(&src).map_err(|e| {
            let msg = e.to_string();
            match e.location() {
                Some(l) => Diagnostic::at_line_col(
                    path,
                    &src,
                    l.line(),
                    l.column(),
                    format!("invalid YAML: {msg}"),
                ),
                None => Diagnostic::file(path, format!("invalid YAML: {msg}")),
            }
        })?
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let at = |keys: &[&str], msg: String| at_keys(path, &src, keys, msg);
    Spec {
        doc: &doc,
        file: &name,
        at: &at,
        problems: Diagnostics::default(),
        warnings: Vec::new(),
    }
    .compile(admin_prefix)
}

/// A diagnostic at the last of `keys`, found in order in the text (JSON or
/// YAML, comment lines skipped), or at the top of the file.
fn at_keys(file: &Path, src: &str, keys: &[&str], msg: String) -> Diagnostic {
    let mut pos = 0;
    let mut span = 0..0;
    for k in keys {
        let found = [
            format!("\"{k}\""),
            format!("'{k}'"),
            format!("{k}:"),
            k.to_string(),
        ]
        .iter()
        .filter_map(|pat| find_outside_comments(src, pos, pat).map(|i| (i, pat.len())))
        .min();
        if let Some((i, n)) = found {
            span = i..i + n;
            pos = i + n;
        }
    }
    Diagnostic::at(file, src, span, msg)
}

/// The first `pat` at or after `from` that is not on a `#` comment line.
fn find_outside_comments(src: &str, mut from: usize, pat: &str) -> Option<usize> {
    while let Some(i) = src.get(from..)?.find(pat) {
        let at = from + i;
        let line_start = src[..at].rfind('\n').map_or(0, |n| n + 1);
        if !src[line_start..at].trim_start().starts_with('#') {
            return Some(at);
        }
        from = at + pat.len();
    }
    None
}

type At<'a> = &'a dyn Fn(&[&str], String) -> Diagnostic;

struct Spec<'a> {
    doc: &'a Value,
    file: &'a str,
    at: At<'a>,
    problems: Diagnostics,
    warnings: Vec<Diagnostic>,
}

impl<'a> Spec<'a> {
    fn err(&mut self, keys: &[&str], msg: String, hint: Option<&str>) {
        if self.problems.is_full() {
            return;
        }
        let mut d = (self.at)(keys, msg);
        if let Some(h) = hint {
            d = d.with_hint(h);
        }
        self.problems.push(d);
    }

    fn compile(mut self, admin_prefix: &str) -> Result<Compiled, Diagnostics> {
        let doc = self.doc;
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.") {
            self.err(
                &["openapi"],
                format!("`openapi: {version}` is not OpenAPI 3.x"),
                Some("devenv serves OpenAPI 3.0 and 3.1 documents (`openapi: 3.1.0`)"),
            );
            return Err(self.problems);
        }
        self.check_refs(doc, &mut Vec::new());
        // 3.1 documents may describe only webhooks or components.
        let v31 = version.starts_with("3.1");
        let paths = match doc.get("paths") {
            Some(Value::Object(p)) => Some(p),
            None if v31 && (doc.get("webhooks").is_some() || doc.get("components").is_some()) => {
                None
            }
            _ => {
                self.err(
                    &["paths"],
                    if v31 {
                        "an OpenAPI 3.1 document needs `paths`, `webhooks` or `components`".into()
                    } else {
                        "an OpenAPI 3.0 document needs `paths`".into()
                    },
                    None,
                );
                return Err(self.problems);
            }
        };
        let mut stubs = Vec::new();
        let mut pats = Patterns::default();
        for (path, item) in paths.into_iter().flatten() {
            if !path.starts_with('/') {
                self.err(
                    &["paths", path],
                    format!("path `{path}` must start with `/`"),
                    None,
                );
                continue;
            }
            if crate::mocks::admin::is_admin(path, admin_prefix) {
                let d = (self.at)(
                    &["paths", path],
                    format!("path `{path}` is under the mock's admin API (`{admin_prefix}`): the admin API answers it, not this spec"),
                )
                .with_hint("move the admin API with `admin_prefix = \"/__devenv\"` in this mock's [mocks.NAME] table");
                self.warnings.push(d.as_warning());
            }
            let item = resolve(doc, item);
            for method in METHODS {
                let Some(op) = item.get(*method) else {
                    continue;
                };
                if op.get("callbacks").is_some() {
                    let d = (self.at)(
                        &["paths", path, method, "callbacks"],
                        format!("{} {path}: `callbacks` are not sent (devenv answers requests, it makes none)", method.to_uppercase()),
                    );
                    self.warnings.push(d.as_warning());
                }
                if let Some(o) = self.operation(path, method, op) {
                    stubs.extend(op_stubs(&o, &mut pats));
                }
            }
        }
        if stubs.is_empty() && self.problems.is_empty() {
            let key = if doc.get("webhooks").is_some() {
                "webhooks"
            } else {
                "openapi"
            };
            let d = (self.at)(
                &[key],
                "this document declares no operation under `paths`: the mock serves nothing from it (`webhooks` are requests the API makes, not ones it answers)".into(),
            )
            .with_hint("Prism refuses such a document (\"No operations found\"); devenv loads it, so other sources of the mock still serve");
            self.warnings.push(d.as_warning());
        }
        if self.problems.is_empty() {
            Ok(Compiled {
                stubs,
                warnings: self.warnings,
            })
        } else {
            Err(self.problems.sorted())
        }
    }

    /// Every `$ref` must point into this document, at something that exists.
    fn check_refs(&mut self, v: &'a Value, at: &mut Vec<&'a str>) {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                    let mut keys = at.clone();
                    keys.push("$ref");
                    keys.push(r);
                    match r.strip_prefix('#') {
                        None => self.err(
                            &keys,
                            format!("`$ref: {r}` points outside this file: remote and file references are not supported"),
                            Some("bundle the spec into one file first (e.g. `redocly bundle` or `swagger-cli bundle`)"),
                        ),
                        Some(p) if self.doc.pointer(&unescape(p)).is_none() => self.err(
                            &keys,
                            format!("`$ref: {r}` points at nothing in this file"),
                            None,
                        ),
                        Some(_) => {}
                    }
                }
                for (k, x) in o {
                    // Examples are data: a `$ref` key inside a value is not a reference.
                    if k == "example" || k == "value" || k == "x-examples" || k.starts_with("x-") {
                        continue;
                    }
                    at.push(k);
                    self.check_refs(x, at);
                    at.pop();
                }
            }
            Value::Array(a) => a.iter().for_each(|x| self.check_refs(x, at)),
            _ => {}
        }
    }

    fn operation(&mut self, path: &'a str, method: &'a str, op: &'a Value) -> Option<Op<'a>> {
        let m = method.to_uppercase();
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            self.err(
                &["paths", path, method],
                format!("{m} {path} has no `responses`"),
                Some("declare at least one response; Prism cannot answer an operation without one either"),
            );
            return None;
        };
        if responses.is_empty() {
            self.err(
                &["paths", path, method, "responses"],
                format!("{m} {path} declares no response"),
                Some("declare at least one response; Prism cannot answer an operation without one either"),
            );
            return None;
        }
        let mut resps = Vec::new();
        for (key, r) in js_entries(responses) {
            let kind = match key.as_str() {
                "default" => RespKind::Default,
                k if k.len() == 3
                    && k.ends_with("XX")
                    && (b'1'..=b'5').contains(&k.as_bytes()[0]) =>
                {
                    RespKind::Range(u16::from(k.as_bytes()[0] - b'0'))
                }
                k => match k.parse::<u16>().ok().filter(|n| (100..=599).contains(n)) {
                    Some(n) => RespKind::Exact(n),
                    None => {
                        self.err(
                            &["paths", path, method, "responses", key],
                            format!("`{key}` is not a response code"),
                            Some("write a status (`\"404\"`), a range (`\"4XX\"`) or `default`"),
                        );
                        continue;
                    }
                },
            };
            let keys = ["paths", path, method, "responses", key.as_str()];
            let answers = self.answers(&keys, resolve(self.doc, r), method == "head");
            resps.push(Resp {
                key: key.as_str(),
                kind,
                answers,
            });
        }
        Some(Op {
            file: self.file,
            method: m,
            path,
            operation_id: op.get("operationId").and_then(Value::as_str),
            responses: resps,
        })
    }

    /// The bodies one response can give: its examples in Prism's order (the
    /// `example`, as `default`, then the named ones), else one from the
    /// schema, else an empty body.
    fn answers(&mut self, keys: &[&str], resp: &'a Value, head: bool) -> Vec<Answer> {
        let Some((ctype, media)) = pick_media(resp) else {
            return vec![Answer::empty()];
        };
        let mut found: Vec<(String, &Value)> = Vec::new();
        let schema = media.get("schema").map(|s| resolve(self.doc, s));
        if let Some(v) = media.get("example") {
            found.push(("default".into(), v));
        } else if let Some(v) = schema
            .and_then(|s| s.get("examples"))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            found.push(("default".into(), v));
        }
        let null = &Value::Null;
        if let Some(named) = media.get("examples").and_then(Value::as_object) {
            for (name, ex) in js_entries(named) {
                let ex = resolve(self.doc, ex);
                if ex.get("externalValue").is_some() {
                    let mut k = keys.to_vec();
                    k.extend(["content", ctype, "examples", name, "externalValue"]);
                    self.err(
                        &k,
                        format!("example `{name}` has an `externalValue`: examples in other files or URLs are not supported"),
                        Some("put the example inline, under `value`"),
                    );
                    continue;
                }
                found.push((name.clone(), ex.get("value").unwrap_or(null)));
            }
        }
        let mut out = Vec::new();
        for (name, v) in found {
            match encode(ctype, v) {
                Ok(body) => out.push(Answer::new(
                    Some(name),
                    ctype,
                    if head { Bytes::new() } else { body },
                )),
                Err(why) => {
                    let mut k = keys.to_vec();
                    k.extend(["content", ctype]);
                    self.err(&k, format!("example `{name}`: {why}"), None);
                }
            }
        }
        if out.is_empty() {
            let body = match schema.map(|s| sample(self.doc, s)) {
                None | Some(Ok(None)) => Ok(Bytes::new()),
                Some(Ok(Some(v))) => encode(ctype, &v),
                Some(Err(TooComplex)) => Err("the schema is too large to make a body from (Prism gives up past 2,500 nodes too)".to_string()),
            };
            match body {
                Ok(b) => out.push(Answer::new(
                    None,
                    ctype,
                    if head { Bytes::new() } else { b },
                )),
                Err(why) => {
                    let mut k = keys.to_vec();
                    k.extend(["content", ctype, "schema"]);
                    self.err(&k, why, Some("add an `example` to this response"));
                }
            }
        }
        out
    }
}

/// The media type Prism answers without an `Accept` header: `*/*`, else
/// `application/json`, else the first declared.
fn pick_media(resp: &Value) -> Option<(&str, &Value)> {
    let content = resp.get("content").and_then(Value::as_object)?;
    let base = |k: &str| {
        k.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    content
        .iter()
        .find(|(k, _)| k.as_str() == "*/*")
        .or_else(|| content.iter().find(|(k, _)| base(k) == "application/json"))
        .or_else(|| content.iter().next())
        .map(|(k, v)| (k.as_str(), v))
}

/// Whether Prism serialises `ctype` as JSON (`application/json`, `+json`).
fn json_like(ctype: &str) -> bool {
    let base = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    base == "application/json" || (base.starts_with("application/") && base.ends_with("+json"))
}

/// The bytes Prism sends for `v` as `ctype`.
fn encode(ctype: &str, v: &Value) -> Result<Bytes, String> {
    if json_like(ctype) {
        return Ok(Bytes::from(v.to_string()));
    }
    match v {
        Value::String(s) => Ok(Bytes::from(s.clone())),
        Value::Null => Ok(Bytes::new()),
        _ => Err(format!(
            "a `{ctype}` body must be a string in the spec (Prism cannot serialise a structured value as `{ctype}` either)"
        )),
    }
}

/// A `$ref`'s pointer with its percent-escapes decoded (`%7B` in a path
/// key); `~0` and `~1` are the pointer's own and stay.
fn unescape(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 3 <= b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(n) => {
                out.push(n);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| p.to_string())
}

/// Follows a local `$ref` (`#/components/...`), a few levels deep.
fn resolve<'v>(doc: &'v Value, mut v: &'v Value) -> &'v Value {
    for _ in 0..8 {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(ptr) => match doc.pointer(&unescape(ptr)) {
                Some(x) => v = x,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_as_prism_picks_them() {
        let r: Value = serde_json::from_str(
            r#"{"content": {"application/xml": {}, "application/json; charset=utf-8": {}}}"#,
        )
        .unwrap();
        assert_eq!(pick_media(&r).unwrap().0, "application/json; charset=utf-8");
        assert!(json_like("application/problem+json"));
        assert!(!json_like("text/plain"));
        assert_eq!(
            encode("text/plain", &Value::String("hi".into())).unwrap(),
            "hi"
        );
        assert_eq!(
            encode("application/json", &Value::String("hi".into())).unwrap(),
            "\"hi\""
        );
        assert!(encode("text/plain", &serde_json::json!({"a": 1})).is_err());
    }
}
