//! `devenv exec -- CMD…`: run a command with the pinned tools first on PATH
//! and the project environment. No async runtime and no network: this is on
//! the hot path of every wrapped command.

use std::process::Command;

use crate::cli::App;
use crate::error::Error;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::tools;

pub fn run(app: &mut App, command: Vec<String>) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    warn_if_not_installed(app, &manifest, &paths);
    let env = tools::project_env(&manifest, &paths, std::env::var_os("PATH").as_ref());
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::usage("no command given", Some("devenv exec -- CMD".into())))?;
    let mut cmd = Command::new(program);
    cmd.args(args).envs(env);
    exec(cmd, program)
}

/// A missing tool is worth a warning, not a refusal: the command may not
/// need it. Only the clone's state and markers are read.
pub fn warn_if_not_installed(app: &App, manifest: &crate::manifest::Manifest, paths: &Paths) {
    if manifest.tools.is_empty() {
        return;
    }
    let missing: Vec<String> = tools::status(manifest, paths)
        .into_iter()
        .filter(|t| !t.installed)
        .map(|t| format!("{} {}", t.name, t.version))
        .collect();
    if !missing.is_empty() {
        app.printer.message(
            Level::Warn,
            &format!(
                "not installed: {}; run `devenv up --only tools`",
                missing.join(", ")
            ),
        );
    }
}

#[cfg(unix)]
fn exec(mut cmd: Command, program: &str) -> Result<i32, Error> {
    use std::os::unix::process::CommandExt;
    // Replaces this process: signals, exit code and stdio are the command's own.
    let e = cmd.exec();
    Err(not_run(program, e))
}

#[cfg(not(unix))]
fn exec(mut cmd: Command, program: &str) -> Result<i32, Error> {
    let status = cmd.status().map_err(|e| not_run(program, e))?;
    Ok(status.code().unwrap_or(1))
}

fn not_run(program: &str, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::usage(
            format!("`{program}` was not found on PATH (with .devenv/bin first)"),
            Some("is it pinned in [tools], and did `devenv up` install it?".into()),
        )
    } else {
        Error::failed(format!("cannot run `{program}`: {e}"))
    }
}
