//! The JavaScript values mountebank computes with, so its predicates and
//! behaviours can be ported line by line: `undefined` beside `null`,
//! numbers as doubles printed the way JavaScript prints them, objects that
//! keep JavaScript's property order (array-index keys first, ascending,
//! then the rest as inserted), loose `<`, and both `JSON.stringify` forms
//! mountebank uses (the pretty one for bodies, the key-sorted one of
//! `safe-stable-stringify` for comparisons).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
pub enum Js {
    Undef,
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Js>),
    Obj(Obj),
}

/// Properties in JavaScript's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj(Vec<(String, Js)>);

/// `k` as an array index (`"0"`, `"17"`, not `"01"`), as JavaScript
/// orders such keys first.
fn array_index(k: &str) -> Option<u32> {
    if k.is_empty() || k.len() > 10 || (k.len() > 1 && k.starts_with('0')) {
        return None;
    }
    if !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    k.parse::<u64>()
        .ok()
        .filter(|n| *n < u64::from(u32::MAX))
        .map(|n| n as u32)
}

impl Obj {
    pub fn get(&self, k: &str) -> Option<&Js> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, k: &str) -> Option<&mut Js> {
        self.0.iter_mut().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    /// `obj[k] = v`: in place when the key exists, else where JavaScript
    /// would list it.
    pub fn set(&mut self, k: String, v: Js) {
        if let Some(slot) = self.get_mut(&k) {
            *slot = v;
            return;
        }
        match array_index(&k) {
            Some(i) => {
                let at = self
                    .0
                    .iter()
                    .position(|(n, _)| array_index(n).is_none_or(|j| j > i))
                    .unwrap_or(self.0.len());
                self.0.insert(at, (k, v));
            }
            None => self.0.push((k, v)),
        }
    }

    pub fn remove(&mut self, k: &str) -> Option<Js> {
        let i = self.0.iter().position(|(n, _)| n == k)?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Js)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Js)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> Vec<String> {
        self.0.iter().map(|(k, _)| k.clone()).collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, Js)> for Obj {
    /// As repeated `obj[k] = v`, in O(n log n): a repeated key keeps its
    /// first place and takes its last value; index keys go first, ascending.
    fn from_iter<I: IntoIterator<Item = (String, Js)>>(it: I) -> Self {
        let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut pairs: Vec<(String, Js)> = Vec::new();
        for (k, v) in it {
            match at.get(&k) {
                Some(&i) => pairs[i].1 = v,
                None => {
                    at.insert(k.clone(), pairs.len());
                    pairs.push((k, v));
                }
            }
        }
        let (mut index, rest): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(k, _)| array_index(k).is_some());
        index.sort_by_key(|(k, _)| array_index(k));
        index.extend(rest);
        Obj(index)
    }
}

impl Js {
    pub fn str(s: impl Into<String>) -> Js {
        Js::Str(s.into())
    }

    /// `helpers.isObject`: objects and arrays, not null.
    pub fn is_object(&self) -> bool {
        matches!(self, Js::Obj(_) | Js::Arr(_))
    }

    pub fn truthy(&self) -> bool {
        match self {
            Js::Undef | Js::Null => false,
            Js::Bool(b) => *b,
            Js::Num(n) => *n != 0.0 && !n.is_nan(),
            Js::Str(s) => !s.is_empty(),
            Js::Arr(_) | Js::Obj(_) => true,
        }
    }

    pub fn as_obj(&self) -> Option<&Obj> {
        match self {
            Js::Obj(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Js::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `value[key]`, `undefined` when absent.
    pub fn get(&self, key: &str) -> Js {
        match self {
            Js::Obj(o) => o.get(key).cloned().unwrap_or(Js::Undef),
            Js::Arr(a) if key == "length" => Js::Num(a.len() as f64),
            Js::Arr(a) => array_index(key)
                .and_then(|i| a.get(i as usize).cloned())
                .unwrap_or(Js::Undef),
            Js::Str(s) if key == "length" => Js::Num(s.encode_utf16().count() as f64),
            Js::Str(s) => array_index(key)
                .and_then(|i| s.encode_utf16().nth(i as usize))
                .map(|u| Js::Str(String::from_utf16_lossy(&[u])))
                .unwrap_or(Js::Undef),
            _ => Js::Undef,
        }
    }

    /// `String(value)`.
    pub fn to_js_string(&self) -> String {
        match self {
            Js::Undef => "undefined".into(),
            Js::Null => "null".into(),
            Js::Bool(b) => b.to_string(),
            Js::Num(n) => num_to_string(*n),
            Js::Str(s) => s.clone(),
            Js::Arr(a) => a
                .iter()
                .map(|x| match x {
                    Js::Undef | Js::Null => String::new(),
                    x => x.to_js_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            Js::Obj(_) => "[object Object]".into(),
        }
    }

    /// `Number(value)`.
    pub fn to_number(&self) -> f64 {
        match self {
            Js::Undef => f64::NAN,
            Js::Null => 0.0,
            Js::Bool(b) => f64::from(u8::from(*b)),
            Js::Num(n) => *n,
            Js::Str(s) => str_to_number(s),
            other => str_to_number(&other.to_js_string()),
        }
    }
}

/// `Number("...")`: trimmed decimal, `0x`/`0o`/`0b`, `Infinity`; `""` is 0.
pub fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    for (p, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(d) = t.strip_prefix(p) {
            return u128::from_str_radix(d, radix).map_or(f64::NAN, |v| v as f64);
        }
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let ok = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !ok {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// `Number.prototype.toString()` (radix 10).
pub fn num_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust prints the shortest digits that round-trip, like JavaScript.
    let e = format!("{:e}", x.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let es = if e >= 0 {
            format!("+{e}")
        } else {
            e.to_string()
        };
        if k == 1 {
            format!("{digits}e{es}")
        } else {
            format!("{}.{}e{es}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// JavaScript's `a < b` for the values predicates compare.
pub fn less(a: &Js, b: &Js) -> bool {
    less_tri(a, b) == Some(true)
}

/// `a < b`, `None` where a side is NaN (so `<=` and `>=` are false too).
pub fn less_tri(a: &Js, b: &Js) -> Option<bool> {
    let prim = |v: &Js| match v {
        Js::Arr(_) | Js::Obj(_) => Js::Str(v.to_js_string()),
        v => v.clone(),
    };
    match (prim(a), prim(b)) {
        (Js::Str(x), Js::Str(y)) => Some(utf16_cmp(&x, &y) == Ordering::Less),
        (x, y) => {
            let (x, y) = (x.to_number(), y.to_number());
            (!x.is_nan() && !y.is_nan()).then_some(x < y)
        }
    }
}

/// Strings compared as JavaScript does, by UTF-16 code units.
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `Array.prototype.sort(cmp)` where `cmp(a, b) < 0` is `before(a, b)`:
/// stable, with `undefined` moved to the end uncompared, as V8 does.
pub fn sort_by_before(items: Vec<Js>, before: &dyn Fn(&Js, &Js) -> bool) -> Vec<Js> {
    let (defined, undef): (Vec<Js>, Vec<Js>) =
        items.into_iter().partition(|x| !matches!(x, Js::Undef));
    let mut out = merge_sort(defined, before);
    out.extend(undef);
    out
}

fn merge_sort(mut v: Vec<Js>, before: &dyn Fn(&Js, &Js) -> bool) -> Vec<Js> {
    if v.len() <= 1 {
        return v;
    }
    let right = v.split_off(v.len() / 2);
    let (l, r) = (merge_sort(v, before), merge_sort(right, before));
    let mut out = Vec::with_capacity(l.len() + r.len());
    let (mut l, mut r) = (l.into_iter().peekable(), r.into_iter().peekable());
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                if before(b, a) {
                    out.extend(r.next());
                } else {
                    out.extend(l.next());
                }
            }
            (Some(_), None) => out.extend(l.by_ref()),
            (None, Some(_)) => out.extend(r.by_ref()),
            (None, None) => break,
        }
    }
    out
}

fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_number(n: f64) -> String {
    if n.is_finite() {
        num_to_string(n)
    } else {
        "null".into()
    }
}

/// `safe-stable-stringify(value)`: keys sorted, no spaces; `None` for a
/// bare `undefined`.
pub fn stable_stringify(v: &Js) -> Option<String> {
    let mut out = String::new();
    stable_into(v, &mut out).then_some(out)
}

fn stable_into(v: &Js, out: &mut String) -> bool {
    match v {
        Js::Undef => return false,
        Js::Null => out.push_str("null"),
        Js::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Js::Num(n) => out.push_str(&json_number(*n)),
        Js::Str(s) => quote(s, out),
        Js::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !stable_into(x, out) {
                    out.push_str("null");
                }
            }
            out.push(']');
        }
        Js::Obj(o) => {
            let mut keys: Vec<&String> = o.0.iter().map(|(k, _)| k).collect();
            keys.sort_by(|a, b| utf16_cmp(a, b));
            out.push('{');
            let mut first = true;
            for k in keys {
                let x = o.get(k).unwrap_or(&Js::Undef);
                if matches!(x, Js::Undef) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                quote(k, out);
                out.push(':');
                stable_into(x, out);
            }
            out.push('}');
        }
    }
    true
}

/// `JSON.stringify(value, null, 4)`, as mountebank writes a JSON body.
pub fn pretty(v: &Js) -> String {
    let mut out = String::new();
    if !pretty_into(v, 0, &mut out) {
        return String::new();
    }
    out
}

fn pretty_into(v: &Js, depth: usize, out: &mut String) -> bool {
    let pad = |d: usize, out: &mut String| {
        out.push('\n');
        out.push_str(&" ".repeat(4 * d));
    };
    match v {
        Js::Arr(a) if a.is_empty() => out.push_str("[]"),
        Js::Arr(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(depth + 1, out);
                if !pretty_into(x, depth + 1, out) {
                    out.push_str("null");
                }
            }
            pad(depth, out);
            out.push(']');
        }
        Js::Obj(o) => {
            let members: Vec<_> = o.iter().filter(|(_, x)| !matches!(x, Js::Undef)).collect();
            if members.is_empty() {
                out.push_str("{}");
                return true;
            }
            out.push('{');
            for (i, (k, x)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(depth + 1, out);
                quote(k, out);
                out.push_str(": ");
                pretty_into(x, depth + 1, out);
            }
            pad(depth, out);
            out.push('}');
        }
        other => return stable_into(other, out),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        for (x, s) in [
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e21, "1e+21"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (1.5e300, "1.5e+300"),
        ] {
            assert_eq!(num_to_string(x), s);
        }
        assert_eq!(str_to_number(" 0x1F "), 31.0);
        assert!(str_to_number("12px").is_nan());
    }

    #[test]
    fn objects_keep_javascript_key_order() {
        let o: Obj = [("b", 1.0), ("2", 2.0), ("a", 3.0), ("1", 4.0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Js::Num(v)))
            .collect();
        assert_eq!(o.keys(), vec!["1", "2", "b", "a"]);
        let v = Js::Obj(o);
        assert_eq!(
            stable_stringify(&v).unwrap(),
            r#"{"1":4,"2":2,"a":3,"b":1}"#
        );
        assert_eq!(
            pretty(&v),
            "{\n    \"1\": 4,\n    \"2\": 2,\n    \"b\": 1,\n    \"a\": 3\n}"
        );
    }
}
