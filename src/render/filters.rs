//! The filters config files need beyond minijinja's built-ins: `tojson`
//! (without HTML escaping, unlike the built-in), `toyaml`, `b64encode`,
//! `b64decode` and `quote` for POSIX shells. `default` is minijinja's own.

use base64::Engine as _;
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind};

pub fn register(env: &mut Environment<'_>) {
    env.add_filter("tojson", tojson);
    env.add_filter("toyaml", toyaml);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("quote", quote);
}

fn defined(value: &Value, filter: &str) -> Result<(), Error> {
    if value.is_undefined() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!("`{filter}` was given an undefined value"),
        ));
    }
    Ok(())
}

/// `{{ x | tojson }}` compact, `{{ x | tojson(indent=2) }}` pretty.
fn tojson(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(value, "tojson")?;
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let text = match indent {
        None => serde_json::to_string(value),
        Some(n) => {
            let pad = " ".repeat(n);
            let fmt = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(value, &mut ser)
                .map(|_| String::from_utf8(buf).unwrap_or_default())
        }
    }
    .map_err(|e| Error::new(ErrorKind::BadSerialization, "cannot write JSON").with_source(e))?;
    Ok(Value::from_safe_string(text))
}

/// Block-style YAML for the value, without a trailing newline so it fits
/// inline. Strings a YAML 1.1 reader would take for something else (`yes`,
/// `on`, dates, `1_000`) are quoted, since many config readers are 1.1.
fn toyaml(value: &Value) -> Result<Value, Error> {
    defined(value, "toyaml")?;
    let json = serde_json::to_value(value)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, "cannot write YAML").with_source(e))?;
    let mut out = String::new();
    yaml_block(&json, 0, &mut out);
    Ok(Value::from_safe_string(
        out.trim_end_matches('\n').to_string(),
    ))
}

fn yaml_block(v: &serde_json::Value, indent: usize, out: &mut String) {
    use serde_json::Value as J;
    let pad = " ".repeat(indent);
    match v {
        J::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                out.push_str(&format!("{pad}{}:", yaml_scalar_str(k)));
                yaml_child(val, indent, out);
            }
        }
        J::Array(a) if !a.is_empty() => {
            for item in a {
                match item {
                    J::Object(m) if !m.is_empty() => {
                        // The first key shares the line with the dash.
                        let mut inner = String::new();
                        yaml_block(item, indent + 2, &mut inner);
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                    J::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        yaml_block(item, indent + 2, out);
                    }
                    other => out.push_str(&format!("{pad}- {}\n", yaml_flow(other))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", yaml_flow(other))),
    }
}

fn yaml_child(v: &serde_json::Value, indent: usize, out: &mut String) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            yaml_block(v, indent + 2, out);
        }
        serde_json::Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            yaml_block(v, indent + 2, out);
        }
        other => out.push_str(&format!(" {}\n", yaml_flow(other))),
    }
}

/// A scalar, or an empty collection, on one line.
fn yaml_flow(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => yaml_scalar_str(s),
        J::Array(_) => "[]".into(),
        J::Object(_) => "{}".into(),
    }
}

fn yaml_scalar_str(s: &str) -> String {
    // JSON strings are valid YAML double-quoted scalars: used for anything
    // multi-line or with control characters.
    if s.chars().any(|c| c.is_control()) {
        return serde_json::to_string(s).unwrap_or_default();
    }
    let plain = serde_yaml_ng::to_string(s).unwrap_or_default();
    let plain = plain.trim_end_matches('\n');
    if plain.starts_with('\'') || plain.starts_with('"') {
        return plain.to_string();
    }
    if yaml11_ambiguous(s) || plain != s {
        return format!("'{}'", s.replace('\'', "''"));
    }
    s.to_string()
}

fn yaml11_ambiguous(s: &str) -> bool {
    const WORDS: [&str; 11] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=",
    ];
    let lower = s.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    // Dates, times, sexagesimal and underscored numbers are typed in YAML 1.1.
    let first = s.chars().next().unwrap_or(' ');
    (first.is_ascii_digit() || first == '+' || first == '-' || first == '.')
        && s.chars().all(|c| {
            c.is_ascii_digit() || "-:._+eE".contains(c) || c == 'T' || c == 'Z' || c == ' '
        })
}

fn as_text(value: &Value, filter: &str) -> Result<String, Error> {
    defined(value, filter)?;
    if let Some(bytes) = value.as_bytes() {
        if value.as_str().is_none() {
            return Ok(String::from_utf8_lossy(bytes).into_owned());
        }
    }
    if value.is_none() {
        return Ok(String::new());
    }
    Ok(value.to_string())
}

fn b64encode(value: &Value) -> Result<String, Error> {
    defined(value, "b64encode")?;
    let bytes: Vec<u8> = match value.as_bytes() {
        Some(b) => b.to_vec(),
        None => as_text(value, "b64encode")?.into_bytes(),
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn b64decode(value: &Value) -> Result<String, Error> {
    let text = as_text(value, "b64decode")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| {
            Error::new(ErrorKind::InvalidOperation, "`b64decode`: not base64").with_source(e)
        })?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "`b64decode`: the decoded bytes are not UTF-8 text",
        )
    })
}

fn quote(value: &Value) -> Result<String, Error> {
    Ok(shell_quote(&as_text(value, "quote")?))
}

/// POSIX shell quoting: safe words stay as they are, anything else goes in
/// single quotes with each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        return s.to_string();
    }
    crate::util::single_quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn render(tpl: &str, ctx: Value) -> Result<String, Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        register(&mut env);
        env.render_str(tpl, ctx)
    }

    #[test]
    fn tojson_does_not_html_escape() {
        let out = render("{{ v | tojson }}", context! { v => "<a&b>" }).unwrap();
        assert_eq!(out, "\"<a&b>\"");
        let out = render(
            "{{ v | tojson(indent=2) }}",
            context! { v => context!{ a => 1 } },
        )
        .unwrap();
        assert_eq!(out, "{\n  \"a\": 1\n}");
    }

    #[test]
    fn toyaml_quotes_what_yaml_would_misread() {
        let out = render(
            "{{ v | toyaml }}",
            context! { v => context!{ a => "yes", b => 1 } },
        )
        .unwrap();
        assert_eq!(out, "a: 'yes'\nb: 1");
        for (input, want) in [
            ("on", "'on'"),
            ("No", "'No'"),
            ("2024-01-01", "'2024-01-01'"),
            ("1_000", "'1_000'"),
            ("12:30", "'12:30'"),
            ("1.0", "'1.0'"),
            ("it's", "it's"),
            ("a: b", "'a: b'"),
            ("two\nlines", "\"two\\nlines\""),
            ("plain text", "plain text"),
        ] {
            let out = render("{{ v | toyaml }}", context! { v => input }).unwrap();
            assert_eq!(out, want, "{input:?}");
        }
    }

    #[test]
    fn toyaml_nests_in_block_style() {
        let v: serde_json::Value = serde_json::json!({
            "db": {"host": "h", "ports": [5432, 5433]},
            "users": [{"name": "a", "roles": ["x"]}, {"name": "b"}],
            "empty": {}, "none": [], "nothing": null
        });
        let out = render(
            "{{ v | toyaml }}",
            context! { v => Value::from_serialize(&v) },
        )
        .unwrap();
        let want = "db:\n  host: h\n  ports:\n    - 5432\n    - 5433\nempty: {}\nnone: []\nnothing: null\nusers:\n  - name: a\n    roles:\n      - x\n  - name: b";
        assert_eq!(out, want);
        // And it reads back as the same data.
        let back: serde_json::Value = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(
            render("{{ 'user:pass' | b64encode }}", context! {}).unwrap(),
            "dXNlcjpwYXNz"
        );
        assert_eq!(
            render("{{ 'dXNlcjpwYXNz' | b64decode }}", context! {}).unwrap(),
            "user:pass"
        );
        assert_eq!(render("{{ 5 | b64encode }}", context! {}).unwrap(), "NQ==");
    }

    #[test]
    fn quote_is_posix_shell_safe() {
        assert_eq!(shell_quote("plain-word_1.2"), "plain-word_1.2");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
        let out = render("X={{ v | quote }}", context! { v => "a;rm -rf /" }).unwrap();
        assert_eq!(out, "X='a;rm -rf /'");
    }

    #[test]
    fn default_still_works_in_strict_mode() {
        let out = render("{{ missing | default('x') }}", context! {}).unwrap();
        assert_eq!(out, "x");
        assert!(render("{{ missing | quote }}", context! {}).is_err());
    }
}
