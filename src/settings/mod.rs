//! One settings resolution: every knob devenv has, resolved once per
//! command from its layers, each value remembering where it came from.
//!
//! The layers, each overriding the one before (CONTRACT.md):
//! built-in default -> the user's config file `$XDG_CONFIG_HOME/devenv/config.toml`
//! -> devenv.toml `[settings]` -> devenv.local.toml `[settings]`
//! -> `DEVENV_*` variables -> flags.
//!
//! Like uv's `Settings::resolve` or ripgrep's `HiArgs`: the CLI captures the
//! process environment and the flags, calls `Settings::resolve` once, and
//! hands the result to the core. No other module reads the environment.

pub mod ci;
pub mod env;
pub mod file;
pub mod mounts;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use ci::{CiProvider, CiRun};
pub use env::ProcessEnv;
pub use file::FileSettings;
pub use mounts::ExtraMount;

use crate::error::Error;
use crate::manifest::{Manifest, PullPolicy};
use crate::services::EngineConfig;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// The user's config file.
    User(PathBuf),
    /// devenv.toml.
    Manifest(PathBuf),
    /// devenv.local.toml.
    Local(PathBuf),
    /// A variable of the process environment.
    Env(&'static str),
    /// A command-line flag.
    Flag(&'static str),
}

impl Origin {
    /// The layer's name in `devenv config --json`.
    pub fn layer(&self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::User(_) => "user",
            Origin::Manifest(_) => "manifest",
            Origin::Local(_) => "local",
            Origin::Env(_) => "env",
            Origin::Flag(_) => "flag",
        }
    }

    /// The file, variable or flag, in words (`git config --show-origin`).
    pub fn source(&self) -> Option<String> {
        match self {
            Origin::Default => None,
            Origin::User(p) | Origin::Manifest(p) | Origin::Local(p) => {
                Some(p.display().to_string())
            }
            Origin::Env(v) => Some(format!("${v}")),
            Origin::Flag(f) => Some(f.to_string()),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("origin", self.layer())?;
        m.serialize_entry("source", &self.source())?;
        m.end()
    }
}

/// A resolved value and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    fn default(value: T) -> Self {
        Setting {
            value,
            origin: Origin::Default,
        }
    }

    /// Replaces the value when the layer has one.
    fn layer(&mut self, value: Option<T>, origin: Origin) {
        if let Some(v) = value {
            *self = Setting { value: v, origin };
        }
    }
}

/// The flags that are settings (the last layer).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--env NAME`.
    pub environment: Option<String>,
    /// `up --pull POLICY`.
    pub pull: Option<PullPolicy>,
    /// `up --ci`: record this run as a CI run even where no CI variable says so.
    pub ci: bool,
}

/// Everything resolution reads.
pub struct Inputs<'a> {
    pub env: &'a ProcessEnv,
    /// None for commands that work without a devenv.toml (`gc`, `config`
    /// outside a repository).
    pub manifest: Option<&'a Manifest>,
    pub flags: &'a Flags,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `DEVENV_HOME`: the shared store, caches, spool, trust records.
    pub home: Setting<PathBuf>,
    /// Where the user's config file is (whether or not it exists).
    pub user_config: PathBuf,
    /// Rewrites Docker Hub references to this registry.
    pub registry_mirror: Setting<Option<String>>,
    pub pull: Setting<PullPolicy>,
    /// The config environment templates render for.
    pub environment: Setting<String>,
    /// Replaces every index tool's upstream origin.
    pub tools_mirror: Setting<Option<String>>,
    /// Connect and idle-read timeout of one download.
    pub http_timeout: Setting<Duration>,
    /// Parallel downloads.
    pub jobs: Setting<usize>,
    /// False when the user opted out (`DEVENV_NO_METRICS`, `DO_NOT_TRACK`).
    pub metrics: Setting<bool>,
    /// The CI job this command runs in (`CI`, `GITHUB_ACTIONS`, ...; `up --ci`):
    /// its runs are of kind `ci`, without identity or onboarding timeline.
    pub ci: Setting<Option<CiRun>>,
    /// Where the container engine is looked for (`DOCKER_HOST`, contexts, sockets).
    pub engine: EngineConfig,
    /// Bind mounts from outside the repository, from the user config and
    /// devenv.local.toml only (`settings/mounts.rs`).
    pub mounts: Vec<ExtraMount>,
}

const USER_CONFIG: &str = "devenv/config.toml";

impl Settings {
    /// Resolves every setting from its layers. A malformed file is exit 2
    /// with file:line:column; a malformed variable is exit 2 naming it.
    pub fn resolve(inputs: &Inputs<'_>) -> Result<Settings, Error> {
        let env = inputs.env;
        let home = resolve_home(env)?;
        let engine = engine_config(env, &home.value);
        let user_config = env
            .config_dir()
            .map(|d| d.join(USER_CONFIG))
            .unwrap_or_else(|| PathBuf::from("/nonexistent").join(USER_CONFIG));
        let mut files: Vec<(FileSettings, Origin)> = Vec::new();
        if let Some(u) = file::read(&user_config, file::Kind::User)? {
            let origin = Origin::User(u.path.clone());
            files.push((u, origin));
        }
        if let Some(m) = inputs.manifest {
            files.push((
                FileSettings {
                    path: m.path.clone(),
                    registry_mirror: m.settings.registry_mirror.clone(),
                    pull: (m.settings.pull != PullPolicy::default()).then_some(m.settings.pull),
                    ..FileSettings::default()
                },
                Origin::Manifest(m.path.clone()),
            ));
            if let Some(l) = file::read_local(&m.root)? {
                let origin = Origin::Local(l.path.clone());
                files.push((l, origin));
            }
        }

        let home_dir = env.home_dir();
        let mounts = mounts::resolve(&mounts::Inputs {
            files: &files,
            manifest: inputs.manifest,
            home: home_dir.as_deref(),
        })?;
        let mut registry_mirror = Setting::default(None);
        let mut pull = Setting::default(PullPolicy::default());
        for (f, origin) in &files {
            registry_mirror.layer(f.registry_mirror.clone().map(Some), origin.clone());
            pull.layer(f.pull, origin.clone());
        }
        registry_mirror.layer(
            env.var(REGISTRY_MIRROR).map(|v| Some(v.to_string())),
            Origin::Env(REGISTRY_MIRROR),
        );
        pull.layer(env_pull(env)?, Origin::Env(PULL));
        pull.layer(inputs.flags.pull, Origin::Flag("--pull"));

        let mut environment = Setting::default("local".to_string());
        if let Some(m) = inputs.manifest {
            if m.config.environment != "local" {
                environment.layer(
                    Some(m.config.environment.clone()),
                    Origin::Manifest(m.path.clone()),
                );
            }
        }
        environment.layer(inputs.flags.environment.clone(), Origin::Flag("--env"));

        let mut tools_mirror = Setting::default(None);
        tools_mirror.layer(tools_mirror_var(env)?.map(Some), Origin::Env(TOOLS_MIRROR));
        let mut http_timeout = Setting::default(Duration::from_secs(30));
        http_timeout.layer(
            number(env, HTTP_TIMEOUT)?
                .filter(|t| *t > 0.0)
                .map(|t| seconds(HTTP_TIMEOUT, t))
                .transpose()?,
            Origin::Env(HTTP_TIMEOUT),
        );
        let mut jobs = Setting::default(8usize);
        jobs.layer(
            number(env, JOBS)?
                .filter(|j| *j >= 1.0)
                .map(|j| j.min(MAX_JOBS) as usize),
            Origin::Env(JOBS),
        );
        let mut metrics = Setting::default(true);
        for var in [NO_METRICS, DO_NOT_TRACK] {
            if env.flag(var) {
                metrics.layer(Some(false), Origin::Env(var));
            }
        }
        let mut ci = Setting::default(None);
        if let Some((run, var)) = ci::detect(env) {
            ci.layer(Some(Some(run)), Origin::Env(var));
        }
        if inputs.flags.ci {
            ci.layer(Some(Some(ci::forced(env))), Origin::Flag("--ci"));
        }
        Ok(Settings {
            home,
            user_config,
            registry_mirror,
            pull,
            environment,
            tools_mirror,
            http_timeout,
            jobs,
            metrics,
            ci,
            engine,
            mounts,
        })
    }

    /// Each setting as (name, value in words, origin), in a stable order:
    /// what `devenv config` prints.
    pub fn entries(&self) -> Vec<(&'static str, String, &Origin)> {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            (
                "home",
                self.home.value.display().to_string(),
                &self.home.origin,
            ),
            (
                "registry_mirror",
                opt(&self.registry_mirror.value),
                &self.registry_mirror.origin,
            ),
            ("pull", pull_name(self.pull.value).into(), &self.pull.origin),
            (
                "environment",
                self.environment.value.clone(),
                &self.environment.origin,
            ),
            (
                "tools_mirror",
                opt(&self.tools_mirror.value),
                &self.tools_mirror.origin,
            ),
            (
                "http_timeout",
                format!("{}s", self.http_timeout.value.as_secs_f64()),
                &self.http_timeout.origin,
            ),
            ("jobs", self.jobs.value.to_string(), &self.jobs.origin),
            (
                "metrics",
                if self.metrics.value { "on" } else { "off" }.into(),
                &self.metrics.origin,
            ),
            (
                "ci",
                self.ci
                    .value
                    .as_ref()
                    .map(CiRun::describe)
                    .unwrap_or_default(),
                &self.ci.origin,
            ),
        ]
    }
}

pub const HOME: &str = "DEVENV_HOME";
pub const REGISTRY_MIRROR: &str = "DEVENV_REGISTRY_MIRROR";
pub const PULL: &str = "DEVENV_PULL";
pub const TOOLS_MIRROR: &str = "DEVENV_TOOLS_MIRROR";
pub const HTTP_TIMEOUT: &str = "DEVENV_HTTP_TIMEOUT";
pub const JOBS: &str = "DEVENV_JOBS";
pub const NO_METRICS: &str = "DEVENV_NO_METRICS";
pub const DO_NOT_TRACK: &str = "DO_NOT_TRACK";

fn pull_name(p: PullPolicy) -> &'static str {
    match p {
        PullPolicy::Missing => "missing",
        PullPolicy::Always => "always",
        PullPolicy::Never => "never",
    }
}

fn resolve_home(env: &ProcessEnv) -> Result<Setting<PathBuf>, Error> {
    if let Some(h) = env.var(HOME) {
        return Ok(Setting {
            value: PathBuf::from(h),
            origin: Origin::Env(HOME),
        });
    }
    env.data_dir()
        .map(|d| Setting::default(d.join("devenv")))
        .ok_or_else(|| {
            Error::usage(
                "cannot tell where to keep devenv's data: HOME is not set",
                Some(format!("set {HOME} to a directory")),
            )
        })
}

fn env_pull(env: &ProcessEnv) -> Result<Option<PullPolicy>, Error> {
    let Some(v) = env.var(PULL) else {
        return Ok(None);
    };
    match v.trim() {
        "missing" => Ok(Some(PullPolicy::Missing)),
        "always" => Ok(Some(PullPolicy::Always)),
        "never" => Ok(Some(PullPolicy::Never)),
        _ => Err(Error::usage(
            format!("{PULL}=`{v}` is not a pull policy"),
            Some("set it to missing, always or never".into()),
        )),
    }
}

fn tools_mirror_var(env: &ProcessEnv) -> Result<Option<String>, Error> {
    let Some(m) = env.var(TOOLS_MIRROR).filter(|m| !m.trim().is_empty()) else {
        return Ok(None);
    };
    if !(m.starts_with("http://") || m.starts_with("https://")) {
        return Err(Error::usage(
            format!("{TOOLS_MIRROR}=`{m}` is not an http(s) URL"),
            Some("set it to a base URL like https://mirror.internal/tools".into()),
        ));
    }
    Ok(Some(m.to_string()))
}

/// More parallel downloads than this only opens more sockets.
const MAX_JOBS: f64 = 64.0;

/// A number of seconds from a variable, at most `MAX_DURATION` (a day), so
/// `inf` or `1e300` is a usage error rather than a panic.
fn seconds(var: &str, t: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(t)
        .ok()
        .filter(|d| *d <= crate::manifest::schema::MAX_DURATION)
        .ok_or_else(|| {
            Error::usage(
                format!("{var}=`{t}` is not a timeout"),
                Some("set it to a number of seconds, at most a day (86400)".into()),
            )
        })
}

fn number(env: &ProcessEnv, var: &str) -> Result<Option<f64>, Error> {
    match env.var(var) {
        Some(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| Error::usage(format!("{var}=`{v}` is not a number"), None)),
        _ => Ok(None),
    }
}

/// Where to look for the engine, as docker's own CLI does.
fn engine_config(env: &ProcessEnv, devenv_home: &Path) -> EngineConfig {
    let home = env.home_dir();
    EngineConfig {
        docker_host: env.var("DOCKER_HOST").map(str::to_string),
        docker_context: env.var("DOCKER_CONTEXT").map(str::to_string),
        docker_config_dir: env
            .var("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".docker"))),
        runtime_dir: env.var("XDG_RUNTIME_DIR").map(PathBuf::from),
        home,
        lock_dir: Some(devenv_home.join("locks")),
        ssh_dir: Some(devenv_home.join("ssh")),
    }
}

#[cfg(test)]
mod tests;
