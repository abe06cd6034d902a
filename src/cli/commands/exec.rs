//! `devenv exec -- CMD…`: run a command with the pinned tools first on PATH
//! and the project environment. No async runtime and no network: this is on
//! the hot path of every wrapped command.

use std::process::Command;

use crate::cli::App;
use crate::error::Error;
use crate::settings::Flags;

pub fn run(app: &mut App, command: Vec<String>) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    crate::tools::warn_if_not_installed(&manifest, &s.paths, &app.printer);
    let env = s.project_env();
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::usage("no command given", Some("devenv exec -- CMD".into())))?;
    let mut cmd = Command::new(program);
    cmd.args(args).envs(env);
    exec(cmd, program)
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
