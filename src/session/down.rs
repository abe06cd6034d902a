//! `down` and `reset`: take the environment away, in the reverse of `up`'s
//! order (pre_down hooks, processes, mocks, containers). They work from the
//! labels and the clone's state files, and must always work: an untrusted or
//! failing `pre_down` hook is a warning, not a stop.

use crate::error::Error;
use crate::metrics::{RunKind, Start};
use crate::render::Removed as RemovedOutputs;
use crate::services::{DownReport, Teardown};

use super::{interruptible, lock, record, Backend, Session, Wait};

#[derive(Debug, Default)]
pub struct DownSummary {
    /// Processes stopped.
    pub processes: Vec<String>,
    /// Mocks stopped.
    pub mocks: Vec<String>,
    pub removed: DownReport,
}

#[derive(Debug, Default)]
pub struct ResetSummary {
    pub removed: DownReport,
    /// Rendered files removed, and those kept because edited by hand.
    pub rendered: RemovedOutputs,
}

pub struct DownOptions {
    /// `--volumes`: the named volumes too.
    pub volumes: bool,
    pub wait: Wait,
    /// Taken before the manifest loaded.
    pub start: Start,
}

/// Stops the processes and mocks and removes the project's containers and
/// network (volumes too with `volumes`). Recorded as a `down` run.
pub fn down<B: Backend>(
    s: &Session<'_>,
    backend: &B,
    opts: &DownOptions,
) -> Result<DownSummary, Error> {
    let what = Teardown {
        volumes: opts.volumes,
        images: false,
    };
    let result = take_down(s, backend, what, opts.wait);
    record::record_simple_run(s, RunKind::Down, opts.start, &result);
    result.map_err(|e| s.redact_error(e))
}

/// Back to a fresh clone: down with volumes, the rendered files (unless
/// edited by hand) and `.devenv/`. Recorded as a `reset` run.
pub fn reset<B: Backend>(
    s: &Session<'_>,
    backend: &B,
    wait: Wait,
    start: Start,
) -> Result<ResetSummary, Error> {
    let what = Teardown {
        volumes: true,
        images: true,
    };
    let result = take_down(s, backend, what, wait).and_then(|down| {
        // Before `.devenv/` goes: it records which files devenv wrote.
        let rendered = crate::render::remove_outputs(s.manifest, &s.paths)
            .map_err(|e| Error::failed(format!("cannot remove rendered files: {e}")))?;
        let state = s.paths.state_dir();
        if state.exists() {
            std::fs::remove_dir_all(&state)
                .map_err(|e| Error::failed(format!("cannot remove {}: {e}", state.display())))?;
        }
        Ok(ResetSummary {
            removed: down.removed,
            rendered,
        })
    });
    record::record_simple_run(s, RunKind::Reset, start, &result);
    result.map_err(|e| s.redact_error(e))
}

fn take_down<B: Backend>(
    s: &Session<'_>,
    backend: &B,
    what: Teardown,
    wait: Wait,
) -> Result<DownSummary, Error> {
    let runtime = super::runtime()?;
    let _lock = runtime.block_on(interruptible(lock::acquire(&s.paths, &s.reporter, wait)))?;
    runtime.block_on(interruptible(async {
        backend.pre_down(s).await;
        Ok(())
    }))?;
    let processes =
        runtime.block_on(interruptible(async { Ok(backend.stop_processes(s).await) }))?;
    let mocks = backend.stop_mocks(s);
    let removed = runtime.block_on(interruptible(backend.remove_containers(s, what)))?;
    Ok(DownSummary {
        processes,
        mocks,
        removed,
    })
}
