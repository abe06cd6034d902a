//! From the typed file to the resolved `Manifest`: defaults applied, stacks
//! merged, paths and ports parsed, and every cross-check run. All problems
//! are collected; nothing on disk or in the engine is touched here.
//!
//! One file per part of devenv.toml; this one holds the entry point and the
//! small sections.

mod build;
mod checks;
mod config;
mod mocks;
mod processes;
mod services;
mod stack;
mod tools;

pub use services::{image_ref_problem, readiness_of};

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::graph::{find_cycles, port_clashes, Edge, PortClaim};
use super::load::RawManifest;
use super::model::*;
use super::ports::{parse_host_port, parse_port_spec};
use super::schema::{self, ReadyDef, ToolDef, ToolEntry};
use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use crate::stacks::Stacks;

/// What resolution needs besides the file itself.
pub struct ResolveInput<'a> {
    pub path: &'a Path,
    pub source: &'a str,
    pub raw: RawManifest,
    pub stacks: &'a Stacks,
    /// `devenv mock record NAME`: that mock's `wiremock` dir is where the
    /// recording goes, so it need not exist yet, nor hold stubs.
    pub recording: Option<&'a str>,
}

pub(super) struct Resolver<'a> {
    pub(super) path: &'a Path,
    pub(super) source: &'a str,
    pub(super) root: PathBuf,
    pub(super) stacks: &'a Stacks,
    pub(super) problems: Diagnostics,
    /// Allowed, but said: they never fail the load.
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) recording: Option<&'a str>,
}

pub fn resolve(input: ResolveInput<'_>) -> Result<Manifest, Diagnostics> {
    let root = input.path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut r = Resolver {
        path: input.path,
        source: input.source,
        root: root.clone(),
        stacks: input.stacks,
        problems: Diagnostics::default(),
        warnings: Vec::new(),
        recording: input.recording,
    };
    let raw = input.raw;
    let project = r.project(&raw.project);
    let settings = r.settings(&raw.settings);
    let tools = raw.tools.iter().filter_map(|(k, t)| r.tool(k, t)).collect();
    let requires = raw
        .requires
        .iter()
        .filter_map(|(k, v)| r.requirement(k, v))
        .collect();
    let mocks: Vec<Mock> = raw.mocks.iter().filter_map(|(k, m)| r.mock(k, m)).collect();
    let services: Vec<Service> = raw
        .services
        .iter()
        .filter_map(|(k, s)| r.service(k, s))
        .collect();
    let processes: Vec<Process> = raw
        .processes
        .iter()
        .filter_map(|(k, p)| r.process(k, p))
        .collect();
    r.cross_checks(&raw);
    let config = r.config(&raw.config);
    let secrets = raw
        .secrets
        .iter()
        .filter_map(|(k, s)| r.secret(k, s))
        .collect();
    let hooks = Hooks {
        setup: raw
            .hooks
            .setup
            .iter()
            .map(|h| h.get_ref().clone())
            .collect(),
        pre_down: raw
            .hooks
            .pre_down
            .iter()
            .map(|h| h.get_ref().clone())
            .collect(),
    };
    let metrics = r.metrics(&raw.metrics);
    let env = raw
        .env
        .iter()
        .filter_map(|(k, v)| r.env_var(k, v))
        .collect();
    let manifest = Manifest {
        path: input.path.to_path_buf(),
        root,
        content_hash: crate::util::sha256_hex(input.source.as_bytes()),
        project,
        settings,
        tools,
        requires,
        services,
        mocks,
        processes,
        config,
        secrets,
        hooks,
        metrics,
        env,
        warnings: std::mem::take(&mut r.warnings),
    };
    r.problems.into_result(manifest)
}

/// What to do about a path that leaves the repository.
fn escape_hint(e: &crate::confine::Escape) -> &'static str {
    match e {
        crate::confine::Escape::Symlink { .. } => {
            "devenv only uses files inside the repository: put the file itself there, or point the symlink inside"
        }
        _ => "write a path inside the repository, relative to the directory of devenv.toml",
    }
}

/// A name a shell accepts for a variable: letters, digits and `_`, not
/// starting with a digit (secrets and `[env]` are named like this).
pub(super) fn is_env_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Docker-safe names for services, mocks, processes and volumes.
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && s.len() <= 63
}

/// A project name as compose accepts it: lowercase letters, digits, `-`, `_`.
fn valid_project_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
        && s.len() <= 40
}

/// The directory name made into a valid project name.
pub fn sanitise_project_name(dir: &str) -> String {
    let mut out = String::new();
    for c in dir.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(|c: char| c == '-' || c == '_').to_string();
    let mut out: String = out.chars().take(30).collect();
    if out.is_empty() {
        out = "project".into();
    }
    out
}

impl Resolver<'_> {
    pub(super) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        if self.problems.is_full() {
            return;
        }
        self.problems
            .push(Diagnostic::at(self.path, self.source, span, message));
    }

    pub(super) fn err_hint(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        if self.problems.is_full() {
            return;
        }
        self.problems
            .push(Diagnostic::at(self.path, self.source, span, message).with_hint(hint));
    }

    pub(super) fn warn_hint(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let d = Diagnostic::at(self.path, self.source, span, message).with_hint(hint);
        self.warnings.push(d.as_warning());
    }

    pub(super) fn check_name(&mut self, what: &str, key: &Spanned<String>) -> bool {
        if valid_name(key.get_ref()) {
            return true;
        }
        self.err_hint(
            key.span(),
            format!("`{}` is not a valid {what} name", key.get_ref()),
            "use letters, digits, `-`, `_` or `.`, starting with a letter or digit (at most 63)",
        );
        false
    }

    /// A path in the repository that must exist and, with its symlinks
    /// followed, stay inside the repository. The path as written (joined to
    /// the root) is kept, so names and messages do not change.
    pub(super) fn existing_path(&mut self, what: &str, p: &Spanned<String>) -> Option<PathBuf> {
        let real = self.confined(what, p)?;
        if real.exists() {
            Some(self.root.join(p.get_ref()))
        } else {
            self.err_hint(
                p.span(),
                format!("{what} `{}` does not exist", p.get_ref()),
                format!(
                    "create it, or fix the path (relative to {})",
                    self.root.display()
                ),
            );
            None
        }
    }

    /// `p` resolved inside the repository (`crate::confine`), or the escape
    /// reported at its span: the path, and where it really points.
    pub(super) fn confined(&mut self, what: &str, p: &Spanned<String>) -> Option<PathBuf> {
        match crate::confine::confine(&self.root, Path::new(p.get_ref())) {
            Ok(real) => Some(real),
            Err(e) => {
                let hint = escape_hint(&e);
                self.err_hint(p.span(), format!("{what} {e}"), hint);
                None
            }
        }
    }

    fn project(&mut self, p: &schema::ProjectSection) -> Project {
        match &p.name {
            Some(n) => {
                if !valid_project_name(n.get_ref()) {
                    self.err_hint(
                        n.span(),
                        format!("`{}` is not a valid project name", n.get_ref()),
                        "use lowercase letters, digits, `-` and `_`, starting with a letter or digit (at most 40)",
                    );
                }
                Project {
                    name: n.get_ref().clone(),
                    id: n.get_ref().clone(),
                }
            }
            None => {
                let dir = self
                    .root
                    .file_name()
                    .map(|d| d.to_string_lossy().to_string())
                    .unwrap_or_default();
                let name = sanitise_project_name(&dir);
                let hash = crate::util::sha256_hex(self.root.to_string_lossy().as_bytes());
                Project {
                    id: format!("{name}-{}", &hash[..6]),
                    name,
                }
            }
        }
    }

    fn settings(&mut self, s: &schema::SettingsSection) -> Settings {
        if let Some(m) = &s.mounts {
            self.err_hint(
                m.span(),
                "`[settings] mounts` is read from devenv.local.toml and your user config, never from devenv.toml",
                "devenv.toml is shared by everyone who clones the repository: mount repository paths with `mounts` under [services.NAME], and put a mount from elsewhere (like ~/.m2) in devenv.local.toml",
            );
        }
        if let Some(m) = &s.registry_mirror {
            let v = m.get_ref();
            if v.contains("://") {
                self.err_hint(
                    m.span(),
                    format!("registry_mirror `{v}` must not have a scheme"),
                    "write it as `host:port` (and an optional path), like \"mirror.internal:5000\"",
                );
            } else if v.is_empty() || v.contains(char::is_whitespace) {
                self.err(
                    m.span(),
                    "registry_mirror must be a host[:port], like \"mirror.internal:5000\"",
                );
            }
        }
        Settings {
            registry_mirror: s
                .registry_mirror
                .as_ref()
                .map(|m| m.get_ref().trim_end_matches('/').to_string()),
            pull: s.pull.unwrap_or_default(),
        }
    }

    fn requirement(&mut self, key: &Spanned<String>, v: &Spanned<String>) -> Option<Requirement> {
        let raw = v.get_ref().trim();
        match semver::VersionReq::parse(raw) {
            Ok(range) => Some(Requirement {
                name: key.get_ref().clone(),
                range,
                raw: raw.to_string(),
            }),
            Err(e) => {
                self.err_hint(
                    v.span(),
                    format!("`{raw}` is not a version range: {e}"),
                    "write a range like \">=2.30\", \"^1.4\", \"~20.11\" or \"*\"",
                );
                None
            }
        }
    }

    fn secret(&mut self, key: &Spanned<String>, s: &schema::SecretDef) -> Option<Secret> {
        let name = key.get_ref();
        if !is_env_name(name) {
            self.err_hint(
                key.span(),
                format!("`{name}` is not a valid secret name"),
                "secret names are like environment variables: letters, digits and `_`",
            );
            return None;
        }
        if s.env.is_none() && s.command.is_none() && s.prompt.is_none() {
            self.err_hint(
                key.span(),
                format!("secret `{name}` has no source"),
                "give it `env`, `command` or `prompt`",
            );
            return None;
        }
        Some(Secret {
            name: name.clone(),
            env: s.env.clone(),
            command: s.command.as_ref().map(|c| c.0.clone()),
            prompt: s.prompt.clone(),
            optional: s.optional,
        })
    }

    fn metrics(&mut self, m: &schema::MetricsSection) -> Metrics {
        if let Some(e) = &m.endpoint {
            let v = e.get_ref();
            if !(v.starts_with("http://") || v.starts_with("https://"))
                || reqwest::Url::parse(v).is_err()
            {
                self.err_hint(
                    e.span(),
                    format!("`{v}` is not an http(s) URL"),
                    "write it like \"http://pushgateway.internal:9091\"",
                );
            }
        }
        let defaults = Metrics::default();
        Metrics {
            endpoint: m.endpoint.as_ref().map(|e| e.get_ref().clone()),
            format: m.format.unwrap_or_default(),
            auto_report: m.auto_report.unwrap_or(m.endpoint.is_some()),
            timeout: m.timeout.map_or(defaults.timeout, |t| t.0),
            identity: m.identity.unwrap_or_default(),
            job: m.job.clone().unwrap_or(defaults.job),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitise_project_name;

    #[test]
    fn project_names_are_sanitised() {
        assert_eq!(
            sanitise_project_name("My Service (copy)"),
            "my-service-copy"
        );
        assert_eq!(sanitise_project_name("..."), "project");
        assert_eq!(sanitise_project_name("checkout_api"), "checkout_api");
    }
}
