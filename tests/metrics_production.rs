//! The onboarding timeline all the way to production, against real git: a
//! bare origin, the hire's clone, their commit and push, and a merge done
//! on the origin side by a maintainer's clone. Also: how little git a run
//! asks while a step is unknown, and CI jobs, which are nobody's onboarding.

#[path = "metrics_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::*;

const MANIFEST: &str = "[project]\nname = \"prod\"\n";
const CLONED: &str = "2026-03-01T09:00:00Z";

fn onboarding(env: &TestEnv) -> serde_json::Value {
    env.run(["metrics", "--json"]).success().json()["onboarding"].clone()
}

/// The hire's first branch: one commit at 10:00, pushed at 11:00.
fn commit_and_push_a_branch(env: &TestEnv) {
    env.git(&env.repo(), &["checkout", "-q", "-b", "feature"]);
    commit_as(env, &env.repo(), USER, "2026-03-01T10:00:00Z");
    push(env, &["-u", "origin", "feature"], "2026-03-01T11:00:00Z");
}

#[test]
fn the_timeline_reaches_production_through_a_push_and_a_merge_commit() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    env.run(["up"]).success();
    commit_and_push_a_branch(&env);
    let o = onboarding(&env);
    assert_eq!(o["first_commit_at"], "2026-03-01T10:00:00Z", "{o:#}");
    assert_eq!(o["first_push_at"], "2026-03-01T11:00:00Z", "{o:#}");
    assert_eq!(o["time_to_first_push_seconds"], 7200.0);
    assert!(o["first_merged_at"].is_null(), "{o:#}");
    assert!(o["time_to_production_seconds"].is_null());

    merge_on_origin(&env, "feature", Merge::Commit, "2026-03-02T09:00:00Z");
    // Merged upstream, but this clone has not fetched: nothing to see yet.
    assert!(onboarding(&env)["first_merged_at"].is_null());

    fetch(&env, "2026-03-02T10:00:00Z");
    // Any command after the fetch sees it, not only `up` or `metrics`.
    env.run(["env", "--shell", "json"]).success();
    let cached = timeline_file(&env);
    // A merge commit keeps the hire's commit, with its own commit time.
    assert_eq!(
        cached["first_merged_at"], "2026-03-01T10:00:00Z",
        "{cached:#}"
    );
    let o = onboarding(&env);
    assert_eq!(o["time_to_production_seconds"], 3600.0, "{o:#}");
}

#[test]
fn a_squash_merge_puts_the_hire_in_production_when_it_lands() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    commit_and_push_a_branch(&env);
    merge_on_origin(&env, "feature", Merge::Squash, "2026-03-03T09:00:00Z");
    fetch(&env, "2026-03-03T10:00:00Z");
    let o = onboarding(&env);
    assert_eq!(o["first_merged_at"], "2026-03-03T09:00:00Z", "{o:#}");
    assert_eq!(o["time_to_production_seconds"], 2.0 * 86400.0);
    // The hire's own first commit is still the one on their branch.
    assert_eq!(o["time_to_first_commit_seconds"], 3600.0);
}

#[test]
fn pushing_straight_to_main_is_production_at_once() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    commit_as(&env, &env.repo(), USER, "2026-03-01T12:00:00Z");
    push(&env, &["origin", "main"], "2026-03-01T12:30:00Z");
    let o = onboarding(&env);
    assert_eq!(o["first_push_at"], "2026-03-01T12:30:00Z", "{o:#}");
    assert_eq!(o["first_merged_at"], "2026-03-01T12:00:00Z", "{o:#}");
}

#[test]
fn others_commits_on_main_are_not_the_hires_production() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    commit_and_push_a_branch(&env);
    // The team lands something else; the hire's branch is still open.
    let root = env.repo().parent().unwrap().to_path_buf();
    let theirs = root.join("colleague");
    env.git(
        &root,
        &["clone", "-q", origin(&env).to_str().unwrap(), "colleague"],
    );
    commit_as(&env, &theirs, "boss@corp.io", "2026-03-02T09:00:00Z");
    env.git(&theirs, &["push", "-q", "origin", "main"]);
    fetch(&env, "2026-03-02T10:00:00Z");
    assert!(onboarding(&env)["first_merged_at"].is_null());
}

#[test]
fn a_push_the_remote_refused_is_not_a_push() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    let refuse = origin(&env).join("hooks/pre-receive");
    std::fs::write(&refuse, "#!/bin/sh\necho 'protected' >&2\nexit 1\n").unwrap();
    make_executable(&refuse);
    commit_as(&env, &env.repo(), USER, "2026-03-01T10:00:00Z");
    let vars = as_hire("2026-03-01T11:00:00Z");
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert!(!env.git_may_fail(&env.repo(), &["push", "-q", "origin", "main"], &vars));
    let o = onboarding(&env);
    assert!(o["first_push_at"].is_null(), "{o:#}");
    assert!(o["first_merged_at"].is_null(), "{o:#}");
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// How long the hooks' background devenv may take.
const HOOK: Duration = Duration::from_secs(60);

#[test]
fn the_pre_push_hook_records_the_first_push_with_no_devenv_command_after_it() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    env.run(["metrics", "--install-hook"])
        .success()
        .stderr_has("installed the post-commit hook")
        .stderr_has("installed the pre-push hook");
    env.git(&env.repo(), &["checkout", "-q", "-b", "feature"]);
    commit_as(&env, &env.repo(), USER, "2026-03-01T10:00:00Z");
    // The post-commit hook's devenv is done before the push, so only the
    // pre-push hook's can see it.
    wait_until(HOOK, "the post-commit hook to record the commit", || {
        timeline_file(&env)["first_commit_at"].is_string()
    });
    assert!(timeline_file(&env)["first_push_at"].is_null());
    push(&env, &["-u", "origin", "feature"], "2026-03-01T11:00:00Z");
    let pushed = wait_for(HOOK, "the pre-push hook to record the push", || {
        timeline_file(&env)["first_push_at"]
            .as_str()
            .map(str::to_string)
    });
    assert_eq!(pushed, "2026-03-01T11:00:00Z");
}

#[test]
fn an_existing_pre_push_hook_still_runs_first_and_still_decides_the_push() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    let hooks = env.repo().join(".git/hooks");
    let marker = env.repo().join(".git/own-pre-push-ran");
    // The user's own hook reads what git gives it on stdin, and refuses.
    let own = hooks.join("pre-push");
    std::fs::write(
        &own,
        format!("#!/bin/sh\ncat > '{}'\nexit 1\n", marker.display()),
    )
    .unwrap();
    make_executable(&own);
    env.run(["metrics", "--install-hook"])
        .success()
        .stderr_has("pre-push.pre-devenv");
    commit_as(&env, &env.repo(), USER, "2026-03-01T10:00:00Z");
    let vars = as_hire("2026-03-01T11:00:00Z");
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let pushed = env.git_may_fail(&env.repo(), &["push", "-q", "origin", "main"], &vars);
    assert!(
        !pushed,
        "the user's hook refused the push; ours must not overrule it"
    );
    let seen = std::fs::read_to_string(&marker).expect("the user's hook ran");
    assert!(
        seen.contains("refs/heads/main"),
        "it got git's refs on stdin: {seen:?}"
    );
    assert!(onboarding(&env)["first_push_at"].is_null());
}

/// A `git` first on PATH that logs every call devenv makes, then runs the
/// real one.
struct GitLog {
    _dir: tempfile::TempDir,
    log: PathBuf,
    path: String,
}

impl GitLog {
    fn new() -> GitLog {
        let path = std::env::var("PATH").unwrap();
        let real = path
            .split(':')
            .map(|d| Path::new(d).join("git"))
            .find(|p| p.is_file())
            .expect("git on PATH");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.log");
        let shim = dir.path().join("git");
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .unwrap();
        make_executable(&shim);
        let path = format!("{}:{path}", dir.path().display());
        GitLog {
            _dir: dir,
            log,
            path,
        }
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The git calls `devenv ARGS` made.
    fn during(&self, env: &TestEnv, args: &[&str]) -> Vec<String> {
        let before = self.lines().len();
        env.run(args).success();
        self.lines()[before..].to_vec()
    }
}

#[test]
fn a_run_asks_git_at_most_once_while_a_step_is_unknown_and_never_once_all_are_known() {
    let git = GitLog::new();
    let env = cloned_env(MANIFEST, CLONED, &[]).env("PATH", &git.path);
    let mut calls = Vec::new();
    let mut up = |when: &str| {
        let c = git.during(&env, &["up"]);
        assert!(c.len() <= 1, "{when}: {c:#?}");
        calls.push((when.to_string(), c.len()));
    };
    up("fresh clone");
    up("nothing changed");
    env.git(&env.repo(), &["checkout", "-q", "-b", "feature"]);
    commit_as(&env, &env.repo(), USER, "2026-03-01T10:00:00Z");
    up("after the first commit");
    push(&env, &["-u", "origin", "feature"], "2026-03-01T11:00:00Z");
    up("after the push");
    merge_on_origin(&env, "feature", Merge::Squash, "2026-03-02T09:00:00Z");
    fetch(&env, "2026-03-02T10:00:00Z");
    up("after the merge was fetched");
    up("every step known");
    up("every step known, again");
    let o = onboarding(&env);
    for step in ["first_commit_at", "first_push_at", "first_merged_at"] {
        assert!(o[step].is_string(), "{step} in {o:#}");
    }
    // What each run cost: the email once, the history once per change.
    let counts: Vec<usize> = calls.iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, [1, 0, 1, 0, 1, 0, 0], "{calls:#?}");
}

fn ci_env(manifest: &str) -> TestEnv {
    cloned_env(manifest, CLONED, &[])
        .env("CI", "true")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_JOB", "test")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
}

#[test]
fn ci_runs_are_their_own_kind_and_leave_the_timeline_alone() {
    let rx = receiver();
    let env = ci_env(&format!(
        "[project]\nname = \"prod\"\n[metrics]\nendpoint = \"{}\"\nformat = \"webhook\"\n",
        rx.base()
    ));
    commit_as(&env, &env.repo(), USER, "2026-03-01T10:00:00Z");
    env.run(["up"]).success();
    let lines = journal_lines(&env);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "ci");
    assert_eq!(lines[0]["ci"]["provider"], "github-actions");
    assert_eq!(lines[0]["ci"]["pipeline"], "4242");
    assert_eq!(lines[0]["ci"]["job"], "test");
    assert_eq!(
        lines[0]["ci"]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    // Nobody's onboarding: not the clone, not the commit, not ready.
    let doc = env.run(["metrics", "--json"]).success().json();
    assert_eq!(doc["runs"][0]["kind"], "ci");
    for (k, v) in doc["onboarding"].as_object().unwrap() {
        assert!(v.is_null(), "{k} = {v} in a CI job");
    }
    assert!(timeline_file(&env).as_object().unwrap().is_empty());
    // Sent (auto_report) with its job, without identity or onboarding.
    let sent = rx.accepted();
    assert_eq!(sent.len(), 1);
    let run = sent[0].json();
    assert_eq!(run["kind"], "ci");
    assert!(run["hire"].is_null(), "{run:#}");
    assert!(run["onboarding"].is_null(), "{run:#}");
    assert_eq!(run["ci"]["pipeline"], "4242");
    // `devenv config` says where the CI job came from.
    let config = env.run(["config", "--json"]).success().json();
    assert_eq!(config["settings"]["ci"]["origin"], "env");
    assert_eq!(config["settings"]["ci"]["source"], "$GITHUB_ACTIONS");
}

#[test]
fn up_ci_makes_a_laptop_run_a_ci_run() {
    let env = cloned_env(MANIFEST, CLONED, &[]);
    env.run(["up", "--ci"]).success();
    env.run(["up"]).success();
    let kinds: Vec<String> = journal_lines(&env)
        .iter()
        .map(|l| l["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["ci", "up"]);
    let o = onboarding(&env);
    // Only the laptop run counts for the onboarding.
    let runs = env.run(["metrics", "--json"]).success().json()["runs"].clone();
    assert_eq!(o["first_up_started_at"], runs[1]["started_at"], "{o:#}");
}

/// The CI machine runs this suite with CI=true: none of it may reach the
/// devenv a test runs, or every laptop test would be a CI run.
#[test]
fn the_suites_own_ci_variables_never_reach_the_devenv_under_test() {
    let env = TestEnv::new().manifest(MANIFEST);
    let config = env.run(["config", "--json"]).success().json();
    assert!(config["settings"]["ci"]["value"].is_null(), "{config:#}");
    assert_eq!(config["settings"]["ci"]["origin"], "default");
}

/// `devenv metrics` as the user sees it, exactly, with what depends on the
/// clock filtered: dates, run times and the bars drawn from run times. The
/// onboarding is dated so that its bars and durations are fixed: clone,
/// commit, push and production an hour apart, and the first ready `up`
/// (now) four hours after the clone.
#[test]
fn metrics_draws_the_timeline_as_a_bar_per_step_and_the_setup_runs_per_phase() {
    let hour = chrono::Duration::hours(1);
    let now = chrono::Utc::now();
    // The first `up` ends a few seconds from now: anything up to a minute
    // past four hours still reads "4h 00m".
    let clone = now - hour * 4;
    let date = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let env = cloned_env(MANIFEST, &date(clone), &[]);
    env.git(&env.repo(), &["checkout", "-q", "-b", "feature"]);
    commit_as(&env, &env.repo(), USER, &date(clone + hour));
    push(&env, &["-u", "origin", "feature"], &date(clone + hour * 2));
    merge_on_origin(&env, "feature", Merge::Squash, &date(clone + hour * 3));
    fetch(&env, &date(clone + hour * 3));
    env.run(["up"]).success();
    env.run(["up"]).success();
    let page = env.run(["metrics"]).success().stdout.clone();
    assert_eq!(filtered(&page), METRICS_PAGE, "\n{page}");
}

const METRICS_PAGE: &str = "\
Onboarding of this clone
  cloned      <time>
  ready       ████████████████████████████████    4h 00m  +4h 00m
  commit      ████████                            1h 00m  +1h 00m
  push                ████████                    1h 00m  +2h 00m
  production                  ████████            1h 00m  +3h 00m
  setup 4h 00m   first commit 1h 00m   first push 2h 00m   production 3h 00m

Last runs
  STARTED (UTC) KIND OUTCOME TIME FAILED STEP
  <time> up ok <dur>
  <time> up ok <dur>

Last up: ok in <dur>
  preflight <dur> <pct>
  tools <dur> <pct>
  mocks <dur> <pct>
  services <dur> <pct>
  config <dur> <pct>
  hooks <dur> <pct>
  processes <dur> <pct>

Setup runs: seconds per phase (last 2, oldest first; max <dur>)
  preflight <dur>
  tools <dur>
  mocks <dur>
  services <dur>
  config <dur>
  hooks <dur>
  processes <dur>
  total <dur> (own scale, max <dur>)
  outcome oo o ok x failed ! interrupted

Up time trend (last 2 successful)
  first <dur> median <dur> last <dur>
";

/// The page with the clock taken out. The onboarding keeps its layout (its
/// bars are the point); below it, bars and times come from real runs, so
/// times become placeholders, bars go, and the columns collapse to one space.
fn filtered(page: &str) -> String {
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d( UTC)?").unwrap();
    let dur = regex::Regex::new(r"\d+(\.\d+)? s\b|\d+m \d\ds|\d+h \d\dm|\d+d \d+h").unwrap();
    let bars = regex::Regex::new(r"[▁▂▃▄▅▆▇█▏▎▍▌▋▊▉·]+").unwrap();
    let pct = regex::Regex::new(r"\d+%").unwrap();
    let mut onboarding = true;
    let mut out = String::new();
    for line in page.lines() {
        if line.is_empty() {
            onboarding = false;
        }
        let mut l = time.replace_all(line, "<time>").to_string();
        if !onboarding {
            l = dur.replace_all(&l, "<dur>").to_string();
            // A phase of a no-op run may take no time and draw no bar at all.
            l = bars.replace_all(&l, "").to_string();
            l = pct.replace_all(&l, "<pct>").to_string();
            let indent = if line.starts_with(' ') { "  " } else { "" };
            l = format!(
                "{indent}{}",
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// A laptop clone later used by a CI job (or `up --ci`): the CI report
/// sends the CI run, and leaves the hire's runs and timeline for a report
/// that knows who the hire is.
#[test]
fn a_report_made_in_ci_sends_only_ci_runs() {
    let rx = receiver();
    let env = cloned_env(
        &format!(
            "[project]\nname = \"prod\"\n[metrics]\nendpoint = \"{}\"\nformat = \"webhook\"\nauto_report = false\n",
            rx.base()
        ),
        CLONED,
        &[],
    );
    env.run(["up"]).success();
    env.run(["up", "--ci"]).success();
    let in_ci = env.command(["report"]).env("CI", "true").output().unwrap();
    assert!(
        in_ci.status.success(),
        "{}",
        String::from_utf8_lossy(&in_ci.stderr)
    );
    let sent: Vec<serde_json::Value> = rx.accepted().iter().map(|r| r.json()).collect();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0]["kind"], "ci");
    // Back on the laptop, the hire's run goes, with the hire and the timeline.
    env.run(["report"]).success().stderr_has("sent 1 run");
    let laptop = rx.accepted()[1].json();
    assert_eq!(laptop["kind"], "up");
    assert!(laptop["hire"].is_string(), "{laptop:#}");
    assert!(laptop["onboarding"]["cloned_at"].is_string(), "{laptop:#}");
}
