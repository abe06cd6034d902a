//! `render` and the config phase of `up`: the values a template may see
//! from the process environment (`DEVENV_VALUE_*`, the variables secrets
//! and sources name), secrets asked through the session's prompter, and
//! every word said passed through the session's redactor, which learns
//! each secret as it is found (so the hooks after the config phase know it
//! too).

use crate::error::Error;
use crate::hooks::trust::Code;
use crate::progress::{Level, Reporter};
use crate::render::filters::shell_quote;
use crate::render::{self, Mode, Outcome, RedactingReporter, Status};
use crate::settings::Origin;

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
    /// `--check`: how many files need rendering, and the command that
    /// renders them (with the flags this check was given).
    Checked {
        stale: usize,
        hint: Option<String>,
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
            render::render(&r, mode, reporter)
                .await
                .map_err(|e| render_error(s, e, &req.sets))
        }))
        .map_err(redact)?;
    if mode == Mode::Check {
        let stale = report_check(&outcome, environment, reporter);
        let hint = (stale > 0).then(|| {
            let hint = check_hint(s, &outcome, &req.sets);
            s.redactor().redact(&hint).into_owned()
        });
        return Ok(Rendered::Checked { stale, hint });
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
        .map_err(|e| s.redact_error(render_error(s, e, &[])))?;
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

/// The `devenv render` command line that renders what this command did:
/// the environment when it was a flag (`--env`), the same `--set`s, and
/// `--force` when hand edits are in the way. A hint that drops one of them
/// would render something else, or refuse. (The printer adds `-f`, as to
/// every suggested command.)
fn render_command(s: &Session<'_>, sets: &[String], force: bool) -> String {
    let mut words = vec!["devenv".to_string(), "render".to_string()];
    if matches!(s.settings.environment.origin, Origin::Flag(_)) {
        words.push("--env".into());
        words.push(shell_quote(&s.settings.environment.value));
    }
    for set in sets {
        words.push("--set".into());
        words.push(shell_quote(set));
    }
    if force {
        words.push("--force".into());
    }
    words.join(" ")
}

/// A hand-edit refusal names the render command that overwrites, with this
/// command's flags; every other error keeps its own hint.
fn render_error(s: &Session<'_>, e: render::RenderError, sets: &[String]) -> Error {
    let edited = matches!(e, render::RenderError::HandEdited(_));
    let mut err = Error::from(e);
    if let (true, Error::Failed { hint, .. }) = (edited, &mut err) {
        *hint = Some(render::hand_edit_hint(&render_command(s, sets, true)));
    }
    err
}

/// What `--check` suggests: the command that will actually render the
/// stale files. Plain `devenv render` refuses a hand-edited file, so when
/// one is stale the command has `--force`, and the hint says what it costs.
fn check_hint(s: &Session<'_>, outcome: &Outcome, sets: &[String]) -> String {
    let edited: Vec<&str> = outcome
        .stale
        .iter()
        .filter(|(_, status, _)| status.needs_force())
        .map(|(rel, _, _)| rel.as_str())
        .collect();
    if edited.is_empty() {
        return format!("run `{}`", render_command(s, sets, false));
    }
    format!(
        "run `{}`; it replaces what was changed by hand in {}, so keep those changes in devenv.local.toml or the template first",
        render_command(s, sets, true),
        edited.join(", ")
    )
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
            "{} of {} config file(s) need rendering ({environment})",
            outcome.stale.len(),
            outcome.files.len()
        ),
    );
    outcome.stale.len()
}
