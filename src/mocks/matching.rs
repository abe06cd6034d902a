//! Does a request fit a stub, and if not, why. The fast path stops at the
//! first difference; the diagnostic path collects every reason so an
//! unmatched request can be explained.

use serde_json::Value;

use super::json_text::json_text;
use super::pact_rules;
use super::request::View;
use super::string_matcher::show_regex;
use super::stub::{BodyMatcher, RequestPattern, UrlMatch};

/// The request-side verdict for one stub.
pub struct Verdict {
    pub reasons: Vec<String>,
    /// Checks made and failed, for ranking near misses.
    pub checks: u32,
    pub failed: u32,
    /// The URL or method differs (a weaker candidate for "nearest").
    pub url_failed: bool,
    /// Checks that failed but only rank the stub lower (`soft_headers`).
    pub soft_failed: u32,
}

/// `diagnose = false` stops at the first difference and allocates nothing
/// on the way to a match.
pub fn check(p: &RequestPattern, v: &View<'_>, state: Option<&str>, diagnose: bool) -> Verdict {
    let mut out = Verdict {
        reasons: Vec::new(),
        checks: 0,
        failed: 0,
        url_failed: false,
        soft_failed: 0,
    };
    macro_rules! fail {
        ($($t:tt)*) => {{
            out.failed += 1;
            if !diagnose {
                return out;
            }
            out.reasons.push(format!($($t)*));
        }};
    }
    out.checks += 1;
    if let Some(m) = &p.method {
        if !m.eq_ignore_ascii_case(&v.req.method) {
            out.url_failed = true;
            fail!("method is {}, the stub wants {m}", v.req.method);
        }
    }
    out.checks += 1;
    let path = v.req.path.as_str();
    let url_ok = match &p.url {
        UrlMatch::Any => true,
        UrlMatch::Url(u) => u == v.url(),
        UrlMatch::Path(u) => u == path,
        UrlMatch::Pattern(r) => r.is_match(v.url()),
        UrlMatch::PathPattern(r) => r.is_match(path),
        UrlMatch::Template(t) => t.captures(path).is_some(),
    };
    if !url_ok {
        out.url_failed = true;
        match &p.url {
            UrlMatch::Url(u) => fail!("url is {}, the stub wants exactly {u}", redact_url(v.url())),
            UrlMatch::Path(u) => fail!("path is {path}, the stub wants {u}"),
            UrlMatch::Pattern(r) => {
                fail!(
                    "url {} does not match {}",
                    redact_url(v.url()),
                    show_regex(r)
                )
            }
            UrlMatch::PathPattern(r) => {
                fail!("path {path} does not match {}", show_regex(r))
            }
            UrlMatch::Template(t) => fail!("path {path} does not fit {}", t.raw),
            UrlMatch::Any => {}
        }
    }
    if let (Some(declared), Some(s)) = (&p.provider_states, state) {
        out.checks += 1;
        if !declared.iter().any(|d| d == s) {
            match declared.as_slice() {
                [] => fail!("provider state is {s:?}, this interaction declares none"),
                [one] => fail!("provider state is {s:?}, this interaction needs {one:?}"),
                many => fail!("provider state is {s:?}, this interaction needs one of {many:?}"),
            }
        }
    }
    for (name, m) in &p.query {
        out.checks += 1;
        if !m.test_any(v.query_values(name)) {
            let got: Vec<&str> = v.query_values(name).collect();
            fail!(
                "query parameter {name}: wanted {}, got {}",
                m.describe(),
                shown_for(name, &got)
            );
        }
    }
    if p.query_exact {
        for (k, _) in v.query() {
            if !p.query.iter().any(|(n, _)| n == k) {
                out.checks += 1;
                fail!("query parameter {k} is not expected");
            }
        }
    }
    for (name, m) in &p.headers {
        out.checks += 1;
        let values = v
            .req
            .headers
            .get_all(name)
            .iter()
            .map(|h| h.to_str().unwrap_or(""));
        if !m.test_any(values) && p.soft_headers && !diagnose {
            out.soft_failed += 1;
        } else if !m.test_any(
            v.req
                .headers
                .get_all(name)
                .iter()
                .map(|h| h.to_str().unwrap_or("")),
        ) {
            let got: Vec<&str> = v
                .req
                .headers
                .get_all(name)
                .iter()
                .map(|h| h.to_str().unwrap_or(""))
                .collect();
            fail!(
                "header {name}: wanted {}, got {}",
                m.describe(),
                shown_for(name.as_str(), &got)
            );
        }
    }
    for (name, m) in &p.cookies {
        out.checks += 1;
        let values = v
            .cookies()
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        if !m.test_any(values) {
            fail!("cookie {name}: wanted {}", m.describe());
        }
    }
    if !p.path_params.is_empty() {
        let caps = match &p.url {
            UrlMatch::Template(t) => t.captures(path).unwrap_or_default(),
            _ => Vec::new(),
        };
        for (name, m) in &p.path_params {
            out.checks += 1;
            let got = caps.iter().find(|(k, _)| k == name).map(|(_, x)| *x);
            if !m.test(got) {
                fail!(
                    "path parameter {name}: wanted {}, got {}",
                    m.describe(),
                    shown(&got.into_iter().collect::<Vec<_>>())
                );
            }
        }
    }
    for b in &p.body {
        out.checks += 1;
        if let Err(why) = body(b, v, diagnose) {
            fail!("body: {why}");
        }
    }
    out
}

/// Header, cookie and query names whose values may be credentials: their
/// values never reach a diagnostic or the request log.
pub fn sensitive(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth",
        "token",
        "secret",
        "password",
        "passwd",
        "key",
        "cookie",
        "session",
        "signature",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// `url` with the values of sensitive query parameters replaced by `***`.
pub fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let Some((path, query)) = url.split_once('?') else {
        return url.into();
    };
    if !query
        .split('&')
        .any(|p| sensitive(p.split('=').next().unwrap_or("")))
    {
        return url.into();
    }
    let parts: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if sensitive(k) => format!("{k}=***"),
            _ => p.to_string(),
        })
        .collect();
    format!("{path}?{}", parts.join("&")).into()
}

fn shown_for(name: &str, got: &[&str]) -> String {
    if sensitive(name) && !got.is_empty() {
        return format!("{} value(s), not shown", got.len());
    }
    shown(got)
}

fn shown(got: &[&str]) -> String {
    match got {
        [] => "nothing".into(),
        [one] => format!("{one:?}"),
        many => format!("{many:?}"),
    }
}

fn body(m: &BodyMatcher, v: &View<'_>, diagnose: bool) -> Result<(), String> {
    let no_json = || "is not JSON".to_string();
    match m {
        BodyMatcher::Text(s) => {
            let text = v.body_text();
            let present = (!v.req.body.is_empty()).then_some(text.as_ref());
            if s.test(present) {
                Ok(())
            } else if diagnose {
                Err(format!("wanted {}, got {}", s.describe(), clip(&text)))
            } else {
                Err(String::new())
            }
        }
        BodyMatcher::EqualToJson {
            value,
            ignore_array_order,
            ignore_extra,
        } => {
            let got = v.json().ok_or_else(no_json)?;
            if json_eq(value, got, *ignore_array_order, *ignore_extra) {
                Ok(())
            } else {
                Err(format!(
                    "is not equal to the JSON {}",
                    clip(&value.to_string())
                ))
            }
        }
        BodyMatcher::MatchesJsonPath { path, raw, sub } => {
            let got = v.json().ok_or_else(no_json)?;
            let found = path.select(got);
            let present: Vec<&Value> = found.into_iter().filter(|x| !x.is_null()).collect();
            match sub {
                None if present.is_empty() => Err(format!("JSONPath {raw} finds nothing")),
                None => Ok(()),
                Some(s) => {
                    let texts: Vec<String> = present.iter().map(|x| json_text(x)).collect();
                    if s.test_any(texts.iter().map(String::as_str)) {
                        Ok(())
                    } else {
                        Err(format!(
                            "JSONPath {raw} = {} is not {}",
                            shown(&texts.iter().map(String::as_str).collect::<Vec<_>>()),
                            s.describe()
                        ))
                    }
                }
            }
        }
        BodyMatcher::JsonPathEqualToJson {
            path,
            raw,
            value,
            ignore_array_order,
            ignore_extra,
        } => {
            let got = v.json().ok_or_else(no_json)?;
            if path
                .select(got)
                .into_iter()
                .any(|x| json_eq(value, x, *ignore_array_order, *ignore_extra))
            {
                Ok(())
            } else {
                Err(format!(
                    "JSONPath {raw} selects nothing equal to the JSON {}",
                    clip(&value.to_string())
                ))
            }
        }
        // As pact-stub-server: a request without a body fits any expected body.
        BodyMatcher::Binary(_) | BodyMatcher::Pact { .. } if v.req.body.is_empty() => Ok(()),
        BodyMatcher::Binary(want) if v.req.body == *want => Ok(()),
        BodyMatcher::Binary(want) => Err(format!(
            "is {} bytes that differ from the interaction's {} bytes",
            v.req.body.len(),
            want.len()
        )),
        BodyMatcher::Pact { expected, rules } => match v.json() {
            Some(got) => pact_rules::compare_body(expected, got, rules),
            None => match expected {
                Value::String(s) if *s == v.body_text() => Ok(()),
                _ => Err(no_json()),
            },
        },
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{:?}…", s.chars().take(80).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

/// WireMock's `equalToJson`, with json-unit's `${json-unit.*}` placeholders.
pub fn json_eq(exp: &Value, act: &Value, ignore_order: bool, ignore_extra: bool) -> bool {
    if let Value::String(s) = exp {
        match s.as_str() {
            "${json-unit.ignore}" | "${json-unit.any}" => return true,
            "${json-unit.any-string}" => return act.is_string(),
            "${json-unit.any-number}" => return act.is_number(),
            "${json-unit.any-boolean}" => return act.is_boolean(),
            _ => {}
        }
        if let Some(r) = s
            .strip_prefix("${json-unit.regex}")
            .and_then(|r| regex::Regex::new(&format!("^(?:{r})$")).ok())
        {
            return act.as_str().is_some_and(|a| r.is_match(a));
        }
    }
    match (exp, act) {
        (Value::Object(e), Value::Object(a)) => {
            (ignore_extra || e.len() == a.len())
                && e.iter().all(|(k, ev)| {
                    a.get(k)
                        .is_some_and(|av| json_eq(ev, av, ignore_order, ignore_extra))
                })
        }
        (Value::Array(e), Value::Array(a)) => {
            if !ignore_extra && e.len() != a.len() || e.len() > a.len() {
                return false;
            }
            if ignore_order {
                let mut used = vec![false; a.len()];
                e.iter().all(|ev| {
                    let hit = a.iter().enumerate().position(|(i, av)| {
                        !used[i] && json_eq(ev, av, ignore_order, ignore_extra)
                    });
                    hit.map(|i| used[i] = true).is_some()
                })
            } else if ignore_extra {
                // Extra elements may sit anywhere; the expected ones keep their order.
                let mut it = a.iter();
                e.iter()
                    .all(|ev| it.any(|av| json_eq(ev, av, ignore_order, ignore_extra)))
            } else {
                e.iter()
                    .zip(a)
                    .all(|(ev, av)| json_eq(ev, av, ignore_order, ignore_extra))
            }
        }
        (Value::Number(e), Value::Number(a)) => e == a || e.as_f64() == a.as_f64(),
        (e, a) => e == a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_to_json_honours_its_flags() {
        let e = json!({"a": [1, 2], "b": "x"});
        assert!(json_eq(&e, &json!({"b": "x", "a": [1, 2]}), false, false));
        assert!(!json_eq(&e, &json!({"a": [2, 1], "b": "x"}), false, false));
        assert!(json_eq(&e, &json!({"a": [2, 1], "b": "x"}), true, false));
        assert!(!json_eq(
            &e,
            &json!({"a": [1, 2], "b": "x", "c": 1}),
            false,
            false
        ));
        assert!(json_eq(
            &e,
            &json!({"a": [1, 2], "b": "x", "c": 1}),
            false,
            true
        ));
        assert!(json_eq(&json!({"n": 1}), &json!({"n": 1.0}), false, false));
        assert!(json_eq(
            &json!({"id": "${json-unit.any-string}"}),
            &json!({"id": "z"}),
            false,
            false
        ));
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;
    use crate::mocks::request::Request;
    use crate::mocks::string_matcher::StringMatcher;
    use crate::mocks::stub::RequestPattern;
    use hyper::header::HeaderName;

    #[test]
    fn credentials_never_reach_diagnostics() {
        let mut req = Request {
            method: "GET".into(),
            path: "/a".into(),
            query: Some("api_key=s3cr3t&page=2".into()),
            ..Default::default()
        };
        req.headers
            .insert("authorization", "Bearer s3cr3t".parse().unwrap());
        let p = RequestPattern {
            url: UrlMatch::Url("/b".into()),
            headers: vec![(
                HeaderName::from_static("authorization"),
                StringMatcher::EqualTo {
                    value: "Bearer other".into(),
                    case_insensitive: false,
                },
            )],
            ..Default::default()
        };
        let v = check(&p, &View::new(&req), None, true);
        let all = v.reasons.join("\n");
        assert!(!all.contains("s3cr3t"), "{all}");
        assert!(all.contains("api_key=***&page=2"), "{all}");
        assert!(all.contains("1 value(s), not shown"), "{all}");
    }
}
