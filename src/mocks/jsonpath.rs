//! The JSONPath subset WireMock stubs use in practice, without a large
//! crate: `$`, `.key`, `['key']`, `[n]` (negative counts from the end),
//! `[*]`, `.*`, `..key`, and filters `[?(@.a.b OP literal)]` / `[?(@.a)]`
//! with OP one of `== != < <= > >=`, literals being numbers, 'strings',
//! "strings", true, false, null.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    Wildcard,
    Descend(String),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    /// Keys below `@`.
    path: Vec<String>,
    op: Option<(Op, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl JsonPath {
    pub fn parse(src: &str) -> Result<JsonPath, String> {
        let s = src.trim();
        let rest = s
            .strip_prefix('$')
            .ok_or_else(|| format!("JSONPath `{src}` must start with `$`"))?;
        let b = rest.as_bytes();
        let mut i = 0;
        let mut steps = Vec::new();
        while i < b.len() {
            match b[i] {
                b'.' if b.get(i + 1) == Some(&b'.') => {
                    let (name, n) = ident(&rest[i + 2..]);
                    if name.is_empty() {
                        return Err(format!("JSONPath `{src}`: a name must follow `..`"));
                    }
                    steps.push(Step::Descend(name.to_string()));
                    i += 2 + n;
                }
                b'.' => {
                    if b.get(i + 1) == Some(&b'*') {
                        steps.push(Step::Wildcard);
                        i += 2;
                        continue;
                    }
                    let (name, n) = ident(&rest[i + 1..]);
                    if name.is_empty() {
                        return Err(format!("JSONPath `{src}`: a name must follow `.`"));
                    }
                    steps.push(Step::Key(name.to_string()));
                    i += 1 + n;
                }
                b'[' => {
                    let close = find_close(&rest[i..])
                        .ok_or_else(|| format!("JSONPath `{src}`: `[` is never closed"))?;
                    let inner = rest[i + 1..i + close].trim();
                    steps.push(bracket(inner).map_err(|e| format!("JSONPath `{src}`: {e}"))?);
                    i += close + 1;
                }
                _ => {
                    return Err(format!(
                        "JSONPath `{src}`: unexpected `{}` at {}",
                        &rest[i..i + 1],
                        i + 2
                    ))
                }
            }
        }
        Ok(JsonPath { steps })
    }

    /// Every value the path selects.
    pub fn select<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let mut cur = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for v in cur {
                apply(step, v, &mut next);
            }
            cur = next;
        }
        cur
    }

    /// True when the path names one value (no wildcard, filter or descent).
    pub fn is_definite(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s, Step::Key(_) | Step::Index(_)))
    }
}

fn ident(s: &str) -> (&str, usize) {
    let n = s.find(['.', '[']).unwrap_or(s.len());
    (&s[..n], n)
}

/// Offset of the `]` closing the `[` at 0, skipping quoted text (also
/// mountebank's JSONPath subset).
pub(crate) fn find_close(s: &str) -> Option<usize> {
    let mut quote = None;
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(q) = unquote(inner) {
        return Ok(Step::Key(q));
    }
    if let Ok(n) = inner.parse::<i64>() {
        return Ok(Step::Index(n));
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return filter(f.trim()).map(Step::Filter);
    }
    Err(format!(
        "`[{inner}]` is not supported (use [n], [*], ['key'] or [?(@.x == 'y')])"
    ))
}

fn unquote(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'\'' || b[0] == b'"') && b[b.len() - 1] == b[0] {
        Some(s[1..s.len() - 1].to_string())
    } else {
        None
    }
}

fn filter(f: &str) -> Result<Filter, String> {
    let ops = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];
    let (lhs, op) = match ops
        .iter()
        .find_map(|(t, op)| f.find(t).map(|i| (i, t, *op)))
    {
        Some((i, t, op)) => {
            let lit = f[i + t.len()..].trim();
            let value = match unquote(lit) {
                Some(s) => Value::String(s),
                None => serde_json::from_str(lit)
                    .map_err(|_| format!("`{lit}` is not a literal in a filter"))?,
            };
            (f[..i].trim(), Some((op, value)))
        }
        None => (f, None),
    };
    let path = lhs
        .strip_prefix('@')
        .ok_or_else(|| format!("a filter must test `@`, not `{lhs}`"))?;
    let path = path
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Filter { path, op })
}

fn apply<'v>(step: &Step, v: &'v Value, out: &mut Vec<&'v Value>) {
    match step {
        Step::Key(k) => {
            if let Some(x) = v.get(k.as_str()) {
                out.push(x);
            }
        }
        Step::Index(n) => {
            if let Value::Array(a) = v {
                let i = if *n < 0 { a.len() as i64 + n } else { *n };
                if let Some(x) = usize::try_from(i).ok().and_then(|i| a.get(i)) {
                    out.push(x);
                }
            }
        }
        Step::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(o) => out.extend(o.values()),
            _ => {}
        },
        Step::Descend(k) => descend(k, v, out),
        Step::Filter(f) => match v {
            Value::Array(a) => out.extend(a.iter().filter(|x| f.test(x))),
            other if f.test(other) => out.push(other),
            _ => {}
        },
    }
}

fn descend<'v>(k: &str, v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Object(o) => {
            if let Some(x) = o.get(k) {
                out.push(x);
            }
            for x in o.values() {
                descend(k, x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| descend(k, x, out)),
        _ => {}
    }
}

impl Filter {
    fn test(&self, v: &Value) -> bool {
        let mut cur = v;
        for k in &self.path {
            match cur.get(k.as_str()) {
                Some(x) => cur = x,
                None => return false,
            }
        }
        let Some((op, lit)) = &self.op else {
            return true;
        };
        let ord = match (cur, lit) {
            (Value::Number(a), Value::Number(b)) => a
                .as_f64()
                .unwrap_or(f64::NAN)
                .partial_cmp(&b.as_f64().unwrap_or(f64::NAN)),
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            (a, b) if a == b => Some(std::cmp::Ordering::Equal),
            _ => None,
        };
        use std::cmp::Ordering::*;
        match (op, ord) {
            (Op::Eq, o) => o == Some(Equal),
            (Op::Ne, o) => o != Some(Equal),
            (Op::Lt, Some(o)) => o == Less,
            (Op::Le, Some(o)) => o != Greater,
            (Op::Gt, Some(o)) => o == Greater,
            (Op::Ge, Some(o)) => o != Less,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(p: &str, v: &Value) -> Vec<Value> {
        JsonPath::parse(p)
            .unwrap()
            .select(v)
            .into_iter()
            .cloned()
            .collect()
    }

    #[test]
    fn selects_the_common_forms() {
        let v = json!({"a": {"b": [1, 2, 3]}, "items": [{"id": 1, "kind": "x"}, {"id": 2, "kind": "y"}]});
        assert_eq!(sel("$.a.b[1]", &v), vec![json!(2)]);
        assert_eq!(sel("$.a.b[-1]", &v), vec![json!(3)]);
        assert_eq!(sel("$['a']['b'][0]", &v), vec![json!(1)]);
        assert_eq!(sel("$.items[*].id", &v), vec![json!(1), json!(2)]);
        assert_eq!(sel("$..id", &v), vec![json!(1), json!(2)]);
        assert_eq!(sel("$.items[?(@.kind == 'y')].id", &v), vec![json!(2)]);
        assert_eq!(sel("$.items[?(@.id > 1)]", &v).len(), 1);
        assert_eq!(sel("$.items[?(@.missing)]", &v).len(), 0);
        assert_eq!(sel("$.nope", &v).len(), 0);
    }

    #[test]
    fn rejects_what_it_does_not_support() {
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$.a[1:2]").is_err());
        assert!(JsonPath::parse("$.a[").is_err());
    }
}
