//! The individual checks. Each returns a `Check`; none prints or exits.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Check;
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::services::engine::{Engine, EngineConfig};

/// What the checks look at, gathered by the command layer.
pub struct Inputs<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    pub engine: &'a EngineConfig,
    /// The registry images come from: the mirror, or Docker Hub.
    pub mirror: Option<String>,
    /// The user's PATH, for the activation check.
    pub path_var: String,
    /// Whether the manifest's code may run: an untrusted `[requires]` path
    /// is reported, not run.
    pub trusted: bool,
    pub now: DateTime<Utc>,
}

/// A clock more than a minute off breaks TLS, token expiry and timings.
pub fn clock_skew(local: DateTime<Utc>, other: DateTime<Utc>, against: &str) -> Check {
    let skew = (local - other).num_milliseconds().abs() as f64 / 1000.0;
    if skew <= 60.0 {
        Check::pass("clock", format!("within {skew:.1} s of {against}"))
    } else {
        Check::warn(
            "clock",
            format!("{skew:.0} s off from {against}"),
            "sync the system clock (e.g. `sudo timedatectl set-ntp true`); TLS and timings depend on it",
        )
    }
}

/// The registry images come from answers its /v2/ endpoint (200 or 401).
pub async fn registry(inputs: &Inputs<'_>) -> Check {
    let host = inputs
        .mirror
        .clone()
        .unwrap_or_else(|| "registry-1.docker.io".to_string());
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
    {
        Ok(c) => c,
        Err(e) => return Check::warn("registry", e.to_string(), "check the proxy settings"),
    };
    let mut last = String::new();
    for scheme in ["https", "http"] {
        let url = format!("{scheme}://{host}/v2/");
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() || r.status().as_u16() == 401 => {
                return Check::pass(
                    "registry",
                    format!("{host} answers ({})", r.status().as_u16()),
                );
            }
            Ok(r) => last = format!("{url} answered {}", r.status()),
            Err(e) => last = format!("{url}: {}", root_cause(&e)),
        }
    }
    let hint = if inputs.mirror.is_some() {
        "check registry_mirror / DEVENV_REGISTRY_MIRROR; images already present still work"
    } else {
        "Docker Hub is not reachable: set DEVENV_REGISTRY_MIRROR to your mirror; images already present still work"
    };
    Check::warn("registry", last, hint)
}

fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Free space where images and the tool store live. Read with `df`, which
/// every Unix has, rather than a C-binding crate.
pub fn disk_free(path: &Path) -> Check {
    let probe = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(probe)
        .output();
    let avail_kb = out.ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        text.lines()
            .nth(1)?
            .split_whitespace()
            .nth(3)?
            .parse::<u64>()
            .ok()
    });
    match avail_kb {
        None => Check::warn(
            "disk",
            format!("could not read free space at {}", probe.display()),
            "check `df -h`",
        ),
        Some(kb) => {
            let gib = kb as f64 / 1024.0 / 1024.0;
            let detail = format!("{gib:.1} GiB free at {}", probe.display());
            if gib < 1.0 {
                Check::fail(
                    "disk",
                    detail,
                    "free some space: `docker system prune`, `devenv gc`",
                )
            } else if gib < 5.0 {
                Check::warn(
                    "disk",
                    detail,
                    "images and tools may not fit; `docker system prune`, `devenv gc`",
                )
            } else {
                Check::pass("disk", detail)
            }
        }
    }
}

/// The shared tool store can be written (it is created if missing).
pub fn store_writable(paths: &Paths) -> Check {
    let store = paths.store();
    let result =
        std::fs::create_dir_all(&store).and_then(|_| tempfile::tempfile_in(&store).map(|_| ()));
    match result {
        Ok(()) => Check::pass("store", format!("{} is writable", store.display())),
        Err(e) => Check::fail(
            "store",
            format!("cannot write to {}: {e}", store.display()),
            "fix its permissions, or set DEVENV_HOME to a writable directory",
        ),
    }
}

/// Whether the pinned tools are on the user's PATH outside devenv.
pub fn activation(inputs: &Inputs<'_>) -> Check {
    let bin = inputs.paths.bin_dir();
    if inputs.manifest.tools.is_empty() {
        return Check::pass("activation", "no pinned tools");
    }
    let on_path = std::env::split_paths(&inputs.path_var).any(|p| p == bin);
    if on_path {
        Check::pass("activation", format!("{} is on PATH", bin.display()))
    } else {
        Check::warn(
            "activation",
            format!("{} is not on PATH", bin.display()),
            "use `devenv exec -- CMD` or `devenv shell`, or add `eval \"$(devenv env --shell bash)\"` to .envrc (direnv)",
        )
    }
}

/// Every host port the project's services want: free, or held by this
/// project itself (it is running), else who holds it.
pub async fn ports(inputs: &Inputs<'_>, engine: Option<&Engine>) -> Vec<Check> {
    use crate::services::ports::{self as sp, Holder};
    let m = inputs.manifest;
    // Read-only: a doctor run must not pick and keep new auto ports.
    let mut book = crate::state::PortBook::load(inputs.paths);
    let Ok(wanted) = sp::resolve(m, &mut book) else {
        return vec![Check::warn(
            "ports",
            "could not pick free ports",
            "check the machine's port range",
        )];
    };
    let containers = match engine {
        Some(e) => {
            let opts = bollard::query_parameters::ListContainersOptionsBuilder::default()
                .all(true)
                .build();
            e.docker
                .list_containers(Some(opts))
                .await
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for (service, ports) in &wanted {
        for p in ports {
            let name = format!("port {}", p.host);
            if sp::is_free(p) {
                out.push(Check::pass(name, format!("free for `{service}`")));
                continue;
            }
            match sp::holder(p, &containers) {
                Holder::DevenvContainer {
                    project,
                    service: s,
                    ..
                } if project == m.project.id && &s == service => {
                    out.push(Check::pass(
                        name,
                        format!("in use by `{service}` of this project (running)"),
                    ));
                }
                holder => out.push(Check::fail(
                    name,
                    format!(
                        "wanted by `{service}`, held by {}",
                        sp::describe_holder(&holder)
                    ),
                    format!(
                        "stop it, or give `{service}` another port, e.g. \"auto:{}\"",
                        p.container
                    ),
                )),
            }
        }
    }
    out
}

/// `[requires]`: each system tool present and recent enough.
pub fn requirements(inputs: &Inputs<'_>) -> Vec<Check> {
    let m = inputs.manifest;
    let path = std::ffi::OsString::from(&inputs.path_var);
    let runnable: Vec<_> = m
        .requires
        .iter()
        .filter(|r| inputs.trusted || !crate::hooks::trust::is_path_requirement(&r.name))
        .cloned()
        .collect();
    let unmet = crate::tools::requires::check(&runnable, Some(&path), &m.root);
    m.requires
        .iter()
        .map(|r| {
            let name = format!("requires {}", r.name);
            if !runnable.iter().any(|x| x.name == r.name) {
                return Check::warn(
                    name,
                    "not run: it is a file of the repository and this devenv.toml is not trusted",
                    "review it, then run `devenv trust`",
                );
            }
            match unmet.iter().find(|u| u.name == r.name) {
                Some(u) => Check::fail(
                    name,
                    u.to_string(),
                    format!("install or upgrade `{}`", r.name),
                ),
                None => Check::pass(name, format!("found, satisfies {}", r.raw)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    #[test]
    fn clock_skew_warns_past_a_minute() {
        let now = Utc::now();
        assert_eq!(
            clock_skew(now, now - chrono::Duration::seconds(5), "x").status,
            Status::Pass
        );
        assert_eq!(
            clock_skew(now, now + chrono::Duration::seconds(600), "x").status,
            Status::Warn
        );
    }

    #[test]
    fn disk_free_reads_df() {
        let c = disk_free(Path::new("/"));
        assert_ne!(c.status, Status::Fail, "{c:?}");
        assert!(c.detail.contains("GiB free"), "{c:?}");
    }

    #[test]
    fn an_unwritable_store_fails() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "").unwrap();
        let paths = Paths::new(file, dir.path());
        assert_eq!(store_writable(&paths).status, Status::Fail);
    }
}
