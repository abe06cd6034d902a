//! WireMock matcher objects: `{"equalTo": ...}` and friends for URLs,
//! headers, query parameters and cookies, and `bodyPatterns`.

use regex::Regex;
use serde_json::{Map, Value};

use super::wiremock_keys::{key, unknown_keys, BODY_MATCHERS, STRING_MATCHERS};
use super::Ctx;
use crate::mocks::json_pos::Seg;
use crate::mocks::jsonpath::JsonPath;
use crate::mocks::string_matcher::StringMatcher;
use crate::mocks::stub::BodyMatcher;

pub(super) fn named_matchers(
    r: &Map<String, Value>,
    at: &[Seg],
    field: &str,
    ctx: &mut Ctx<'_>,
    mut add: impl FnMut(String, StringMatcher),
) -> bool {
    let Some(v) = r.get(field) else {
        return true;
    };
    let fat = key(at, field);
    let Some(o) = v.as_object() else {
        ctx.err(
            &fat,
            format!("`{field}` must be an object of name -> matcher"),
        );
        return false;
    };
    let mut ok = true;
    for (name, m) in o {
        match string_matcher(m, &key(&fat, name), ctx) {
            Some(m) => add(name.clone(), m),
            None => ok = false,
        }
    }
    ok
}

pub(super) fn anchored(re: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{re})$"))
}

/// `{"equalTo": "x"}` and friends.
pub fn string_matcher(v: &Value, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<StringMatcher> {
    let Some(o) = v.as_object() else {
        ctx.err_hint(
            at,
            "a matcher must be an object",
            "write it like {\"equalTo\": \"value\"}",
        );
        return None;
    };
    let ops: Vec<&String> = o.keys().filter(|k| *k != "caseInsensitive").collect();
    let Some(op) = ops.first() else {
        return Some(StringMatcher::Present);
    };
    if let Some(second) = ops.get(1) {
        ctx.err_hint(
            &key(at, second),
            format!("`{op}` and `{second}` in one matcher"),
            "a matcher object holds one matcher: use `and` or `or` to combine them",
        );
        return None;
    }
    let oat = key(at, op);
    if !STRING_MATCHERS.contains(&op.as_str()) {
        unknown_keys(
            ctx,
            at,
            o,
            &[STRING_MATCHERS, &["caseInsensitive"]].concat(),
            "matcher",
        );
        return None;
    }
    let text = |ctx: &mut Ctx<'_>| match o[op.as_str()].as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            ctx.err(&oat, format!("`{op}` takes a string"));
            None
        }
    };
    let regex = |ctx: &mut Ctx<'_>, s: String| match anchored(&s) {
        Ok(r) => Some(r),
        Err(e) => {
            ctx.err(&oat, format!("invalid regex: {e}"));
            None
        }
    };
    Some(match op.as_str() {
        "equalTo" => StringMatcher::EqualTo {
            value: text(ctx)?,
            case_insensitive: o
                .get("caseInsensitive")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        "contains" => StringMatcher::Contains(text(ctx)?),
        "matches" => {
            let s = text(ctx)?;
            StringMatcher::Matches(regex(ctx, s)?)
        }
        "doesNotMatch" => {
            let s = text(ctx)?;
            StringMatcher::DoesNotMatch(regex(ctx, s)?)
        }
        "absent" => StringMatcher::Absent,
        _ => {
            let Some(list) = o[op.as_str()].as_array() else {
                ctx.err(&oat, format!("`{op}` takes an array of matchers"));
                return None;
            };
            let mut ms = Vec::new();
            for (i, x) in list.iter().enumerate() {
                let mut iat = oat.clone();
                iat.push(Seg::Index(i));
                ms.push(string_matcher(x, &iat, ctx)?);
            }
            if op.as_str() == "and" {
                StringMatcher::And(ms)
            } else {
                StringMatcher::Or(ms)
            }
        }
    })
}

pub(super) fn body_matcher(v: &Value, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<BodyMatcher> {
    let Some(o) = v.as_object() else {
        ctx.err(at, "a body pattern must be an object");
        return None;
    };
    let extra = [
        "ignoreArrayOrder",
        "ignoreExtraElements",
        "caseInsensitive",
        "enablePlaceholders",
    ];
    let Some(op) = o.keys().find(|k| !extra.contains(&k.as_str())) else {
        ctx.err_hint(
            at,
            "a body pattern needs a matcher",
            format!("body matchers are: {}", BODY_MATCHERS.join(", ")),
        );
        return None;
    };
    let oat = key(at, op);
    match op.as_str() {
        "equalToJson" => {
            let value = match &o[op.as_str()] {
                Value::String(s) => match serde_json::from_str(s) {
                    Ok(v) => v,
                    Err(e) => {
                        ctx.err(&oat, format!("`equalToJson` holds invalid JSON: {e}"));
                        return None;
                    }
                },
                other => other.clone(),
            };
            let flag = |k: &str| o.get(k).and_then(Value::as_bool).unwrap_or(false);
            Some(BodyMatcher::EqualToJson {
                value,
                ignore_array_order: flag("ignoreArrayOrder"),
                ignore_extra: flag("ignoreExtraElements"),
            })
        }
        "matchesJsonPath" => {
            let (raw, sub) = match &o[op.as_str()] {
                Value::String(s) => (s.clone(), None),
                Value::Object(inner) => {
                    let Some(expr) = inner.get("expression").and_then(Value::as_str) else {
                        ctx.err(&oat, "`matchesJsonPath` needs an `expression`");
                        return None;
                    };
                    let mut rest = inner.clone();
                    rest.remove("expression");
                    if rest.contains_key("equalToJson") {
                        return json_path_equal_to_json(expr, &Value::Object(rest), &oat, ctx);
                    }
                    (
                        expr.to_string(),
                        Some(string_matcher(&Value::Object(rest), &oat, ctx)?),
                    )
                }
                _ => {
                    ctx.err(
                        &oat,
                        "`matchesJsonPath` takes a JSONPath string or {\"expression\": ...}",
                    );
                    return None;
                }
            };
            match JsonPath::parse(&raw) {
                Ok(path) => Some(BodyMatcher::MatchesJsonPath { path, raw, sub }),
                Err(e) => {
                    ctx.err(&oat, e);
                    None
                }
            }
        }
        k if BODY_MATCHERS.contains(&k) => string_matcher(v, at, ctx).map(BodyMatcher::Text),
        _ => {
            unknown_keys(
                ctx,
                at,
                o,
                &[BODY_MATCHERS, &extra].concat(),
                "body pattern",
            );
            None
        }
    }
}

/// `{"matchesJsonPath": {"expression": ..., "equalToJson": ..., flags}}`.
fn json_path_equal_to_json(
    expr: &str,
    rest: &Value,
    at: &[Seg],
    ctx: &mut Ctx<'_>,
) -> Option<BodyMatcher> {
    let Some(BodyMatcher::EqualToJson {
        value,
        ignore_array_order,
        ignore_extra,
    }) = body_matcher(rest, at, ctx)
    else {
        return None;
    };
    match JsonPath::parse(expr) {
        Ok(path) => Some(BodyMatcher::JsonPathEqualToJson {
            path,
            raw: expr.to_string(),
            value,
            ignore_array_order,
            ignore_extra,
        }),
        Err(e) => {
            ctx.err(&key(at, "expression"), e);
            None
        }
    }
}
