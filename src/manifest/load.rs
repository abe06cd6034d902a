//! Turning the text of a devenv.toml (or a stack preset) into the typed
//! `schema` structs, collecting *every* problem rather than stopping at the
//! first one.
//!
//! The document is parsed once into toml's spanned tree. Each section, and each
//! entry of the map-shaped sections, is then deserialized on its own through
//! `serde_ignored`, so one bad service does not hide a mistake in another and
//! every unknown key is reported with its own position.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

use super::schema::{self, known_keys, ToolDef, ToolEntry};
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};

/// devenv.toml as written, every section typed, keys kept with their spans.
#[derive(Debug, Default)]
pub struct RawManifest {
    pub project: schema::ProjectSection,
    pub settings: schema::SettingsSection,
    pub tools: Vec<(Spanned<String>, ToolEntry)>,
    pub requires: Vec<(Spanned<String>, Spanned<String>)>,
    pub services: Vec<(Spanned<String>, schema::ServiceDef)>,
    pub mocks: Vec<(Spanned<String>, schema::MockDef)>,
    pub processes: Vec<(Spanned<String>, schema::ProcessDef)>,
    pub config: schema::ConfigSection,
    pub secrets: Vec<(Spanned<String>, schema::SecretDef)>,
    pub hooks: schema::HooksSection,
    pub metrics: schema::MetricsSection,
    /// `[env]`: variable name -> template, both with spans.
    pub env: Vec<(Spanned<String>, Spanned<String>)>,
}

/// Walks one parsed document and deserializes pieces of it.
pub struct Reader<'a> {
    pub file: &'a Path,
    pub source: &'a str,
    pub problems: Diagnostics,
}

impl<'a> Reader<'a> {
    pub fn new(file: &'a Path, source: &'a str) -> Self {
        Reader {
            file,
            source,
            problems: Diagnostics::default(),
        }
    }

    /// Parses the whole document; syntax errors are all collected.
    pub fn parse_document(&mut self) -> Option<Spanned<DeTable<'a>>> {
        let (table, errors) = DeTable::parse_recoverable(self.source);
        if errors.is_empty() {
            return Some(table);
        }
        for e in errors {
            if self.problems.is_full() {
                break;
            }
            let span = e.span().unwrap_or(0..0);
            self.problems.push(
                Diagnostic::at(
                    self.file,
                    self.source,
                    span,
                    format!("invalid TOML: {}", e.message().trim()),
                )
                .with_hint("fix the TOML syntax; see https://toml.io for the format"),
            );
        }
        None
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        if self.problems.is_full() {
            return;
        }
        self.problems
            .push(Diagnostic::at(self.file, self.source, span, message));
    }

    pub fn error_hint(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        if self.problems.is_full() {
            return;
        }
        self.problems
            .push(Diagnostic::at(self.file, self.source, span, message).with_hint(hint));
    }

    /// Deserializes `value` into `T`. Unknown keys anywhere inside are
    /// reported (with suggestions from `known_keys` under `path`); a type
    /// error is reported at its span. `None` means a problem was recorded.
    pub fn typed<T: DeserializeOwned>(
        &mut self,
        value: &Spanned<DeValue<'a>>,
        path: &[String],
    ) -> Option<T> {
        let mut ignored: Vec<Vec<String>> = Vec::new();
        let de = ValueDeserializer::from(value.clone());
        let result: Result<T, _> = serde_ignored::deserialize(de, |p| ignored.push(segments(&p)));
        for rel in ignored {
            self.unknown_key(value, path, &rel);
        }
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or_else(|| value.span());
                let message = tidy_serde_message(e.message());
                let hint = type_hint(&message);
                match hint {
                    Some(h) => self.error_hint(span, message, h),
                    None => self.error(span, message),
                }
                None
            }
        }
    }

    fn unknown_key(&mut self, root: &Spanned<DeValue<'a>>, path: &[String], rel: &[String]) {
        let (span, key) = match locate_key(root, rel) {
            Some(found) => found,
            None => (root.span(), rel.last().cloned().unwrap_or_default()),
        };
        let mut full: Vec<String> = path.to_vec();
        full.extend(rel[..rel.len().saturating_sub(1)].iter().cloned());
        self.unknown_key_at(span, &key, &full);
    }

    /// Reports `key` as unknown in the table at `table_path`.
    pub fn unknown_key_at(&mut self, span: Range<usize>, key: &str, table_path: &[String]) {
        let where_ = if table_path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in [{}]", table_path.join("."))
        };
        let message = format!("unknown key `{key}` {where_}");
        let pattern: Vec<&str> = table_path.iter().map(String::as_str).collect();
        match known_keys(&pattern) {
            Some(known) => match did_you_mean(key, known.iter().copied()) {
                Some(s) => self.error_hint(span, message, format!("did you mean `{s}`?")),
                None => self.error_hint(
                    span,
                    message,
                    format!("known keys here: {}", known.join(", ")),
                ),
            },
            None => self.error(span, message),
        }
    }

    /// The entries of a table-valued section as `(key, value)` pairs, or a
    /// type error when the section is not a table.
    pub fn entries<'v>(
        &mut self,
        value: &'v Spanned<DeValue<'a>>,
        what: &str,
    ) -> Vec<(Spanned<String>, &'v Spanned<DeValue<'a>>)> {
        match value.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .map(|(k, v)| (Spanned::new(k.span(), k.get_ref().to_string()), v))
                .collect(),
            other => {
                self.error(
                    value.span(),
                    format!("`{what}` must be a table, found {}", other.type_str()),
                );
                Vec::new()
            }
        }
    }
}

/// Reads a devenv.toml into `RawManifest`. A syntax error stops here; other
/// problems are returned beside what could be read, so the cross-checks can
/// still run on the rest and the user sees every mistake at once.
pub fn read_manifest(file: &Path, source: &str) -> Result<(RawManifest, Diagnostics), Diagnostics> {
    let mut r = Reader::new(file, source);
    let Some(doc) = r.parse_document() else {
        return Err(r.problems);
    };
    let mut m = RawManifest::default();
    for (key, value) in doc.get_ref().iter() {
        let name = key.get_ref().as_ref();
        let p = |s: &str| vec![s.to_string()];
        match name {
            "project" => m.project = r.typed(value, &p("project")).unwrap_or_default(),
            "settings" => m.settings = r.typed(value, &p("settings")).unwrap_or_default(),
            "config" => m.config = r.typed(value, &p("config")).unwrap_or_default(),
            "hooks" => m.hooks = r.typed(value, &p("hooks")).unwrap_or_default(),
            "metrics" => m.metrics = r.typed(value, &p("metrics")).unwrap_or_default(),
            "tools" => {
                for (k, v) in r.entries(value, "tools") {
                    if let Some(t) = read_tool(&mut r, &k, v) {
                        m.tools.push((k, t));
                    }
                }
            }
            "requires" => {
                for (k, v) in r.entries(value, "requires") {
                    match v.get_ref() {
                        DeValue::String(s) => {
                            m.requires.push((k, Spanned::new(v.span(), s.to_string())))
                        }
                        other => r.error_hint(
                            v.span(),
                            format!(
                                "`requires.{}` must be a version range string, found {}",
                                k.get_ref(),
                                other.type_str()
                            ),
                            "write it like `git = \">=2.30\"` or `docker = \"*\"`",
                        ),
                    }
                }
            }
            "env" => {
                for (k, v) in r.entries(value, "env") {
                    match v.get_ref() {
                        DeValue::String(s) => m.env.push((k, Spanned::new(v.span(), s.to_string()))),
                        other => r.error_hint(
                            v.span(),
                            format!(
                                "`env.{}` must be a string, found {}",
                                k.get_ref(),
                                other.type_str()
                            ),
                            "write it like `DATABASE_URL = \"{{ services.db.url }}\"`; quote numbers: `PORT = \"3000\"`",
                        ),
                    }
                }
            }
            "services" => m.services = read_map(&mut r, value, "services"),
            "mocks" => m.mocks = read_map(&mut r, value, "mocks"),
            "processes" => m.processes = read_map(&mut r, value, "processes"),
            "secrets" => m.secrets = read_map(&mut r, value, "secrets"),
            other => r.unknown_key_at(key.span(), other, &[]),
        }
    }
    Ok((m, r.problems))
}

fn read_map<'a, T: DeserializeOwned>(
    r: &mut Reader<'a>,
    value: &Spanned<DeValue<'a>>,
    section: &str,
) -> Vec<(Spanned<String>, T)> {
    let mut out = Vec::new();
    for (k, v) in r.entries(value, section) {
        if !v.get_ref().is_table() {
            r.error(
                v.span(),
                format!(
                    "`{section}.{}` must be a table, found {}",
                    k.get_ref(),
                    v.get_ref().type_str()
                ),
            );
            continue;
        }
        let path = vec![section.to_string(), k.get_ref().clone()];
        if let Some(t) = r.typed(v, &path) {
            out.push((k, t));
        }
    }
    out
}

fn read_tool<'a>(
    r: &mut Reader<'a>,
    key: &Spanned<String>,
    v: &Spanned<DeValue<'a>>,
) -> Option<ToolEntry> {
    match v.get_ref() {
        DeValue::String(s) => Some(ToolEntry::Version(Spanned::new(v.span(), s.to_string()))),
        DeValue::Table(_) => {
            let path = vec!["tools".to_string(), key.get_ref().clone()];
            r.typed::<ToolDef>(v, &path)
                .map(|d| ToolEntry::Detailed(Box::new(d)))
        }
        other => {
            r.error_hint(
                v.span(),
                format!("tool `{}` must be a version string or a table, found {}", key.get_ref(), other.type_str()),
                "write `jq = \"1.7.1\"` for a built-in tool, or a [tools.jq] table with `version` and `url`",
            );
            None
        }
    }
}

/// serde_ignored's path as plain segments, without serde_spanned's private
/// wrapper keys and without the `?` of `Option`s.
fn segments(p: &serde_ignored::Path) -> Vec<String> {
    use serde_ignored::Path as P;
    let mut out = Vec::new();
    let mut cur = p;
    loop {
        match cur {
            P::Root => break,
            P::Seq { parent, index } => {
                out.push(index.to_string());
                cur = parent;
            }
            P::Map { parent, key } => {
                if !key.starts_with("$__serde_spanned_private") {
                    out.push(key.clone());
                }
                cur = parent;
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                cur = parent
            }
        }
    }
    out.reverse();
    out
}

/// The span of the key named by `rel` (a path of table keys and array
/// indices) below `root`, and the key's own text.
fn locate_key(root: &Spanned<DeValue<'_>>, rel: &[String]) -> Option<(Range<usize>, String)> {
    let (last, parents) = rel.split_last()?;
    let mut cur = root;
    for seg in parents {
        cur = match cur.get_ref() {
            DeValue::Table(t) => t.iter().find(|(k, _)| k.get_ref() == seg).map(|(_, v)| v)?,
            DeValue::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match cur.get_ref() {
        DeValue::Table(t) => t
            .iter()
            .find(|(k, _)| k.get_ref() == last)
            .map(|(k, _)| (k.span(), last.clone())),
        _ => None,
    }
}

fn tidy_serde_message(m: &str) -> String {
    let m = m.trim();
    // serde's untagged/visitor messages start lowercase already; make the
    // common ones read as sentences about the user's file.
    m.replace("invalid type: ", "wrong type: ")
}

fn type_hint(message: &str) -> Option<String> {
    if message.starts_with("missing field") {
        Some("add the missing key to this table".to_string())
    } else if message.starts_with("unknown variant") {
        Some("use one of the listed values".to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(src: &str) -> Vec<String> {
        let d = match read_manifest(Path::new("devenv.toml"), src) {
            Ok((_, d)) => d,
            Err(d) => d,
        };
        d.0.iter()
            .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
            .collect()
    }

    #[test]
    fn reports_every_unknown_key_with_its_position() {
        let p = problems("[project]\nnmae = \"x\"\n\n[services.db]\nimgae = \"postgres:16\"\n");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(
            p[0].starts_with("2:1 unknown key `nmae` in [project]"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("5:1 unknown key `imgae` in [services.db]"),
            "{p:?}"
        );
    }

    #[test]
    fn type_errors_point_at_the_value() {
        let p = problems("[services.db]\nimage = 5\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("2:9"), "{p:?}");
    }

    #[test]
    fn one_bad_service_does_not_hide_another() {
        let p = problems("[services.a]\nimage = 1\n[services.b]\nports = 5\n");
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn tools_take_a_string_or_a_table() {
        let m = read_manifest(
            Path::new("devenv.toml"),
            "[tools]\nnode = \"20.11.1\"\n[tools.jq]\nversion = \"1.7.1\"\nurl = \"https://x/{version}\"\n",
        )
        .unwrap()
        .0;
        assert_eq!(m.tools.len(), 2);
        assert!(matches!(m.tools[0].1, ToolEntry::Version(_)));
        assert!(matches!(m.tools[1].1, ToolEntry::Detailed(_)));
    }

    #[test]
    fn nested_unknown_keys_are_found() {
        let p = problems("[services.c]\nimage = \"redis\"\nready = { tcpp = 1 }\n");
        assert!(
            p[0].contains("unknown key `tcpp` in [services.c.ready]"),
            "{p:?}"
        );
    }

    #[test]
    fn syntax_errors_stop_before_typing() {
        let p = problems("[project\nname = 1\n");
        assert!(p[0].contains("invalid TOML"), "{p:?}");
    }
}
