//! `devenv lock`: resolve every tool for every platform into devenv.lock.

use std::time::Duration;

use crate::cli::App;
use crate::error::Error;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::tools::{self, Platform};

/// Tool settings from the flags and the environment:
/// `DEVENV_TOOLS_MIRROR` (a base URL replacing every index tool's upstream
/// origin), `DEVENV_HTTP_TIMEOUT` (seconds, default 30) and `DEVENV_JOBS`
/// (parallel downloads, default 8).
pub fn settings(frozen: bool, offline: bool) -> Result<tools::Settings, Error> {
    let platform = Platform::current().ok_or_else(|| {
        Error::prerequisite(
            format!(
                "pinned tools are not supported on {}-{}",
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
            "devenv installs tools for linux and macos on x86_64 and aarch64",
        )
    })?;
    let mut s = tools::Settings::new(platform);
    s.frozen = frozen;
    s.offline = offline;
    s.mirror = std::env::var("DEVENV_TOOLS_MIRROR")
        .ok()
        .filter(|m| !m.trim().is_empty());
    if let Some(m) = &s.mirror {
        if !(m.starts_with("http://") || m.starts_with("https://")) {
            return Err(Error::usage(
                format!("DEVENV_TOOLS_MIRROR=`{m}` is not an http(s) URL"),
                Some("set it to a base URL like https://mirror.internal/tools".into()),
            ));
        }
    }
    let num = |var: &str| -> Result<Option<f64>, Error> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| Error::usage(format!("{var}=`{v}` is not a number"), None)),
            _ => Ok(None),
        }
    };
    if let Some(t) = num("DEVENV_HTTP_TIMEOUT")?.filter(|t| *t > 0.0) {
        s.timeout = Duration::from_secs_f64(t);
    }
    if let Some(j) = num("DEVENV_JOBS")?.filter(|j| *j >= 1.0) {
        s.jobs = j as usize;
    }
    Ok(s)
}

pub fn run(app: &mut App) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    let settings = settings(false, false)?;
    let runtime = super::runtime()?;
    let lock = runtime.block_on(super::up::interruptible(async {
        Ok(tools::lock(&manifest, &paths, &app.printer, &settings).await?)
    }))?;
    let platforms: usize = lock.tools.values().map(|t| t.platforms.len()).sum();
    app.printer.message(
        Level::Success,
        &format!(
            "wrote {} ({} tools, {platforms} artifacts)",
            tools::LOCKFILE,
            lock.tools.len()
        ),
    );
    Ok(0)
}
