//! Recording a run while it happens: phase timings, the progress events seen
//! (cache hits, bytes), and the outcome, appended to the journal at the end
//! whatever the outcome (the command layer calls `finish` on its error path
//! too, including Ctrl-C).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};

use super::journal::{Journal, JournalError};
use super::run::{new_id, Fetches, ImageFetch, Outcome, PhaseTime, Run, RunKind, ToolFetch};
use super::timeline::{self, Timeline};
use super::Context;
use crate::progress::{Event, Level, Reporter, Task};

/// When a run started, on both clocks: the injected one for the journal,
/// the monotonic one for durations.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    pub at: DateTime<Utc>,
    pub instant: Instant,
}

impl Start {
    pub fn now(clock: &dyn crate::clock::Clock) -> Start {
        Start {
            at: clock.now().trunc_subsecs(3),
            instant: Instant::now(),
        }
    }
}

struct State {
    phases: Vec<PhaseTime>,
    current: Option<(String, Instant)>,
    fetches: Fetches,
}

pub struct RunRecorder {
    id: String,
    kind: RunKind,
    start: Start,
    complete: bool,
    state: Mutex<State>,
}

/// What `finish` wrote, for the caller to show or report.
pub struct Finished {
    pub run: Run,
    pub timeline: Timeline,
    /// How long writing the journal and the timeline took.
    pub overhead: Duration,
    /// Of that, the timeline's part (its checks, and git when it asked).
    pub timeline_cost: Duration,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

impl RunRecorder {
    /// Starts recording. The time from `start` until the first `begin` is
    /// the "preflight" phase (manifest load and checks). `complete` is false
    /// when only some phases were asked for (`up --only`).
    pub fn new(kind: RunKind, start: Start, complete: bool) -> RunRecorder {
        Self::with_first_phase(kind, start, complete, "preflight")
    }

    fn with_first_phase(kind: RunKind, start: Start, complete: bool, first: &str) -> RunRecorder {
        RunRecorder {
            id: new_id(),
            kind,
            start,
            complete,
            state: Mutex::new(State {
                phases: Vec::new(),
                current: Some((first.to_string(), start.instant)),
                fetches: Fetches::default(),
            }),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn close_current(state: &mut State) {
        if let Some((name, since)) = state.current.take() {
            state.phases.push(PhaseTime {
                name,
                seconds: secs(since.elapsed()),
            });
        }
    }

    /// Ends the phase in progress (if any) and starts `phase`.
    pub fn begin(&self, phase: &str) {
        let mut s = self.state.lock().unwrap();
        Self::close_current(&mut s);
        s.current = Some((phase.to_string(), Instant::now()));
    }

    /// Ends the phase in progress.
    pub fn end(&self) {
        Self::close_current(&mut self.state.lock().unwrap());
    }

    /// A phase measured by someone else, e.g. `images` inside `services`.
    pub fn add_phase(&self, name: &str, seconds: f64) {
        self.state.lock().unwrap().phases.push(PhaseTime {
            name: name.to_string(),
            seconds: (seconds * 1000.0).round() / 1000.0,
        });
    }

    pub fn observe(&self, event: &Event) {
        let mut s = self.state.lock().unwrap();
        match event {
            Event::Tool {
                name,
                version,
                downloaded,
                bytes,
                seconds,
            } => s.fetches.tools.push(ToolFetch {
                name: name.clone(),
                version: version.clone(),
                downloaded: *downloaded,
                bytes: *bytes,
                seconds: *seconds,
            }),
            Event::Image {
                reference,
                pulled,
                bytes,
                seconds,
            } => s.fetches.images.push(ImageFetch {
                reference: reference.clone(),
                pulled: *pulled,
                bytes: *bytes,
                seconds: *seconds,
            }),
            Event::Phase { name, seconds } => {
                drop(s);
                self.add_phase(name, *seconds);
            }
        }
    }

    /// A reporter that forwards everything to `inner` (the printer stays the
    /// only writer) and keeps the events for this run.
    pub fn tap<'a>(&'a self, inner: &'a dyn Reporter) -> Tap<'a> {
        Tap {
            inner,
            recorder: self,
        }
    }

    /// The run as it would be written now, without writing it.
    pub fn snapshot(&self, finished_at: DateTime<Utc>, outcome: Outcome) -> Run {
        let mut s = self.state.lock().unwrap();
        let failed_step = match outcome {
            Outcome::Ok => None,
            _ => s.current.as_ref().map(|(n, _)| n.clone()).or_else(|| {
                // Failed between phases: blame the last one that ran.
                s.phases.last().map(|p| p.name.clone())
            }),
        };
        Self::close_current(&mut s);
        // Phases are timed to the nearest ms, the run's end is truncated to
        // the ms: a run under a millisecond read 0 s with a phase of 0.001 s
        // inside it. A run lasts at least as long as its longest phase.
        let longest = s.phases.iter().map(|p| p.seconds).fold(0.0, f64::max);
        let floor =
            self.start.at + chrono::Duration::milliseconds((longest * 1000.0).round() as i64);
        Run {
            v: super::run::FORMAT,
            id: self.id.clone(),
            kind: self.kind,
            started_at: self.start.at,
            finished_at: finished_at.max(floor),
            outcome,
            failed_step,
            phases: s.phases.clone(),
            complete: self.complete,
            fetches: s.fetches.clone(),
            devenv_version: env!("CARGO_PKG_VERSION").to_string(),
            ci: None,
        }
    }

    /// Appends the run to the journal and updates the timeline. The step
    /// that was running when the run ended becomes `failed_step` unless the
    /// outcome is ok. Does nothing (Ok(None)) when metrics are off.
    pub fn finish(self, cx: &Context, outcome: Outcome) -> Result<Option<Finished>, JournalError> {
        // The monotonic clock measures the run; the injected one only dates it.
        let elapsed = chrono::Duration::from_std(self.start.instant.elapsed()).unwrap_or_default();
        let finished_at = (self.start.at + elapsed).trunc_subsecs(3);
        let mut run = self.snapshot(finished_at, outcome);
        run.ci = cx.ci.cloned();
        if !cx.enabled {
            return Ok(None);
        }
        let t0 = Instant::now();
        let journal = Journal::new(cx.paths, &cx.manifest.project.id);
        journal.append(&run)?;
        let t1 = Instant::now();
        // A CI job is nobody's onboarding: its runs leave the timeline alone.
        let timeline = match cx.ci {
            Some(_) => timeline::cached(&journal),
            // At most one git call: this is on every `up`'s path.
            None => timeline::refresh(
                &journal,
                &cx.manifest.root,
                Some(&run),
                timeline::GitCalls::AtMostOne,
            ),
        };
        Ok(Some(Finished {
            run,
            timeline,
            overhead: t0.elapsed(),
            timeline_cost: t1.elapsed(),
        }))
    }
}

/// See `RunRecorder::tap`.
pub struct Tap<'a> {
    inner: &'a dyn Reporter,
    recorder: &'a RunRecorder,
}

impl Reporter for Tap<'_> {
    fn message(&self, level: Level, text: &str) {
        self.inner.message(level, text)
    }
    fn task(&self, label: &str, total: Option<u64>) -> Box<dyn Task> {
        self.inner.task(label, total)
    }
    fn event(&self, event: &Event) {
        self.recorder.observe(event);
        self.inner.event(event);
    }
}

/// Records a run without phases of its own (`down`, `reset`): one phase
/// named after the command, and the outcome.
pub fn record_simple(
    cx: &Context,
    kind: RunKind,
    start: Start,
    outcome: Outcome,
) -> Result<Option<Finished>, JournalError> {
    RunRecorder::with_first_phase(kind, start, true, kind.as_str()).finish(cx, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Recorder;

    #[test]
    fn an_interrupted_phase_is_closed_and_named_as_the_failing_step() {
        let clock = crate::clock::FixedClock("2026-01-01T00:00:00Z".parse().unwrap());
        let rec = RunRecorder::new(RunKind::Up, Start::now(&clock), true);
        rec.begin("tools");
        rec.begin("services");
        rec.add_phase("images", 1.5);
        let run = rec.snapshot(clock.0, Outcome::Interrupted);
        assert_eq!(run.failed_step.as_deref(), Some("services"));
        let names: Vec<&str> = run.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["preflight", "tools", "images", "services"]);
    }

    /// `metrics` drew "-" for every phase's share of a run that read 0 s
    /// while its preflight read 0.001 s.
    #[test]
    fn a_run_under_a_millisecond_lasts_at_least_its_longest_phase() {
        let clock = crate::clock::FixedClock("2026-01-01T00:00:00Z".parse().unwrap());
        let rec = RunRecorder::new(RunKind::Up, Start::now(&clock), true);
        rec.add_phase("preflight", 0.0006);
        let run = rec.snapshot(clock.0, Outcome::Ok);
        assert_eq!(run.seconds(), 0.001);
    }

    #[test]
    fn finish_appends_an_interrupted_run_and_off_means_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("devenv.toml"),
            "[project]\nname = \"rec\"\n",
        )
        .unwrap();
        let manifest = crate::manifest::load(&dir.path().join("devenv.toml")).unwrap();
        let paths = crate::paths::Paths::new(dir.path().join("home"), &manifest.root);
        let clock = crate::clock::FixedClock("2026-01-01T00:00:00Z".parse().unwrap());
        let mut cx = Context {
            enabled: false,
            paths: &paths,
            manifest: &manifest,
            clock: &clock,
            ci: None,
        };
        let rec = RunRecorder::new(RunKind::Up, Start::now(&clock), true);
        rec.begin("services");
        assert!(rec.finish(&cx, Outcome::Interrupted).unwrap().is_none());
        assert!(!paths.spool().exists());

        cx.enabled = true;
        let rec = RunRecorder::new(RunKind::Up, Start::now(&clock), true);
        rec.begin("services");
        let done = rec.finish(&cx, Outcome::Interrupted).unwrap().unwrap();
        let runs = cx.journal().runs();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0], done.run);
        assert_eq!(runs[0].outcome, Outcome::Interrupted);
        assert_eq!(runs[0].failed_step.as_deref(), Some("services"));
        assert_eq!(runs[0].started_at, clock.0);
        // An interrupted run does not make the environment ready.
        assert_eq!(done.timeline.first_ready_at, None);
        assert_eq!(done.timeline.first_up_started_at, Some(clock.0));
    }

    #[test]
    fn the_tap_forwards_to_the_printer_and_keeps_the_events() {
        let clock = crate::clock::FixedClock("2026-01-01T00:00:00Z".parse().unwrap());
        let rec = RunRecorder::new(RunKind::Up, Start::now(&clock), true);
        let printer = Recorder::default();
        let tap = rec.tap(&printer);
        tap.message(Level::Info, "hello");
        tap.event(&Event::Image {
            reference: "postgres:16".into(),
            pulled: true,
            bytes: 10,
            seconds: 0.5,
        });
        tap.event(&Event::Phase {
            name: "images".into(),
            seconds: 0.5,
        });
        assert_eq!(printer.events.lock().unwrap().len(), 2);
        assert_eq!(printer.messages.lock().unwrap().len(), 1);
        let run = rec.snapshot(clock.0, Outcome::Ok);
        assert_eq!(run.fetches.summary().images_pulled, 1);
        assert_eq!(run.fetches.summary().image_bytes, 10);
        assert_eq!(run.phase("images"), Some(0.5));
        assert_eq!(run.failed_step, None);
    }
}
