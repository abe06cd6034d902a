//! Where the container engine is: the docker CLI's own variables and
//! files, read once here, each with its origin for `devenv config`.
//!
//! The variables mean what they mean to the docker CLI: `DOCKER_HOST`,
//! `DOCKER_CONTEXT`, `DOCKER_CONFIG` (default `~/.docker`), and for a
//! `tcp://` host `DOCKER_TLS_VERIFY` / `DOCKER_TLS` (on when set to
//! anything, even `0`, as there) with `DOCKER_CERT_PATH` (default: the
//! config directory). Which engine they lead to is `services::engine`'s
//! business; this only gathers them.

use std::path::{Path, PathBuf};

use super::{Origin, ProcessEnv, Setting};
use crate::services::context;
use crate::services::EngineConfig;

pub const DOCKER_HOST: &str = "DOCKER_HOST";
pub const DOCKER_CONTEXT: &str = "DOCKER_CONTEXT";
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
pub const DOCKER_TLS_VERIFY: &str = "DOCKER_TLS_VERIFY";
pub const DOCKER_TLS: &str = "DOCKER_TLS";
pub const DOCKER_CERT_PATH: &str = "DOCKER_CERT_PATH";

/// The engine's settings, as `devenv config` shows them.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub host: Setting<Option<String>>,
    /// The context's name; from `DOCKER_CONTEXT` or the config file.
    pub context: Setting<Option<String>>,
    pub config_dir: Setting<Option<PathBuf>>,
    /// `verify`, `on` (not verified) or `off`.
    pub tls: Setting<&'static str>,
    pub cert_path: Setting<Option<PathBuf>>,
    /// What the engine module gets.
    pub config: EngineConfig,
}

/// Gathers the engine's variables; `devenv_home` places the network lock.
pub fn resolve(env: &ProcessEnv, devenv_home: &Path) -> EngineSettings {
    let home = env.home_dir();
    let mut host = Setting::default(None);
    host.layer(
        env.var(DOCKER_HOST).map(|h| Some(h.to_string())),
        Origin::Env(DOCKER_HOST),
    );
    let mut config_dir = Setting::default(home.as_ref().map(|h| h.join(".docker")));
    config_dir.layer(
        env.var(DOCKER_CONFIG).map(|d| Some(PathBuf::from(d))),
        Origin::Env(DOCKER_CONFIG),
    );
    let mut context = Setting::default(None);
    if let Some(dir) = &config_dir.value {
        if let Some(c) = context::chosen(dir, env.var(DOCKER_CONTEXT)) {
            let origin = match env.var(DOCKER_CONTEXT) {
                Some(_) => Origin::Env(DOCKER_CONTEXT),
                None => Origin::User(dir.join("config.json")),
            };
            context.layer(Some(Some(c.name)), origin);
        }
    }
    let tls_verify = env.var(DOCKER_TLS_VERIFY).is_some();
    let tls_on = env.var(DOCKER_TLS).is_some();
    let mut tls = Setting::default("off");
    tls.layer(tls_on.then_some("on"), Origin::Env(DOCKER_TLS));
    tls.layer(
        tls_verify.then_some("verify"),
        Origin::Env(DOCKER_TLS_VERIFY),
    );
    let mut cert_path = config_dir.clone();
    cert_path.layer(
        env.var(DOCKER_CERT_PATH).map(|d| Some(PathBuf::from(d))),
        Origin::Env(DOCKER_CERT_PATH),
    );
    let config = EngineConfig {
        docker_host: host.value.clone(),
        docker_context: env.var(DOCKER_CONTEXT).map(str::to_string),
        docker_config_dir: config_dir.value.clone(),
        runtime_dir: env.var("XDG_RUNTIME_DIR").map(PathBuf::from),
        home,
        lock_dir: Some(devenv_home.join("locks")),
        ssh_dir: Some(devenv_home.join("ssh")),
        version_cache: Some(devenv_home.join("engines.json")),
        tls_verify,
        tls: tls_on,
        cert_path: cert_path.value.clone(),
    };
    EngineSettings {
        host,
        context,
        config_dir,
        tls,
        cert_path,
        config,
    }
}

impl EngineSettings {
    /// The rows of `devenv config`.
    pub fn entries(&self) -> Vec<(&'static str, String, &Origin)> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        let context = match (&self.context.value, &self.host.value) {
            (Some(c), Some(_)) => format!("{c} (unused: DOCKER_HOST wins)"),
            (Some(c), None) => c.clone(),
            (None, _) => String::new(),
        };
        vec![
            (
                "docker_host",
                self.host.value.clone().unwrap_or_default(),
                &self.host.origin,
            ),
            ("docker_context", context, &self.context.origin),
            (
                "docker_config",
                path(&self.config_dir.value).unwrap_or_default(),
                &self.config_dir.origin,
            ),
            ("docker_tls", self.tls.value.to_string(), &self.tls.origin),
            (
                "docker_cert_path",
                path(&self.cert_path.value).unwrap_or_default(),
                &self.cert_path.origin,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_with(pairs: &[(&str, &str)]) -> EngineSettings {
        let mut all = vec![("HOME", "/home/u")];
        all.extend_from_slice(pairs);
        resolve(&ProcessEnv::from_pairs(all), Path::new("/d"))
    }

    #[test]
    fn tls_verify_wins_over_tls_and_both_are_on_when_set_at_all() {
        let s = resolve_with(&[("DOCKER_TLS", "1"), ("DOCKER_TLS_VERIFY", "0")]);
        assert_eq!(s.tls.value, "verify", "the docker CLI: set at all is on");
        assert_eq!(s.tls.origin, Origin::Env(DOCKER_TLS_VERIFY));
        assert!(s.config.tls_verify && s.config.tls);
        let s = resolve_with(&[]);
        assert_eq!((s.tls.value, &s.tls.origin), ("off", &Origin::Default));
    }

    #[test]
    fn the_cert_path_defaults_to_the_docker_config_directory() {
        let s = resolve_with(&[]);
        assert_eq!(s.cert_path.value, Some(PathBuf::from("/home/u/.docker")));
        let s = resolve_with(&[("DOCKER_CONFIG", "/cfg")]);
        assert_eq!(s.cert_path.value, Some(PathBuf::from("/cfg")));
        assert_eq!(s.cert_path.origin, Origin::Env(DOCKER_CONFIG));
        let s = resolve_with(&[("DOCKER_CONFIG", "/cfg"), ("DOCKER_CERT_PATH", "/c")]);
        assert_eq!(s.config.cert_path, Some(PathBuf::from("/c")));
        assert_eq!(s.cert_path.origin, Origin::Env(DOCKER_CERT_PATH));
    }

    #[test]
    fn a_context_shows_who_named_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"box"}"#,
        )
        .unwrap();
        let d = dir.path().to_str().unwrap();
        let s = resolve_with(&[("DOCKER_CONFIG", d)]);
        assert_eq!(s.context.value.as_deref(), Some("box"));
        assert_eq!(
            s.context.origin,
            Origin::User(dir.path().join("config.json"))
        );
        let s = resolve_with(&[("DOCKER_CONFIG", d), ("DOCKER_CONTEXT", "other")]);
        assert_eq!(s.context.origin, Origin::Env(DOCKER_CONTEXT));
        let s = resolve_with(&[("DOCKER_CONFIG", d), ("DOCKER_HOST", "tcp://x:1")]);
        let rows = s.entries();
        assert!(rows[1].1.contains("DOCKER_HOST wins"), "{:?}", rows[1]);
    }
}
