//! The pieces of a compose service that have several syntaxes: ports,
//! volumes, healthchecks, durations and image references.

use serde_yaml_ng::Value;

use super::scalar;
use crate::init::ReadyDraft;

/// A port entry: a devenv port spec, plus anything about it that could not be kept.
pub(super) struct Port {
    pub spec: Option<String>,
    pub problem: Option<String>,
}

pub(super) fn port(v: &Value) -> Port {
    match v {
        Value::Mapping(m) => {
            let get = |k: &str| m.get(k).and_then(scalar);
            let Some(target) = get("target") else {
                return Port::bad("a long-syntax port without `target`");
            };
            long_port(
                &target,
                get("published").as_deref(),
                get("host_ip").as_deref(),
                get("protocol").as_deref(),
            )
        }
        other => match scalar(other) {
            Some(s) => short_port(&s),
            None => Port::bad("not a port"),
        },
    }
}

impl Port {
    fn bad(why: &str) -> Port {
        Port {
            spec: None,
            problem: Some(why.to_string()),
        }
    }
}

fn short_port(s: &str) -> Port {
    let (body, proto) = match s.rsplit_once('/') {
        Some((b, p)) => (b, Some(p)),
        None => (s, None),
    };
    // An IPv6 binding is bracketed: [::1]:8080:80.
    let (ip, rest) = if let Some(r) = body.strip_prefix('[') {
        match r.split_once("]:") {
            Some((ip, rest)) => (Some(ip), rest),
            None => return Port::bad("not a port mapping"),
        }
    } else {
        let parts: Vec<&str> = body.split(':').collect();
        if parts.len() == 3 {
            (Some(parts[0]), &body[parts[0].len() + 1..])
        } else {
            (None, body)
        }
    };
    let (published, target) = match rest.split_once(':') {
        Some((h, c)) => (Some(h), c),
        None => (None, rest),
    };
    long_port(target, published, ip, proto)
}

fn long_port(target: &str, published: Option<&str>, ip: Option<&str>, proto: Option<&str>) -> Port {
    if target.contains('-') || published.is_some_and(|p| p.contains('-')) {
        return Port::bad("a port range; devenv publishes single ports: list each port you need");
    }
    let suffix = match proto {
        None | Some("tcp") => "",
        Some("udp") => "/udp",
        Some(p) => {
            return Port::bad(&format!(
                "protocol `{p}` is not supported; devenv publishes tcp and udp"
            ))
        }
    };
    let valid = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    if !valid(target) || published.is_some_and(|p| !p.is_empty() && !valid(p)) {
        return Port::bad("not a port number (an unresolved variable?)");
    }
    let spec = match published.filter(|p| !p.is_empty()) {
        // Compose publishes a bare container port on a random host port.
        None => format!("auto:{target}{suffix}"),
        Some(h) if h == target => format!("{target}{suffix}"),
        Some(h) => format!("{h}:{target}{suffix}"),
    };
    let problem = match ip {
        None | Some("" | "127.0.0.1" | "0.0.0.0") => None,
        Some(other) => Some(format!(
            "bound to {other}; devenv publishes on 127.0.0.1 (converted as `{spec}`; set `bind` on the service to change that)"
        )),
    };
    Port {
        spec: Some(spec),
        problem,
    }
}

/// A volume entry, classified.
pub(super) enum Volume {
    Named {
        name: String,
        target: String,
        read_only: bool,
    },
    /// A host path as written, relative to the compose file, and where it goes.
    Bind {
        source: String,
        target: String,
        read_only: bool,
    },
    Other(String),
}

pub(super) fn volume(v: &Value) -> Volume {
    match v {
        Value::Mapping(m) => {
            let get = |k: &str| m.get(k).and_then(scalar);
            let ro = m.get("read_only").and_then(Value::as_bool).unwrap_or(false);
            let target = get("target").unwrap_or_default();
            let source = get("source");
            match (get("type").as_deref(), source) {
                (Some("volume"), Some(s)) => Volume::Named {
                    name: s,
                    target,
                    read_only: ro,
                },
                (Some("volume"), None) => anonymous(&target),
                (Some("bind"), Some(s)) => Volume::Bind {
                    source: s,
                    target,
                    read_only: ro,
                },
                (Some("tmpfs"), _) => {
                    Volume::Other("a tmpfs mount; devenv does not mount tmpfs".into())
                }
                (Some(t), _) => Volume::Other(format!("a `{t}` mount is not supported")),
                (None, _) => Volume::Other("a long-syntax volume without `type`".into()),
            }
        }
        other => {
            let Some(s) = scalar(other) else {
                return Volume::Other("not a volume".into());
            };
            let parts: Vec<&str> = s.split(':').collect();
            let (source, target, mode) = match parts.as_slice() {
                [t] => return anonymous(t),
                [s, t] => (*s, *t, ""),
                [s, t, m] => (*s, *t, *m),
                _ => return Volume::Other("not a volume spec".into()),
            };
            let read_only = mode.split(',').any(|m| m == "ro");
            if source.starts_with('/') || source.starts_with('.') || source.starts_with('~') {
                Volume::Bind {
                    source: source.into(),
                    target: target.into(),
                    read_only,
                }
            } else {
                Volume::Named {
                    name: source.into(),
                    target: target.into(),
                    read_only,
                }
            }
        }
    }
}

fn anonymous(target: &str) -> Volume {
    Volume::Other(format!(
        "an anonymous volume at {target}; devenv keeps data only in named volumes: add `volumes = {{ data = \"{target}\" }}` if it must persist"
    ))
}

/// `./x` relative to the compose file's directory, as a repository path;
/// `None` when it leaves the repository.
pub(super) fn repo_path(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for p in dir.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if p == ".." {
            // The compose file is outside the repository.
            return None;
        }
        parts.push(p);
    }
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// What a healthcheck says about readiness.
pub(super) enum Health {
    Ready(ReadyDraft),
    Disabled,
    Invalid(String),
}

pub(super) fn healthcheck(v: &Value) -> Health {
    let Some(m) = v.as_mapping() else {
        return Health::Invalid("not a mapping".into());
    };
    if m.get("disable").and_then(Value::as_bool) == Some(true) {
        return Health::Disabled;
    }
    let exec = match m.get("test") {
        Some(Value::String(s)) => vec!["sh".into(), "-c".into(), s.clone()],
        Some(Value::Sequence(seq)) => {
            let words: Vec<String> = seq.iter().filter_map(scalar).collect();
            match words.split_first() {
                Some((first, rest)) if first == "NONE" => {
                    let _ = rest;
                    return Health::Disabled;
                }
                Some((first, rest)) if first == "CMD" && !rest.is_empty() => rest.to_vec(),
                Some((first, rest)) if first == "CMD-SHELL" && !rest.is_empty() => {
                    vec!["sh".into(), "-c".into(), rest.join(" ")]
                }
                _ => {
                    return Health::Invalid("`test` must start with CMD, CMD-SHELL or NONE".into())
                }
            }
        }
        _ => return Health::Invalid("no `test` command".into()),
    };
    let secs = |k: &str| m.get(k).and_then(scalar).and_then(|s| duration_secs(&s));
    let given = ["interval", "retries", "start_period"]
        .iter()
        .any(|k| m.contains_key(*k));
    let timeout_secs = given
        .then(|| {
            let interval = secs("interval").unwrap_or(30.0);
            let retries = m.get("retries").and_then(Value::as_u64).unwrap_or(3) as f64;
            let total = secs("start_period").unwrap_or(0.0) + interval * retries;
            total.ceil() as u64
        })
        // devenv waits 60 s by default; only say more when compose allowed more.
        .filter(|t| *t > 60);
    Health::Ready(ReadyDraft { exec, timeout_secs })
}

/// Compose durations: `1m30s`, `10s`, `500ms`, `1h`, or a bare number of seconds.
pub(super) fn duration_secs(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'h' => 3600.0,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0.001
            }
            'm' => 60.0,
            's' => 1.0,
            'u' | 'µ' => {
                chars.next();
                0.000_001
            }
            _ => return None,
        };
        total += n * unit;
    }
    num.is_empty().then_some(total)
}

/// An image reference split for stack matching: the Docker Hub repository
/// (`postgres`, `bitnami/kafka`) and the tag; `None` for other registries
/// and digests.
pub(super) fn hub_image(image: &str) -> Option<(String, Option<String>)> {
    if image.contains('@') {
        return None;
    }
    let mut rest = image;
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
        }
    }
    let first = rest.split('/').next().unwrap_or("");
    if rest.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost") {
        return None;
    }
    let rest = rest.strip_prefix("library/").unwrap_or(rest);
    let (repo, tag) = match rest.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
        _ => (rest, None),
    };
    Some((repo.to_string(), tag.filter(|t| !t.is_empty())))
}

/// What the official image does when the compose file leaves a variable the
/// preset sets unset: its documented default, or "" where unset means "off"
/// (and the preset's value would turn something on, like mongo's auth).
pub(super) fn image_default(
    stack: &str,
    key: &str,
    env: &std::collections::BTreeMap<String, String>,
) -> Option<String> {
    let set = |k: &str| env.get(k).is_some_and(|v| !v.is_empty());
    Some(match (stack, key) {
        ("postgres", "POSTGRES_USER") => "postgres".into(),
        ("postgres", "POSTGRES_DB") => env
            .get("POSTGRES_USER")
            .cloned()
            .unwrap_or_else(|| "postgres".into()),
        ("mysql", "MYSQL_ROOT_PASSWORD")
            if set("MYSQL_ALLOW_EMPTY_PASSWORD") || set("MYSQL_RANDOM_ROOT_PASSWORD") =>
        {
            String::new()
        }
        ("mongodb", "MONGO_INITDB_ROOT_USERNAME" | "MONGO_INITDB_ROOT_PASSWORD") => String::new(),
        ("rabbitmq", "RABBITMQ_DEFAULT_USER" | "RABBITMQ_DEFAULT_PASS") => "guest".into(),
        ("minio", "MINIO_ROOT_USER" | "MINIO_ROOT_PASSWORD") => "minioadmin".into(),
        _ => return None,
    })
}

/// The built-in stack a Docker Hub repository maps to.
pub(super) fn stack_for(repo: &str) -> Option<&'static str> {
    Some(match repo {
        "postgres" => "postgres",
        "mysql" => "mysql",
        "redis" => "redis",
        "mongo" => "mongodb",
        "rabbitmq" => "rabbitmq",
        "apache/kafka" | "bitnami/kafka" | "confluentinc/cp-kafka" => "kafka",
        "localstack/localstack" => "localstack",
        "minio/minio" => "minio",
        "opensearchproject/opensearch" => "opensearch",
        "axllent/mailpit" => "mailpit",
        _ => return None,
    })
}

/// Whether the repository's root `.gitignore` ignores this path: plain
/// names and `*` globs, matched against the whole path or its file name.
pub(super) fn git_ignored(repo: &dyn crate::init::RepoView, rel: &str) -> bool {
    let Some(text) = repo.read(".gitignore") else {
        return false;
    };
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let mut ignored = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negated, pat) = match line.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, line),
        };
        let anchored = pat.starts_with('/');
        let pat = pat.trim_start_matches('/').trim_end_matches('/');
        let hit = glob(pat, rel) || (!anchored && !pat.contains('/') && glob(pat, name));
        if hit {
            ignored = !negated;
        }
    }
    ignored
}

/// `*` matches any run of characters except `/`; `?` one character.
fn glob(pat: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && t[0] != b'/' && go(p, &t[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pat.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(s: &str) -> (Option<String>, Option<String>) {
        let p = short_port(s);
        (p.spec, p.problem)
    }

    #[test]
    fn short_port_syntax() {
        assert_eq!(short("5432:5432").0.as_deref(), Some("5432"));
        assert_eq!(short("15432:5432").0.as_deref(), Some("15432:5432"));
        assert_eq!(short("3000").0.as_deref(), Some("auto:3000"));
        assert_eq!(short("127.0.0.1:8080:80").0.as_deref(), Some("8080:80"));
        assert_eq!(short("127.0.0.1::80").0.as_deref(), Some("auto:80"));
        assert_eq!(short("53:53/udp").0.as_deref(), Some("53/udp"));
        let (spec, problem) = short("192.168.1.5:8080:80");
        assert_eq!(spec.as_deref(), Some("8080:80"));
        assert!(problem.unwrap().contains("192.168.1.5"));
        assert!(short("[::1]:8080:80").1.unwrap().contains("::1"));
        assert!(short("9000-9001:9000-9001").0.is_none());
        assert!(short("3000-3005").1.unwrap().contains("range"));
    }

    #[test]
    fn long_port_syntax() {
        let v: Value =
            serde_yaml_ng::from_str("{target: 80, published: \"8080\", protocol: tcp, mode: host}")
                .unwrap();
        assert_eq!(port(&v).spec.as_deref(), Some("8080:80"));
        let v: Value = serde_yaml_ng::from_str("{target: 80}").unwrap();
        assert_eq!(port(&v).spec.as_deref(), Some("auto:80"));
    }

    #[test]
    fn gitignore_globs() {
        assert!(glob(".env", ".env"));
        assert!(glob(".env*", ".env.local"));
        assert!(glob("*.env", "app.env"));
        assert!(!glob("*.env", "config/app.env"));
        assert!(!glob(".env", ".env.example"));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_secs("1m30s"), Some(90.0));
        assert_eq!(duration_secs("500ms"), Some(0.5));
        assert_eq!(duration_secs("2h"), Some(7200.0));
        assert_eq!(duration_secs("x"), None);
    }

    #[test]
    fn images_and_stacks() {
        assert_eq!(
            hub_image("postgres:16-alpine"),
            Some(("postgres".into(), Some("16-alpine".into())))
        );
        assert_eq!(
            hub_image("docker.io/library/redis"),
            Some(("redis".into(), None))
        );
        assert_eq!(hub_image("ghcr.io/org/postgres:16"), None);
        assert_eq!(hub_image("localhost:5000/x"), None);
        assert_eq!(hub_image("postgres@sha256:abc"), None);
        assert_eq!(stack_for("bitnami/kafka"), Some("kafka"));
        assert_eq!(stack_for("mariadb"), None);
    }

    #[test]
    fn repo_paths_stay_inside() {
        assert_eq!(
            repo_path("", "./db/init.sql").as_deref(),
            Some("db/init.sql")
        );
        assert_eq!(repo_path("deploy", "../src").as_deref(), Some("src"));
        assert_eq!(repo_path("", "."), Some(String::new()));
        assert_eq!(repo_path("", "../x"), None);
    }
}
