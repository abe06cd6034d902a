//! The flows' own logic, without Docker: a fake backend records what it is
//! asked, and can fail or be interrupted at any phase. Everything that
//! touches containers is tested against the real engine in `tests/`.

use std::sync::Mutex;

use crate::clock::FixedClock;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::metrics::{Journal, Outcome, Run, RunKind, Start};
use crate::progress::{Recorder, Reporter};
use crate::services::{DownReport, StatusEntry, Teardown};
use crate::settings::{Flags, Inputs, ProcessEnv, Settings};

use super::*;

/// Says what it was asked to do; fails where told to.
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
    fail_at: Option<(Phase, fn() -> Error)>,
    ports_taken: bool,
}

impl Fake {
    fn failing_at(phase: Phase, e: fn() -> Error) -> Self {
        Fake {
            fail_at: Some((phase, e)),
            ..Fake::default()
        }
    }
    fn called(&self, what: impl Into<String>) {
        self.calls.lock().unwrap().push(what.into());
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl Backend for Fake {
    async fn check_ports(&self, _: &Session<'_>, phases: &[Phase]) -> Result<(), Error> {
        let names: Vec<&str> = phases.iter().map(|p| p.name()).collect();
        self.called(format!("check_ports {}", names.join(",")));
        if self.ports_taken {
            return Err(Error::usage("port 8081 is in use", None));
        }
        Ok(())
    }
    async fn run_phase(
        &self,
        _: &Session<'_>,
        phase: Phase,
        _: &UpOptions,
        _: &dyn Reporter,
    ) -> Result<(), Error> {
        self.called(phase.name());
        match self.fail_at {
            Some((p, e)) if p == phase => Err(e()),
            _ => Ok(()),
        }
    }
    async fn pre_down(&self, _: &Session<'_>) {
        self.called("pre_down");
    }
    async fn stop_processes(&self, _: &Session<'_>) -> Vec<String> {
        self.called("stop_processes");
        vec!["web".into()]
    }
    fn stop_mocks(&self, _: &Session<'_>) -> Vec<String> {
        self.called("stop_mocks");
        vec!["payments".into()]
    }
    async fn remove_containers(
        &self,
        _: &Session<'_>,
        what: Teardown,
    ) -> Result<DownReport, Error> {
        self.called(format!(
            "remove_containers volumes={} images={}",
            what.volumes, what.images
        ));
        Ok(DownReport::default())
    }
    async fn services_status(&self, _: &Session<'_>) -> Result<Vec<StatusEntry>, Error> {
        self.called("services_status");
        Ok(Vec::new())
    }
}

/// A clone with a devenv.toml, a DEVENV_HOME, and settings resolved from a
/// made-up environment.
struct Clone {
    /// Removed when the test ends.
    _dir: tempfile::TempDir,
    manifest: Manifest,
    settings: Settings,
    env: ProcessEnv,
    reporter: Recorder,
    clock: FixedClock,
}

impl Clone {
    fn new(manifest: &str) -> Self {
        Clone::with_files(manifest, &[])
    }

    /// A clone whose repository also holds these (path, text) files.
    fn with_files(manifest: &str, files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        for (rel, text) in files {
            let p = repo.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("devenv.toml"), manifest).unwrap();
        let manifest = crate::manifest::load(&repo.join("devenv.toml")).unwrap();
        let env = ProcessEnv::from_pairs([
            ("HOME", dir.path().join("home")),
            ("DEVENV_HOME", dir.path().join("home/devenv")),
        ]);
        let settings = Settings::resolve(&Inputs {
            env: &env,
            manifest: Some(&manifest),
            flags: &Flags::default(),
        })
        .unwrap();
        Clone {
            _dir: dir,
            manifest,
            settings,
            env,
            reporter: Recorder::default(),
            clock: FixedClock("2026-12-01T10:00:00Z".parse().unwrap()),
        }
    }

    fn session(&self) -> Session<'_> {
        let io = Io {
            clock: &self.clock,
            reporter: &self.reporter,
            prompter: &NoPrompt,
        };
        Session::new(
            &self.manifest,
            &self.settings,
            &self.env,
            io,
            "devenv".into(),
        )
    }

    fn opts(&self) -> UpOptions {
        UpOptions {
            only: Vec::new(),
            frozen: false,
            offline: false,
            build: false,
            yes: false,
            wait: Wait::No,
            start: Start::now(&self.clock),
        }
    }

    fn runs(&self) -> Vec<Run> {
        Journal::new(&self.session().paths, &self.manifest.project.id).runs()
    }

    fn said(&self, needle: &str) -> bool {
        self.reporter
            .messages
            .lock()
            .unwrap()
            .iter()
            .any(|(_, m)| m.contains(needle))
    }
}

const PLAIN: &str = "[project]\nname = \"shop\"\n";
const WITH_HOOK: &str = "[project]\nname = \"shop\"\n[hooks]\nsetup = [\"echo hi\"]\n";

#[test]
fn up_runs_every_phase_in_the_one_order_after_checking_ports() {
    let c = Clone::new(PLAIN);
    let fake = Fake::default();
    up(&c.session(), &fake, &c.opts()).unwrap();
    assert_eq!(
        fake.calls(),
        [
            "check_ports tools,mocks,services,config,hooks,processes",
            "tools",
            "mocks",
            "services",
            "config",
            "hooks",
            "processes"
        ]
    );
    assert!(c.said("shop is up"));
    let runs = c.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].kind, runs[0].outcome), (RunKind::Up, Outcome::Ok));
    assert!(runs[0].complete);
    // Pre-flight (manifest, checks, lock, ports) is timed as its own step.
    let phases: Vec<&str> = runs[0].phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        phases,
        [
            "preflight",
            "tools",
            "mocks",
            "services",
            "config",
            "hooks",
            "processes"
        ]
    );
}

#[test]
fn only_keeps_the_order_whatever_order_it_was_given_in() {
    let c = Clone::new(PLAIN);
    let fake = Fake::default();
    let opts = UpOptions {
        only: vec![Phase::Services, Phase::Tools],
        ..c.opts()
    };
    up(&c.session(), &fake, &opts).unwrap();
    assert_eq!(
        fake.calls(),
        ["check_ports tools,services", "tools", "services"]
    );
    assert!(
        !c.runs()[0].complete,
        "a partial up never counts as fully ready"
    );
}

#[test]
fn an_untrusted_hook_stops_up_before_anything_runs_or_is_recorded() {
    let c = Clone::new(WITH_HOOK);
    let fake = Fake::default();
    let e = up(&c.session(), &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(e.hint().unwrap().contains("devenv trust"));
    assert!(fake.calls().is_empty());
    assert!(c.runs().is_empty());
    assert!(
        c.said("setup hook:    echo hi"),
        "the prompt shows what would run"
    );
}

#[test]
fn yes_trusts_the_file_and_a_second_up_needs_no_answer() {
    let c = Clone::new(WITH_HOOK);
    let yes = UpOptions {
        yes: true,
        ..c.opts()
    };
    up(&c.session(), &Fake::default(), &yes).unwrap();
    let fake = Fake::default();
    up(&c.session(), &fake, &c.opts()).unwrap();
    assert!(fake.calls().contains(&"hooks".to_string()));
}

#[test]
fn phases_that_run_no_repository_code_need_no_trust() {
    let c = Clone::new(WITH_HOOK);
    let fake = Fake::default();
    let opts = UpOptions {
        only: vec![Phase::Tools, Phase::Services],
        ..c.opts()
    };
    up(&c.session(), &fake, &opts).unwrap();
    assert_eq!(fake.calls().len(), 3);
}

#[test]
fn a_failed_phase_stops_the_rest_and_is_recorded_as_the_failed_step() {
    let c = Clone::new(PLAIN);
    let fake = Fake::failing_at(Phase::Services, || Error::failed("db never became ready"));
    let e = up(&c.session(), &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert_eq!(fake.calls().last().unwrap(), "services");
    assert!(!fake.calls().contains(&"config".to_string()));
    let run = &c.runs()[0];
    assert_eq!(run.outcome, Outcome::Failed);
    assert_eq!(run.failed_step.as_deref(), Some("services"));
    assert!(!c.said("shop is up"));
}

#[test]
fn an_interrupted_phase_is_exit_130_and_still_recorded() {
    let c = Clone::new(PLAIN);
    let fake = Fake::failing_at(Phase::Mocks, || Error::Interrupted);
    let e = up(&c.session(), &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 130);
    let run = &c.runs()[0];
    assert_eq!(run.outcome, Outcome::Interrupted);
    assert_eq!(run.failed_step.as_deref(), Some("mocks"));
}

#[test]
fn a_taken_port_is_exit_2_before_any_phase_and_records_nothing() {
    let c = Clone::new(PLAIN);
    let fake = Fake {
        ports_taken: true,
        ..Fake::default()
    };
    let e = up(&c.session(), &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(fake.calls().len(), 1, "only the port check ran");
    assert!(c.runs().is_empty());
}

#[test]
fn a_broken_mock_file_is_exit_2_before_the_backend_is_asked_anything() {
    let c = Clone::with_files(
        "[project]\nname = \"shop\"\n[mocks.pay]\nport = 18081\nwiremock = \"mocks/pay\"\n",
        &[("mocks/pay/mappings/a.json", "{ not json")],
    );
    let fake = Fake::default();
    let e = up(&c.session(), &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("a.json"), "{e}");
    assert!(fake.calls().is_empty());
}

#[test]
fn a_second_up_of_the_clone_is_refused_while_one_holds_the_lock() {
    let c = Clone::new(PLAIN);
    let s = c.session();
    let held = runtime()
        .unwrap()
        .block_on(lock::acquire(&s.paths, &Recorder::default(), Wait::No))
        .unwrap();
    let fake = Fake::default();
    let e = up(&s, &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string().contains("already working on this clone"),
        "{e}"
    );
    assert!(fake.calls().is_empty());
    drop(held);
    up(&s, &fake, &c.opts()).unwrap();
}

#[test]
fn down_runs_pre_down_then_processes_mocks_and_containers_and_is_recorded() {
    let c = Clone::new(PLAIN);
    let fake = Fake::default();
    let opts = DownOptions {
        volumes: false,
        wait: Wait::No,
        start: Start::now(&c.clock),
    };
    let done = down(&c.session(), &fake, &opts).unwrap();
    assert_eq!(done.mocks, ["payments"]);
    assert_eq!(done.processes, ["web"]);
    assert_eq!(
        fake.calls(),
        [
            "pre_down",
            "stop_processes",
            "stop_mocks",
            "remove_containers volumes=false images=false"
        ]
    );
    assert_eq!(c.runs()[0].kind, RunKind::Down);
}

#[test]
fn reset_removes_volumes_built_images_and_the_clone_state() {
    let c = Clone::new(PLAIN);
    let s = c.session();
    s.paths.ensure_state_dir().unwrap();
    let fake = Fake::default();
    reset(&s, &fake, Wait::No, Start::now(&c.clock)).unwrap();
    assert!(fake
        .calls()
        .contains(&"remove_containers volumes=true images=true".to_string()));
    assert!(!s.paths.state_dir().exists());
    assert_eq!(c.runs()[0].kind, RunKind::Reset);
}

#[test]
fn status_asks_the_engine_only_when_there_are_services() {
    let c = Clone::new(PLAIN);
    let fake = Fake::default();
    let doc = status(&c.session(), &fake).unwrap();
    assert_eq!(doc.project, "shop");
    assert!(fake.calls().is_empty());
}

#[test]
fn opted_out_metrics_record_nothing() {
    let mut c = Clone::new(PLAIN);
    c.settings.metrics.value = false;
    up(&c.session(), &Fake::default(), &c.opts()).unwrap();
    assert!(c.runs().is_empty());
}

const WITH_SECRET: &str = "[project]\nname = \"shop\"\n[secrets.TOKEN]\nenv = \"TOKEN\"\n";
const TOKEN_VALUE: &str = "tok-3x4mple-value";

fn leaking_error() -> Error {
    Error::failed(format!("hook printed {TOKEN_VALUE}"))
}

#[test]
fn the_session_masks_secrets_it_knows_without_running_anything() {
    let mut c = Clone::new(WITH_SECRET);
    c.env = ProcessEnv::from_pairs([("TOKEN", TOKEN_VALUE)]);
    let fake = Fake::failing_at(Phase::Hooks, leaking_error);
    let s = c.session();
    let e = up(&s, &fake, &c.opts()).unwrap_err().to_string();
    assert_eq!(e, format!("hook printed {}", crate::redact::MASK));
    s.reporter
        .message(crate::progress::Level::Info, TOKEN_VALUE);
    assert!(c.said(crate::redact::MASK) && !c.said(TOKEN_VALUE));
}

const WITH_PROCESS: &str =
    "[project]\nname = \"shop\"\n[processes.web]\ncommand = \"python3 -m http.server\"\n";

#[test]
fn an_untrusted_process_stops_up_before_anything_runs() {
    let c = Clone::new(WITH_PROCESS);
    let fake = Fake::default();
    let e = up(&c.session(), &fake, &c.opts()).unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(fake.calls().is_empty());
    assert!(c.said("process web: python3 -m http.server"));
    // The phases before it run no repository code: no trust needed.
    let opts = UpOptions {
        only: vec![Phase::Tools, Phase::Services],
        ..c.opts()
    };
    up(&c.session(), &fake, &opts).unwrap();
}
