//! OpenAPI 3.0 / 3.1 (YAML or JSON): every operation answers its declared
//! example, or a body generated from its schema. `Prefer: code=404` picks
//! another response, `Prefer: example=name` a named example (Prism's
//! convention).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use regex::Regex;
use serde_json::{json, Map, Value};

use super::{json_syntax, read, stable_id};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::mocks::path_template::PathTemplate;
use crate::mocks::string_matcher::StringMatcher;
use crate::mocks::stub::{Origin, RequestPattern, ResponseDef, Stub, UrlMatch};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

pub fn load_path(root: &Path, path: &Path) -> Result<Vec<Stub>, Diagnostics> {
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
    compile(&doc, &name, |keys, msg| at_keys(path, &src, keys, msg))
}

/// A diagnostic at the last of `keys`, found in order in the text (JSON or
/// YAML), or at the top of the file.
fn at_keys(file: &Path, src: &str, keys: &[&str], msg: String) -> Diagnostic {
    let mut pos = 0;
    let mut span = 0..0;
    for k in keys {
        let found = [format!("\"{k}\""), format!("'{k}'"), format!("{k}:")]
            .iter()
            .filter_map(|pat| src[pos..].find(pat.as_str()).map(|i| (pos + i, pat.len())))
            .min();
        if let Some((i, n)) = found {
            span = i..i + n;
            pos = i + n;
        }
    }
    Diagnostic::at(file, src, span, msg)
}

fn compile(
    doc: &Value,
    file: &str,
    err: impl Fn(&[&str], String) -> Diagnostic,
) -> Result<Vec<Stub>, Diagnostics> {
    let mut problems = Diagnostics::default();
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.") {
        problems.push(
            err(
                &["openapi"],
                format!("`openapi: {version}` is not OpenAPI 3.x"),
            )
            .with_hint("devenv serves OpenAPI 3.0 and 3.1 documents (`openapi: 3.1.0`)"),
        );
        return Err(problems);
    }
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        problems.push(err(&["paths"], "an OpenAPI document needs `paths`".into()));
        return Err(problems);
    };
    let mut stubs = Vec::new();
    for (path, item) in paths {
        if !path.starts_with('/') {
            problems.push(err(
                &["paths", path],
                format!("path `{path}` must start with `/`"),
            ));
            continue;
        }
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                problems.push(err(
                    &["paths", path, method],
                    format!("{} {path} has no `responses`", method.to_uppercase()),
                ));
                continue;
            };
            let mut codes: Vec<(&String, u16)> = responses
                .keys()
                .filter_map(|c| {
                    let n = if c == "default" {
                        Some(200)
                    } else {
                        c.parse().ok()
                    };
                    match n.filter(|n| (100..=599).contains(n)) {
                        Some(n) => Some((c, n)),
                        None if c.ends_with("XX") => {
                            c[..1].parse::<u16>().ok().map(|d| (c, d * 100))
                        }
                        None => {
                            problems.push(err(
                                &["paths", path, method, c],
                                format!("`{c}` is not a response code"),
                            ));
                            None
                        }
                    }
                })
                .collect();
            // The default answer: the first 2xx, else the first declared.
            codes.sort_by_key(|(c, n)| (!(200..300).contains(n), *c == "default", *n));
            for (rank, (code_key, status)) in codes.iter().enumerate() {
                let resp = resolve(doc, &responses[code_key.as_str()]);
                for (example, body, ctype) in examples(doc, resp) {
                    let mut prefer = Vec::new();
                    let priority = match (rank, &example) {
                        (0, None) => 5,
                        (_, None) => {
                            prefer.push(format!(r"code={status}\b"));
                            3
                        }
                        (_, Some(name)) => {
                            prefer.push(format!(r"example={}(\s|,|;|$)", regex::escape(name)));
                            2
                        }
                    };
                    let mut headers = Vec::new();
                    if let Some(ct) = &ctype {
                        if let Ok(v) = HeaderValue::from_str(ct) {
                            headers.push((CONTENT_TYPE, v));
                        }
                    }
                    let mut req = RequestPattern {
                        method: Some(method.to_uppercase()),
                        url: if path.contains('{') {
                            UrlMatch::Template(PathTemplate::parse(path))
                        } else {
                            UrlMatch::Path(path.clone())
                        },
                        ..Default::default()
                    };
                    for p in &prefer {
                        let re = Regex::new(&format!("(?:^|[,;\\s]){p}")).expect("escaped");
                        req.headers.push((
                            HeaderName::from_static("prefer"),
                            StringMatcher::Matches(re),
                        ));
                    }
                    let label = format!(
                        "{file}: {} {path} -> {status}{}",
                        method.to_uppercase(),
                        example
                            .as_ref()
                            .map(|e| format!(" example {e}"))
                            .unwrap_or_default()
                    );
                    let id = stable_id(&label);
                    stubs.push(Stub {
                        json: json!({
                            "id": id, "name": label, "priority": priority,
                            "request": {"method": method.to_uppercase(), "urlPathTemplate": path},
                            "response": {"status": status, "body": String::from_utf8_lossy(&body)},
                        }),
                        id,
                        name: op
                            .get("operationId")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        source: label,
                        origin: Origin::File,
                        priority,
                        specificity: super::wiremock::specificity(&req),
                        seq: 0,
                        request: req,
                        response: ResponseDef {
                            status: *status,
                            headers: Arc::new(headers),
                            body,
                            delay: None,
                            fault: None,
                            template: None,
                        },
                        scenario: None,
                    });
                }
            }
        }
    }
    problems.into_result(stubs)
}

/// Follows a local `$ref` (`#/components/...`), a few levels deep.
fn resolve<'v>(doc: &'v Value, mut v: &'v Value) -> &'v Value {
    for _ in 0..8 {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(ptr) => match doc.pointer(ptr) {
                Some(x) => v = x,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

/// (example name or None for the default, body, content type) per response.
fn examples(doc: &Value, resp: &Value) -> Vec<(Option<String>, Bytes, Option<String>)> {
    let Some(content) = resp
        .get("content")
        .and_then(Value::as_object)
        .filter(|c| !c.is_empty())
    else {
        return vec![(None, Bytes::new(), None)];
    };
    let (ctype, media) = content
        .iter()
        .find(|(k, _)| k.contains("json"))
        .or_else(|| content.iter().next())
        .expect("not empty");
    let json_like = ctype.contains("json");
    let encode = |v: &Value| match v {
        Value::String(s) if !json_like => Bytes::from(s.clone()),
        other => Bytes::from(other.to_string()),
    };
    let ct = Some(ctype.clone());
    let mut out = Vec::new();
    let named: Vec<(String, Value)> = media
        .get("examples")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, ex)| {
                    resolve(doc, ex)
                        .get("value")
                        .map(|v| (k.clone(), v.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    let default = media
        .get("example")
        .cloned()
        .or_else(|| named.first().map(|(_, v)| v.clone()))
        .unwrap_or_else(|| generate(doc, media.get("schema").unwrap_or(&Value::Null), 0));
    out.push((None, encode(&default), ct.clone()));
    for (k, v) in named {
        out.push((Some(k), encode(&v), ct.clone()));
    }
    out
}

/// The most JSON nodes one generated body may have. `$ref`s and
/// `minItems` multiply (a schema of ten refs to a schema of ten refs...), so
/// without a budget a small spec could generate a body of gigabytes.
const MAX_NODES: usize = 10_000;

/// A value that fits `schema`: its examples and defaults first, then by type.
pub fn generate(doc: &Value, schema: &Value, depth: usize) -> Value {
    Gen {
        doc,
        left: MAX_NODES,
    }
    .value(schema, depth)
}

/// One generated body: the document `$ref`s point into, and the nodes left.
struct Gen<'a> {
    doc: &'a Value,
    left: usize,
}

impl Gen<'_> {
    /// `v` itself when it fits in the budget, else `null`.
    fn copy(&mut self, v: &Value) -> Value {
        let w = weight(v, self.left + 1);
        if w > self.left {
            self.left = 0;
            return Value::Null;
        }
        self.left -= w;
        v.clone()
    }

    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        let doc = self.doc;
        let s = resolve(doc, schema);
        if depth > 8 || self.left == 0 {
            return Value::Null;
        }
        self.left -= 1;
        for k in ["example", "default", "const"] {
            if let Some(v) = s.get(k) {
                return self.copy(v);
            }
        }
        if let Some(v) = s
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return self.copy(v);
        }
        if let Some(v) = s
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return self.copy(v);
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in all {
                if let Value::Object(o) = self.value(part, depth + 1) {
                    merged.extend(o);
                }
            }
            return Value::Object(merged);
        }
        for k in ["oneOf", "anyOf"] {
            if let Some(first) = s.get(k).and_then(Value::as_array).and_then(|a| a.first()) {
                return self.value(first, depth + 1);
            }
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if s.get("properties").is_some() => "object",
            _ if s.get("items").is_some() => "array",
            _ => "",
        };
        match ty {
            "object" => {
                let mut o = Map::new();
                if let Some(props) = s.get("properties").and_then(Value::as_object) {
                    for (k, p) in props {
                        o.insert(k.clone(), self.value(p, depth + 1));
                    }
                }
                Value::Object(o)
            }
            "array" => {
                let n = s
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .max(1);
                let item = self.value(s.get("items").unwrap_or(&Value::Null), depth + 1);
                // The first copy is paid for; the others while the budget lasts.
                let w = weight(&item, self.left + 1).max(1);
                let extra = (n.saturating_sub(1) as usize).min(self.left / w);
                self.left -= extra * w;
                Value::Array(vec![item; extra + 1])
            }
            "string" => Value::String(
                match s.get("format").and_then(Value::as_str) {
                    Some("date-time") => "2024-01-01T00:00:00Z",
                    Some("date") => "2024-01-01",
                    Some("time") => "00:00:00",
                    Some("uuid") => "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                    Some("email") => "user@example.com",
                    Some("uri" | "url") => "https://example.com",
                    Some("ipv4") => "192.0.2.1",
                    _ => "string",
                }
                .to_string(),
            ),
            "integer" => json!(s.get("minimum").and_then(Value::as_i64).unwrap_or(0)),
            "number" => json!(s.get("minimum").and_then(Value::as_f64).unwrap_or(0.0)),
            "boolean" => Value::Bool(true),
            _ => Value::Null,
        }
    }
}

/// How many nodes `v` has, counting up to `cap` at most.
fn weight(v: &Value, cap: usize) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        if n >= cap {
            return n;
        }
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_that_multiplies_stays_within_the_budget() {
        let doc = json!({"components": {"schemas": {
            "A": {"type": "array", "minItems": 1_000_000_000_000u64, "items": {"$ref": "#/components/schemas/B"}},
            "B": {"type": "array", "minItems": 1000, "items": {"$ref": "#/components/schemas/C"}},
            "C": {"type": "array", "minItems": 1000, "items": {"type": "string"}}}}});
        let v = generate(&doc, &json!({"$ref": "#/components/schemas/A"}), 0);
        assert!(
            weight(&v, usize::MAX) <= MAX_NODES + 1,
            "{}",
            weight(&v, usize::MAX)
        );
    }

    #[test]
    fn generates_from_schemas() {
        let doc = json!({"components": {"schemas": {"Pet": {"type": "object", "properties": {
            "id": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "tag": {"type": ["string", "null"], "examples": ["cat"]},
            "born": {"type": "string", "format": "date"},
            "kind": {"enum": ["dog", "cat"]}}}}}});
        let v = generate(
            &doc,
            &json!({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}),
            0,
        );
        assert_eq!(
            v,
            json!([{"id": 0, "name": "string", "tag": "cat", "born": "2024-01-01", "kind": "dog"}])
        );
    }
}
