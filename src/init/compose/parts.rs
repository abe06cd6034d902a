//! Small pieces the conversion shares: durations, image references and
//! the presets they map to, repository paths, `.gitignore`.

/// `./x` relative to a directory, as a repository path; `None` when it
/// leaves the repository.
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
