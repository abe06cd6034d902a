//! Images built from the repository (`[services.NAME] build`), for
//! services and jobs alike.
//!
//! A built image is tagged `devenv_<project>_<service>:<hash>`, the hash
//! over the context's files (paths, modes, contents; `.dockerignore`
//! applied) and the build settings (dockerfile, args, target, platform).
//! The tag is the container's image, so a changed context changes the
//! container's config hash and `up` recreates it; an unchanged one leaves
//! everything alone. The hash is recomputed on every `up` from `lstat`s
//! alone (see `context`), and the engine is asked only when a container is
//! about to be made: an image with the tag already there is not built
//! again, unless `up --build` says so.

mod bases;
mod buildkit;
mod context;
mod ignore;
mod run;
mod trace;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::model::{Build, Manifest, Service};
use crate::paths::Paths;
use crate::progress::Reporter;

use super::Engine;
use context::FileCache;
pub use ignore::{BadPattern, Ignore};

/// Why an image could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The context could not be read: gone, unreadable, a `.dockerignore`
    /// that does not parse, or a path that leaves the repository.
    #[error("service `{service}`: build context {message}")]
    Context { service: String, message: String },
    /// The engine ran the build and a step failed.
    #[error("{}", failed_text(.service, .step.as_deref(), .log, .message))]
    Failed {
        service: String,
        /// `Step 3/4 : RUN make`, the step that was running.
        step: Option<String>,
        /// The build's last lines since that step.
        log: Vec<String>,
        /// The engine's error.
        message: String,
    },
    #[error("{context}: {source}")]
    Engine {
        context: String,
        #[source]
        source: bollard::errors::Error,
    },
    /// A base image could not be had through the registry mirror.
    #[error("service `{service}`: base image `{base}` through the registry mirror: {source}")]
    Base {
        service: String,
        base: String,
        #[source]
        source: super::images::PullError,
    },
}

fn failed_text(service: &str, step: Option<&str>, log: &[String], message: &str) -> String {
    let mut s = format!("building `{service}` failed");
    if let Some(step) = step {
        s.push_str(&format!(" at `{step}`"));
    }
    s.push_str(&format!(": {message}"));
    if !log.is_empty() {
        s.push_str(&format!("\n  last {} build log lines:", log.len()));
        for l in log {
            s.push_str(&format!("\n  | {l}"));
        }
    }
    s
}

impl BuildError {
    /// Names the service a failure belongs to (the builders do not know it).
    fn for_service(self, name: &str) -> Self {
        match self {
            BuildError::Failed {
                step, log, message, ..
            } => BuildError::Failed {
                service: name.to_string(),
                step,
                log,
                message,
            },
            other => other,
        }
    }

    /// The one-line form, for the task that failed.
    fn summary(&self) -> String {
        match self {
            BuildError::Failed { step, message, .. } => match step {
                Some(step) => format!("failed at {step}"),
                None => format!("failed: {message}"),
            },
            other => other.to_string(),
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            BuildError::Failed { .. } => {
                Some("fix the Dockerfile or the files it uses, then run `devenv up` again".into())
            }
            BuildError::Context { .. } => Some(
                "fix the build context named in devenv.toml, then run `devenv up` again".into(),
            ),
            BuildError::Engine { .. } => None,
            BuildError::Base { .. } => Some(
                "check that the mirror (`registry_mirror` in [settings], or DEVENV_REGISTRY_MIRROR) serves this image, or write the base image with its registry in the Dockerfile".into(),
            ),
        }
    }
}

/// A service's build, ready to run: its tag and its walked context.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub service: String,
    /// `devenv_<project>_<service>:<hash>`: the container's image.
    pub tag: String,
    /// `image = "..."` next to `build`: a second tag for the build.
    pub extra_tag: Option<String>,
    dockerfile: String,
    args: HashMap<String, String>,
    target: Option<String>,
    platform: Option<String>,
    /// Shared with the thread that writes the tar.
    context: Arc<context::Context>,
    /// The `.dockerignore` hides the Dockerfile or itself. Both must still
    /// be sent; the classic builder then leaves them out of `COPY .`, as
    /// BuildKit does for the docker CLI's session, but BuildKit copies
    /// everything of an uploaded tar. So such a build uses the classic
    /// builder, and the image holds what Compose's would.
    classic_only: bool,
}

/// The digests of every built service's files, by context, in
/// `.devenv/state/`: what lets a no-op `up` stat instead of read.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct DigestCache {
    contexts: BTreeMap<String, FileCache>,
}
const CACHE_FILE: &str = "build-cache.json";

/// Walks and hashes the context of every service with `build`: the tags
/// this `up` wants. Reads no file whose stat is unchanged since the last
/// `up`, and writes the cache only when it changed.
pub async fn prepare(
    m: &Manifest,
    paths: &Paths,
) -> Result<BTreeMap<String, Prepared>, BuildError> {
    let built: Vec<(&Service, &Build)> = m
        .services
        .iter()
        .filter_map(|s| Some((s, s.build.as_ref()?)))
        .collect();
    if built.is_empty() {
        return Ok(BTreeMap::new());
    }
    let cache_path = paths.state_file(CACHE_FILE);
    let old: DigestCache = crate::state::read_json(&cache_path);
    let walks = built.iter().map(|(s, b)| {
        let old = &old;
        async move {
            let (real, ignore, hides_own) = open_context(&m.root, s, b)?;
            let ignore = without_state(ignore, &real, paths);
            let key = real.display().to_string();
            let cached = old.contexts.get(&key).cloned().unwrap_or_default();
            let dir = real.clone();
            let walked =
                tokio::task::spawn_blocking(move || context::walk(&dir, &ignore, &cached)).await;
            let (ctx, files) = walked
                .map_err(std::io::Error::other)
                .and_then(|r| r)
                .map_err(|e| context_error(s, format!("`{}`: {e}", real.display())))?;
            let mut p = prepared(m, s, b, ctx);
            p.classic_only = hides_own;
            Ok::<_, BuildError>((key, files, p))
        }
    });
    let mut out = BTreeMap::new();
    let mut new = DigestCache::default();
    for r in join_all(walks).await {
        let (key, files, p) = r?;
        new.contexts.insert(key, files);
        out.insert(p.service.clone(), p);
    }
    if new != old {
        // Only a cache: should it not be written, the next `up` reads the
        // files again.
        let _ = paths
            .ensure_state_dir()
            .and_then(|_| crate::state::write_json(&cache_path, &new));
    }
    Ok(out)
}

/// The context resolved inside the repository again (it may have changed
/// since devenv.toml was checked) and its `.dockerignore`, with the
/// Dockerfile and `.dockerignore` always sent, as the docker CLI does; and
/// whether the `.dockerignore` names either (see `Prepared::classic_only`).
fn open_context(
    root: &Path,
    s: &Service,
    b: &Build,
) -> Result<(PathBuf, Ignore, bool), BuildError> {
    let real = crate::confine::confine_joined(root, &b.context)
        .map_err(|e| context_error(s, e.to_string()))?;
    let mut ignore = match read_ignore(root, b) {
        Ok(Some(text)) => Ignore::parse(&text).map_err(|e| context_error(s, e.to_string()))?,
        Ok(None) => Ignore::default(),
        Err(e) => return Err(context_error(s, e)),
    };
    let hides_own = ignore.excludes(&b.dockerfile) || ignore.excludes(".dockerignore");
    ignore.keep(&b.dockerfile);
    ignore.keep(".dockerignore");
    Ok((real, ignore, hides_own))
}

/// A context holding the clone's `.devenv/` (`build = "."`) never sends
/// or hashes it: its state changes on every `up`, so every `up` would
/// build again.
fn without_state(mut ignore: Ignore, context: &Path, paths: &Paths) -> Ignore {
    let root = std::fs::canonicalize(&paths.root).unwrap_or_else(|_| paths.root.clone());
    let state = root.join(paths.relative(&paths.state_dir()));
    if let Ok(rel) = state.strip_prefix(context) {
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        ignore.exclude(&parts.join("/"));
    }
    ignore
}

/// `.dockerignore` at the top of the context, if there is one.
fn read_ignore(root: &Path, b: &Build) -> Result<Option<String>, String> {
    match crate::confine::read_to_string(root, &b.context.join(".dockerignore")) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(format!(".dockerignore: {e}")),
    }
}

fn context_error(s: &Service, message: String) -> BuildError {
    BuildError::Context {
        service: s.name.clone(),
        message,
    }
}

fn prepared(m: &Manifest, s: &Service, b: &Build, ctx: context::Context) -> Prepared {
    let hash = hash(&ctx.digest, b, s.platform.as_deref());
    Prepared {
        service: s.name.clone(),
        tag: format!("{}:{hash}", repository(&m.project.id, &s.name)),
        extra_tag: Some(s.image.clone()).filter(|i| !i.is_empty()),
        dockerfile: b.dockerfile.clone(),
        args: b.args.clone().into_iter().collect(),
        target: b.target.clone(),
        platform: s.platform.clone(),
        context: Arc::new(ctx),
        classic_only: false,
    }
}

/// The tag's hash: the context's digest and every setting that changes
/// what the engine builds from it.
fn hash(context_digest: &str, b: &Build, platform: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("context\0{context_digest}\n"));
    h.update(format!("dockerfile\0{}\n", b.dockerfile));
    h.update(format!("target\0{}\n", b.target.as_deref().unwrap_or("")));
    h.update(format!("platform\0{}\n", platform.unwrap_or("")));
    for (k, v) in &b.args {
        h.update(format!("arg\0{k}\0{v}\n"));
    }
    hex::encode(h.finalize())[..16].to_string()
}

/// `devenv_<project>_<service>` as an image repository: lowercase, and
/// only the separators a repository name allows (`.`, `_`, `__`, `-`s).
fn repository(project: &str, service: &str) -> String {
    let raw = format!("devenv_{project}_{service}").to_ascii_lowercase();
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let ok = matches!(run.as_str(), "" | "." | "_" | "__") || run.chars().all(|c| c == '-');
        out.push_str(if ok { run } else { "-" });
        run.clear();
    };
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out.trim_end_matches(['.', '_', '-']).to_string()
}

/// The build whose image `s` runs: its own, or, for a service with just
/// `image`, the build that `image` names (`image` + `build` on another
/// service, as compose shares one built image between services).
pub fn for_service<'a>(built: &'a BTreeMap<String, Prepared>, s: &Service) -> Option<&'a Prepared> {
    built.get(&s.name).or_else(|| {
        built
            .values()
            .find(|b| s.build.is_none() && b.extra_tag.as_deref() == Some(s.image.as_str()))
    })
}

/// What `ensure` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The tag was there already.
    Present,
    /// Built now; the new image's id.
    Built(String),
}

/// Settings shared by the builds of one `up`.
pub struct EnsureRequest<'a> {
    pub engine: &'a Engine,
    pub reporter: &'a dyn Reporter,
    pub project: &'a str,
    /// `up --build`: build even when the tag exists, without the cache.
    pub force: bool,
    /// `registry_mirror`: Docker Hub base images are pulled through it.
    pub mirror: Option<&'a str>,
    pub policy: &'a super::images::ImagePolicy,
}

/// Makes `p.tag` present: built unless the engine has it (or `force`).
pub async fn ensure(req: &EnsureRequest<'_>, p: &Prepared) -> Result<Outcome, BuildError> {
    if !req.force && run::image_id(req.engine, &p.tag).await.is_some() {
        return Ok(Outcome::Present);
    }
    if let Some(mirror) = req.mirror {
        bases::through_mirror(req, mirror, p).await?;
    }
    let job = run::Job {
        engine: req.engine,
        reporter: req.reporter,
        prepared: p,
        project: req.project,
        nocache: req.force,
    };
    run::run(&job).await.map(Outcome::Built)
}

/// The id of the image a tag names now, if any.
pub async fn image_id(engine: &Engine, reference: &str) -> Option<String> {
    run::image_id(engine, reference).await
}

/// `.dockerignore` files that do not parse: bad input, found before any
/// phase (exit 2), at their line.
pub fn check(m: &Manifest) -> Diagnostics {
    let mut problems = Diagnostics::default();
    for b in m.services.iter().filter_map(|s| s.build.as_ref()) {
        let path = b.context.join(".dockerignore");
        match read_ignore(&m.root, b) {
            Ok(Some(text)) => {
                if let Err(e) = Ignore::parse(&text) {
                    problems.push(
                        Diagnostic::at_line_col(&path, &text, e.line, 1, e.to_string()).with_hint(
                            "fix the pattern: .dockerignore uses Docker's syntax (`*`, `?`, `[...]`, `**`, `!` exceptions)",
                        ),
                    );
                }
            }
            Ok(None) => {}
            Err(e) => problems.push(
                Diagnostic::file(&path, e)
                    .with_hint("devenv only sends files inside the repository"),
            ),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_follows_the_context_and_every_build_setting() {
        let b = Build {
            context: PathBuf::from("/r/app"),
            dockerfile: "Dockerfile".into(),
            args: BTreeMap::new(),
            target: None,
        };
        let base = hash("ctx", &b, None);
        assert_eq!(base.len(), 16);
        assert_eq!(hash("ctx", &b, None), base, "stable");
        assert_ne!(hash("ctx2", &b, None), base);
        assert_ne!(hash("ctx", &b, Some("linux/arm64")), base);
        let changed = [
            Build {
                dockerfile: "Dockerfile.dev".into(),
                ..b.clone()
            },
            Build {
                target: Some("dev".into()),
                ..b.clone()
            },
            Build {
                args: BTreeMap::from([("V".into(), "1".into())]),
                ..b.clone()
            },
        ];
        for c in &changed {
            assert_ne!(hash("ctx", c, None), base, "{c:?}");
        }
        // Where the context sits is not part of it: two clones hash alike.
        let moved = Build {
            context: PathBuf::from("/elsewhere/app"),
            ..b.clone()
        };
        assert_eq!(hash("ctx", &moved, None), base);
    }

    #[tokio::test]
    async fn prepare_keeps_digests_in_the_state_and_sees_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::write(root.join("app/Dockerfile"), "FROM x\nCOPY . /\n").unwrap();
        std::fs::write(root.join("app/a.txt"), "a").unwrap();
        std::fs::write(root.join("app/.dockerignore"), "ignored.txt\n").unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        for f in ["Dockerfile", "a.txt", ".dockerignore"] {
            let file = std::fs::File::options()
                .write(true)
                .open(root.join("app").join(f))
                .unwrap();
            file.set_modified(old).unwrap();
        }
        std::fs::write(
            root.join("devenv.toml"),
            "[project]\nname = \"p\"\n[services.web]\nbuild = \"app\"\n",
        )
        .unwrap();
        let m = crate::manifest::load(&root.join("devenv.toml")).unwrap();
        let paths = Paths::new(dir.path().join("home"), &root);
        let first = prepare(&m, &paths).await.unwrap();
        let tag = first["web"].tag.clone();
        assert!(tag.starts_with("devenv_p_web:"), "{tag}");
        let cache: DigestCache = crate::state::read_json(&paths.state_file(CACHE_FILE));
        let files: Vec<&String> = cache.contexts.values().flat_map(|f| f.keys()).collect();
        assert_eq!(files, [".dockerignore", "Dockerfile", "a.txt"]);
        assert_eq!(prepare(&m, &paths).await.unwrap()["web"].tag, tag);
        std::fs::write(root.join("app/ignored.txt"), "x").unwrap();
        assert_eq!(prepare(&m, &paths).await.unwrap()["web"].tag, tag);
        std::fs::write(root.join("app/a.txt"), "b").unwrap();
        assert_ne!(prepare(&m, &paths).await.unwrap()["web"].tag, tag);
    }

    #[tokio::test]
    async fn the_clones_own_state_is_never_part_of_a_root_context() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("Dockerfile"), "FROM x\n").unwrap();
        std::fs::write(
            root.join("devenv.toml"),
            "[project]\nname = \"p\"\n[services.web]\nbuild = \".\"\n",
        )
        .unwrap();
        let m = crate::manifest::load(&root.join("devenv.toml")).unwrap();
        let paths = Paths::new(dir.path().join("home"), &root);
        let first = prepare(&m, &paths).await.unwrap()["web"].tag.clone();
        assert!(paths.state_file(CACHE_FILE).exists());
        std::fs::write(paths.state_file("ports.json"), "{}").unwrap();
        assert_eq!(prepare(&m, &paths).await.unwrap()["web"].tag, first);
        let p = &prepare(&m, &paths).await.unwrap()["web"];
        assert!(p
            .context
            .entries
            .iter()
            .all(|e| !e.rel.starts_with(".devenv")));
    }

    #[test]
    fn repositories_are_valid_image_names() {
        assert_eq!(repository("shop", "web"), "devenv_shop_web");
        assert_eq!(
            repository("shop-3fa9c1", "API.v2"),
            "devenv_shop-3fa9c1_api.v2"
        );
        assert_eq!(repository("a___b", "x..y"), "devenv_a-b_x-y");
    }
}
