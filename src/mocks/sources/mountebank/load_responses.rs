//! A stub's responses and their behaviours, checked as mountebank's
//! validation and behaviorsValidator check them, plus what devenv refuses.

use super::js::Js;
use super::jsonpath::JsonPath;
use super::load::{ix, k, regex, xpath_of, CODE, MAX_WAIT_MS};
use super::responses::{parse_int, Behavior, Copy, Kind, StubResponse, Using};
use crate::mocks::json_pos::Seg;
use crate::mocks::sources::Ctx;
use crate::mocks::stub::Fault;

pub(super) fn is_fields(v: &Js, at: &[Seg], ctx: &mut Ctx<'_>) {
    if let Js::Num(n) = v.get("statusCode") {
        if !(100.0..1000.0).contains(&n) {
            ctx.err(
                &k(at, "statusCode"),
                format!("status {n} is not an HTTP status"),
            );
        }
    }
    if v.get("_mode").as_str() == Some("binary") && !matches!(v.get("body"), Js::Str(_) | Js::Undef)
    {
        ctx.err(
            &k(at, "body"),
            "a `_mode: binary` body must be a base64 string",
        );
    }
}

pub(super) fn response(r: &Js, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<StubResponse> {
    if r.as_obj().is_none() {
        ctx.err(at, "a response must be an object");
        return None;
    }
    let types: Vec<&str> = ["is", "proxy", "inject", "fault"]
        .into_iter()
        .filter(|t| r.get(t).truthy())
        .collect();
    if types.len() > 1 {
        ctx.err(at, "each response object must have only one response type");
        return None;
    }
    let kind = match types.first() {
        None => {
            ctx.err_hint(at, "unrecognized response type", "give it an `is` response");
            return None;
        }
        Some(&"inject") => {
            ctx.err_hint(
                &k(at, "inject"),
                "an `inject` response runs JavaScript",
                CODE,
            );
            return None;
        }
        Some(&"proxy") => {
            ctx.err_hint(
                &k(at, "proxy"),
                "`proxy` responses are not supported: a mock answers on its own",
                "record the upstream with `devenv mock record NAME --upstream URL`, or write `is` responses",
            );
            return None;
        }
        Some(&"fault") => Kind::Fault(match r.get("fault").as_str() {
            Some("CONNECTION_RESET_BY_PEER") => Some(Fault::ConnectionReset),
            Some("RANDOM_DATA_THEN_CLOSE") => Some(Fault::EmptyResponse),
            _ => None,
        }),
        Some(_) => {
            let is = r.get("is");
            if is.as_obj().is_none() {
                ctx.err(&k(at, "is"), "`is` must be an object");
                return None;
            }
            is_fields(&is, &k(at, "is"), ctx);
            Kind::Is(is)
        }
    };
    // compatibility.upcast: the old `_behaviors` object, when neither
    // `behaviors` nor `repeat` is set.
    let old = r.get("_behaviors");
    let (list, list_at, repeat_v) = if matches!(r.get("behaviors"), Js::Undef)
        && matches!(r.get("repeat"), Js::Undef)
        && old.as_obj().is_some()
    {
        (upcast(&old), k(at, "_behaviors"), old.get("repeat"))
    } else {
        (r.get("behaviors"), k(at, "behaviors"), r.get("repeat"))
    };
    let behaviors = behaviors(&list, &list_at, ctx)?;
    let repeat = match &repeat_v {
        Js::Undef => 1,
        Js::Num(_) | Js::Str(_) => {
            // Validated with parseInt, counted with `j < repeat`.
            let invalid = match &repeat_v {
                Js::Num(n) => *n <= 0.0,
                v => parse_int(v).is_some_and(|n| n <= 0.0),
            };
            if invalid {
                ctx.err(
                    &k(at, "repeat"),
                    "\"repeat\" field must be an integer greater than 0",
                );
                return None;
            }
            let n = repeat_v.to_number();
            if !repeat_v.truthy() {
                1
            } else if n.is_nan() || n <= 0.0 {
                0
            } else {
                n.ceil().min(1e12) as u64
            }
        }
        _ => {
            ctx.err(
                &k(at, "repeat"),
                "\"repeat\" field must be an integer greater than 0",
            );
            return None;
        }
    };
    Some(StubResponse {
        kind,
        behaviors,
        repeat,
    })
}

fn upcast(old: &Js) -> Js {
    let mut out = Vec::new();
    for key in ["wait", "lookup", "copy", "shellTransform", "decorate"] {
        match old.get(key) {
            Js::Undef => {}
            Js::Arr(a) => {
                for x in a {
                    out.push(Js::Obj([(key.to_string(), x)].into_iter().collect()));
                }
            }
            x => out.push(Js::Obj([(key.to_string(), x)].into_iter().collect())),
        }
    }
    Js::Arr(out)
}

fn behaviors(list: &Js, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Vec<Behavior>> {
    let items = match list {
        Js::Undef | Js::Null => return Some(Vec::new()),
        Js::Arr(a) => a,
        _ => {
            ctx.err(at, "`behaviors` must be an array");
            return None;
        }
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, b) in items.iter().enumerate() {
        let here = ix(at, i);
        let Some(o) = b.as_obj() else {
            ctx.err(&here, "a behavior must be an object");
            ok = false;
            continue;
        };
        let known: Vec<String> = o
            .keys()
            .into_iter()
            .filter(|key| {
                ["wait", "copy", "lookup", "shellTransform", "decorate"].contains(&key.as_str())
            })
            .collect();
        if known.len() != 1 {
            let msg = match known.len() {
                0 => format!(
                    "Unrecognized behavior: \"{}\"",
                    o.keys().first().cloned().unwrap_or_default()
                ),
                _ => "Each behavior object must have only one behavior type".to_string(),
            };
            ctx.err(&here, msg);
            ok = false;
            continue;
        }
        let key = known[0].as_str();
        let v = b.get(key);
        let at_key = k(&here, key);
        match key {
            "decorate" => ctx.err_hint(&at_key, "the `decorate` behavior runs JavaScript", CODE),
            "shellTransform" => ctx.err_hint(
                &at_key,
                "the `shellTransform` behavior runs a shell command",
                CODE,
            ),
            "lookup" => ctx.err_hint(
                &at_key,
                "the `lookup` behavior (CSV data sources) is not supported",
                "put the looked-up values into `is` responses, one stub per key",
            ),
            "wait" => match &v {
                Js::Num(n) if *n >= 0.0 && n.fract() == 0.0 && *n <= MAX_WAIT_MS => {
                    out.push(Behavior::Wait(*n as u64));
                    continue;
                }
                Js::Str(s) => match parse_int(&v) {
                    Some(n) if (0.0..=MAX_WAIT_MS).contains(&n) => {
                        out.push(Behavior::Wait(n as u64));
                        continue;
                    }
                    Some(_) => ctx.err(
                        &at_key,
                        format!("a wait of `{s}` is out of range (0 to a day, in ms)"),
                    ),
                    None => ctx.err_hint(&at_key, "a `wait` function runs JavaScript", CODE),
                },
                _ => ctx.err(
                    &at_key,
                    "wait behavior \"wait\" field must be an integer greater than or equal to 0",
                ),
            },
            _ => {
                if let Some(c) = copy(&v, &at_key, ctx) {
                    out.push(Behavior::Copy(c));
                    continue;
                }
            }
        }
        ok = false;
    }
    ok.then_some(out)
}

fn copy(v: &Js, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Copy> {
    let from = v.get("from");
    let from_ok = match &from {
        Js::Str(_) => true,
        Js::Obj(o) => !o.is_empty() && o.len() == 1,
        _ => false,
    };
    if !from_ok {
        ctx.err(
            &k(at, "from"),
            "copy behavior \"from\" field must be a string or an object with one key",
        );
        return None;
    }
    let Js::Str(into) = v.get("into") else {
        ctx.err(
            &k(at, "into"),
            "copy behavior \"into\" field must be a string",
        );
        return None;
    };
    let using = v.get("using");
    let (Js::Str(method), Js::Str(selector)) = (using.get("method"), using.get("selector")) else {
        ctx.err(
            &k(at, "using"),
            "copy behavior \"using\" needs a `method` and a `selector` string",
        );
        return None;
    };
    let here = k(&k(at, "using"), "selector");
    let using = match method.as_str() {
        "regex" => {
            let opts = using.get("options");
            let pattern = if opts.get("multiline").truthy() {
                format!("(?m){selector}")
            } else {
                selector.clone()
            };
            match regex(&pattern, opts.get("ignoreCase").truthy()) {
                Ok(r) => Using::Regex(r),
                Err(e) => {
                    ctx.err(&here, e);
                    return None;
                }
            }
        }
        "jsonpath" => match JsonPath::parse(&selector) {
            Ok(p) => Using::JsonPath(p),
            Err(e) => {
                ctx.err(&here, e);
                return None;
            }
        },
        "xpath" => Using::XPath(xpath_of(&using, &k(at, "using"), ctx)?.exact),
        m => {
            ctx.err(
                &k(&k(at, "using"), "method"),
                format!("copy behavior \"using.method\" field must be one of [regex, xpath, jsonpath], not `{m}`"),
            );
            return None;
        }
    };
    Some(Copy { from, into, using })
}
