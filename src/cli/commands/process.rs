//! `devenv process supervise NAME ...`: hidden; `up` starts one per
//! process, detached. Everything it needs is on its command line and in
//! its environment (which `up` made the process's own), so it reads no
//! manifest: it keeps running what `up` hashed, whatever devenv.toml says
//! by the time it restarts the command.

use crate::cli::args::{ProcessArgs, ProcessSub};
use crate::clock::SystemClock;
use crate::error::Error;
use crate::processes::{self, Spec};

pub fn run(args: ProcessArgs) -> Result<i32, Error> {
    let ProcessSub::Supervise {
        name,
        cwd,
        restart,
        hash,
        log,
        state,
        command,
    } = args.command;
    let spec = Spec {
        name,
        argv: command,
        cwd,
        restart: restart.into(),
        hash,
        log,
        log_limit: processes::LogLimit::default(),
        state,
    };
    // One thread: it waits on one child and a few signals.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(processes::supervise(&spec, &SystemClock))?;
    Ok(0)
}
