//! Helpers shared by the metrics tests (included with `#[path]`): real git
//! clones with commits at controlled times, and HTTP receivers.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;

pub use common::*;

use std::path::{Path, PathBuf};

pub const USER: &str = "a.nn+dev@x.io";

/// Commits a new file in `dir` as `email`, authored and committed at `date`.
pub fn commit_as(env: &TestEnv, dir: &Path, email: &str, date: &str) {
    let n = std::fs::read_dir(dir).unwrap().count();
    std::fs::write(
        dir.join(format!("file-{n}.txt")),
        format!("{email} {date}\n"),
    )
    .unwrap();
    env.git(dir, &["add", "-A"]);
    env.git_with(
        dir,
        &["commit", "-q", "-m", &format!("change by {email}")],
        &[
            ("GIT_AUTHOR_NAME", "Someone"),
            ("GIT_AUTHOR_EMAIL", email),
            ("GIT_AUTHOR_DATE", date),
            ("GIT_COMMITTER_NAME", "Someone"),
            ("GIT_COMMITTER_EMAIL", email),
            ("GIT_COMMITTER_DATE", date),
        ],
    );
}

/// A TestEnv whose repository is a real `git clone` of a local bare repo,
/// cloned at `clone_date` (the reflog entry takes the committer date).
/// `history` is committed upstream before the clone: (email, date).
pub fn cloned_env(manifest: &str, clone_date: &str, history: &[(&str, &str)]) -> TestEnv {
    let env = TestEnv::new();
    let root = env.repo().parent().unwrap().to_path_buf();
    let seed = root.join("seed");
    let origin = root.join("origin.git");
    std::fs::create_dir_all(&seed).unwrap();
    env.git(
        &root,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            origin.to_str().unwrap(),
        ],
    );
    env.git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("devenv.toml"), manifest).unwrap();
    commit_as(&env, &seed, "lead@corp.io", "2026-01-01T00:00:00Z");
    for (email, date) in history {
        commit_as(&env, &seed, email, date);
    }
    env.git(&seed, &["push", "-q", origin.to_str().unwrap(), "main"]);
    std::fs::remove_dir_all(env.repo()).unwrap();
    env.git_with(
        &root,
        &["clone", "-q", origin.to_str().unwrap(), "repo"],
        &[("GIT_COMMITTER_DATE", clone_date)],
    );
    env.git(&env.repo(), &["config", "user.email", USER]);
    env.git(&env.repo(), &["config", "user.name", "Ann New"]);
    env
}

/// The bare repository `cloned_env` cloned from: the team's origin.
pub fn origin(env: &TestEnv) -> PathBuf {
    env.repo().parent().unwrap().join("origin.git")
}

/// The hire's identity for git commands that write reflog entries, dated
/// `date` (git dates reflog entries with the committer date).
pub fn as_hire(date: &str) -> [(&'static str, String); 3] {
    [
        ("GIT_COMMITTER_NAME", "Ann New".to_string()),
        ("GIT_COMMITTER_EMAIL", USER.to_string()),
        ("GIT_COMMITTER_DATE", date.to_string()),
    ]
}

pub fn vars<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `git push ARGS` from the hire's clone at `date`.
pub fn push(env: &TestEnv, args: &[&str], date: &str) {
    let mut all = vec!["push", "-q"];
    all.extend_from_slice(args);
    env.git_with(&env.repo(), &all, &vars(&as_hire(date)));
}

/// `git fetch` in the hire's clone at `date`.
pub fn fetch(env: &TestEnv, date: &str) {
    env.git_with(
        &env.repo(),
        &["fetch", "-q", "origin"],
        &vars(&as_hire(date)),
    );
}

/// How the team lands a hire's branch on main.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// `git merge --no-ff`: the hire's commits keep their own commit times.
    Commit,
    /// A squash merge, as a forge does it: one new commit authored by the
    /// hire, committed by the maintainer when it lands.
    Squash,
}

/// A maintainer lands `branch` on origin's main at `date`, from their own clone.
pub fn merge_on_origin(env: &TestEnv, branch: &str, how: Merge, date: &str) {
    let root = env.repo().parent().unwrap().to_path_buf();
    let maint = root.join("maintainer");
    let by = [
        ("GIT_AUTHOR_NAME", "Lead"),
        ("GIT_AUTHOR_EMAIL", "lead@corp.io"),
        ("GIT_COMMITTER_NAME", "Lead"),
        ("GIT_COMMITTER_EMAIL", "lead@corp.io"),
        ("GIT_AUTHOR_DATE", date),
        ("GIT_COMMITTER_DATE", date),
    ];
    if !maint.exists() {
        env.git(
            &root,
            &["clone", "-q", origin(env).to_str().unwrap(), "maintainer"],
        );
    }
    env.git(&maint, &["fetch", "-q", "origin"]);
    env.git(&maint, &["reset", "-q", "--hard", "origin/main"]);
    let theirs = format!("origin/{branch}");
    match how {
        Merge::Commit => {
            env.git_with(
                &maint,
                &["merge", "-q", "--no-ff", "-m", "merge", &theirs],
                &by,
            );
        }
        Merge::Squash => {
            env.git_with(&maint, &["merge", "-q", "--squash", &theirs], &by);
            // Authored by the hire, as a forge does: whoever their clone says they are.
            let email = env.git(&env.repo(), &["config", "user.email"]);
            let author = format!("Ann New <{}>", email.trim());
            env.git_with(
                &maint,
                &["commit", "-q", "-m", "squashed", "--author", &author],
                &by,
            );
        }
    }
    env.git(&maint, &["push", "-q", "origin", "main"]);
}

/// The cached timeline as the last devenv command left it, read without
/// running devenv (which would refresh it).
pub fn timeline_file(env: &TestEnv) -> serde_json::Value {
    let text = spool_dir(env)
        .and_then(|d| std::fs::read_to_string(d.join("timeline.json")).ok())
        .unwrap_or_else(|| "{}".into());
    serde_json::from_str(&text).unwrap()
}

/// The clone's spool directory (one per clone), once something was recorded.
pub fn spool_dir(env: &TestEnv) -> Option<PathBuf> {
    let spool = env.devenv_home().join("spool");
    let project = std::fs::read_dir(&spool).ok()?.flatten().next()?.path();
    Some(std::fs::read_dir(project).ok()?.flatten().next()?.path())
}

pub fn journal_lines(env: &TestEnv) -> Vec<serde_json::Value> {
    let Some(dir) = spool_dir(env) else {
        return Vec::new();
    };
    std::fs::read_to_string(dir.join("runs.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line is JSON"))
        .collect()
}

/// A unique project name for tests that share the Pushgateway.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A webhook or OTLP receiver: answers 200 to every request (or the
/// statuses queued with `answer_next`) and records it; `accepted()` are
/// the ones it took.
pub fn receiver() -> Server {
    answer_ok(Server::start())
}

/// A receiver on a given port (to come up where an endpoint was unreachable).
pub fn receiver_on(port: u16) -> Server {
    answer_ok(Server::on_port(port))
}

fn answer_ok(server: Server) -> Server {
    server.respond_with(|_| Response::new(200, "ok"));
    server
}

/// A listener that accepts connections and never answers.
pub fn blackhole() -> Server {
    let server = Server::start();
    server.fault_everywhere(Fault::Hang);
    server
}
