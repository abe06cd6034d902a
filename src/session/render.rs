//! `render` and the config phase of `up`: the values a template may see
//! from the process environment (`DEVENV_VALUE_*`, the variables secrets
//! and sources name), secrets asked through the session's prompter, and
//! every word said passed through the session's redactor, which learns
//! each secret as it is found (so the hooks after the config phase know it
//! too).

use crate::error::Error;
use crate::hooks::trust::Code;
use crate::progress::{Level, Reporter};
use crate::render::{self, Mode, Outcome, RedactingReporter, Status};

use super::prompt::SecretPrompts;
use super::{interruptible, lock, Session, Wait};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderMode {
    /// Write what changed; `force` overwrites hand-edited files.
    Write { force: bool },
    /// Write nothing; say what is stale.
    Check,
    /// Where one value comes from.
    Explain(String),
}

#[derive(Debug, Clone)]
pub struct RenderRequest {
    pub mode: RenderMode,
    /// `--yes`: trust the file's secret commands and sources without asking.
    pub yes: bool,
    /// Whether to wait for another devenv writing in this clone.
    pub wait: Wait,
    /// `--set KEY=VALUE`, in command-line order.
    pub sets: Vec<String>,
}

#[derive(Debug)]
pub enum Rendered {
    /// devenv.toml has no `[[config.files]]`.
    Nothing,
    /// `--explain`: the answer, redacted.
    Explained(String),
    Written,
    /// `--check`: how many files need rendering.
    Checked {
        stale: usize,
    },
}

const VALUE_PREFIX: &str = "DEVENV_VALUE_";

pub(super) fn request<'a>(
    s: &'a Session<'_>,
    sets: Vec<String>,
    offline: bool,
    prompts: &'a SecretPrompts<'a>,
) -> render::Request<'a> {
    render::Request {
        manifest: s.manifest,
        paths: &s.paths,
        environment: &s.settings.environment.value,
        env_values: s.env.with_prefix(VALUE_PREFIX),
        sets,
        vars: super::secrets::referenced_vars(s.manifest, s.env),
        offline,
        prompter: prompts,
        redactor: s.redactor(),
        commands: &s.secret_commands,
    }
}

pub fn render(s: &Session<'_>, req: &RenderRequest) -> Result<Rendered, Error> {
    // Every mode may run secret commands and fetch sources: trust first.
    let code = [Code::SecretCommands, Code::ConfigSources];
    super::trust::ensure_trusted_for(s, &code, req.yes)?;
    let redact = |e: Error| s.redact_error(e);
    let reporter = &s.reporter;
    let prompts = SecretPrompts(s.prompter);
    let r = request(s, req.sets.clone(), false, &prompts);
    let environment = &s.settings.environment.value;
    let runtime = super::runtime()?;
    if let RenderMode::Explain(key) = &req.mode {
        let explained = runtime
            .block_on(interruptible(async {
                Ok(render::explain(&r, key, reporter).await?)
            }))
            .map_err(redact)?;
        let text = s
            .redactor()
            .redact(explained.to_string().trim_end())
            .into_owned();
        return Ok(Rendered::Explained(text));
    }
    if s.manifest.config.files.is_empty() {
        return Ok(Rendered::Nothing);
    }
    let mode = match req.mode {
        RenderMode::Check => Mode::Check,
        RenderMode::Write { force } => Mode::Write { force },
        RenderMode::Explain(_) => unreachable!("answered above"),
    };
    let outcome = runtime
        .block_on(interruptible(async {
            // Writing waits for an `up` of this clone; checking reads only.
            let _lock = match mode {
                Mode::Write { .. } => Some(lock::acquire(&s.paths, reporter, req.wait).await?),
                Mode::Check => None,
            };
            Ok(render::render(&r, mode, reporter).await?)
        }))
        .map_err(redact)?;
    if mode == Mode::Check {
        let stale = report_check(&outcome, environment, reporter);
        return Ok(Rendered::Checked { stale });
    }
    report_written(&outcome, environment, reporter);
    Ok(Rendered::Written)
}

/// The config phase of `up`: never overwrites a hand-edited file.
pub(super) async fn config_phase(
    s: &Session<'_>,
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    // `reporter` is the run's tap, in front of the session's redacting
    // reporter; masking here too keeps a test backend's reporter clean.
    let reporter = RedactingReporter::new(reporter, s.redactor().clone());
    let prompts = SecretPrompts(s.prompter);
    let r = request(s, Vec::new(), offline, &prompts);
    let outcome = render::render(&r, Mode::Write { force: false }, &reporter)
        .await
        .map_err(|e| s.redact_error(e.into()))?;
    report_written(&outcome, &s.settings.environment.value, &reporter);
    Ok(())
}

fn report_written(outcome: &Outcome, environment: &str, reporter: &dyn Reporter) {
    for (rel, status) in &outcome.files {
        if outcome.written.contains(rel) {
            let what = match status {
                Status::Missing => "rendered",
                Status::Mode => "made private (it holds secrets)",
                Status::HandEdited | Status::Foreign => "overwrote",
                _ => "updated",
            };
            reporter.message(Level::Success, &format!("{what} {rel} ({environment})"));
        } else {
            reporter.message(Level::Detail, &format!("{rel} is up to date"));
        }
    }
    if outcome.written.is_empty() && !outcome.files.is_empty() {
        reporter.message(
            Level::Success,
            &format!("config files up to date ({environment})"),
        );
    }
}

/// Says what is stale; returns how many files are.
fn report_check(outcome: &Outcome, environment: &str, reporter: &dyn Reporter) -> usize {
    if outcome.stale.is_empty() {
        reporter.message(
            Level::Success,
            &format!(
                "{} config file(s) up to date ({environment})",
                outcome.files.len()
            ),
        );
        return 0;
    }
    for (rel, status, diff) in &outcome.stale {
        let why = match status {
            Status::Missing => "is missing",
            Status::Mode => "is readable by others but holds secrets",
            Status::Stale => "is out of date",
            Status::HandEdited => "was edited by hand",
            Status::Foreign => "was not written by devenv and differs",
            Status::UpToDate => continue,
        };
        reporter.message(Level::Warn, &format!("{rel} {why}"));
        if !diff.is_empty() {
            reporter.message(Level::Info, diff.trim_end());
        }
    }
    reporter.message(
        Level::Warn,
        &format!(
            "{} of {} config file(s) need rendering ({environment}); run `devenv render`",
            outcome.stale.len(),
            outcome.files.len()
        ),
    );
    outcome.stale.len()
}
