//! Helpers shared by the metrics tests (included with `#[path]`): real git
//! clones with commits at controlled times, and a small HTTP receiver.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;

pub use common::*;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

pub const USER: &str = "a.nn+dev@x.io";

/// Runs git with an isolated HOME and no system config; panics on failure.
pub fn git(env: &TestEnv, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", env.home())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("DEVENV_HOME", env.devenv_home())
        .env("NO_COLOR", "1")
        .env_remove("DEVENV_NO_METRICS")
        .env_remove("DO_NOT_TRACK")
        .envs(vars.iter().copied())
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?} failed\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Commits a new file in `dir` as `email`, authored and committed at `date`.
pub fn commit_as(env: &TestEnv, dir: &Path, email: &str, date: &str) {
    let n = std::fs::read_dir(dir).unwrap().count();
    std::fs::write(
        dir.join(format!("file-{n}.txt")),
        format!("{email} {date}\n"),
    )
    .unwrap();
    git(env, dir, &["add", "-A"], &[]);
    git(
        env,
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
    git(
        &env,
        &root,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            origin.to_str().unwrap(),
        ],
        &[],
    );
    git(&env, &seed, &["init", "-q", "-b", "main"], &[]);
    std::fs::write(seed.join("devenv.toml"), manifest).unwrap();
    commit_as(&env, &seed, "lead@corp.io", "2026-01-01T00:00:00Z");
    for (email, date) in history {
        commit_as(&env, &seed, email, date);
    }
    git(
        &env,
        &seed,
        &["push", "-q", origin.to_str().unwrap(), "main"],
        &[],
    );
    std::fs::remove_dir_all(env.repo()).unwrap();
    git(
        &env,
        &root,
        &["clone", "-q", origin.to_str().unwrap(), "repo"],
        &[("GIT_COMMITTER_DATE", clone_date)],
    );
    git(&env, &env.repo(), &["config", "user.email", USER], &[]);
    git(&env, &env.repo(), &["config", "user.name", "Ann New"], &[]);
    env
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

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// A tiny HTTP/1.1 receiver: records every request and answers with the
/// next status from `statuses` (200 once they run out).
pub struct Receiver {
    pub port: u16,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub statuses: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        Self::on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// On a given port (to come up where an endpoint was unreachable).
    pub fn start_on(port: u16) -> Receiver {
        Self::on(TcpListener::bind(("127.0.0.1", port)).unwrap())
    }

    fn on(listener: TcpListener) -> Receiver {
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let (g, s) = (got.clone(), statuses.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let status = {
                    let mut s = s.lock().unwrap();
                    if s.is_empty() {
                        200
                    } else {
                        s.remove(0)
                    }
                };
                if let Some(r) = handle(stream, status) {
                    if status < 300 {
                        g.lock().unwrap().push(r);
                    }
                }
            }
        });
        Receiver {
            port,
            got,
            statuses,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn handle(stream: TcpStream, status: u16) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    let mut w = stream;
    let _ = write!(
        w,
        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
    Some(Received {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}

/// A listener that accepts connections and never answers.
pub fn blackhole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

pub fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).to_string()
}
