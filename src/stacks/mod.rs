//! Stack presets: ready-made service definitions for the dependencies teams
//! use most (postgres, redis, kafka, ...).
//!
//! The built-in presets are the TOML files in the repository's `stacks/`
//! folder, embedded at build time. A service repository's own `stacks/`
//! folder adds presets or overrides built-in ones by file name.

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
    by_name: BTreeMap<String, Stack>,
}

/// The built-in presets, compiled into the binary.
const BUILT_IN: &[(&str, &str)] = &[
    ("kafka", include_str!("../../stacks/kafka.toml")),
    ("localstack", include_str!("../../stacks/localstack.toml")),
    ("mailpit", include_str!("../../stacks/mailpit.toml")),
    ("minio", include_str!("../../stacks/minio.toml")),
    ("mongodb", include_str!("../../stacks/mongodb.toml")),
    ("mysql", include_str!("../../stacks/mysql.toml")),
    ("opensearch", include_str!("../../stacks/opensearch.toml")),
    ("postgres", include_str!("../../stacks/postgres.toml")),
    ("rabbitmq", include_str!("../../stacks/rabbitmq.toml")),
    ("redis", include_str!("../../stacks/redis.toml")),
];

impl Stacks {
    /// The built-in presets plus those in `<repo>/stacks/*.toml`, which win.
    pub fn load(repo_root: &Path) -> Result<Stacks, Diagnostics> {
        let mut stacks = Stacks::built_in();
        let mut problems = Diagnostics::default();
        let dir = repo_root.join("stacks");
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
            let text = match crate::fsread::read_limited(&path) {
                Ok(t) => t,
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
                        Stack {
                            name,
                            def,
                            origin: Origin::Repository,
                            path: Some(path),
                        },
                    );
                }
                Err(d) => problems.extend(d),
            }
        }
        problems.into_result(stacks)
    }

    pub fn built_in() -> Stacks {
        let mut by_name = BTreeMap::new();
        for (name, text) in BUILT_IN {
            let path = PathBuf::from(format!("<built-in>/stacks/{name}.toml"));
            // The built-in presets are checked by a unit test, so a parse
            // failure here is a bug in the binary, not in the user's input.
            let def = parse(&path, text).unwrap_or_else(|d| panic!("built-in stack {name}: {d}"));
            by_name.insert(
                name.to_string(),
                Stack {
                    name: name.to_string(),
                    def,
                    origin: Origin::BuiltIn,
                    path: None,
                },
            );
        }
        Stacks { by_name }
    }

    pub fn get(&self, name: &str) -> Option<&Stack> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Stack> {
        self.by_name.values()
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
        Some(d) if r.problems.is_empty() => Ok(d),
        _ => Err(r.problems),
    }
}

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
