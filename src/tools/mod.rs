//! Pinned tools: the built-in index, downloads, the shared store, activation.
//!
//! Public surface: [`install`] (the `up` phase), [`lock`] (`devenv lock`),
//! [`gc`], [`status`], [`project_env`] (exec, env, shell and hooks) and
//! [`requires::check`].

mod activate;
mod archive;
mod bins;
mod download;
pub mod index;
mod install;
mod limits;
mod lockfile;
mod locking;
pub mod requires;
mod spec;
mod store;
mod xz_scan;

use std::path::PathBuf;
use std::time::Duration;

pub use activate::{link_bins_current, project_env, ToolState};
pub use install::install;
pub use lockfile::{Lockfile, LOCKFILE};
pub use locking::lock;
pub use spec::Artifact;
pub use store::{gc, GcReport};

/// Every platform a lockfile pins, as `<os>-<arch>`.
pub const PLATFORMS: &[&str] = &[
    "linux-x86_64",
    "linux-aarch64",
    "macos-x86_64",
    "macos-aarch64",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// `linux` or `macos`.
    pub os: &'static str,
    /// `x86_64` or `aarch64`.
    pub arch: &'static str,
}

impl Platform {
    pub fn all() -> impl Iterator<Item = Platform> {
        PLATFORMS.iter().filter_map(|k| Platform::parse(k))
    }

    pub fn parse(key: &str) -> Option<Platform> {
        let (os, arch) = key.split_once('-')?;
        let os = ["linux", "macos"].into_iter().find(|o| *o == os)?;
        let arch = ["x86_64", "aarch64"].into_iter().find(|a| *a == arch)?;
        Some(Platform { os, arch })
    }

    /// The machine devenv runs on, if it is one the index knows.
    pub fn current() -> Option<Platform> {
        let os = match std::env::consts::OS {
            "linux" => "linux",
            "macos" => "macos",
            _ => return None,
        };
        Platform::parse(&format!("{os}-{}", std::env::consts::ARCH))
    }

    pub fn key(&self) -> String {
        format!("{}-{}", self.os, self.arch)
    }
}

/// How a command wants tools installed; built by the command layer from
/// flags and the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub frozen: bool,
    pub offline: bool,
    /// `DEVENV_TOOLS_MIRROR`: replaces every index tool's upstream origin.
    pub mirror: Option<String>,
    /// Connect and idle-read timeout of one request.
    pub timeout: Duration,
    /// Attempts per download (1 = no retry).
    pub attempts: u32,
    /// Parallel downloads.
    pub jobs: usize,
    pub platform: Platform,
}

impl Settings {
    pub fn new(platform: Platform) -> Self {
        Settings {
            frozen: false,
            offline: false,
            mirror: None,
            timeout: Duration::from_secs(30),
            attempts: 4,
            jobs: 8,
            platform,
        }
    }
}

/// What `status` shows per tool (CONTRACT `status --json` `tools`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ToolStatus {
    pub name: String,
    pub version: String,
    pub installed: bool,
    pub path: Option<PathBuf>,
}

/// A missing tool is worth a warning before `exec`/`shell`, not a refusal:
/// the command may not need it. Only the clone's state and markers are read.
pub fn warn_if_not_installed(
    manifest: &crate::manifest::Manifest,
    paths: &crate::paths::Paths,
    reporter: &dyn crate::progress::Reporter,
) {
    if manifest.tools.is_empty() {
        return;
    }
    let missing: Vec<String> = status(manifest, paths)
        .into_iter()
        .filter(|t| !t.installed)
        .map(|t| format!("{} {}", t.name, t.version))
        .collect();
    if !missing.is_empty() {
        reporter.message(
            crate::progress::Level::Warn,
            &format!(
                "not installed: {}; run `devenv up --only tools`",
                missing.join(", ")
            ),
        );
    }
}

/// Installed or not, from the clone's state and the store's markers only
/// (no network, no hashing).
pub fn status(
    manifest: &crate::manifest::Manifest,
    paths: &crate::paths::Paths,
) -> Vec<ToolStatus> {
    let state = ToolState::load(paths);
    manifest
        .tools
        .iter()
        .map(|t| {
            let rec = state
                .tools
                .get(&t.name)
                .filter(|r| r.version == t.version)
                .filter(|r| store::is_installed(paths, &r.entry));
            let path = rec
                .and_then(|r| r.bins.first())
                .map(|b| paths.bin_dir().join(b))
                .filter(|p| p.exists());
            ToolStatus {
                name: t.name.clone(),
                version: t.version.clone(),
                installed: rec.is_some() && path.is_some(),
                path,
            }
        })
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    /// Exit 2: the lockfile is missing or does not match devenv.toml.
    #[error("{0}")]
    Frozen(String),
    /// Exit 2: a tool with no checksum and no opt-in.
    #[error(
        "tool `{tool}` has no sha256 for {platform}: refusing to install an unverified download"
    )]
    NoChecksum { tool: String, platform: String },
    /// Exit 2: the tool cannot run here.
    #[error("tool `{tool}` is not available for {platform}")]
    Unsupported { tool: String, platform: String },
    /// Exit 1: `--offline` and something is not in the store or cache.
    #[error("--offline: tool `{tool}` {version} is not in the store or the download cache")]
    Offline { tool: String, version: String },
    #[error(
        "tool `{tool}`: checksum mismatch for {url}: expected sha256 {expected}, got {actual}"
    )]
    Checksum {
        tool: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("tool `{tool}`: refusing archive {url}: {reason}")]
    UnsafeArchive {
        tool: String,
        url: String,
        reason: String,
    },
    /// Exit 1: the archive unpacks to more than its limits allow.
    #[error("tool `{tool}`: refusing to unpack {url}: {exceeded}")]
    UnpackLimit {
        tool: String,
        url: String,
        exceeded: limits::Exceeded,
    },
    #[error("tool `{tool}`: {message}")]
    Download { tool: String, message: String },
    /// Exit 2: a `bin` entry leads out of the unpacked archive.
    #[error("tool `{tool}`: bin `{bin}` {reason}, outside the archive")]
    BinOutside {
        tool: String,
        bin: String,
        reason: String,
    },
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl ToolsError {
    /// Problems the user fixes in devenv.toml or devenv.lock (exit 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ToolsError::Frozen(_)
                | ToolsError::NoChecksum { .. }
                | ToolsError::Unsupported { .. }
                | ToolsError::BinOutside { .. }
        )
    }

    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ToolsError::Frozen(_) => "run `devenv lock` and commit devenv.lock".into(),
            ToolsError::NoChecksum { tool, platform } => format!(
                "add `sha256 = {{ \"{platform}\" = \"…\" }}` to [tools.{tool}], or set `allow_unverified = true` there to opt in"
            ),
            ToolsError::Offline { .. } => "run `devenv up` once with network access".into(),
            ToolsError::Checksum { .. } => {
                "the download is not what devenv.toml or devenv.lock pinned; check the URL and the sum".into()
            }
            ToolsError::BinOutside { tool, .. } => format!(
                "list paths inside the unpacked archive in `bin` of [tools.{tool}], like \"bin/{tool}\""
            ),
            ToolsError::UnpackLimit { tool, exceeded, .. } => match exceeded.key() {
                Some((key, value)) => format!(
                    "if {tool} really is that large, raise the limit: `{key} = {value}` in [tools.{tool}] of devenv.toml"
                ),
                None => "this is not an archive of a tool; check the URL".into(),
            },
            _ => return None,
        })
    }
}
