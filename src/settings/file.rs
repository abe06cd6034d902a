//! The `[settings]` tables of the two files beside devenv.toml's own: the
//! user's config file (`$XDG_CONFIG_HOME/devenv/config.toml`) and the
//! clone's `devenv.local.toml`. Both are read with the manifest's reader, so
//! a mistake is reported exactly like one in devenv.toml: file:line:column,
//! the line, and what to do.
//!
//! Only these two files may hold `[settings] mounts` (bind mounts from
//! outside the repository): they are the user's own, devenv.toml is not.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::load::Reader;
use crate::manifest::schema::{PullPolicy, SettingsSection};

/// One file's `[settings]`, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSettings {
    pub path: PathBuf,
    pub registry_mirror: Option<String>,
    pub pull: Option<PullPolicy>,
    /// `[settings] mounts`, as written: by service, each list in order.
    pub mounts: Vec<MountEntry>,
    /// The file's text, for diagnostics about its mounts.
    pub text: String,
}

/// One entry of `[settings] mounts`: `SERVICE = ["SOURCE:TARGET[:ro]"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub service: String,
    pub spec: String,
    pub span: Range<usize>,
}

/// What a file may hold besides `[settings]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The user's config file: `[settings]` only.
    User,
    /// devenv.local.toml: values for templates, plus `[settings]`.
    Local,
}

/// Reads the user config at `path`; `Ok(None)` when there is no such file.
pub fn read(path: &Path, kind: Kind) -> Result<Option<FileSettings>, Diagnostics> {
    match crate::fsread::read_limited(path) {
        Ok(text) => parse(path, &text, kind).map(Some),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => {
            Err(Diagnostic::file(path, format!("cannot read {}: {e}", path.display())).into())
        }
    }
}

/// Reads the clone's devenv.local.toml (through `confine`, as templates
/// read it); `Ok(None)` when there is none.
pub fn read_local(root: &Path) -> Result<Option<FileSettings>, Diagnostics> {
    let path = crate::render::local::path(root);
    match crate::render::local::read(root)? {
        Some(text) => parse(&path, &text, Kind::Local).map(Some),
        None => Ok(None),
    }
}

pub fn parse(path: &Path, text: &str, kind: Kind) -> Result<FileSettings, Diagnostics> {
    let mut r = Reader::new(path, text);
    let Some(doc) = r.parse_document() else {
        return Err(r.problems);
    };
    let mut out = FileSettings {
        path: path.to_path_buf(),
        text: text.to_string(),
        ..Default::default()
    };
    for (key, value) in doc.get_ref().iter() {
        match (key.get_ref().as_ref(), kind) {
            ("settings", _) => {
                let s: SettingsSection = r
                    .typed(value, &["settings".to_string()])
                    .unwrap_or_default();
                out.registry_mirror = s.registry_mirror.map(|m| m.into_inner());
                out.pull = s.pull;
                for (service, list) in s.mounts.map(|m| m.into_inner()).unwrap_or_default() {
                    out.mounts.extend(list.into_iter().map(|m| MountEntry {
                        service: service.clone(),
                        span: m.span(),
                        spec: m.into_inner(),
                    }));
                }
            }
            // Everything else in devenv.local.toml is a template value.
            (_, Kind::Local) => {}
            (other, Kind::User) => r.error_hint(
                key.span(),
                format!("unknown key `{other}` at the top level of the user config"),
                "this file holds a `[settings]` table: registry_mirror, pull, mounts",
            ),
        }
    }
    r.problems.into_result(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_settings_table() {
        let s = parse(
            Path::new("config.toml"),
            "[settings]\nregistry_mirror = \"127.0.0.1:5000\"\npull = \"always\"\n",
            Kind::User,
        )
        .unwrap();
        assert_eq!(s.registry_mirror.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(s.pull, Some(PullPolicy::Always));
    }

    #[test]
    fn a_typo_is_reported_with_line_column_and_suggestion() {
        let d = parse(
            Path::new("config.toml"),
            "[settings]\nregistry_mirorr = \"x\"\n",
            Kind::User,
        )
        .unwrap_err();
        let text = d.to_string();
        assert!(text.contains("config.toml:2:1"), "{text}");
        let hint = d.0[0].hint.as_deref().unwrap_or_default();
        assert!(hint.contains("`registry_mirror`"), "{hint}");
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        let d = parse(Path::new("c.toml"), "[settings]\npull = 3\n", Kind::User).unwrap_err();
        assert!(d.to_string().contains("c.toml:2:8"), "{d}");
    }

    #[test]
    fn local_values_beside_settings_are_not_settings_problems() {
        let s = parse(
            Path::new("devenv.local.toml"),
            "log_level = \"debug\"\n[settings]\npull = \"never\"\n",
            Kind::Local,
        )
        .unwrap();
        assert_eq!(s.pull, Some(PullPolicy::Never));
        let d = parse(Path::new("u.toml"), "log_level = 1\n", Kind::User).unwrap_err();
        assert!(d.to_string().contains("unknown key `log_level`"), "{d}");
    }
}
