//! Pact matching rules: where an interaction's request loosens an exact
//! match (`type`, `regex`, `integer`, `include`, min/max array lengths...).
//! Without a rule a request body must equal the interaction's exactly, and
//! carry no keys it does not declare, as Pact's own mock server requires.

use regex::Regex;
use serde_json::Value;

use super::json_text::json_text;
use super::string_matcher::StringMatcher;

#[derive(Debug, Default)]
pub struct Rules {
    body: Vec<(Vec<Seg>, RuleSet)>,
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub matchers: Vec<Rule>,
    pub and: bool,
}

#[derive(Debug, Clone)]
pub enum Rule {
    Type {
        min: Option<usize>,
        max: Option<usize>,
    },
    Regex(Regex),
    Equality,
    Include(String),
    Integer,
    Decimal,
    Number,
    Boolean,
    Null,
    /// date, time, timestamp: any string (formats are the consumer's concern).
    AnyString,
    /// Object keys are free; values compared by type.
    Values,
    /// contentType and others that do not constrain a request here.
    Ignore,
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
    AnyKey,
    AnyIndex,
}

impl Rules {
    /// Adds a body rule; `path` is relative to the body (`$.a[*].b`).
    pub fn add_body(&mut self, path: &str, set: RuleSet) -> Result<(), String> {
        self.body.push((parse_path(path)?, set));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    fn at(&self, path: &[Seg]) -> Option<&RuleSet> {
        self.body
            .iter()
            .filter(|(p, _)| {
                p.len() == path.len() && p.iter().zip(path).all(|(a, b)| seg_fits(a, b))
            })
            .max_by_key(|(p, _)| {
                p.iter()
                    .filter(|s| matches!(s, Seg::Key(_) | Seg::Index(_)))
                    .count()
            })
            .map(|(_, r)| r)
    }
}

fn seg_fits(rule: &Seg, actual: &Seg) -> bool {
    match (rule, actual) {
        (Seg::AnyKey, Seg::Key(_)) | (Seg::AnyIndex, Seg::Index(_)) => true,
        (Seg::AnyKey, Seg::Index(_)) => true,
        (a, b) => a == b,
    }
}

fn parse_path(p: &str) -> Result<Vec<Seg>, String> {
    let rest = p
        .trim()
        .strip_prefix('$')
        .ok_or_else(|| format!("matching rule path `{p}` must start with `$`"))?;
    let mut out = Vec::new();
    let mut s = rest;
    while !s.is_empty() {
        if let Some(r) = s.strip_prefix(".*") {
            out.push(Seg::AnyKey);
            s = r;
        } else if let Some(r) = s.strip_prefix('.') {
            let n = r.find(['.', '[']).unwrap_or(r.len());
            out.push(Seg::Key(r[..n].to_string()));
            s = &r[n..];
        } else if let Some(r) = s.strip_prefix('[') {
            let n = r
                .find(']')
                .ok_or_else(|| format!("matching rule path `{p}`: `[` is never closed"))?;
            let inner = r[..n].trim();
            out.push(if inner == "*" {
                Seg::AnyIndex
            } else if let Ok(i) = inner.parse() {
                Seg::Index(i)
            } else {
                Seg::Key(inner.trim_matches(|c| c == '\'' || c == '"').to_string())
            });
            s = &r[n + 1..];
        } else {
            return Err(format!("matching rule path `{p}` is not understood"));
        }
    }
    Ok(out)
}

/// A rule set in either form: v2 `{"match": "type"}` / `{"regex": ".."}`,
/// v3+ `{"matchers": [...], "combine": "AND"}`.
pub fn parse_ruleset(v: &Value) -> Result<RuleSet, String> {
    if let Some(list) = v.get("matchers").and_then(Value::as_array) {
        let matchers = list.iter().map(parse_rule).collect::<Result<_, _>>()?;
        let and = v.get("combine").and_then(Value::as_str) != Some("OR");
        Ok(RuleSet { matchers, and })
    } else {
        Ok(RuleSet {
            matchers: vec![parse_rule(v)?],
            and: true,
        })
    }
}

fn parse_rule(v: &Value) -> Result<Rule, String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let n = |k: &str| v.get(k).and_then(Value::as_u64).map(|x| x as usize);
    let kind = s("match").or_else(|| v.get("regex").map(|_| "regex"));
    Ok(match kind {
        Some("type") => Rule::Type {
            min: n("min"),
            max: n("max"),
        },
        Some("regex") => {
            let r = s("regex").ok_or("a `regex` rule needs a `regex` string")?;
            Rule::Regex(
                Regex::new(&format!("^(?:{r})$")).map_err(|e| format!("bad regex `{r}`: {e}"))?,
            )
        }
        Some("equality") => Rule::Equality,
        Some("include") => Rule::Include(s("value").unwrap_or("").to_string()),
        Some("integer") => Rule::Integer,
        Some("decimal") => Rule::Decimal,
        Some("number") => Rule::Number,
        Some("boolean") => Rule::Boolean,
        Some("null") => Rule::Null,
        Some("date" | "time" | "timestamp" | "datetime") => Rule::AnyString,
        Some("values") => Rule::Values,
        Some("min" | "max") => Rule::Type {
            min: n("min"),
            max: n("max"),
        },
        Some(
            "contentType" | "semver" | "notEmpty" | "arrayContains" | "eachKey" | "eachValue"
            | "statusCode",
        ) => Rule::Ignore,
        None if v.get("min").is_some() || v.get("max").is_some() => Rule::Type {
            min: n("min"),
            max: n("max"),
        },
        other => {
            return Err(format!(
                "unknown matching rule {:?}",
                other.unwrap_or("(none)")
            ))
        }
    })
}

/// A header, query or path rule as a string matcher.
pub fn string_matcher(set: &RuleSet, example: &str) -> StringMatcher {
    let ms: Vec<StringMatcher> = set
        .matchers
        .iter()
        .map(|r| match r {
            Rule::Regex(re) => StringMatcher::Matches(re.clone()),
            Rule::Include(s) => StringMatcher::Contains(s.clone()),
            Rule::Integer => StringMatcher::Matches(Regex::new(r"^-?\d+$").expect("static")),
            Rule::Decimal | Rule::Number => {
                StringMatcher::Matches(Regex::new(r"^-?\d+(\.\d+)?$").expect("static"))
            }
            Rule::Boolean => StringMatcher::Matches(Regex::new("^(true|false)$").expect("static")),
            Rule::Equality => StringMatcher::EqualTo {
                value: example.to_string(),
                case_insensitive: false,
            },
            _ => StringMatcher::Present,
        })
        .collect();
    if set.and {
        StringMatcher::And(ms)
    } else {
        StringMatcher::Or(ms)
    }
}

pub fn compare_body(expected: &Value, actual: &Value, rules: &Rules) -> Result<(), String> {
    let mut path = Vec::new();
    cmp(expected, actual, &mut path, rules, None)
}

fn show(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for p in path {
        match p {
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::AnyKey => s.push_str(".*"),
            Seg::AnyIndex => s.push_str("[*]"),
        }
    }
    s
}

fn cmp(
    exp: &Value,
    act: &Value,
    path: &mut Vec<Seg>,
    rules: &Rules,
    inherited: Option<&RuleSet>,
) -> Result<(), String> {
    let own = rules.at(path).cloned();
    match own.as_ref().or(inherited) {
        Some(set) => {
            let results: Vec<Result<(), String>> = set
                .matchers
                .iter()
                .map(|r| apply(r, set, exp, act, path, rules))
                .collect();
            if set.and {
                results.into_iter().collect()
            } else if results.iter().any(Result::is_ok) {
                Ok(())
            } else {
                results.into_iter().collect()
            }
        }
        None => strict(exp, act, path, rules, None),
    }
}

fn strict(
    exp: &Value,
    act: &Value,
    path: &mut Vec<Seg>,
    rules: &Rules,
    inherit: Option<&RuleSet>,
) -> Result<(), String> {
    match (exp, act) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                path.push(Seg::Key(k.clone()));
                let r = match a.get(k) {
                    Some(av) => cmp(ev, av, path, rules, inherit),
                    None => Err(format!("{} is missing", show(path))),
                };
                path.pop();
                r?;
            }
            if let Some(extra) = a.keys().find(|k| !e.contains_key(*k)) {
                return Err(format!("{}.{extra} is not expected", show(path)));
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!(
                    "{} has {} elements, expected {}",
                    show(path),
                    a.len(),
                    e.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                path.push(Seg::Index(i));
                let r = cmp(ev, av, path, rules, inherit);
                path.pop();
                r?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => Ok(()),
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{} is {a}, expected {e}", show(path))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn apply(
    rule: &Rule,
    set: &RuleSet,
    exp: &Value,
    act: &Value,
    path: &mut Vec<Seg>,
    rules: &Rules,
) -> Result<(), String> {
    let at = || show(path);
    match rule {
        Rule::Type { min, max } => {
            if kind(exp) != kind(act) {
                return Err(format!(
                    "{} is a {}, expected a {}",
                    at(),
                    kind(act),
                    kind(exp)
                ));
            }
            match (exp, act) {
                (Value::Array(e), Value::Array(a)) => {
                    if min.is_some_and(|m| a.len() < m) || max.is_some_and(|m| a.len() > m) {
                        return Err(format!(
                            "{} has {} elements, outside min/max",
                            at(),
                            a.len()
                        ));
                    }
                    let Some(template) = e.first() else {
                        return Ok(());
                    };
                    for (i, av) in a.iter().enumerate() {
                        path.push(Seg::Index(i));
                        let r = cmp(e.get(i).unwrap_or(template), av, path, rules, Some(set));
                        path.pop();
                        r?;
                    }
                    Ok(())
                }
                (Value::Object(_), Value::Object(_)) => strict(exp, act, path, rules, Some(set)),
                _ => Ok(()),
            }
        }
        Rule::Regex(re) => match act {
            Value::Object(_) | Value::Array(_) => Err(format!("{} is not a value", at())),
            v if re.is_match(&json_text(v)) => Ok(()),
            v => Err(format!(
                "{} = {v} does not match {}",
                at(),
                super::string_matcher::show_regex(re)
            )),
        },
        Rule::Equality => strict(exp, act, path, rules, None),
        Rule::Include(s) => match act {
            Value::String(a) if a.contains(s.as_str()) => Ok(()),
            _ => Err(format!("{} does not include {s:?}", at())),
        },
        Rule::Integer if act.is_i64() || act.is_u64() => Ok(()),
        Rule::Decimal | Rule::Number if act.is_number() => Ok(()),
        Rule::Boolean if act.is_boolean() => Ok(()),
        Rule::Null if act.is_null() => Ok(()),
        Rule::AnyString if act.is_string() => Ok(()),
        Rule::Values => match (exp, act) {
            (Value::Object(e), Value::Object(a)) => {
                let Some(template) = e.values().next() else {
                    return Ok(());
                };
                let loose = RuleSet {
                    matchers: vec![Rule::Type {
                        min: None,
                        max: None,
                    }],
                    and: true,
                };
                for (k, av) in a {
                    path.push(Seg::Key(k.clone()));
                    let r = cmp(e.get(k).unwrap_or(template), av, path, rules, Some(&loose));
                    path.pop();
                    r?;
                }
                Ok(())
            }
            _ => Err(format!("{} is not an object", at())),
        },
        Rule::Ignore => Ok(()),
        other => Err(format!(
            "{} = {act} is not {}",
            at(),
            format!("{other:?}").to_lowercase()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(list: &[(&str, Value)]) -> Rules {
        let mut r = Rules::default();
        for (p, v) in list {
            r.add_body(p, parse_ruleset(v).unwrap()).unwrap();
        }
        r
    }

    #[test]
    fn without_rules_bodies_are_exact_and_closed() {
        let r = Rules::default();
        let e = json!({"a": 1, "b": [1, 2]});
        assert!(compare_body(&e, &json!({"b": [1, 2], "a": 1}), &r).is_ok());
        assert!(compare_body(&e, &json!({"a": 1, "b": [1, 2], "c": 0}), &r).is_err());
        assert!(compare_body(&e, &json!({"a": 2, "b": [1, 2]}), &r).is_err());
    }

    #[test]
    fn type_regex_and_min_loosen_the_match() {
        let r = rules(&[
            ("$.amount", json!({"matchers": [{"match": "type"}]})),
            ("$.currency", json!({"match": "regex", "regex": "[A-Z]{3}"})),
            (
                "$.items",
                json!({"matchers": [{"match": "type", "min": 1}]}),
            ),
        ]);
        let e = json!({"amount": 100, "currency": "EUR", "items": [{"sku": "a"}]});
        let ok = json!({"amount": 7, "currency": "USD", "items": [{"sku": "x"}, {"sku": "y"}]});
        assert!(
            compare_body(&e, &ok, &r).is_ok(),
            "{:?}",
            compare_body(&e, &ok, &r)
        );
        let bad = json!({"amount": "7", "currency": "USD", "items": [{"sku": "x"}]});
        assert!(compare_body(&e, &bad, &r).is_err());
        let bad = json!({"amount": 7, "currency": "usd", "items": [{"sku": "x"}]});
        assert!(compare_body(&e, &bad, &r).is_err());
        let bad = json!({"amount": 7, "currency": "USD", "items": []});
        assert!(compare_body(&e, &bad, &r).is_err());
    }
}
