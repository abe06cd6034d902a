//! The JSONPath that mountebank's `jsonpath` parameter and `copy` use
//! (jsonpath-plus 10), in the forms imposter files write: `$`, `.key`,
//! `['key']`, `[n]`, `[*]`, `.*`, `..key`, `..*`, unions `[a,b]`, slices
//! `[s:e:step]`, `[(@.length-N)]`, and filters `[?(@.a.b OP literal)]` /
//! `[?(@.a)]`. Anything else is refused when the imposter loads, since
//! jsonpath-plus would evaluate it as JavaScript.

use super::js::{less, less_tri, Js};

#[derive(Debug, Clone)]
pub struct JsonPath {
    steps: Vec<(bool, Sel)>,
}

#[derive(Debug, Clone)]
enum Sel {
    Names(Vec<Key>),
    All,
    Slice(Option<i64>, Option<i64>, i64),
    FromEnd(i64),
    Filter(Vec<String>, Option<(String, Js)>),
}

#[derive(Debug, Clone)]
enum Key {
    Name(String),
    Index(i64),
}

impl JsonPath {
    pub fn parse(src: &str) -> Result<JsonPath, String> {
        let s = src.trim();
        let rest = s.strip_prefix('$').unwrap_or(s);
        let mut steps = Vec::new();
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let deep = rest[i..].starts_with("..");
            if deep || b[i] == b'.' {
                i += if deep { 2 } else { 1 };
                if i < b.len() && b[i] == b'[' {
                    continue_bracket(rest, &mut i, deep, &mut steps, src)?;
                    continue;
                }
                let n = rest[i..].find(['.', '[']).unwrap_or(rest.len() - i);
                let name = &rest[i..i + n];
                if name.is_empty() {
                    return Err(format!("JSONPath `{src}`: a name must follow `.`"));
                }
                steps.push((
                    deep,
                    if name == "*" {
                        Sel::All
                    } else {
                        Sel::Names(vec![Key::Name(name.to_string())])
                    },
                ));
                i += n;
            } else if b[i] == b'[' {
                continue_bracket(rest, &mut i, false, &mut steps, src)?;
            } else if i == 0 {
                // jsonpath-plus reads a path without `$.` from the root too.
                let n = rest.find(['.', '[']).unwrap_or(rest.len());
                steps.push((false, Sel::Names(vec![Key::Name(rest[..n].to_string())])));
                i = n;
            } else {
                return Err(format!("JSONPath `{src}`: unexpected `{}`", &rest[i..=i]));
            }
        }
        Ok(JsonPath { steps })
    }

    /// Every value selected, in jsonpath-plus's order.
    pub fn select(&self, root: &Js) -> Vec<Js> {
        let mut cur = vec![root.clone()];
        for (deep, sel) in &self.steps {
            let mut next = Vec::new();
            for v in &cur {
                if *deep {
                    descend(v, sel, &mut next);
                } else {
                    apply(v, sel, &mut next);
                }
            }
            cur = next;
        }
        cur
    }
}

fn continue_bracket(
    rest: &str,
    i: &mut usize,
    deep: bool,
    steps: &mut Vec<(bool, Sel)>,
    src: &str,
) -> Result<(), String> {
    let close = crate::mocks::jsonpath::find_close(&rest[*i..])
        .ok_or_else(|| format!("JSONPath `{src}`: `[` is never closed"))?;
    let inner = rest[*i + 1..*i + close].trim();
    steps.push((
        deep,
        bracket(inner).map_err(|e| format!("JSONPath `{src}`: {e}"))?,
    ));
    *i += close + 1;
    Ok(())
}

fn unquote(s: &str) -> Option<&str> {
    let s = s.trim();
    (s.len() >= 2
        && ((s.starts_with('\'') && s.ends_with('\'')) || (s.starts_with('"') && s.ends_with('"'))))
    .then(|| &s[1..s.len() - 1])
}

fn bracket(inner: &str) -> Result<Sel, String> {
    if inner == "*" {
        return Ok(Sel::All);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
        return filter(f.trim());
    }
    if let Some(e) = inner.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        let e: String = e.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(n) = e.strip_prefix("@.length-") {
            return n
                .parse::<i64>()
                .map(Sel::FromEnd)
                .map_err(|_| format!("the script `({e})` is not supported"));
        }
        return Err(format!(
            "the script `({e})` is not supported (only `(@.length-N)`)"
        ));
    }
    if inner.contains(':') && unquote(inner).is_none() {
        let parts: Vec<&str> = inner.split(':').map(str::trim).collect();
        let num = |s: &str| -> Result<Option<i64>, String> {
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse()
                    .map(Some)
                    .map_err(|_| format!("`{inner}` is not a slice"))
            }
        };
        if parts.len() > 3 {
            return Err(format!("`{inner}` is not a slice"));
        }
        let step = match parts.get(2) {
            Some(s) => num(s)?.unwrap_or(1),
            None => 1,
        };
        if step == 0 {
            return Err(format!("`{inner}` has a step of 0"));
        }
        return Ok(Sel::Slice(num(parts[0])?, num(parts[1])?, step));
    }
    let mut keys = Vec::new();
    for part in inner.split(',') {
        let p = part.trim();
        if let Some(q) = unquote(p) {
            keys.push(Key::Name(q.to_string()));
        } else if let Ok(n) = p.parse::<i64>() {
            keys.push(Key::Index(n));
        } else if !p.is_empty() && !p.contains(['(', ')', '@', '?', '\'', '"', ' ']) {
            keys.push(Key::Name(p.to_string()));
        } else {
            return Err(format!("`[{inner}]` is not supported"));
        }
    }
    Ok(Sel::Names(keys))
}

fn filter(f: &str) -> Result<Sel, String> {
    for op in ["===", "!==", "==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = f.split_once(op) {
            let path =
                at_path(l.trim()).ok_or_else(|| format!("the filter `{f}` is not supported"))?;
            let r = r.trim();
            let lit = if let Some(q) = unquote(r) {
                Js::str(q)
            } else {
                match r {
                    "true" => Js::Bool(true),
                    "false" => Js::Bool(false),
                    "null" => Js::Null,
                    n => Js::Num(
                        n.parse::<f64>()
                            .map_err(|_| format!("the filter `{f}` is not supported"))?,
                    ),
                }
            };
            return Ok(Sel::Filter(path, Some((op.to_string(), lit))));
        }
    }
    at_path(f)
        .map(|p| Sel::Filter(p, None))
        .ok_or_else(|| format!("the filter `{f}` is not supported"))
}

fn at_path(s: &str) -> Option<Vec<String>> {
    let rest = s.strip_prefix('@')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let keys: Vec<String> = rest
        .strip_prefix('.')?
        .split('.')
        .map(str::to_string)
        .collect();
    keys.iter()
        .all(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
        .then_some(keys)
}

fn children(v: &Js) -> Vec<Js> {
    match v {
        Js::Arr(a) => a.clone(),
        Js::Obj(o) => o.iter().map(|(_, x)| x.clone()).collect(),
        _ => Vec::new(),
    }
}

fn apply(v: &Js, sel: &Sel, out: &mut Vec<Js>) {
    match sel {
        Sel::All => out.extend(children(v)),
        Sel::Names(keys) => {
            for k in keys {
                let x = match (k, v) {
                    (Key::Index(i), Js::Arr(a)) => {
                        usize::try_from(*i).ok().and_then(|i| a.get(i)).cloned()
                    }
                    (Key::Index(i), Js::Obj(o)) => o.get(&i.to_string()).cloned(),
                    (Key::Name(n), Js::Obj(o)) => o.get(n).cloned(),
                    (Key::Name(n), Js::Arr(_)) if n != "length" => match v.get(n) {
                        Js::Undef => None,
                        x => Some(x),
                    },
                    _ => None,
                };
                out.extend(x);
            }
        }
        Sel::FromEnd(n) => {
            if let Js::Arr(a) = v {
                let i = a.len() as i64 - n;
                if i >= 0 {
                    out.extend(a.get(i as usize).cloned());
                }
            }
        }
        Sel::Slice(s, e, step) => {
            if let Js::Arr(a) = v {
                let len = a.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let start = s.map_or(0, norm);
                let end = e.map_or(len, norm);
                let mut i = start;
                // jsonpath-plus walks forward only.
                while i < end && *step > 0 {
                    out.push(a[i as usize].clone());
                    i += step;
                }
            }
        }
        Sel::Filter(path, test) => {
            for c in children(v) {
                let mut x = c.clone();
                for k in path {
                    x = x.get(k);
                }
                let keep = match test {
                    None => x.truthy(),
                    Some((op, lit)) => compare(&x, op, lit),
                };
                if keep {
                    out.push(c);
                }
            }
        }
    }
}

/// `..sel`: the selection here, then in each child, depth first.
fn descend(v: &Js, sel: &Sel, out: &mut Vec<Js>) {
    apply(v, sel, out);
    for c in children(v) {
        if c.is_object() {
            descend(&c, sel, out);
        }
    }
}

fn loose_eq(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Undef | Js::Null, Js::Undef | Js::Null) => true,
        (Js::Undef | Js::Null, _) | (_, Js::Undef | Js::Null) => false,
        (Js::Str(x), Js::Str(y)) => x == y,
        (Js::Bool(x), Js::Bool(y)) => x == y,
        (x, y) if x.is_object() || y.is_object() => x.to_js_string() == y.to_js_string(),
        (x, y) => x.to_number() == y.to_number(),
    }
}

fn strict_eq(a: &Js, b: &Js) -> bool {
    match (a, b) {
        (Js::Num(x), Js::Num(y)) => x == y,
        (x, y) if std::mem::discriminant(x) == std::mem::discriminant(y) => {
            !x.is_object() && x == y
        }
        _ => false,
    }
}

fn compare(x: &Js, op: &str, lit: &Js) -> bool {
    match op {
        "===" => strict_eq(x, lit),
        "!==" => !strict_eq(x, lit),
        "==" => loose_eq(x, lit),
        "!=" => !loose_eq(x, lit),
        "<" => less(x, lit),
        ">" => less(lit, x),
        "<=" => less_tri(lit, x) == Some(false),
        ">=" => less_tri(x, lit) == Some(false),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::json::parse;
    use super::*;

    fn sel(p: &str, doc: &str) -> Vec<Js> {
        JsonPath::parse(p).unwrap().select(&parse(doc).unwrap())
    }

    #[test]
    fn selects_as_jsonpath_plus() {
        let doc = r#"{"identities": [{"career": "Doctor", "n": 1}, {"career": "Teacher", "n": 2}], "x": {"career": "Spy"}}"#;
        assert_eq!(
            sel("$.identities[(@.length-1)].career", doc),
            vec![Js::str("Teacher")]
        );
        assert_eq!(sel("$..career", doc).len(), 3);
        assert_eq!(
            sel("$.identities[?(@.n > 1)].career", doc),
            vec![Js::str("Teacher")]
        );
        assert_eq!(
            sel("$.identities[0,1].n", doc),
            vec![Js::Num(1.0), Js::Num(2.0)]
        );
        assert_eq!(sel("$.identities[-1:].n", doc), vec![Js::Num(2.0)]);
        assert_eq!(sel("$['x']['career']", doc), vec![Js::str("Spy")]);
        assert!(JsonPath::parse("$[(function(){})()]").is_err());
    }
}
