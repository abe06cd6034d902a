//! Stack presets: ready-made service definitions for the dependencies teams
//! use most (postgres, redis, kafka, ...).
//!
//! The built-in presets are the TOML files in the repository's `stacks/`
//! folder, embedded at build time. A service repository's own `stacks/`
//! folder adds presets or overrides built-in ones by file name.
//!
//! A preset may carry a version table (`versions.rs`): the service's
//! `version` picks the row, whose keys replace the preset's own.

mod template;
mod versions;

pub use template::{is_template, render_env, Placement};
pub use versions::{parse_tag, TagVersion, VersionNote, VersionRow};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::load::Reader;
use crate::manifest::schema::{CommandSpec, EnvValue, PortValue, ReadyDef};

/// One preset file.
#[derive(Debug, Clone, Deserialize)]
pub struct StackDef {
    pub description: String,
    /// Repository without tag, as on Docker Hub (`postgres`, `bitnami/kafka`).
    pub image: String,
    /// The tag used when the service gives no `version`.
    pub version: String,
    #[serde(default)]
    pub ports: Vec<PortValue>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    pub command: Option<CommandSpec>,
    pub entrypoint: Option<CommandSpec>,
    /// Named volumes: name -> container path.
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
    pub ready: Option<ReadyDef>,
    /// Templates over `host`, `port`, `ports`, `env`, `name`, for config files.
    #[serde(default)]
    pub exports: BTreeMap<String, String>,
    /// Where the image's environment contract is documented.
    pub docs: Option<String>,
    /// The version table, newest first (see `versions.rs`).
    #[serde(default)]
    pub versions: Vec<VersionRow>,
}

impl StackDef {
    /// The preset as it applies to image tag `tag`: the row the tag picks
    /// merged over the preset's own keys, and the warning it earns, if any.
    pub fn for_version(&self, tag: &str) -> (StackDef, Option<VersionNote>) {
        let (row, note) = versions::select(&self.versions, tag);
        let mut def = self.clone();
        if let Some(row) = row {
            def.env
                .extend(row.env.iter().map(|(k, v)| (k.clone(), v.clone())));
            def.volumes
                .extend(row.volumes.iter().map(|(k, v)| (k.clone(), v.clone())));
            if let Some(ready) = &row.ready {
                def.ready = Some(ready.clone());
            }
            if let Some(command) = &row.command {
                def.command = Some(command.clone());
            }
        }
        (def, note)
    }

    /// The ranges of the rows that are supported, newest first.
    pub fn supported_versions(&self) -> Vec<&str> {
        self.versions
            .iter()
            .filter(|r| r.is_supported())
            .map(|r| r.range.get_ref().as_str())
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    BuiltIn,
    Repository,
}

#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub def: StackDef,
    pub origin: Origin,
    pub path: Option<PathBuf>,
}

/// Every preset available to one repository.
#[derive(Debug, Clone, Default)]
pub struct Stacks {
    by_name: BTreeMap<String, Slot>,
}

/// A built-in preset is parsed when first asked for: most manifests use
/// one or two of them, and parsing all eleven (with their version tables)
/// cost every command, a no-op `up` too, most of a millisecond.
#[derive(Debug, Clone)]
enum Slot {
    Parsed(Stack),
    BuiltIn {
        text: &'static str,
        parsed: std::sync::OnceLock<Stack>,
    },
}

impl Slot {
    fn stack(&self, name: &str) -> &Stack {
        match self {
            Slot::Parsed(s) => s,
            Slot::BuiltIn { text, parsed } => parsed.get_or_init(|| built_in_stack(name, text)),
        }
    }
}

fn built_in_stack(name: &str, text: &str) -> Stack {
    let path = PathBuf::from(format!("<built-in>/stacks/{name}.toml"));
    // The built-in presets are checked by a unit test, so a parse failure
    // here is a bug in the binary, not in the user's input.
    let def = parse(&path, text).unwrap_or_else(|d| panic!("built-in stack {name}: {d}"));
    Stack {
        name: name.to_string(),
        def,
        origin: Origin::BuiltIn,
        path: None,
    }
}

/// The built-in presets, compiled into the binary.
const BUILT_IN: &[(&str, &str)] = &[
    ("kafka", include_str!("../../stacks/kafka.toml")),
    ("localstack", include_str!("../../stacks/localstack.toml")),
    ("mailpit", include_str!("../../stacks/mailpit.toml")),
    ("mariadb", include_str!("../../stacks/mariadb.toml")),
    ("minio", include_str!("../../stacks/minio.toml")),
    ("mongodb", include_str!("../../stacks/mongodb.toml")),
    ("mysql", include_str!("../../stacks/mysql.toml")),
    ("opensearch", include_str!("../../stacks/opensearch.toml")),
    ("postgres", include_str!("../../stacks/postgres.toml")),
    ("rabbitmq", include_str!("../../stacks/rabbitmq.toml")),
    ("redis", include_str!("../../stacks/redis.toml")),
];

const ESCAPE_HINT: &str =
    "devenv reads presets only from the repository's own stacks/: put the file itself there";

impl Stacks {
    /// The built-in presets plus those in `<repo>/stacks/*.toml`, which win.
    pub fn load(repo_root: &Path) -> Result<Stacks, Diagnostics> {
        let mut stacks = Stacks::built_in();
        let mut problems = Diagnostics::default();
        let dir = repo_root.join("stacks");
        // A repository's presets are its own files: a `stacks/` (or a
        // preset) symlinked out of it is refused, like any path it names.
        if let Err(e) = crate::confine::confine(repo_root, Path::new("stacks")) {
            return Err(Diagnostic::file(&dir, format!("stack presets: {e}"))
                .with_hint(ESCAPE_HINT)
                .into());
        }
        let Ok(read) = std::fs::read_dir(&dir) else {
            return Ok(stacks);
        };
        let mut files: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let text = match crate::confine::read_to_string(repo_root, &path) {
                Ok(t) => t,
                Err(crate::confine::OpenError::Escape(e)) => {
                    problems.push(
                        Diagnostic::file(&path, format!("stack preset {e}")).with_hint(ESCAPE_HINT),
                    );
                    continue;
                }
                Err(e) => {
                    problems.push(Diagnostic::file(
                        &path,
                        format!("cannot read stack preset: {e}"),
                    ));
                    continue;
                }
            };
            match parse(&path, &text) {
                Ok(def) => {
                    stacks.by_name.insert(
                        name.clone(),
                        Slot::Parsed(Stack {
                            name,
                            def,
                            origin: Origin::Repository,
                            path: Some(path),
                        }),
                    );
                }
                Err(d) => problems.extend(d),
            }
        }
        problems.into_result(stacks)
    }

    pub fn built_in() -> Stacks {
        let by_name = BUILT_IN
            .iter()
            .map(|(name, text)| {
                let slot = Slot::BuiltIn {
                    text,
                    parsed: std::sync::OnceLock::new(),
                };
                (name.to_string(), slot)
            })
            .collect();
        Stacks { by_name }
    }

    pub fn get(&self, name: &str) -> Option<&Stack> {
        self.by_name.get(name).map(|s| s.stack(name))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Stack> {
        self.by_name.iter().map(|(name, s)| s.stack(name))
    }
}

/// Parses one preset file, reporting problems against its own path.
pub fn parse(path: &Path, text: &str) -> Result<StackDef, Diagnostics> {
    let mut r = Reader::new(path, text);
    let Some(doc) = r.parse_document() else {
        return Err(r.problems);
    };
    let value = toml::Spanned::new(doc.span(), toml::de::DeValue::Table(doc.into_inner()));
    let def = r.typed::<StackDef>(&value, &["stack".to_string()]);
    match def {
        Some(mut d) if r.problems.is_empty() => {
            check_versions(&mut r, &mut d);
            check_env_templates(&mut r, &d);
            r.problems.into_result(d)
        }
        _ => Err(r.problems),
    }
}

/// Parses each row's range, reporting a bad one at its span.
fn check_versions(r: &mut Reader<'_>, def: &mut StackDef) {
    for row in &mut def.versions {
        match semver::VersionReq::parse(row.range.get_ref()) {
            Ok(req) => row.req = req,
            Err(e) => r.error_hint(
                row.range.span(),
                format!("`{}` is not a version range: {e}", row.range.get_ref()),
                "write a range over the tag's leading number, like \">=18\", \">=13, <18\" or \"<6\"",
            ),
        }
    }
}

/// A template in the preset's env must at least parse; whether the ports it
/// names are published is checked per service.
fn check_env_templates(r: &mut Reader<'_>, def: &StackDef) {
    let env = minijinja::Environment::new();
    let rows = def.versions.iter().flat_map(|row| row.env.iter());
    for (key, value) in def.env.iter().chain(rows) {
        if is_template(&value.0) {
            if let Err(e) = env.template_from_str(&value.0) {
                // Env values carry no span of their own: point at the text.
                let at = r.source.find(value.0.as_str()).unwrap_or(0);
                r.error(at..at + value.0.len(), format!("env `{key}`: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod preset_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_preset_parses_and_is_complete() {
        let stacks = Stacks::built_in();
        let names: Vec<&str> = stacks.names().collect();
        for want in [
            "postgres",
            "mysql",
            "redis",
            "mongodb",
            "rabbitmq",
            "kafka",
            "localstack",
            "minio",
            "opensearch",
            "mailpit",
            "mariadb",
        ] {
            assert!(names.contains(&want), "missing preset {want}");
        }
        for s in stacks.iter() {
            assert!(!s.def.ports.is_empty(), "{}: no ports", s.name);
            assert!(s.def.ready.is_some(), "{}: no readiness probe", s.name);
            for key in ["host", "port", "url"] {
                assert!(
                    s.def.exports.contains_key(key),
                    "{}: no `{key}` export",
                    s.name
                );
            }
        }
    }

    #[test]
    fn repository_presets_override_built_in_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("stacks")).unwrap();
        std::fs::write(
            dir.path().join("stacks/redis.toml"),
            "description = \"ours\"\nimage = \"valkey/valkey\"\nversion = \"8\"\nports = [\"6379\"]\n[exports]\nhost = \"{{ host }}\"\nport = \"{{ port }}\"\nurl = \"redis://{{ host }}:{{ port }}\"\n",
        )
        .unwrap();
        let stacks = Stacks::load(dir.path()).unwrap();
        let redis = stacks.get("redis").unwrap();
        assert_eq!(redis.def.image, "valkey/valkey");
        assert_eq!(redis.origin, Origin::Repository);
    }

    #[test]
    fn a_broken_repository_preset_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("stacks")).unwrap();
        std::fs::write(
            dir.path().join("stacks/x.toml"),
            "description = \"x\"\nimage = 3\n",
        )
        .unwrap();
        let err = Stacks::load(dir.path()).unwrap_err();
        assert!(err.0[0].file.ends_with("stacks/x.toml"));
        assert_eq!(err.0[0].line, 2);
    }
}
