//! WireMock stub mappings: a file or a directory of JSON files, each a single
//! stub, a `{"mappings": [...]}` wrapper, or a bare array; `__files` holds
//! the files `bodyFileName` names.

use std::path::{Path, PathBuf};

use hyper::header::HeaderName;
use serde_json::{Map, Value};

use super::json_lenient::Lenient;
use super::wiremock_keys::{key, unknown_keys, REQUEST_KEYS, STUB_KEYS};
use super::wiremock_matchers::{anchored, body_matcher, named_matchers};
use super::wiremock_response::response;
use super::{read, stable_id, BodyDir, Ctx};
use crate::diagnostic::Diagnostics;
use crate::mocks::json_pos::Seg;
use crate::mocks::path_template::PathTemplate;
use crate::mocks::stub::{Origin, RequestPattern, ResponseDef, ScenarioRule, Stub, UrlMatch};

/// Mappings from a file or a directory (a WireMock root with `mappings/`
/// and `__files/`, or a directory of mapping files).
pub fn load_path(root: &Path, path: &Path) -> Result<Vec<Stub>, Diagnostics> {
    let (files, dir) = layout(path);
    let body_dir = BodyDir {
        root: root.to_path_buf(),
        dir,
    };
    let mut stubs = Vec::new();
    let mut problems = Diagnostics::default();
    for f in files {
        let src = match read(root, &f) {
            Ok(s) => s,
            Err(d) => {
                problems.extend(d);
                continue;
            }
        };
        let shown = f
            .strip_prefix(path.parent().unwrap_or(path))
            .unwrap_or(&f)
            .to_path_buf();
        match load_text_named(&f, &shown, &src, &body_dir) {
            Ok(s) => stubs.extend(s),
            Err(d) => problems.extend(d),
        }
    }
    problems.into_result(stubs)
}

fn layout(path: &Path) -> (Vec<PathBuf>, PathBuf) {
    if path.is_dir() {
        let mappings = path.join("mappings");
        let dir = if mappings.is_dir() {
            mappings
        } else {
            path.to_path_buf()
        };
        (super::files_with_ext(&dir, &["json"]), path.join("__files"))
    } else {
        let parent = path.parent().unwrap_or(Path::new("."));
        let here = parent.join("__files");
        let body_dir = if here.is_dir() {
            here
        } else {
            parent.parent().unwrap_or(parent).join("__files")
        };
        (vec![path.to_path_buf()], body_dir)
    }
}

/// The stubs in one mapping file's text.
#[cfg(test)]
pub fn load_text(file: &Path, src: &str, body_dir: &Path) -> Result<Vec<Stub>, Diagnostics> {
    let body_dir = BodyDir {
        root: body_dir.to_path_buf(),
        dir: body_dir.to_path_buf(),
    };
    load_text_named(file, file, src, &body_dir)
}

fn load_text_named(
    file: &Path,
    shown: &Path,
    src: &str,
    body_dir: &BodyDir,
) -> Result<Vec<Stub>, Diagnostics> {
    // `//` and `/* */` comments and single quotes, as WireMock's Jackson allows.
    let parsed = Lenient::new(src);
    let v: Value = serde_json::from_str(&parsed.text).map_err(|e| parsed.syntax(file, src, &e))?;
    let mut ctx = Ctx::lenient(file, src, &parsed);
    let list: Vec<(Vec<Seg>, &Value)> = match &v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (vec![Seg::Index(i)], x))
            .collect(),
        Value::Object(o) if o.contains_key("mappings") => match &o["mappings"] {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (vec![Seg::Key("mappings".into()), Seg::Index(i)], x))
                .collect(),
            _ => {
                ctx.err(
                    &[Seg::Key("mappings".into())],
                    "`mappings` must be an array of stubs",
                );
                Vec::new()
            }
        },
        Value::Object(_) => vec![(Vec::new(), &v)],
        _ => {
            ctx.err(
                &[],
                "a mapping file holds a stub object, {\"mappings\": [...]} or an array of stubs",
            );
            Vec::new()
        }
    };
    if list.len() > 1 {
        let prefix = &list[0].0[..list[0].0.len() - 1];
        ctx.index_elements(prefix);
    }
    let name = shown.display().to_string();
    let mut stubs = Vec::new();
    for (i, (at, x)) in list.iter().enumerate() {
        let source = if list.len() == 1 {
            name.clone()
        } else {
            format!("{name} #{}", i + 1)
        };
        if let Some(s) = compile(x, at, &mut ctx, body_dir, source) {
            stubs.push(s);
        }
    }
    Diagnostics(ctx.problems).into_result(stubs)
}

/// One stub from its JSON; problems go to `ctx`.
pub fn compile(
    v: &Value,
    at: &[Seg],
    ctx: &mut Ctx<'_>,
    body_dir: &BodyDir,
    source: String,
) -> Option<Stub> {
    let Some(obj) = v.as_object() else {
        ctx.err(
            at,
            "a stub must be a JSON object with `request` and `response`",
        );
        return None;
    };
    let mut ok = unknown_keys(ctx, at, obj, STUB_KEYS, "stub");
    let req = match obj.get("request") {
        Some(Value::Object(r)) => request(r, &key(at, "request"), ctx),
        _ => {
            ctx.err(at, "a stub needs a `request` object");
            None
        }
    };
    let resp = match obj.get("response") {
        Some(Value::Object(r)) => response(r, &key(at, "response"), ctx, body_dir),
        Some(_) => {
            ctx.err(&key(at, "response"), "`response` must be an object");
            None
        }
        None => Some(ResponseDef::plain(200)),
    };
    let priority = match obj.get("priority") {
        None => 5,
        Some(p) => match p.as_i64() {
            Some(p) => p,
            None => {
                ctx.err(&key(at, "priority"), "`priority` must be an integer");
                ok = false;
                5
            }
        },
    };
    let str_of = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let scenario = str_of("scenarioName").map(|name| ScenarioRule {
        name,
        required: str_of("requiredScenarioState"),
        new_state: str_of("newScenarioState"),
    });
    let hooks = super::wiremock_webhook::webhooks(obj, at, ctx);
    let (req, mut resp, hooks) = (req?, resp?, hooks?);
    if !ok {
        return None;
    }
    if !hooks.is_empty() {
        resp.template.get_or_insert_with(Default::default).webhooks = hooks;
    }
    let id = str_of("id")
        .or_else(|| str_of("uuid"))
        .unwrap_or_else(|| stable_id(&format!("{source}\n{v}")));
    let mut json = v.clone();
    if let Some(o) = json.as_object_mut() {
        o.insert("id".into(), Value::String(id.clone()));
        o.insert("uuid".into(), Value::String(id.clone()));
    }
    Some(Stub {
        id,
        name: str_of("name"),
        source,
        origin: Origin::File,
        priority,
        specificity: specificity(&req),
        seq: 0,
        request: req,
        response: resp,
        scenario,
        json,
    })
}

pub fn specificity(r: &RequestPattern) -> u32 {
    let url = match r.url {
        UrlMatch::Url(_) | UrlMatch::Path(_) => 8,
        UrlMatch::Template(_) => 6,
        UrlMatch::Pattern(_) | UrlMatch::PathPattern(_) => 4,
        UrlMatch::Any => 0,
    };
    url + u32::from(r.method.is_some())
        + (r.query.len() + r.headers.len() + r.cookies.len() + r.body.len() + r.path_params.len())
            as u32
}

fn request(r: &Map<String, Value>, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<RequestPattern> {
    let mut ok = unknown_keys(ctx, at, r, REQUEST_KEYS, "request");
    let mut p = RequestPattern::default();
    match r.get("method") {
        None => {}
        Some(Value::String(m)) if m.eq_ignore_ascii_case("ANY") => {}
        Some(Value::String(m)) if !m.is_empty() && m.chars().all(|c| c.is_ascii_alphabetic()) => {
            p.method = Some(m.to_ascii_uppercase())
        }
        Some(_) => {
            ctx.err(&key(at, "method"), "`method` must be an HTTP method or ANY");
            ok = false;
        }
    }
    let urls: Vec<&str> = [
        "url",
        "urlPath",
        "urlPattern",
        "urlPathPattern",
        "urlPathTemplate",
    ]
    .into_iter()
    .filter(|k| r.contains_key(*k))
    .collect();
    if urls.len() > 1 {
        ctx.err_hint(
            &key(at, urls[1]),
            format!("`{}` and `{}` both set the URL", urls[0], urls[1]),
            "keep one of them",
        );
        ok = false;
    }
    if let Some(k) = urls.first() {
        let kat = key(at, k);
        match r[*k].as_str() {
            None => {
                ctx.err(&kat, format!("`{k}` must be a string"));
                ok = false;
            }
            Some(u) => {
                p.url = match *k {
                    "url" => UrlMatch::Url(u.to_string()),
                    "urlPath" => UrlMatch::Path(u.to_string()),
                    "urlPathTemplate" => UrlMatch::Template(PathTemplate::parse(u)),
                    _ => match anchored(u) {
                        Ok(re) if *k == "urlPattern" => UrlMatch::Pattern(re),
                        Ok(re) => UrlMatch::PathPattern(re),
                        Err(e) => {
                            ctx.err(&kat, format!("invalid regex: {e}"));
                            ok = false;
                            UrlMatch::Any
                        }
                    },
                }
            }
        }
    }
    ok &= named_matchers(r, at, "queryParameters", ctx, |n, m| p.query.push((n, m)));
    ok &= named_matchers(r, at, "cookies", ctx, |n, m| p.cookies.push((n, m)));
    ok &= named_matchers(r, at, "pathParameters", ctx, |n, m| {
        p.path_params.push((n, m))
    });
    let mut headers = Vec::new();
    ok &= named_matchers(r, at, "headers", ctx, |n, m| headers.push((n, m)));
    for (n, m) in headers {
        match HeaderName::from_bytes(n.as_bytes()) {
            Ok(h) => p.headers.push((h, m)),
            Err(_) => {
                ctx.err(
                    &key(&key(at, "headers"), &n),
                    format!("`{n}` is not a header name"),
                );
                ok = false;
            }
        }
    }
    if let Some(bp) = r.get("bodyPatterns") {
        let bat = key(at, "bodyPatterns");
        match bp.as_array() {
            None => {
                ctx.err(&bat, "`bodyPatterns` must be an array");
                ok = false;
            }
            Some(list) => {
                for (i, x) in list.iter().enumerate() {
                    let mut iat = bat.clone();
                    iat.push(Seg::Index(i));
                    match body_matcher(x, &iat, ctx) {
                        Some(b) => p.body.push(b),
                        None => ok = false,
                    }
                }
            }
        }
    }
    ok.then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(src: &str) -> Vec<String> {
        match load_text(Path::new("m.json"), src, Path::new("/nonexistent")) {
            Ok(_) => Vec::new(),
            Err(d) => {
                d.0.iter()
                    .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                    .collect()
            }
        }
    }

    #[test]
    fn accepts_the_three_shapes() {
        let one = r#"{"request": {"url": "/a"}, "response": {"status": 200}}"#;
        assert_eq!(
            load_text(Path::new("m"), one, Path::new("/"))
                .unwrap()
                .len(),
            1
        );
        let wrapped = format!(r#"{{"mappings": [{one}, {one}]}}"#);
        assert_eq!(
            load_text(Path::new("m"), &wrapped, Path::new("/"))
                .unwrap()
                .len(),
            2
        );
        let bare = format!("[{one}]");
        assert_eq!(
            load_text(Path::new("m"), &bare, Path::new("/"))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn unknown_matcher_points_at_its_key() {
        let src = "{\n  \"request\": {\n    \"url\": \"/a\",\n    \"headers\": {\"X\": {\"equalsTo\": \"1\"}}\n  }\n}";
        let p = problems(src);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("4:23 unknown matcher key `equalsTo`"),
            "{p:?}"
        );
    }

    #[test]
    fn missing_body_file_and_bad_regex_are_reported() {
        let src =
            r#"{"request": {"urlPattern": "/a(["}, "response": {"bodyFileName": "nope.json"}}"#;
        let p = problems(src);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|m| m.contains("invalid regex")));
        assert!(p
            .iter()
            .any(|m| m.contains("body file `nope.json` not found")));
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let p = problems("{\n  \"request\": {\"url\": \"/a\",}\n}");
        assert!(p[0].starts_with("2:"), "{p:?}");
    }
}
