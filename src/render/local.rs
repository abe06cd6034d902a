//! `devenv.local.toml`: one developer's own values for this clone, beside
//! devenv.toml and git-ignored. The whole file is values, written like
//! `[config.values]`:
//!
//! ```toml
//! log_level = "debug"
//! [database]
//! pool = 2
//! ```

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, Diagnostics};

pub const FILE_NAME: &str = "devenv.local.toml";

pub fn path(root: &Path) -> PathBuf {
    root.join(FILE_NAME)
}

/// The file's values; `Ok(None)` when there is no such file.
pub fn load(root: &Path) -> Result<Option<Map<String, Value>>, Diagnostics> {
    let file = path(root);
    let text = match crate::fsread::read_limited(&file) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            let message = format!("cannot read {}: {e}", file.display());
            return Err(Diagnostic::file(&file, message).into());
        }
    };
    parse(&file, &text).map(Some)
}

pub fn parse(file: &Path, text: &str) -> Result<Map<String, Value>, Diagnostics> {
    match text.parse::<toml::Table>() {
        // `[settings]` is the settings layer (see `settings::file`), not a value.
        Ok(table) => Ok(table
            .into_iter()
            .filter(|(k, _)| k != "settings")
            .map(|(k, v)| (k, to_json(v)))
            .collect()),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            Err(Diagnostic::at(
                file,
                text,
                span,
                format!("invalid TOML: {}", e.message().trim()),
            )
            .with_hint(format!(
                "{FILE_NAME} holds your own values for this clone, like `log_level = \"debug\"`; see https://toml.io for the syntax"
            ))
            .into())
        }
    }
}

fn to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_nest_and_dates_become_text() {
        let m = parse(
            Path::new("devenv.local.toml"),
            "log_level = \"debug\"\nwhen = 2024-01-02\n[database]\npool = 2\n",
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"log_level": "debug", "when": "2024-01-02", "database": {"pool": 2}})
        );
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let d = parse(Path::new("devenv.local.toml"), "a = 1\nb = = 2\n")
            .unwrap_err()
            .0
            .remove(0);
        assert_eq!(d.line, 2);
        assert!(d.column >= 4, "{d:?}");
        assert!(d.message.starts_with("invalid TOML"));
    }

    #[test]
    fn a_missing_file_is_no_layer() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
    }
}
