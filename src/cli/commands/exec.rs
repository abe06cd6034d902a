//! `devenv exec -- CMD…`: run a command with the pinned tools first on PATH
//! and the project environment; no async runtime and no network, since
//! this is on the hot path of every wrapped command.
//! `devenv exec SERVICE -- CMD…`: run it inside the service's running
//! container instead, like `docker compose exec` (a pseudo-terminal on a
//! terminal unless `-T`; the command's exit code is ours).

use std::process::Command;

use crate::cli::args::ExecArgs;
use crate::cli::App;
use crate::error::Error;
use crate::services::exec::{ExecIo, ExecRequest, TtySize};
use crate::session::{self, Live};
use crate::settings::Flags;
use crate::ui::tty;

pub fn run(app: &mut App, args: ExecArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    if let Some(service) = &args.service {
        let tty = (!args.no_tty && tty::interactive())
            .then(tty::size)
            .flatten()
            .map(|(rows, cols)| TtySize { rows, cols });
        let req = ExecRequest {
            service,
            command: &args.command,
            tty,
            user: args.user.as_deref(),
            workdir: args.workdir.as_deref(),
            env: &args.env,
        };
        let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
        let io = ExecIo {
            stdin: Box::new(tokio::io::stdin()),
            stdout: &mut out,
            stderr: &mut err,
        };
        let _raw = tty.and_then(|_| tty::RawMode::enter());
        return session::exec_in_service(&s, &Live::new(), &req, io);
    }
    crate::tools::warn_if_not_installed(&manifest, &s.paths, &app.printer);
    let env = s.project_env_blocking()?;
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Error::usage("no command given", Some("devenv exec -- CMD".into())))?;
    let mut cmd = Command::new(program);
    cmd.args(rest).envs(env);
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
