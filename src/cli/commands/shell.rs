//! `devenv shell`: start the user's shell with the pinned tools and the
//! project environment; its exit code is ours.

use std::process::Command;

use crate::cli::App;
use crate::error::Error;
use crate::paths::Paths;
use crate::tools;

pub fn run(app: &mut App) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    super::exec::warn_if_not_installed(app, &manifest, &paths);
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let env = tools::project_env(&manifest, &paths, std::env::var_os("PATH").as_ref());
    let status = Command::new(&shell)
        .envs(env)
        .env("DEVENV_SHELL", "1")
        .status()
        .map_err(|e| Error::failed(format!("cannot start {shell}: {e}")))?;
    Ok(status.code().unwrap_or(1))
}
