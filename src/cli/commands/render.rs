//! `devenv render` and the config phase of `devenv up`: read the process
//! environment the core may see (DEVENV_VALUE_*, the variables secrets and
//! sources name), give the core a terminal prompt for secrets, and print
//! what it did, every word through the run's redactor.

use std::collections::BTreeMap;

use crate::cli::args::RenderArgs;
use crate::cli::commands::up::{interruptible, UpContext};
use crate::cli::App;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::render::{self, Mode, Outcome, RedactingReporter, Redactor, RenderError, Status};

/// Asks on the terminal (hidden input), only when there is one.
struct TerminalPrompter;

impl render::SecretPrompter for TerminalPrompter {
    fn ask(&self, name: &str, prompt: &str) -> anyhow::Result<Option<String>> {
        if !crate::ui::prompt::interactive() {
            return Ok(None);
        }
        match crate::ui::prompt::password(&format!("{prompt} ({name})")) {
            Ok(v) => Ok(Some(v)),
            Err(crate::ui::prompt::PromptError::NotInteractive) => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    }
}

const VALUE_PREFIX: &str = "DEVENV_VALUE_";

/// `DEVENV_VALUE_*` (prefix removed) and the variables the manifest names.
fn process_inputs(m: &Manifest) -> (Vec<(String, String)>, BTreeMap<String, String>) {
    let env_values = std::env::vars_os()
        .filter_map(|(k, v)| {
            let k = k.into_string().ok()?;
            let suffix = k.strip_prefix(VALUE_PREFIX)?.to_string();
            Some((suffix, v.into_string().ok()?))
        })
        .collect();
    let vars = render::referenced_vars(m)
        .into_iter()
        .filter_map(|name| std::env::var(&name).ok().map(|v| (name, v)))
        .collect();
    (env_values, vars)
}

pub fn run(app: &mut App, args: RenderArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    let environment = args
        .env
        .clone()
        .unwrap_or_else(|| manifest.config.environment.clone());
    let redactor = Redactor::new();
    let reporter = RedactingReporter::new(&app.printer, redactor.clone());
    let (env_values, vars) = process_inputs(&manifest);
    let req = render::Request {
        manifest: &manifest,
        paths: &paths,
        environment: &environment,
        env_values,
        sets: args.set.clone(),
        vars,
        offline: false,
        prompter: &TerminalPrompter,
        redactor: &redactor,
    };
    let runtime = super::runtime()?;
    if let Some(key) = &args.explain {
        let explained = runtime
            .block_on(interruptible(async {
                render::explain(&req, key, &reporter)
                    .await
                    .map_err(|e| to_error(e, &redactor))
            }))
            .map_err(|e| redact_error(e, &redactor))?;
        app.printer
            .data(redactor.redact(explained.to_string().trim_end()).as_ref());
        return Ok(0);
    }
    if manifest.config.files.is_empty() {
        reporter.message(
            Level::Info,
            "nothing to render: devenv.toml has no [[config.files]]",
        );
        return Ok(0);
    }
    let mode = if args.check {
        Mode::Check
    } else {
        Mode::Write { force: args.force }
    };
    let outcome = runtime
        .block_on(interruptible(async {
            render::render(&req, mode, &reporter)
                .await
                .map_err(|e| to_error(e, &redactor))
        }))
        .map_err(|e| redact_error(e, &redactor))?;
    if args.check {
        return Ok(report_check(&outcome, &environment, &reporter));
    }
    report_written(&outcome, &environment, &reporter);
    Ok(0)
}

/// The config phase of `up`: never overwrites a hand-edited file.
pub async fn config_phase(cx: &UpContext<'_>) -> Result<(), Error> {
    let redactor = Redactor::new();
    let reporter = RedactingReporter::new(cx.reporter, redactor.clone());
    let (env_values, vars) = process_inputs(cx.manifest);
    let req = render::Request {
        manifest: cx.manifest,
        paths: cx.paths,
        environment: &cx.environment,
        env_values,
        sets: Vec::new(),
        vars,
        offline: cx.offline,
        prompter: &TerminalPrompter,
        redactor: &redactor,
    };
    let outcome = render::render(&req, Mode::Write { force: false }, &reporter)
        .await
        .map_err(|e| redact_error(to_error(e, &redactor), &redactor))?;
    report_written(&outcome, &cx.environment, &reporter);
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

fn report_check(outcome: &Outcome, environment: &str, reporter: &dyn Reporter) -> i32 {
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
    1
}

/// The core's error as the program's, with what to do next; redacted.
fn to_error(e: RenderError, redactor: &Redactor) -> Error {
    let hint = e.hint().map(|h| redactor.redact(&h).into_owned());
    let message = redactor.redact(&e.to_string()).into_owned();
    match e {
        RenderError::Invalid(d) => Error::Invalid(redactor.redact_diagnostics(d)),
        RenderError::Usage { .. } => Error::Usage { message, hint },
        RenderError::Secret(render::SecretError::Missing(_)) => {
            Error::Prerequisite { message, hint }
        }
        _ => Error::Failed(anyhow::anyhow!(match hint {
            Some(h) => format!("{message}\n  hint: {h}"),
            None => message,
        })),
    }
}

/// Any error leaving this command, redacted once more (errors from other
/// layers may quote what they were given).
fn redact_error(e: Error, redactor: &Redactor) -> Error {
    let r = |s: String| redactor.redact(&s).into_owned();
    match e {
        Error::Usage { message, hint } => Error::Usage {
            message: r(message),
            hint: hint.map(r),
        },
        Error::Prerequisite { message, hint } => Error::Prerequisite {
            message: r(message),
            hint: hint.map(r),
        },
        Error::Invalid(d) => Error::Invalid(redactor.redact_diagnostics(d)),
        Error::Failed(e) => Error::Failed(anyhow::anyhow!(r(format!("{e:#}")))),
        other => other,
    }
}
