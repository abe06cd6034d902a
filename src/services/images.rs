//! Image references and pulls: the registry mirror rewrite of Docker Hub
//! references, and pulling through the engine with per-layer progress.

use std::collections::BTreeMap;

use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

use std::path::PathBuf;
use std::time::Instant;

use bollard::auth::DockerCredentials;

use super::engine::Engine;
use crate::manifest::model::PullPolicy;
use crate::progress::{Event, Reporter};

/// A parsed reference: `registry/repository:tag` (or `@digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// None for Docker Hub.
    pub registry: Option<String>,
    /// With `library/` for official Docker Hub images.
    pub repository: String,
    /// `:tag` or `@sha256:...`, without the separator.
    pub tag: String,
    pub digest: bool,
}

impl ImageRef {
    pub fn parse(reference: &str) -> ImageRef {
        let (name, tag, digest) = match reference.split_once('@') {
            Some((n, d)) => (n, d.to_string(), true),
            None => {
                // A ':' after the last '/' is a tag; before it, a registry port.
                let slash = reference.rfind('/').map_or(0, |i| i + 1);
                match reference[slash..].rfind(':') {
                    Some(i) => (
                        &reference[..slash + i],
                        reference[slash + i + 1..].to_string(),
                        false,
                    ),
                    None => (reference, "latest".to_string(), false),
                }
            }
        };
        let (registry, repo) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first.to_string()), rest.to_string())
            }
            _ => (None, name.to_string()),
        };
        let registry = registry
            .filter(|r| r != "docker.io" && r != "index.docker.io" && r != "registry-1.docker.io");
        let repository = if registry.is_none() && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    /// Docker Hub references go to `mirror` instead; others are unchanged.
    pub fn with_mirror(mut self, mirror: Option<&str>) -> ImageRef {
        if self.registry.is_none() {
            if let Some(m) = mirror {
                self.registry = Some(m.trim_end_matches('/').to_string());
            }
        }
        self
    }

    /// The repository part the engine wants for `fromImage`.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// The registry host for credentials lookup.
    pub fn registry_host(&self) -> &str {
        self.registry.as_deref().unwrap_or("docker.io")
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.digest { '@' } else { ':' };
        write!(f, "{}{sep}{}", self.name(), self.tag)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("image `{reference}` is not present and the pull policy is `never`")]
    Missing { reference: String },
    #[error("image `{reference}` was not found: {message}")]
    NotFound { reference: String, message: String },
    /// The registry did not answer: no route, no name, refused, timed out.
    #[error("pulling `{reference}` failed: its registry could not be reached: {message}")]
    Unreachable { reference: String, message: String },
    #[error("pulling `{reference}` failed: {message}")]
    Failed { reference: String, message: String },
}

/// Pulls `image`, showing one task with the bytes of all layers.
/// Returns the bytes downloaded.
pub async fn pull(
    engine: &Engine,
    image: &ImageRef,
    reporter: &dyn Reporter,
) -> Result<u64, PullError> {
    pull_with(engine, image, None, reporter).await
}

/// Pulls with registry credentials, when the user has some.
pub async fn pull_with(
    engine: &Engine,
    image: &ImageRef,
    credentials: Option<DockerCredentials>,
    reporter: &dyn Reporter,
) -> Result<u64, PullError> {
    let reference = image.to_string();
    let options = CreateImageOptionsBuilder::default()
        .from_image(&image.name())
        .tag(&image.tag)
        .build();
    let task = reporter.task(&format!("pull {reference}"), None);
    let mut stream = engine.docker.create_image(Some(options), None, credentials);
    // One task per layer, as `docker pull` shows them; each progress event
    // carries its own layer's counters.
    let mut layers: BTreeMap<String, Layer> = BTreeMap::new();
    let fail = |layers: &mut BTreeMap<String, Layer>, message: &str| {
        for (_, l) in std::mem::take(layers) {
            l.task.finish(false, "stopped");
        }
        task.finish(false, message);
    };
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                let message = engine_words(e.to_string());
                fail(&mut layers, &message);
                return Err(classify(reference, message));
            }
        };
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            fail(&mut layers, &e);
            return Err(classify(reference, e));
        }
        let status = info.status.unwrap_or_default();
        // Lines without a layer id ("Digest: ...") or about the tag itself.
        let Some(id) = info.id.filter(|_| !status.starts_with("Pulling from")) else {
            continue;
        };
        let layer = layers.entry(id.clone()).or_insert_with(|| Layer {
            task: reporter.task(&format!("  layer {}", &id[..id.len().min(12)]), None),
            shown: 0,
            bytes: 0,
            done: false,
        });
        if layer.done {
            continue;
        }
        match (status.as_str(), info.progress_detail) {
            ("Downloading", Some(d)) => {
                if let (Some(cur), Some(total)) = (d.current, d.total) {
                    let (cur, total) = (cur.max(0) as u64, total.max(0) as u64);
                    layer.task.set_total(total);
                    layer.task.advance(cur.saturating_sub(layer.shown));
                    layer.shown = cur;
                    layer.bytes = total;
                }
            }
            ("Pull complete" | "Already exists", _) => {
                layer.task.finish(true, &status.to_ascii_lowercase());
                layer.done = true;
            }
            (other, _) => layer.task.set_message(&other.to_ascii_lowercase()),
        }
    }
    for l in layers.values().filter(|l| !l.done) {
        l.task.finish(true, "done");
    }
    let total: u64 = layers.values().map(|l| l.bytes).sum();
    task.finish(true, "pulled");
    Ok(total)
}

/// A layer being pulled, with what its task has shown so far.
struct Layer {
    task: Box<dyn crate::progress::Task>,
    shown: u64,
    /// Its download size, once known (0 for layers already present).
    bytes: u64,
    done: bool,
}

/// How images are made present before containers are created.
#[derive(Debug, Clone)]
pub struct ImagePolicy {
    pub pull: PullPolicy,
    /// `--offline`: like `never`.
    pub offline: bool,
    /// Where `config.json` with registry credentials lives.
    pub docker_config_dir: Option<PathBuf>,
}

/// What `ensure` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    Present,
    Pulled,
}

/// Tells the run journal an image was needed and already there.
pub fn present(reporter: &dyn Reporter, reference: &str) {
    reporter.event(&Event::Image {
        reference: reference.to_string(),
        pulled: false,
        bytes: 0,
        seconds: 0.0,
    });
}

/// Makes `image` present according to the policy: `missing` pulls only when
/// absent, `always` pulls every time, `never` (and `--offline`) only checks.
pub async fn ensure(
    engine: &Engine,
    image: &ImageRef,
    policy: &ImagePolicy,
    reporter: &dyn Reporter,
) -> Result<Ensured, PullError> {
    let reference = image.to_string();
    let present = || async { engine.docker.inspect_image(&reference).await.is_ok() };
    let never = policy.offline || policy.pull == PullPolicy::Never;
    if never || policy.pull == PullPolicy::Missing {
        if present().await {
            self::present(reporter, &reference);
            return Ok(Ensured::Present);
        }
        if never {
            return Err(PullError::Missing { reference });
        }
    }
    let started = Instant::now();
    let creds =
        super::auth::credentials(policy.docker_config_dir.as_deref(), image.registry_host());
    let bytes = pull_with(engine, image, creds, reporter).await?;
    reporter.event(&Event::Image {
        reference,
        pulled: true,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(Ensured::Pulled)
}

/// The engine's own words, without bollard's wrapper, which says nothing
/// more ("Docker responded with status code 500: ...").
fn engine_words(message: String) -> String {
    match message.strip_prefix("Docker responded with status code ") {
        Some(rest) => rest
            .split_once(": ")
            .map_or(message.clone(), |(_, m)| m.to_string()),
        None => message,
    }
}

fn classify(reference: String, message: String) -> PullError {
    let m = message.to_ascii_lowercase();
    if m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("does not exist")
        || m.contains("404")
    {
        PullError::NotFound { reference, message }
    } else if UNREACHABLE.iter().any(|n| m.contains(n)) {
        PullError::Unreachable { reference, message }
    } else {
        PullError::Failed { reference, message }
    }
}

/// How the engine words a registry it cannot reach (Go's net/http errors).
const UNREACHABLE: &[&str] = &[
    "dial tcp",
    "no such host",
    "connection refused",
    "i/o timeout",
    "network is unreachable",
    "tls handshake timeout",
    "client.timeout exceeded",
    "timeout exceeded while awaiting headers",
];

#[cfg(test)]
mod tests {
    use super::ImageRef;

    fn mirrored(r: &str, m: &str) -> String {
        ImageRef::parse(r).with_mirror(Some(m)).to_string()
    }

    #[test]
    fn docker_hub_references_go_to_the_mirror() {
        assert_eq!(
            mirrored("postgres:16", "127.0.0.1:5000"),
            "127.0.0.1:5000/library/postgres:16"
        );
        assert_eq!(mirrored("redis", "m:5000"), "m:5000/library/redis:latest");
        assert_eq!(
            mirrored("bitnami/kafka:3", "m:5000"),
            "m:5000/bitnami/kafka:3"
        );
        assert_eq!(
            mirrored("docker.io/library/redis:7", "m:5000"),
            "m:5000/library/redis:7"
        );
    }

    #[test]
    fn other_registries_are_left_alone() {
        assert_eq!(
            mirrored("ghcr.io/org/app:1.2", "m:5000"),
            "ghcr.io/org/app:1.2"
        );
        assert_eq!(
            mirrored("localhost:5000/app", "m:5000"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            mirrored("127.0.0.1:5000/library/busybox:latest", "m"),
            "127.0.0.1:5000/library/busybox:latest"
        );
    }

    #[test]
    fn digests_are_kept() {
        let r = ImageRef::parse("redis@sha256:abc");
        assert!(r.digest);
        assert_eq!(r.to_string(), "library/redis@sha256:abc");
    }
}
