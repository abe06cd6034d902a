//! An imposter's JSON to compiled stubs, with every refusal pinned to the
//! key it is about. Checks what mountebank's own validation (the dry run,
//! behaviorsValidator) refuses, and what devenv will not run.

use std::collections::BTreeMap;
use std::sync::Mutex;

use regex::{Regex, RegexBuilder};

use super::imposter::{Imposter, Stub};
use super::js::Js;
use super::jsonpath::JsonPath;
use super::load_responses::{is_fields, response};
use super::predicates::{Both, Cfg, Op, Predicate};
use super::xpath::XPath;
use crate::mocks::json_pos::Seg;
use crate::mocks::sources::Ctx;

pub(super) const CODE: &str = "devenv never runs code from a repository's mock files: replace it with `is` responses and predicates";
const OPS: [&str; 11] = [
    "equals",
    "deepEquals",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "exists",
    "not",
    "or",
    "and",
    "inject",
];
/// A day, like the other mock delays.
pub(super) const MAX_WAIT_MS: f64 = 86_400_000.0;

pub(super) fn k(at: &[Seg], key: &str) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Key(key.into()));
    v
}

pub(super) fn ix(at: &[Seg], i: usize) -> Vec<Seg> {
    let mut v = at.to_vec();
    v.push(Seg::Index(i));
    v
}

pub fn imposter(v: &Js, at: &[Seg], name: &str, ctx: &mut Ctx<'_>) -> Option<Imposter> {
    if v.as_obj().is_none() {
        ctx.err(at, "an imposter must be a JSON object");
        return None;
    }
    match v.get("protocol") {
        Js::Str(p) if p == "http" => {}
        Js::Undef => {
            ctx.err_hint(
                at,
                "the imposter has no `protocol`",
                "add \"protocol\": \"http\"",
            );
            return None;
        }
        p => {
            ctx.err_hint(
                &k(at, "protocol"),
                format!("protocol {} is not supported", p.to_js_string()),
                "devenv mocks speak plain http; https, tcp, smtp and plugin protocols are refused",
            );
            return None;
        }
    }
    if let Js::Obj(r) = v.get("endOfRequestResolver") {
        if r.get("inject").is_some() {
            ctx.err_hint(
                &k(at, "endOfRequestResolver"),
                "`endOfRequestResolver` injects JavaScript",
                CODE,
            );
        }
    }
    let default_response = match v.get("defaultResponse") {
        Js::Undef | Js::Null => Js::Undef,
        d @ Js::Obj(_) => {
            is_fields(&d, &k(at, "defaultResponse"), ctx);
            d
        }
        _ => {
            ctx.err(
                &k(at, "defaultResponse"),
                "`defaultResponse` must be an object",
            );
            Js::Undef
        }
    };
    let mut stubs = Vec::new();
    match v.get("stubs") {
        Js::Undef | Js::Null => {}
        Js::Arr(list) => {
            for (i, s) in list.iter().enumerate() {
                if let Some(s) = stub(s, &ix(&k(at, "stubs"), i), ctx) {
                    stubs.push(s);
                }
            }
        }
        _ => ctx.err(&k(at, "stubs"), "`stubs` must be an array"),
    }
    let label = match v.get("name") {
        Js::Str(n) => format!("\"{n}\" ({name})"),
        _ => name.to_string(),
    };
    Some(Imposter {
        name: label,
        stubs,
        default_response,
        allow_cors: v.get("allowCORS").truthy(),
    })
}

fn stub(s: &Js, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Stub> {
    let mut predicates = Vec::new();
    match s.get("predicates") {
        Js::Undef | Js::Null => {}
        Js::Arr(list) => {
            for (i, p) in list.iter().enumerate() {
                predicates.extend(predicate(p, &ix(&k(at, "predicates"), i), ctx));
            }
        }
        _ => ctx.err(&k(at, "predicates"), "`predicates` must be an array"),
    }
    let mut responses = Vec::new();
    match s.get("responses") {
        Js::Arr(list) if !list.is_empty() => {
            for (i, r) in list.iter().enumerate() {
                responses.extend(response(r, &ix(&k(at, "responses"), i), ctx));
            }
        }
        _ => {
            ctx.err(&k(at, "responses"), "'responses' must be a non-empty array");
            return None;
        }
    }
    Some(Stub {
        predicates,
        responses,
        turn: Mutex::new(0),
    })
}

fn predicate(p: &Js, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Predicate> {
    let Some(o) = p.as_obj() else {
        ctx.err(at, "a predicate must be an object");
        return None;
    };
    let Some(op) = o.keys().into_iter().find(|key| OPS.contains(&key.as_str())) else {
        ctx.err_hint(
            at,
            "missing predicate",
            "use one of equals, deepEquals, contains, startsWith, endsWith, matches, exists, not, or, and",
        );
        return None;
    };
    let here = k(at, &op);
    let value = p.get(&op);
    let leaf = |op: Op, ctx: &mut Ctx<'_>| -> Option<Predicate> {
        if value.as_obj().is_none() {
            ctx.err(
                &here,
                format!("`{}` takes an object of request fields", op_name(op)),
            );
            return None;
        }
        let cfg = params(p, at, op, &value, ctx)?;
        Some(Predicate::Op {
            op,
            expected: value.clone(),
            cfg,
        })
    };
    match op.as_str() {
        "inject" => {
            ctx.err_hint(&here, "an `inject` predicate runs JavaScript", CODE);
            None
        }
        "not" => predicate(&value, &here, ctx).map(|q| Predicate::Not(Box::new(q))),
        "or" | "and" => {
            let Js::Arr(list) = &value else {
                ctx.err(&here, format!("`{op}` takes an array of predicates"));
                return None;
            };
            let qs: Vec<Predicate> = list
                .iter()
                .enumerate()
                .filter_map(|(i, q)| predicate(q, &ix(&here, i), ctx))
                .collect();
            (qs.len() == list.len()).then(|| {
                if op == "or" {
                    Predicate::Or(qs)
                } else {
                    Predicate::And(qs)
                }
            })
        }
        "equals" => leaf(Op::Equals, ctx),
        "deepEquals" => leaf(Op::DeepEquals, ctx),
        "contains" => leaf(Op::Contains, ctx),
        "startsWith" => leaf(Op::StartsWith, ctx),
        "endsWith" => leaf(Op::EndsWith, ctx),
        "matches" => leaf(Op::Matches, ctx),
        _ => leaf(Op::Exists, ctx),
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Equals => "equals",
        Op::DeepEquals => "deepEquals",
        Op::Contains => "contains",
        Op::StartsWith => "startsWith",
        Op::EndsWith => "endsWith",
        Op::Matches => "matches",
        Op::Exists => "exists",
    }
}

pub(super) fn regex(src: &str, insensitive: bool) -> Result<Regex, String> {
    RegexBuilder::new(src)
        .case_insensitive(insensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let e = e.to_string();
            let why = e.lines().last().unwrap_or(&e).trim().to_string();
            format!("the regular expression `{src}` cannot be used here: {why}")
        })
}

fn both_regex(src: &str, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<(Regex, Regex)> {
    match (regex(src, false), regex(src, true)) {
        (Ok(a), Ok(b)) => Some((a, b)),
        (Err(e), _) | (_, Err(e)) => {
            ctx.err_hint(
                at,
                e,
                "write it without look-around or back-references (devenv's regex engine has neither)",
            );
            None
        }
    }
}

fn params(p: &Js, at: &[Seg], op: Op, expected: &Js, ctx: &mut Ctx<'_>) -> Option<Cfg> {
    let mut cfg = Cfg {
        case_sensitive: p.get("caseSensitive").truthy(),
        key_case_sensitive: match p.get("keyCaseSensitive") {
            Js::Undef => None,
            v => Some((v == Js::Bool(false), v.truthy())),
        },
        ..Cfg::default()
    };
    let mut ok = true;
    let except = p.get("except");
    if except.truthy() {
        match both_regex(&except.to_js_string(), &k(at, "except"), ctx) {
            Some((exact, lower)) => cfg.except = Some(Both { exact, lower }),
            None => ok = false,
        }
    }
    let jp = p.get("jsonpath");
    if jp.truthy() {
        let sel = jp.get("selector");
        let Js::Str(s) = sel else {
            ctx.err(&k(at, "jsonpath"), "`jsonpath` needs a `selector` string");
            return None;
        };
        match (JsonPath::parse(&s), JsonPath::parse(&s.to_lowercase())) {
            (Ok(exact), Ok(lower)) => cfg.jsonpath = Some(Both { exact, lower }),
            (Err(e), _) | (_, Err(e)) => {
                ctx.err(&k(&k(at, "jsonpath"), "selector"), e);
                ok = false;
            }
        }
    } else {
        let xp = p.get("xpath");
        if xp.truthy() {
            match xpath_of(&xp, &k(at, "xpath"), ctx) {
                Some(b) => cfg.xpath = Some(b),
                None => ok = false,
            }
        }
    }
    if op == Op::Matches {
        let mut leaves = Vec::new();
        collect_leaves(expected, &k(at, "matches"), &mut leaves);
        for (src, where_) in leaves {
            match both_regex(&src, &where_, ctx) {
                Some(pair) => {
                    cfg.regexes.insert(src, pair);
                }
                None => ok = false,
            }
        }
    }
    ok.then_some(cfg)
}

fn collect_leaves(v: &Js, at: &[Seg], out: &mut Vec<(String, Vec<Seg>)>) {
    match v {
        Js::Obj(o) => {
            for (key, x) in o.iter() {
                collect_leaves(x, &k(at, key), out);
            }
        }
        Js::Arr(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_leaves(x, &ix(at, i), out);
            }
        }
        Js::Undef => {}
        x => out.push((x.to_js_string(), at.to_vec())),
    }
}

fn ns_of(v: &Js) -> Option<BTreeMap<String, String>> {
    match v.get("ns") {
        Js::Undef | Js::Null => Some(BTreeMap::new()),
        Js::Obj(o) => o
            .iter()
            .map(|(a, b)| b.as_str().map(|b| (a.clone(), b.to_string())))
            .collect(),
        _ => None,
    }
}

pub(super) fn xpath_of(xp: &Js, at: &[Seg], ctx: &mut Ctx<'_>) -> Option<Both<XPath>> {
    let (Js::Str(s), Some(ns)) = (xp.get("selector"), ns_of(xp)) else {
        ctx.err(
            at,
            "`xpath` needs a `selector` string and an `ns` object of strings, if any",
        );
        return None;
    };
    let lower_ns = ns
        .iter()
        .map(|(a, b)| (a.clone(), b.to_lowercase()))
        .collect();
    match (
        XPath::parse(&s, &ns),
        XPath::parse(&s.to_lowercase(), &lower_ns),
    ) {
        (Ok(exact), Ok(lower)) => Some(Both { exact, lower }),
        (Err(e), _) | (_, Err(e)) => {
            ctx.err_hint(
                &k(at, "selector"),
                format!("XPath `{s}`: {e}"),
                "devenv supports location paths (/, //, @attr, text(), [N], [last()], [path], [path='x']) and count()",
            );
            None
        }
    }
}
