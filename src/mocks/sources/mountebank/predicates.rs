//! mountebank's predicates (src/models/predicates.js of 2.9.1), ported
//! function by function so that what matches there matches here: the
//! request and the expected value are both normalised (keys and values
//! lower-cased unless `caseSensitive`, `except` removed, `jsonpath` or
//! `xpath` selected, arrays sorted), then compared field by field.

use std::collections::HashMap;

use regex::Regex;

use super::js::{less, sort_by_before, stable_stringify, Js, Obj};
use super::json;
use super::jsonpath::JsonPath;
use super::xpath::{XPath, XValue};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Equals,
    DeepEquals,
    Contains,
    StartsWith,
    EndsWith,
    Matches,
    Exists,
}

#[derive(Debug)]
pub enum Predicate {
    Op { op: Op, expected: Js, cfg: Cfg },
    Not(Box<Predicate>),
    Or(Vec<Predicate>),
    And(Vec<Predicate>),
}

/// A selector compiled twice: as written, and lower-cased (as mountebank
/// lower-cases it when the predicate is not case-sensitive).
#[derive(Debug)]
pub struct Both<T> {
    pub exact: T,
    pub lower: T,
}

/// A predicate's parameters, as predicates.js reads them off the predicate.
#[derive(Debug, Default)]
pub struct Cfg {
    /// `caseSensitive`, truthy.
    pub case_sensitive: bool,
    /// `keyCaseSensitive` if the file sets it: (is it `false`, is it truthy).
    pub key_case_sensitive: Option<(bool, bool)>,
    /// `except` (empty when absent), compiled case-sensitively and not.
    pub except: Option<Both<Regex>>,
    pub jsonpath: Option<Both<JsonPath>>,
    pub xpath: Option<Both<XPath>>,
    /// `matches` regexes by source text, (case-sensitive, insensitive).
    pub regexes: HashMap<String, (Regex, Regex)>,
}

/// The parameters one normalisation runs with (predicates.js mutates and
/// clones its config; these are the values it ends up reading).
#[derive(Clone, Copy)]
struct Eff<'a> {
    cfg: &'a Cfg,
    case_sensitive: bool,
    /// `keyCaseSensitive === false`
    kcs_false: bool,
    /// `!!keyCaseSensitive`
    kcs_truthy: bool,
    use_except: bool,
    exists: bool,
}

impl<'a> Eff<'a> {
    fn of(cfg: &'a Cfg, exists: bool) -> Eff<'a> {
        // normalize(): keyCaseSensitive defaults to caseSensitive.
        let (kcs_false, kcs_truthy) = cfg
            .key_case_sensitive
            .unwrap_or((false, cfg.case_sensitive));
        Eff {
            cfg,
            case_sensitive: cfg.case_sensitive,
            kcs_false,
            kcs_truthy,
            use_except: cfg.except.is_some(),
            exists,
        }
    }

    fn key(&self, k: &str) -> String {
        if self.kcs_false || !self.case_sensitive {
            k.to_lowercase()
        } else {
            k.to_string()
        }
    }

    /// caseTransform, then exceptTransform.
    fn text(&self, s: &str) -> String {
        let s = if self.case_sensitive {
            s.to_string()
        } else {
            s.to_lowercase()
        };
        match (&self.cfg.except, self.use_except) {
            (Some(e), true) => {
                let r = if self.case_sensitive {
                    &e.exact
                } else {
                    &e.lower
                };
                r.replace_all(&s, "").into_owned()
            }
            _ => s,
        }
    }
}

/// Whether `request` (mountebank's request object) satisfies `p`. An error
/// is what JavaScript would throw (a TypeError), answered as a 500.
pub fn evaluate(p: &Predicate, request: &Js) -> Result<bool, String> {
    match p {
        Predicate::Not(q) => Ok(!evaluate(q, request)?),
        Predicate::Or(qs) => {
            for q in qs {
                if evaluate(q, request)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Predicate::And(qs) => {
            for q in qs {
                if !evaluate(q, request)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Predicate::Op { op, expected, cfg } => match op {
            Op::DeepEquals => Ok(deep_equals(expected, request, cfg)),
            Op::Matches => matches(expected, request, cfg),
            op => {
                let eff = Eff::of(cfg, *op == Op::Exists);
                let exp = normalize(expected, eff, false, false);
                let act = normalize(request, eff, true, false);
                satisfied(&exp, &act, eff, &|e, a| compare(*op, e, a))
            }
        },
    }
}

fn compare(op: Op, e: &Js, a: &Js) -> Result<bool, String> {
    let text = |a: &Js| -> Result<String, String> {
        match a {
            Js::Str(s) => Ok(s.clone()),
            other => Err(format!(
                "TypeError: actual.indexOf is not a function (the request value is {})",
                other.to_js_string()
            )),
        }
    };
    Ok(match op {
        Op::Equals => match (e, a) {
            (Js::Null, a) => matches!(a, Js::Null),
            (_, Js::Null | Js::Undef) => false,
            (e, a) => e.to_js_string() == a.to_js_string(),
        },
        Op::Contains => text(a)?.contains(&e.to_js_string()),
        Op::StartsWith => text(a)?.starts_with(&e.to_js_string()),
        Op::EndsWith => text(a)?.ends_with(&e.to_js_string()),
        Op::Exists => {
            let present = !matches!(a, Js::Undef) && *a != Js::str("");
            if e.truthy() {
                present
            } else {
                !present
            }
        }
        Op::DeepEquals | Op::Matches => false,
    })
}

fn force_strings(v: &Js) -> Js {
    match v {
        Js::Null => Js::str("null"),
        Js::Arr(a) => Js::Arr(a.iter().map(force_strings).collect()),
        Js::Obj(o) => Js::Obj(
            o.iter()
                .map(|(k, x)| (k.clone(), force_strings(x)))
                .collect(),
        ),
        Js::Undef => Js::Undef,
        other => Js::Str(other.to_js_string()),
    }
}

fn sort_objects(a: &Js, b: &Js) -> bool {
    if a.is_object() && b.is_object() {
        let (x, y) = (stable_stringify(a), stable_stringify(b));
        return less(
            &x.map(Js::Str).unwrap_or(Js::Undef),
            &y.map(Js::Str).unwrap_or(Js::Undef),
        );
    }
    less(a, b)
}

fn sorted(v: Vec<Js>) -> Vec<Js> {
    sort_by_before(v, &sort_objects)
}

/// `select()`: one value alone, several as a sorted array, none undefined.
fn one_or_sorted(mut values: Vec<Js>) -> Js {
    match values.len() {
        0 => Js::Undef,
        1 => values.pop().unwrap_or(Js::Undef),
        _ => Js::Arr(sorted(values)),
    }
}

/// `tryJSON`: the text parsed and normalised (no sorting), or the text.
fn try_json(text: &str, eff: Eff<'_>) -> Js {
    match json::parse(text) {
        Ok(v) => transform(&v, eff, &|s| Js::Str(eff.text(s)), false),
        Err(_) => Js::str(text),
    }
}

fn transform(v: &Js, eff: Eff<'_>, value: &dyn Fn(&str) -> Js, sort: bool) -> Js {
    match v {
        Js::Arr(a) => {
            let items: Vec<Js> = a.iter().map(|x| transform(x, eff, value, sort)).collect();
            Js::Arr(if sort { sorted(items) } else { items })
        }
        Js::Obj(o) => Js::Obj(
            o.iter()
                .map(|(k, x)| (eff.key(k), transform(x, eff, value, sort)))
                .collect::<Obj>(),
        ),
        Js::Str(s) => value(s),
        other => other.clone(),
    }
}

/// `normalize`: keys and values transformed, arrays sorted, and on the
/// request side each string run through the `jsonpath`/`xpath` selector.
fn normalize(v: &Js, eff: Eff<'_>, with_selectors: bool, force: bool) -> Js {
    let select = |s: String| -> Js {
        if !with_selectors {
            return Js::Str(s);
        }
        if let Some(jp) = &eff.cfg.jsonpath {
            let sel = if eff.kcs_truthy { &jp.exact } else { &jp.lower };
            let mut doc = try_json(&s, eff);
            if force {
                doc = force_strings(&doc);
            }
            let doc = match doc {
                Js::Str(t) => match json::parse(&t) {
                    Ok(v) => v,
                    Err(_) => return Js::Undef,
                },
                d => d,
            };
            if !doc.truthy() {
                return Js::Undef;
            }
            return one_or_sorted(sel.select(&doc));
        }
        if let Some(xp) = &eff.cfg.xpath {
            let sel = if eff.case_sensitive {
                &xp.exact
            } else {
                &xp.lower
            };
            return match sel.select(&s) {
                XValue::Number(n) => Js::Num(n),
                XValue::Bool(b) => Js::Bool(b),
                XValue::Nodes(n) => one_or_sorted(n.into_iter().map(Js::Str).collect()),
            };
        }
        Js::Str(s)
    };
    transform(v, eff, &|s| select(eff.text(s)), true)
}

fn satisfied(
    expected: &Js,
    actual: &Js,
    eff: Eff<'_>,
    f: &dyn Fn(&Js, &Js) -> Result<bool, String>,
) -> Result<bool, String> {
    if !actual.truthy() {
        return Ok(false);
    }
    let parsed;
    let actual = match actual {
        Js::Str(s) => {
            parsed = try_json(s, eff);
            &parsed
        }
        a => a,
    };
    let Some(fields) = field_names(expected) else {
        return Ok(true);
    };
    if matches!(actual, Js::Null) && !fields.is_empty() {
        // A body of `null`, parsed: `actual[fieldName]` throws.
        return Err(format!(
            "TypeError: Cannot read properties of null (reading '{}')",
            fields[0]
        ));
    }
    for name in fields {
        let e = expected.get(&name);
        let a = actual.get(&name);
        let ok = match (&e, &a) {
            (Js::Arr(es), Js::Arr(acts)) => {
                let mut all = true;
                for ev in es {
                    if !any(acts, |av| test(ev, av, eff, f))? {
                        all = false;
                        break;
                    }
                }
                all
            }
            (e, Js::Arr(acts)) => {
                if eff.exists && e.truthy() {
                    true
                } else {
                    any(acts, |av| test(e, av, eff, f))?
                }
            }
            (e, Js::Undef) if !matches!(e, Js::Arr(_)) && matches!(actual, Js::Arr(_)) => {
                // `{ equals: { examples: { key: 'third' } } }` against an
                // array of objects: any element may have it.
                let acts = match actual {
                    Js::Arr(a) => a.as_slice(),
                    _ => &[],
                };
                any(acts, |av| test(expected, av, eff, f))?
            }
            (e, a) if e.is_object() => satisfied(e, a, eff, f)?,
            (e, a) => test(e, a, eff, f)?,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn field_names(v: &Js) -> Option<Vec<String>> {
    match v {
        Js::Obj(o) => Some(o.keys()),
        Js::Arr(a) => Some((0..a.len()).map(|i| i.to_string()).collect()),
        _ => None,
    }
}

fn any(items: &[Js], mut f: impl FnMut(&Js) -> Result<bool, String>) -> Result<bool, String> {
    for x in items {
        if f(x)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn test(
    expected: &Js,
    actual: &Js,
    eff: Eff<'_>,
    f: &dyn Fn(&Js, &Js) -> Result<bool, String>,
) -> Result<bool, String> {
    let empty = Js::str("");
    let actual = if matches!(actual, Js::Undef) {
        &empty
    } else {
        actual
    };
    if expected.is_object() {
        satisfied(expected, actual, eff, f)
    } else {
        f(expected, actual)
    }
}

fn deep_equals(expected: &Js, request: &Js, cfg: &Cfg) -> bool {
    let eff = Eff::of(cfg, false);
    let exp = normalize(&force_strings(expected), eff, false, false);
    let act = normalize(&force_strings(request), eff, true, true);
    let Some(fields) = field_names(&exp) else {
        return true;
    };
    fields.iter().all(|name| {
        let e = exp.get(name);
        let mut a = act.get(name);
        if e.is_object() {
            if let Js::Str(s) = &a {
                let possible = try_json(s, eff);
                a = normalize(&force_strings(&possible), eff, false, false);
            }
        }
        stable_stringify(&e) == stable_stringify(&a)
    })
}

fn matches(expected: &Js, request: &Js, cfg: &Cfg) -> Result<bool, String> {
    let cs = cfg.case_sensitive;
    // merge(predicate, { caseSensitive: true, keyCaseSensitive: cs })
    let clone = Eff {
        cfg,
        case_sensitive: true,
        kcs_false: !cs,
        kcs_truthy: cs,
        use_except: cfg.except.is_some(),
        exists: false,
    };
    let noexcept = Eff {
        use_except: false,
        ..clone
    };
    let exp = normalize(expected, noexcept, false, false);
    let act = normalize(request, clone, true, false);
    satisfied(&exp, &act, clone, &|e, a| {
        let src = e.to_js_string();
        let text = a.to_js_string();
        match cfg.regexes.get(&src) {
            Some((exact, lower)) => Ok(if cs { exact } else { lower }.is_match(&text)),
            None => regex::RegexBuilder::new(&src)
                .case_insensitive(!cs)
                .build()
                .map(|r| r.is_match(&text))
                .map_err(|e| format!("SyntaxError: invalid regular expression: {e}")),
        }
    })
}
