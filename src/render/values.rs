//! The value-layering engine: layers in, one merged map plus where every
//! leaf came from out. Pure: no files, no environment, no network.
//!
//! Tables merge key by key; anything else (strings, numbers, arrays) is
//! replaced whole by a later layer, as in Helm values or cargo config.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// One layer of values, lowest first when passed to `merge`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// How `--explain` names it: `[config.values]`, `--set log_level=debug`, ...
    pub label: String,
    pub values: Map<String, Value>,
}

impl Layer {
    pub fn new(label: impl Into<String>, values: Map<String, Value>) -> Self {
        Layer {
            label: label.into(),
            values,
        }
    }
}

/// A key path, one segment per table level.
pub type KeyPath = Vec<String>;

/// The merged values and, for every leaf, each layer that set it in order
/// (the last one won).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    pub values: Map<String, Value>,
    pub provenance: BTreeMap<KeyPath, Vec<(String, Value)>>,
}

pub fn merge(layers: &[Layer]) -> Merged {
    let mut out = Merged::default();
    for layer in layers {
        merge_into(
            &mut out.values,
            &layer.values,
            &mut Vec::new(),
            &layer.label,
            &mut out.provenance,
        );
    }
    // Keys in sorted order, whatever order the layers wrote them in:
    // rendered files and `--explain` stay the same across layers and edits
    // (serde_json keeps insertion order, for the mocks' bodies).
    sort_keys(&mut out.values);
    out
}

fn sort_keys(map: &mut Map<String, Value>) {
    map.sort_keys();
    for v in map.values_mut() {
        if let Value::Object(m) = v {
            sort_keys(m);
        }
    }
}

fn merge_into(
    target: &mut Map<String, Value>,
    layer: &Map<String, Value>,
    path: &mut KeyPath,
    label: &str,
    prov: &mut BTreeMap<KeyPath, Vec<(String, Value)>>,
) {
    for (key, value) in layer {
        path.push(key.clone());
        match (target.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                merge_into(existing, incoming, path, label, prov);
            }
            (_, Value::Object(incoming)) => {
                // A table replaces a scalar: the scalar's history ends here.
                prov.remove(path.as_slice());
                let mut fresh = Map::new();
                merge_into(&mut fresh, incoming, path, label, prov);
                target.insert(key.clone(), Value::Object(fresh));
            }
            (existing, leaf) => {
                if matches!(existing, Some(Value::Object(_))) {
                    // A scalar replaces a table: forget the leaves below it.
                    prov.retain(|p, _| !(p.len() > path.len() && p.starts_with(path)));
                }
                prov.entry(path.clone())
                    .or_default()
                    .push((label.to_string(), leaf.clone()));
                target.insert(key.clone(), leaf.clone());
            }
        }
        path.pop();
    }
}

/// What `--explain KEY` shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Explanation {
    /// A leaf: its value, and every layer that set it, lowest first.
    Leaf {
        value: Value,
        chain: Vec<(String, Value)>,
    },
    /// A table: its merged value and where each leaf below it came from.
    Table {
        value: Value,
        leaves: Vec<(KeyPath, String)>,
    },
}

impl Merged {
    pub fn get(&self, path: &[String]) -> Option<&Value> {
        let (first, rest) = path.split_first()?;
        let mut cur = self.values.get(first)?;
        for seg in rest {
            cur = cur.as_object()?.get(seg)?;
        }
        Some(cur)
    }

    pub fn explain(&self, path: &[String]) -> Option<Explanation> {
        let value = self.get(path)?.clone();
        if value.is_object() {
            let leaves = self
                .provenance
                .iter()
                .filter(|(p, _)| p.len() > path.len() && p.starts_with(path))
                .filter_map(|(p, chain)| Some((p.clone(), chain.last()?.0.clone())))
                .collect();
            return Some(Explanation::Table { value, leaves });
        }
        let chain = self.provenance.get(path).cloned().unwrap_or_default();
        Some(Explanation::Leaf { value, chain })
    }

    /// Where `path` stops matching: the index of the first missing segment
    /// and the keys that exist at that level, for "did you mean".
    pub fn siblings(&self, path: &[String]) -> (usize, Vec<String>) {
        let mut cur = &self.values;
        for (i, seg) in path.iter().enumerate() {
            match cur.get(seg).and_then(Value::as_object) {
                Some(m) if i + 1 < path.len() => cur = m,
                _ => return (i, cur.keys().cloned().collect()),
            }
        }
        (path.len().saturating_sub(1), cur.keys().cloned().collect())
    }
}

/// `a.b.c` -> `["a", "b", "c"]`; empty segments are an error.
pub fn parse_key(key: &str) -> Result<KeyPath, String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("the key is empty".to_string());
    }
    let parts: KeyPath = key.split('.').map(str::to_string).collect();
    if parts.iter().any(String::is_empty) {
        return Err(format!("`{key}` has an empty part between dots"));
    }
    Ok(parts)
}

/// A `--set` or environment value: a TOML number or boolean when it reads as
/// one, a TOML quoted string when quoted (to force `"5432"` to stay text),
/// otherwise the text as it is.
pub fn parse_scalar(text: &str) -> Value {
    let t = text.trim();
    let looks_numeric = t.chars().any(|c| c.is_ascii_digit());
    let quoted = (t.starts_with('"') && t.ends_with('"') && t.len() >= 2)
        || (t.starts_with('\'') && t.ends_with('\'') && t.len() >= 2);
    if t == "true" || t == "false" || looks_numeric || quoted {
        if let Ok(table) = format!("v = {t}").parse::<toml::Table>() {
            match table.get("v") {
                Some(toml::Value::Boolean(b)) => return Value::Bool(*b),
                Some(toml::Value::Integer(i)) => return Value::from(*i),
                Some(toml::Value::Float(f)) if f.is_finite() => {
                    if let Some(n) = serde_json::Number::from_f64(*f) {
                        return Value::Number(n);
                    }
                }
                Some(toml::Value::String(s)) if quoted => return Value::String(s.clone()),
                _ => {}
            }
        }
    }
    Value::String(text.to_string())
}

/// `KEY=VALUE` from `--set`, with dots in KEY for nesting.
pub fn parse_set(arg: &str) -> Result<(KeyPath, Value), String> {
    let Some((key, value)) = arg.split_once('=') else {
        return Err(format!("`{arg}` is not KEY=VALUE"));
    };
    Ok((parse_key(key)?, parse_scalar(value)))
}

/// The key path an environment variable `DEVENV_VALUE_<KEY>` sets: `__`
/// separates levels, each part is matched case-insensitively against the
/// keys already known at that level (so `DEVENV_VALUE_APIURL` sets `apiUrl`
/// when `apiUrl` exists) and lower-cased otherwise.
pub fn env_key_path(suffix: &str, known: &Map<String, Value>) -> Result<KeyPath, String> {
    if suffix.is_empty() {
        return Err("nothing follows DEVENV_VALUE_".to_string());
    }
    let mut path = Vec::new();
    let mut level = Some(known);
    for part in suffix.split("__") {
        if part.is_empty() {
            return Err(format!("`{suffix}` has an empty part between `__`"));
        }
        let existing = level.and_then(|m| m.keys().find(|k| k.eq_ignore_ascii_case(part)).cloned());
        let seg = existing.unwrap_or_else(|| part.to_ascii_lowercase());
        level = level.and_then(|m| m.get(&seg)).and_then(Value::as_object);
        path.push(seg);
    }
    Ok(path)
}

/// Sets `value` at `path`, creating (or replacing with) tables on the way.
pub fn set_path(map: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = map;
    for seg in parents {
        let entry = cur
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        cur = entry.as_object_mut().expect("just made a table");
    }
    cur.insert(last.clone(), value);
}

/// A single-leaf table: `["a","b"]`, 1 -> `{a = {b = 1}}`.
pub fn nested(path: &[String], value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    set_path(&mut m, path, value);
    m
}

/// `a.b` for messages.
pub fn display_key(path: &[String]) -> String {
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn key(s: &str) -> KeyPath {
        parse_key(s).unwrap()
    }

    fn layers() -> Vec<Layer> {
        vec![
            Layer::new(
                "values",
                obj(json!({"level": "v", "db": {"pool": 1, "host": "h"}})),
            ),
            Layer::new("source", obj(json!({"level": "s"}))),
            Layer::new("env", obj(json!({"level": "e", "db": {"pool": 2}}))),
            Layer::new("local", obj(json!({"level": "l"}))),
            Layer::new("var", obj(json!({"level": "x"}))),
            Layer::new("set", obj(json!({"level": "c"}))),
        ]
    }

    #[test]
    fn each_layer_overrides_the_one_before_and_removing_it_uncovers_the_next() {
        let all = layers();
        let expected = ["v", "s", "e", "l", "x", "c"];
        // With every layer present, the last wins; remove the winning layer
        // in turn and the next one down shows through.
        for top in (0..all.len()).rev() {
            let m = merge(&all[..=top]);
            assert_eq!(m.values["level"], json!(expected[top]), "top layer {top}");
            match m.explain(&key("level")).unwrap() {
                Explanation::Leaf { chain, .. } => {
                    assert_eq!(chain.len(), top + 1);
                    assert_eq!(chain.last().unwrap().0, all[top].label);
                }
                other => panic!("{other:?}"),
            }
        }
        // Removing any single middle layer leaves the order of the rest.
        for skip in 0..all.len() - 1 {
            let rest: Vec<Layer> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| l.clone())
                .collect();
            assert_eq!(merge(&rest).values["level"], json!("c"));
        }
    }

    #[test]
    fn tables_merge_by_key() {
        let m = merge(&layers());
        assert_eq!(m.values["db"], json!({"pool": 2, "host": "h"}));
        match m.explain(&key("db")).unwrap() {
            Explanation::Table { leaves, .. } => assert_eq!(
                leaves,
                vec![
                    (key("db.host"), "values".to_string()),
                    (key("db.pool"), "env".to_string())
                ]
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_scalar_replacing_a_table_drops_the_tables_history() {
        let m = merge(&[
            Layer::new("a", obj(json!({"db": {"pool": 1}}))),
            Layer::new("b", obj(json!({"db": "sqlite"}))),
        ]);
        assert_eq!(m.values["db"], json!("sqlite"));
        assert!(!m.provenance.contains_key(&key("db.pool")));
        let m = merge(&[
            Layer::new("a", obj(json!({"db": "sqlite"}))),
            Layer::new("b", obj(json!({"db": {"pool": 1}}))),
        ]);
        assert!(!m.provenance.contains_key(&key("db")));
        assert_eq!(m.provenance[&key("db.pool")][0].0, "b");
    }

    #[test]
    fn arrays_are_replaced_whole() {
        let m = merge(&[
            Layer::new("a", obj(json!({"hosts": ["a", "b"]}))),
            Layer::new("b", obj(json!({"hosts": ["c"]}))),
        ]);
        assert_eq!(m.values["hosts"], json!(["c"]));
    }

    #[test]
    fn scalars_parse_like_toml_and_fall_back_to_text() {
        assert_eq!(parse_scalar("5"), json!(5));
        assert_eq!(parse_scalar("-2.5"), json!(-2.5));
        assert_eq!(parse_scalar("true"), json!(true));
        assert_eq!(parse_scalar("1_000"), json!(1000));
        assert_eq!(parse_scalar("\"5432\""), json!("5432"));
        assert_eq!(parse_scalar("'x y'"), json!("x y"));
        for text in [
            "08", "1.2.3", "nan", "inf", "True", "debug", "", "a=b", "10.0.0.1",
        ] {
            assert_eq!(parse_scalar(text), json!(text), "{text}");
        }
    }

    #[test]
    fn set_arguments_nest_on_dots() {
        assert_eq!(
            parse_set("database.pool=5").unwrap(),
            (key("database.pool"), json!(5))
        );
        assert_eq!(parse_set("url=a=b").unwrap(), (key("url"), json!("a=b")));
        assert!(parse_set("novalue").is_err());
        assert!(parse_set("a..b=1").is_err());
        assert!(parse_set("=1").is_err());
    }

    #[test]
    fn environment_keys_use_double_underscores_for_dots() {
        let known = obj(json!({"apiUrl": "x", "database": {"poolSize": 1}}));
        assert_eq!(
            env_key_path("DATABASE__POOL", &Map::new()).unwrap(),
            key("database.pool")
        );
        assert_eq!(env_key_path("LOG_LEVEL", &known).unwrap(), key("log_level"));
        assert_eq!(env_key_path("APIURL", &known).unwrap(), key("apiUrl"));
        assert_eq!(
            env_key_path("DATABASE__POOLSIZE", &known).unwrap(),
            key("database.poolSize")
        );
        assert!(env_key_path("", &known).is_err());
        assert!(env_key_path("A____B", &known).is_err());
    }

    #[test]
    fn set_path_replaces_scalars_on_the_way() {
        let mut m = obj(json!({"a": 1}));
        set_path(&mut m, &key("a.b"), json!(2));
        assert_eq!(Value::Object(m), json!({"a": {"b": 2}}));
    }
}
