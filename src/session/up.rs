//! `up`: bring the environment to the declared state, phase by phase.
//!
//! Before any phase: the files the manifest points at are checked (exit 2),
//! `[requires]` (exit 3), trust for the phases that run repository code
//! (exit 3), the per-clone lock is taken, and the host ports are checked
//! (exit 2). Only then does anything change. The run is recorded on every
//! path from there, including failure and exit 130.

use crate::error::Error;
use crate::hooks::trust::Code;
use crate::metrics::{RunKind, RunRecorder, Start};
use crate::progress::{Level, Reporter};
use crate::tools::{self, Platform};

use super::{interruptible, lock, preflight, record, Backend, Phase, Session, Wait};

#[derive(Debug, Clone)]
pub struct UpOptions {
    /// `--only`: these phases (in the one order), or all when empty.
    pub only: Vec<Phase>,
    /// `--frozen`: tools must come from devenv.lock.
    pub frozen: bool,
    /// `--offline`: no downloads or pulls.
    pub offline: bool,
    /// `--build`: rebuild built images even when their context is unchanged.
    pub build: bool,
    /// `--yes`: trust the file without asking.
    pub yes: bool,
    /// Whether to wait for another devenv working on this clone.
    pub wait: Wait,
    /// Taken before the manifest loaded: preflight counts toward the run.
    pub start: Start,
}

impl UpOptions {
    pub fn phases(&self) -> Vec<Phase> {
        Phase::ORDER
            .into_iter()
            .filter(|p| self.only.is_empty() || self.only.contains(p))
            .collect()
    }
}

/// Every error leaving `up` is redacted: a hook's tail, a service's log,
/// a command's stderr may quote a secret.
pub fn up<B: Backend>(s: &Session<'_>, backend: &B, opts: &UpOptions) -> Result<(), Error> {
    bring_up(s, backend, opts).map_err(|e| s.redact_error(e))
}

fn bring_up<B: Backend>(s: &Session<'_>, backend: &B, opts: &UpOptions) -> Result<(), Error> {
    let phases = opts.phases();
    let mut problems = preflight::file_problems(s.manifest);
    // Templates render in the config phase; `[env]` is rendered for hooks.
    let renders = phases.contains(&Phase::Config) || phases.contains(&Phase::Hooks);
    if problems.is_empty() && renders {
        problems = preflight::template_problems(s)?;
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    // An unsupported platform is a missing prerequisite, found now.
    tool_settings(s, opts.frozen, opts.offline)?;
    // Trust before anything runs: `[requires]` paths run in pre-flight,
    // and each phase may run more of the repository's code.
    let mut code = vec![Code::RequiresPaths];
    code.extend(phases.iter().flat_map(|p| p.code()));
    super::trust::ensure_trusted_for(s, &code, opts.yes)?;
    preflight::requires(s)?;
    let runtime = super::runtime()?;
    // Held until the run is recorded.
    let _lock = runtime.block_on(interruptible(async {
        let lock = lock::acquire(&s.paths, &s.reporter, opts.wait).await?;
        backend.check_ports(s, &phases).await?;
        Ok(lock)
    }))?;
    // So that `down` and `reset` find the project if devenv.toml breaks.
    super::standin::remember_project(&s.paths, &s.manifest.project.id).map_err(|e| {
        Error::failed(format!(
            "cannot write {}: {e}",
            s.paths.state_dir().display()
        ))
    })?;
    let complete = phases.len() == Phase::ORDER.len();
    // Under CI an `up` is a run of its own kind: setup health, not onboarding.
    let kind = match s.settings.ci.value {
        Some(_) => RunKind::Ci,
        None => RunKind::Up,
    };
    let recorder = RunRecorder::new(kind, opts.start, complete);
    let result = runtime.block_on(run_phases(s, backend, opts, &phases, &recorder));
    if result.is_ok() {
        s.reporter.message(
            Level::Success,
            &format!("{} is up", s.manifest.project.name),
        );
    }
    // Written on every path, including failure and Ctrl-C (exit 130).
    record::finish_up(s, recorder, &result, &runtime);
    result
}

/// The phases in order; each one's time and events go to the recorder.
async fn run_phases<B: Backend>(
    s: &Session<'_>,
    backend: &B,
    opts: &UpOptions,
    phases: &[Phase],
    recorder: &RunRecorder,
) -> Result<(), Error> {
    // Every progress event of the run passes through the recorder on its
    // way to the user.
    let reporter = recorder.tap(&s.reporter);
    // A signal ends the phase in flight; the error says so and the run is
    // still recorded (as interrupted) by the caller.
    interruptible(async {
        for phase in phases {
            recorder.begin(phase.name());
            backend.run_phase(s, *phase, opts, &reporter).await?;
        }
        recorder.end();
        Ok(())
    })
    .await
}

/// Tool download settings, from the resolved settings and the flags.
pub fn tool_settings(
    s: &Session<'_>,
    frozen: bool,
    offline: bool,
) -> Result<tools::Settings, Error> {
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
    let mut t = tools::Settings::new(platform);
    t.frozen = frozen;
    t.offline = offline;
    t.mirror = s.settings.tools_mirror.value.clone();
    t.timeout = s.settings.http_timeout.value;
    t.jobs = s.settings.jobs.value;
    Ok(t)
}
