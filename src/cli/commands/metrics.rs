//! `devenv metrics [--json] [--install-hook]`: the runs recorded in this
//! clone and its onboarding timeline. Also the glue other commands use to
//! record their runs (`record_run`, `finish_up`), because this is where the
//! opt-out environment variables are read.

use crate::cli::args::MetricsArgs;
use crate::cli::App;
use crate::clock::SystemClock;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::metrics::{self, chart, Context, MetricsDoc, Outcome, Run, RunKind, RunRecorder, Start};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::ui::Printer;

/// False when the user opted out with `DEVENV_NO_METRICS` or `DO_NOT_TRACK`
/// (any value but empty, `0` or `false`).
pub fn enabled() -> bool {
    let set = |k: &str| {
        std::env::var(k).is_ok_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            !(v.is_empty() || v == "0" || v == "false")
        })
    };
    !(set("DEVENV_NO_METRICS") || set("DO_NOT_TRACK"))
}

pub static CLOCK: SystemClock = SystemClock;

pub fn context<'a>(paths: &'a Paths, manifest: &'a Manifest) -> Context<'a> {
    Context {
        enabled: enabled(),
        paths,
        manifest,
        clock: &CLOCK,
    }
}

/// The outcome a command's result stands for.
pub fn outcome_of<T>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(Error::Interrupted) => Outcome::Interrupted,
        Err(_) => Outcome::Failed,
    }
}

/// Records a `down` or `reset` run: one call at the end of those commands,
/// on the success and the error path alike:
///
/// `start` is taken before the manifest loads (see `down` and `reset`).
pub fn record_run<T>(
    app: &App,
    manifest: &Manifest,
    kind: RunKind,
    start: Start,
    result: &Result<T, Error>,
) {
    let paths = Paths::new(&app.home, &manifest.root);
    let cx = context(&paths, manifest);
    let recorded = metrics::record_simple(&cx, kind, start, outcome_of(result));
    note_recorded(&app.printer, recorded);
}

fn note_recorded(
    printer: &Printer,
    recorded: Result<Option<metrics::Finished>, metrics::JournalError>,
) {
    match recorded {
        Ok(Some(f)) => printer.message(
            Level::Detail,
            &format!(
                "recorded run {} in {:.2} ms",
                f.run.id,
                f.overhead.as_secs_f64() * 1000.0
            ),
        ),
        Ok(None) => {}
        Err(e) => printer.message(Level::Warn, &format!("{e}; this run is not in the metrics")),
    }
}

/// Ends an `up` run: appends it to the journal whatever the result, then
/// (unless interrupted) reports it when `auto_report` is on, bounded by the
/// configured timeout and never failing `up`.
pub fn finish_up<T>(
    app: &App,
    cx: &Context,
    recorder: RunRecorder,
    result: &Result<T, Error>,
    runtime: &tokio::runtime::Runtime,
) {
    let outcome = outcome_of(result);
    note_recorded(&app.printer, recorder.finish(cx, outcome));
    if outcome != Outcome::Interrupted {
        super::report::auto_report(&app.printer, cx, runtime);
    }
}

pub fn run(app: &mut App, args: MetricsArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let paths = Paths::new(&app.home, &manifest.root);
    let cx = context(&paths, &manifest);
    if args.install_hook {
        return install_hook(app, &manifest);
    }
    let (runs, timeline) = metrics::load(&cx);
    if std::env::var_os("DEVENV_METRICS_HOOK").is_some() {
        // Called by the post-commit hook: the timeline is refreshed; send it
        // now if the project asks for automatic reports.
        let runtime = super::runtime()?;
        super::report::auto_report(&app.printer, &cx, &runtime);
    }
    if args.json {
        app.printer.json(&MetricsDoc::new(&runs, &timeline));
        return Ok(0);
    }
    show(&app.printer, &runs, &timeline, cx.enabled);
    Ok(0)
}

fn install_hook(app: &App, manifest: &Manifest) -> Result<i32, Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::failed(format!("cannot tell where devenv is: {e}")))?;
    match metrics::hook::install(&manifest.root, &exe, &manifest.path) {
        Ok(installed) => {
            let text = match installed {
                metrics::hook::Installed::New(p) => {
                    format!("installed the post-commit hook {}", app.display(&p))
                }
                metrics::hook::Installed::Updated(p) => {
                    format!("updated the post-commit hook {}", app.display(&p))
                }
                metrics::hook::Installed::Chained { hook, kept } => format!(
                    "installed the post-commit hook {}; your previous hook was kept as {} and still runs first",
                    app.display(&hook),
                    app.display(&kept)
                ),
            };
            app.printer.message(Level::Success, &text);
            Ok(0)
        }
        Err(metrics::hook::HookError::NotARepo) => Err(Error::prerequisite(
            "this directory is not inside a git clone, so there is no commit to record",
            "run it inside the repository's clone",
        )),
        Err(e @ metrics::hook::HookError::SharedHooksDir(_)) => Err(Error::usage(
            format!("{e}; devenv does not change the team's shared hooks"),
            Some(
                "add this line to your post-commit hook instead: \
                 (DEVENV_METRICS_HOOK=1 devenv -q metrics --json >/dev/null 2>&1 &)"
                    .into(),
            ),
        )),
        Err(e @ metrics::hook::HookError::ChainTaken(_)) => Err(Error::usage(
            e.to_string(),
            Some(
                "merge it into .git/hooks/post-commit by hand, remove it, then run this again"
                    .into(),
            ),
        )),
        Err(e) => Err(Error::Failed(e.into())),
    }
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".to_string())
}

fn show(p: &Printer, runs: &[Run], t: &metrics::Timeline, enabled: bool) {
    if !enabled {
        p.message(
            Level::Warn,
            "metrics are turned off (DEVENV_NO_METRICS or DO_NOT_TRACK): nothing new is recorded or sent",
        );
    }
    p.data(&p.bold("Onboarding of this clone"));
    let since = |x: Option<chrono::DateTime<chrono::Utc>>| match (t.cloned_at, x) {
        (Some(c), Some(x)) => format!(
            "  {}",
            p.dim(&format!(
                "+{}",
                chart::duration((x - c).num_milliseconds().max(0) as f64 / 1000.0)
            ))
        ),
        _ => String::new(),
    };
    let cloned_note = match t.cloned_from {
        Some(metrics::ClonedFrom::FirstRun) => {
            p.dim("  (no clone entry in the reflog: first devenv run)")
        }
        _ => String::new(),
    };
    p.data(&format!(
        "  cloned             {}{cloned_note}",
        when(t.cloned_at)
    ));
    p.data(&format!(
        "  first up started   {}{}",
        when(t.first_up_started_at),
        since(t.first_up_started_at)
    ));
    p.data(&format!(
        "  first fully ready  {}{}",
        when(t.first_ready_at),
        since(t.first_ready_at)
    ));
    p.data(&format!(
        "  first commit       {}{}",
        when(t.first_commit_at),
        since(t.first_commit_at)
    ));
    let opt = |s: Option<f64>| {
        s.map(chart::duration)
            .unwrap_or_else(|| "not yet".to_string())
    };
    p.data(&format!(
        "  setup time {}   time to first commit {}",
        p.bold(&opt(t.setup_seconds())),
        p.bold(&opt(t.time_to_first_commit_seconds()))
    ));

    if runs.is_empty() {
        p.data("");
        p.data("No runs recorded yet: run `devenv up`.");
        return;
    }
    p.data("");
    p.data(&p.bold("Last runs"));
    p.data(&p.dim(&format!(
        "  {:<19}  {:<5}  {:<11}  {:>9}  {}",
        "STARTED (UTC)", "KIND", "OUTCOME", "TIME", "FAILED STEP"
    )));
    for r in runs.iter().rev().take(10) {
        let line = format!(
            "  {:<19}  {:<5}  {:<11}  {:>9}  {}",
            r.started_at.format("%Y-%m-%d %H:%M:%S"),
            r.kind.as_str(),
            r.outcome.as_str(),
            chart::duration(r.seconds()),
            r.failed_step.as_deref().unwrap_or("")
        );
        p.data(line.trim_end());
    }
    let ups: Vec<&Run> = runs.iter().filter(|r| r.kind == RunKind::Up).collect();
    if let Some(last) = ups.last() {
        p.data("");
        p.data(&p.bold(&format!(
            "Last up: {} in {}",
            last.outcome.as_str(),
            chart::duration(last.seconds())
        )));
        for line in chart::phase_bars(last, 30) {
            p.data(&format!("  {line}"));
        }
        let c = last.fetches.summary();
        if c != metrics::CacheSummary::default() {
            p.data(&p.dim(&format!(
                "  tools: {} downloaded, {} reused ({})   images: {} pulled, {} present ({})",
                c.tools_downloaded,
                c.tools_reused,
                bytes(c.tool_bytes),
                c.images_pulled,
                c.images_present,
                bytes(c.image_bytes)
            )));
        }
    }
    // Failed runs stop early; their times would only blur the trend.
    let ok: Vec<&&Run> = ups.iter().filter(|r| r.outcome == Outcome::Ok).collect();
    if ok.len() >= 2 {
        let recent: Vec<f64> = ok
            .iter()
            .rev()
            .take(20)
            .rev()
            .map(|r| r.seconds())
            .collect();
        p.data("");
        p.data(&p.bold(&format!("Up time trend (last {} successful)", recent.len())));
        p.data(&format!(
            "  {}   first {}  median {}  last {}",
            chart::sparkline(&recent),
            chart::duration(recent[0]),
            chart::duration(chart::median(&recent).unwrap_or_default()),
            chart::duration(*recent.last().unwrap_or(&0.0)),
        ));
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
