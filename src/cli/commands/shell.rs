//! `devenv shell`: start the user's shell with the pinned tools and the
//! project environment; its exit code is ours.

use std::process::Command;

use crate::cli::App;
use crate::error::Error;
use crate::settings::Flags;

pub fn run(app: &mut App) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    crate::tools::warn_if_not_installed(&manifest, &s.paths, &app.printer);
    let shell = app.env.var("SHELL").unwrap_or("/bin/sh").to_string();
    let env = s.project_env_blocking()?;
    let status = Command::new(&shell)
        .envs(env)
        .env("DEVENV_SHELL", "1")
        .status()
        .map_err(|e| Error::failed(format!("cannot start {shell}: {e}")))?;
    Ok(status.code().unwrap_or(1))
}
