//! A private Pushgateway and Prometheus for one test, and Prometheus'
//! HTTP API: instant queries, and waiting until one answers what it must.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::expect::{Labels, Vector};
use super::support::*;

pub fn contrib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib")
}

/// A program the test needs, or a failure that says how to get it.
pub fn need(program: &str) -> PathBuf {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{program} is not installed: run tests/support/setup.sh \
                 (it installs Debian's prometheus and prometheus-pushgateway)"
            )
        })
}

/// A daemon of this test, killed when the test ends however it ends.
pub struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Daemon {
    fn start(mut cmd: Command, what: &str, ready: impl FnMut() -> bool) -> Daemon {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let mut d = Daemon(child);
        wait_until_alive(&mut d.0, Duration::from_secs(60), what, ready);
        d
    }

    #[track_caller]
    fn alive(&mut self, what: &str) {
        if let Some(status) = self.0.try_wait().unwrap() {
            panic!("{what} exited ({status})");
        }
    }
}

fn answers(url: &str) -> bool {
    http_get(url).0 == 200
}

pub fn pushgateway(port: u16) -> Daemon {
    let mut cmd = Command::new(need("prometheus-pushgateway"));
    cmd.arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let url = format!("http://127.0.0.1:{port}/metrics");
    Daemon::start(cmd, "the private Pushgateway to answer", || answers(&url))
}

/// Prometheus scraping the Pushgateway every second with contrib's rules,
/// evaluated every second, keeping its data in `dir`.
pub fn prometheus(dir: &Path, port: u16, pushgateway: u16) -> Daemon {
    let rules = contrib().join("prometheus/devenv-rules.yml");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    \
             static_configs:\n      - targets: ['127.0.0.1:{pushgateway}']\n",
            rules = rules.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(need("prometheus"));
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let url = format!("http://127.0.0.1:{port}/-/ready");
    Daemon::start(cmd, "the private Prometheus to be ready", || answers(&url))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query through `/api/v1/query`.
fn query(base: &str, expr: &str) -> Vector {
    let (status, _, body) = http_get(&format!(
        "{base}/api/v1/query?query={}",
        percent_encode(expr)
    ));
    assert_eq!(status, 200, "{expr}: {body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["status"], "success", "{expr}: {body}");
    doc["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels: Labels = s["metric"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let value: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
            (labels, value)
        })
        .collect()
}

fn same(a: &Vector, b: &Vector) -> bool {
    a.len() == b.len()
        && a.iter().all(|(l, v)| {
            b.get(l)
                .is_some_and(|w| (v - w).abs() <= 1e-9 * v.abs().max(w.abs()).max(1.0))
        })
}

/// The query answered `want` before the deadline; a wrong answer waits
/// (the scrape or the rule evaluation may not have happened yet).
pub fn evaluates_to(prom: &mut Daemon, base: &str, expr: &str, want: &Vector) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        prom.alive("the private Prometheus");
        let got = query(base, expr);
        if same(&got, want) {
            return;
        }
        if Instant::now() > deadline {
            panic!("{expr}\n  got:  {got:?}\n  want: {want:?}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
