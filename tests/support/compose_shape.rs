//! One comparable shape per service, built from both sides of the
//! differential test: `docker compose config --format json` and the
//! devenv.toml `devenv init --from` wrote (resolved through its presets by
//! devenv's own manifest loader).
//!
//! What counts as equal, and why:
//! - images: `docker.io/`, `library/` and an implicit `:latest` are the
//!   same reference;
//! - ports: a host IP of none, 0.0.0.0 or 127.0.0.1 is devenv's default
//!   (the contract publishes on 127.0.0.1); a bare container port is
//!   `auto` on both sides;
//! - named volumes: compared by the container path they hold, because
//!   devenv names its volumes itself (`devenv_<project>_...`), so a name
//!   is only a handle; the conversion lists a renamed volume when another
//!   service shares it;
//! - readiness: a healthcheck's timeout by the one rule of
//!   `src/init/compose/health.rs`: start_period + retries x (interval +
//!   timeout), Docker's defaults filled in;
//! - `$$` in compose's output is its escape for `$`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

#[derive(Debug, Default, PartialEq, Eq, Clone)]
pub struct Shape {
    pub fields: BTreeMap<&'static str, String>,
    /// The environment again, by variable, so each difference is checked
    /// against the listing of that variable.
    pub env: BTreeMap<String, String>,
    /// The ports again, one `IP HOST:CONTAINER/PROTO` each, so each
    /// differing container port needs a listing of its own.
    pub ports: BTreeSet<String>,
}

/// The fields compared, each with the compose keys whose listing covers it.
pub const FIELDS: &[(&str, &[&str])] = &[
    ("image", &["image", "build"]),
    ("build", &["build"]),
    ("environment", &["environment", "env_file"]),
    ("ports", &["ports"]),
    ("volumes", &["volumes"]),
    ("command", &["command"]),
    ("entrypoint", &["entrypoint"]),
    ("depends_on", &["depends_on"]),
    ("ready", &["healthcheck"]),
    ("user", &["user"]),
    ("working_dir", &["working_dir"]),
    ("platform", &["platform"]),
];

fn unescape(s: &str) -> String {
    s.replace("$$", "$")
}

pub fn image(s: &str) -> String {
    let mut r = s.trim();
    for p in ["docker.io/", "index.docker.io/"] {
        r = r.strip_prefix(p).unwrap_or(r);
    }
    let r = if r.split('/').count() == 2 {
        r.strip_prefix("library/").unwrap_or(r)
    } else {
        r
    };
    let last = r.rsplit('/').next().unwrap_or(r);
    if r.contains('@') || last.contains(':') {
        r.to_string()
    } else {
        format!("{r}:latest")
    }
}

fn list(v: &Value) -> Option<String> {
    let items: Vec<String> = v
        .as_array()?
        .iter()
        .map(|x| unescape(x.as_str().unwrap_or(&x.to_string())))
        .collect();
    Some(format!("{items:?}"))
}

fn duration(s: Option<&str>, default: f64) -> f64 {
    let Some(s) = s else { return default };
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().unwrap_or(0.0);
        num.clear();
        total += n * match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            _ => 0.0,
        };
    }
    total
}

/// A JSON object of strings (`environment`, build `args`), unescaped;
/// absent is empty.
fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), unescape(v.as_str()?))))
                .collect()
        })
        .unwrap_or_default()
}

/// One service of `docker compose config --format json`.
pub fn from_compose(s: &Value, repo: &Path) -> Shape {
    let mut f = BTreeMap::new();
    let text = |k: &str| s.get(k).and_then(Value::as_str).map(unescape);
    if let Some(i) = text("image") {
        f.insert("image", image(&i));
    }
    if let Some(b) = s.get("build") {
        let ctx = b["context"].as_str().unwrap_or("");
        let ctx = Path::new(ctx)
            .strip_prefix(repo)
            .map(|p| p.display().to_string())
            .unwrap_or(ctx.into());
        let args = string_map(b.get("args"));
        let target = b.get("target").and_then(Value::as_str).unwrap_or("");
        let df = b
            .get("dockerfile")
            .and_then(Value::as_str)
            .unwrap_or("Dockerfile");
        f.insert("build", format!("{ctx:?} {df:?} {args:?} {target:?}"));
    }
    let env = string_map(s.get("environment"));
    f.insert("environment", format!("{env:?}"));
    let env_map = env;
    let mut ports = BTreeSet::new();
    for p in s
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let target = p["target"].as_u64().unwrap_or(0);
        let host = p
            .get("published")
            .and_then(Value::as_str)
            .map_or("auto".to_string(), str::to_string);
        let ip = match p.get("host_ip").and_then(Value::as_str) {
            None | Some("0.0.0.0" | "127.0.0.1") => "default",
            Some(other) => other,
        };
        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("tcp");
        ports.insert(format!("{ip} {host}:{target}/{proto}"));
    }
    f.insert("ports", format!("{ports:?}"));
    let port_set = ports;
    let mut vols = BTreeSet::new();
    for v in s
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let target = v["target"].as_str().unwrap_or("");
        let ro = v.get("read_only").and_then(Value::as_bool).unwrap_or(false);
        match v["type"].as_str() {
            Some("volume") if v.get("source").is_some() => {
                vols.insert(format!("volume {target} ro={ro}"))
            }
            Some("bind") => {
                let src = v["source"].as_str().unwrap_or("");
                let rel = Path::new(src)
                    .strip_prefix(repo)
                    .map(|p| format!("./{}", p.display()))
                    .unwrap_or(src.into());
                vols.insert(format!(
                    "bind {} {target} ro={ro}",
                    rel.trim_end_matches('/')
                ))
            }
            other => vols.insert(format!("{} {target}", other.unwrap_or("anonymous"))),
        };
    }
    f.insert("volumes", format!("{vols:?}"));
    for k in ["command", "entrypoint"] {
        if let Some(l) = s.get(k).and_then(list) {
            f.insert(
                if k == "command" {
                    "command"
                } else {
                    "entrypoint"
                },
                l,
            );
        }
    }
    let deps: BTreeSet<String> = s
        .get("depends_on")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    f.insert("depends_on", format!("{deps:?}"));
    if let Some(h) = s.get("healthcheck") {
        let test: Vec<String> = h["test"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(unescape))
            .collect();
        let disabled = h.get("disable").and_then(Value::as_bool) == Some(true)
            || test.first().map(String::as_str) == Some("NONE");
        if !disabled && !test.is_empty() {
            let exec = match test[0].as_str() {
                "CMD-SHELL" => vec!["sh".to_string(), "-c".to_string(), test[1..].join(" ")],
                _ => test[1..].to_vec(),
            };
            let d = |k: &str, def: f64| duration(h.get(k).and_then(Value::as_str), def);
            let retries = h.get("retries").and_then(Value::as_f64).unwrap_or(3.0);
            let secs = (d("start_period", 0.0)
                + retries * (d("interval", 30.0) + d("timeout", 30.0)))
            .ceil();
            f.insert("ready", format!("exec {exec:?} {secs}s"));
        }
    }
    for k in ["user", "working_dir", "platform"] {
        if let Some(v) = text(k).filter(|v| !v.is_empty()) {
            let key = match k {
                "user" => "user",
                "working_dir" => "working_dir",
                _ => "platform",
            };
            f.insert(key, v);
        }
    }
    Shape {
        fields: f,
        env: env_map,
        ports: port_set,
    }
}

/// One service of the devenv.toml, as devenv's manifest loader resolves it.
pub fn from_devenv(s: &devenv::manifest::Service, repo: &Path) -> Shape {
    use devenv::manifest::{HostPort, Probe, Protocol};
    let mut f = BTreeMap::new();
    if !s.image.is_empty() {
        f.insert("image", image(&s.image));
    }
    if let Some(b) = &s.build {
        let ctx = b
            .context
            .strip_prefix(repo)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let ctx = if ctx.is_empty() { String::new() } else { ctx };
        let target = b.target.clone().unwrap_or_default();
        f.insert(
            "build",
            format!("{ctx:?} {:?} {:?} {target:?}", b.dockerfile, b.args),
        );
    }
    f.insert("environment", format!("{:?}", s.env));
    let ip = if s.bind.is_loopback() || s.bind.is_unspecified() {
        "default".to_string()
    } else {
        s.bind.to_string()
    };
    let ports: BTreeSet<String> = s
        .ports
        .iter()
        .map(|p| {
            let host = match p.host {
                HostPort::Fixed(h) => h.to_string(),
                HostPort::Auto => "auto".into(),
            };
            let proto = if p.protocol == Protocol::Udp {
                "udp"
            } else {
                "tcp"
            };
            format!("{ip} {host}:{}/{proto}", p.container)
        })
        .collect();
    f.insert("ports", format!("{ports:?}"));
    let port_set = ports;
    let mut vols: BTreeSet<String> = s
        .volumes
        .values()
        .map(|t| format!("volume {t} ro=false"))
        .collect();
    for m in &s.mounts {
        let rel = m
            .source
            .strip_prefix(repo)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let rel = if rel.is_empty() {
            ".".to_string()
        } else {
            format!("./{rel}")
        };
        vols.insert(format!("bind {rel} {} ro={}", m.target, m.read_only));
    }
    f.insert("volumes", format!("{vols:?}"));
    if let Some(c) = &s.command {
        f.insert("command", format!("{c:?}"));
    }
    if let Some(c) = &s.entrypoint {
        f.insert("entrypoint", format!("{c:?}"));
    }
    let deps: BTreeSet<&String> = s.depends_on.iter().collect();
    f.insert("depends_on", format!("{deps:?}"));
    if let Some(r) = &s.ready {
        let probe = match &r.probe {
            Probe::Exec(e) => format!("exec {e:?}"),
            other => format!("{other:?}"),
        };
        f.insert("ready", format!("{probe} {}s", r.timeout.as_secs()));
    }
    for (k, v) in [
        ("user", &s.user),
        ("working_dir", &s.working_dir),
        ("platform", &s.platform),
    ] {
        if let Some(v) = v {
            f.insert(k, v.clone());
        }
    }
    Shape {
        fields: f,
        env: s.env.clone(),
        ports: port_set,
    }
}
