//! The validated, resolved manifest: what every core module works from.
//!
//! Defaults are applied, stack presets merged into their services, paths made
//! absolute and ports parsed. Nothing here can be wrong in a way the user
//! could have caught: those problems were reported by `resolve`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use super::schema::{
    HookEntry, Identity, MetricsFormat, ProcessCommand, PullPolicy, RestartPolicy, RunMode,
    SourceKind,
};

#[derive(Debug, Clone)]
pub struct Manifest {
    /// Absolute path of devenv.toml.
    pub path: PathBuf,
    /// The directory holding devenv.toml: the repository root.
    pub root: PathBuf,
    /// sha256 of the file's bytes, for trust records and state.
    pub content_hash: String,
    pub project: Project,
    pub settings: Settings,
    pub tools: Vec<Tool>,
    pub requires: Vec<Requirement>,
    /// In declaration order.
    pub services: Vec<Service>,
    pub mocks: Vec<Mock>,
    /// The app itself, run on this machine under a supervisor.
    pub processes: Vec<Process>,
    pub config: Config,
    pub secrets: Vec<Secret>,
    pub hooks: Hooks,
    pub metrics: Metrics,
    /// `[env]`, in declaration order.
    pub env: Vec<EnvVar>,
    /// What is allowed but worth saying (a stack version outside the
    /// preset's table), pinned to the file like errors are.
    pub warnings: Vec<crate::diagnostic::Diagnostic>,
}

/// One `[env]` entry: what hooks, processes, `exec`, `shell` and `env` see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    /// A template, rendered like a config file.
    pub template: String,
    /// Where the value is in devenv.toml, for errors.
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The display name: `[project] name`, or the directory name, sanitised.
    pub name: String,
    /// The name used for containers, networks and volumes. Equal to `name`
    /// when it was set explicitly; otherwise `name` plus a short hash of the
    /// clone's path, so two clones of one repo never share containers.
    pub id: String,
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// From devenv.toml; `DEVENV_REGISTRY_MIRROR` wins over it at run time.
    pub registry_mirror: Option<String>,
    pub pull: PullPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
    pub source: ToolSource,
    pub allow_unverified: bool,
    /// `max_unpacked` and `max_ratio`; unset means the defaults.
    pub unpack: UnpackLimits,
}

/// What a tool's archive may unpack to, as `[tools.NAME]` sets it; `None`
/// takes the default in `tools::archive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnpackLimits {
    pub max_bytes: Option<u64>,
    pub max_ratio: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolSource {
    /// From the built-in index.
    Index,
    Url(UrlTool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTool {
    pub url: String,
    /// Paths inside the archive to expose (templated); empty = the default rule.
    pub bin: Vec<String>,
    /// `"linux-x86_64"` etc. to lowercase hex.
    pub sha256: BTreeMap<String, String>,
    pub strip_components: u32,
    pub platforms: BTreeMap<String, PlatformOverride>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlatformOverride {
    pub url: Option<String>,
    pub bin: Option<Vec<String>>,
    pub strip_components: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Requirement {
    pub name: String,
    pub range: semver::VersionReq,
    /// As written, for messages.
    pub raw: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    /// The preset it came from, if any.
    pub stack: Option<String>,
    /// The full image reference as written or derived (`postgres:16`),
    /// before any registry mirror rewrite. With `build`, the extra tag the
    /// built image also gets; empty when there is none.
    pub image: String,
    /// Built from a Dockerfile in the repository instead of pulled.
    pub build: Option<Build>,
    pub ports: Vec<PortMapping>,
    pub env: BTreeMap<String, String>,
    /// A stack's env values that name where the service ends up (its name,
    /// its published host ports), rendered when the container is made
    /// (`stacks::render_env`); a key in `env` never is here too.
    pub env_templates: BTreeMap<String, String>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// Named volumes: volume name -> container path.
    pub volumes: BTreeMap<String, String>,
    pub mounts: Vec<Mount>,
    pub ready: Option<Readiness>,
    pub depends_on: Vec<String>,
    pub run: RunMode,
    /// Host address published ports bind to.
    pub bind: IpAddr,
    /// Stack exports merged with the service's own, as templates over
    /// `host`, `port`, `ports`, `env`, `name`.
    pub exports: BTreeMap<String, String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub platform: Option<String>,
}

impl Service {
    /// A service with only a name and an image, for unit tests to adjust.
    #[cfg(test)]
    pub fn bare(name: &str, image: &str) -> Service {
        Service {
            name: name.into(),
            stack: None,
            image: image.into(),
            build: None,
            ports: vec![],
            env: BTreeMap::new(),
            env_templates: BTreeMap::new(),
            command: None,
            entrypoint: None,
            volumes: BTreeMap::new(),
            mounts: vec![],
            ready: None,
            depends_on: vec![],
            run: RunMode::Always,
            bind: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            exports: BTreeMap::new(),
            user: None,
            working_dir: None,
            platform: None,
        }
    }

    pub fn is_job(&self) -> bool {
        self.run == RunMode::Once
    }
}

/// `[services.NAME] build`: where the image comes from when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Absolute: the repository root joined with the context as written.
    /// Checked to be a directory inside the repository.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context, `/`-separated; inside it.
    pub dockerfile: String,
    /// `--build-arg`s.
    pub args: BTreeMap<String, String>,
    /// The stage to build, for a multi-stage Dockerfile.
    pub target: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostPort {
    Fixed(u16),
    /// Picked once from the free ports and kept for this clone.
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortMapping {
    pub host: HostPort,
    pub container: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute path on the host (inside the repository as written).
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    pub probe: Probe,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Connect to this container port through its published host port.
    Tcp(u16),
    /// GET `path` on this container port expecting 2xx.
    Http { path: String, port: u16 },
    /// Run inside the container; exit 0 means ready.
    Exec(Vec<String>),
    /// A line of the container's log matches this regex.
    Log(String),
    /// The image's own HEALTHCHECK, polled fast.
    Healthcheck,
    /// PostgreSQL's startup exchange on this container port, judged as
    /// `pg_isready` judges it (`crate::probe::postgres`), as this user
    /// and database (`POSTGRES_USER`, `POSTGRES_DB` of the service's env).
    Postgres {
        port: u16,
        user: String,
        database: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mock {
    pub name: String,
    /// The repository root: every file the mock reads stays inside it.
    pub root: PathBuf,
    pub port: HostPort,
    pub wiremock: Option<PathBuf>,
    pub pact: Option<PathBuf>,
    pub openapi: Option<PathBuf>,
    /// A mountebank imposter file; it answers every request of the mock.
    pub mountebank: Option<PathBuf>,
    pub provider_state: Option<String>,
    /// The admin API's path prefix: `/__admin` unless `admin_prefix` moves it.
    pub admin_prefix: String,
    pub routes: Vec<Route>,
}

/// Where the admin API answers unless a mock moves it.
pub const DEFAULT_ADMIN_PREFIX: &str = "/__admin";

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Upper case; `ANY` matches every method.
    pub method: String,
    pub path: String,
    pub status: u16,
    pub json: Option<serde_json::Value>,
    pub body: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub delay_ms: Option<u64>,
    pub priority: Option<i64>,
}

/// `[processes.<name>]`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub name: String,
    pub command: ProcessCommand,
    /// Where it runs: the repository root, or `cwd` joined to it (checked to
    /// stay inside when loaded, and again just before it starts).
    pub cwd: PathBuf,
    /// Its own variables, over the project environment.
    pub env: BTreeMap<String, String>,
    /// Probed on 127.0.0.1 (tcp, http) or in its log file (log).
    pub ready: Option<Readiness>,
    /// Services, mocks or other processes that must be ready first.
    pub depends_on: Vec<String>,
    pub restart: RestartPolicy,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The default environment when `--env` is not given.
    pub environment: String,
    pub values: serde_json::Map<String, serde_json::Value>,
    pub environments: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    pub files: Vec<ConfigFile>,
    pub sources: Vec<ValueSource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub template: PathBuf,
    pub output: PathBuf,
    /// Render only for these environments; empty means all.
    pub environments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueSource {
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    pub prefix: Option<String>,
    pub key: Option<String>,
    pub environments: Vec<String>,
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub env: Option<String>,
    pub command: Option<Vec<String>>,
    pub prompt: Option<String>,
    pub optional: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    pub setup: Vec<HookEntry>,
    pub pre_down: Vec<HookEntry>,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.setup.is_empty() && self.pre_down.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Metrics {
    pub endpoint: Option<String>,
    pub format: MetricsFormat,
    pub auto_report: bool,
    pub timeout: Duration,
    pub identity: Identity,
    pub job: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            endpoint: None,
            format: MetricsFormat::Pushgateway,
            auto_report: false,
            timeout: Duration::from_secs(2),
            identity: Identity::Hashed,
            job: "devenv".to_string(),
        }
    }
}

impl Manifest {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
    pub fn mock(&self, name: &str) -> Option<&Mock> {
        self.mocks.iter().find(|m| m.name == name)
    }
    pub fn process(&self, name: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.name == name)
    }

    /// Every service's, mock's and process's name, in that order (one
    /// namespace: `depends_on`, `logs` and `status` name them alike).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let services = self.services.iter().map(|s| s.name.as_str());
        let mocks = self.mocks.iter().map(|m| m.name.as_str());
        services
            .chain(mocks)
            .chain(self.processes.iter().map(|p| p.name.as_str()))
    }

    /// Processes grouped by dependency depth among processes (services and
    /// mocks are ready before the processes phase): a level only depends on
    /// earlier ones, so a level starts together.
    pub fn process_levels(&self) -> Vec<Vec<&Process>> {
        fn visit<'a>(
            m: &'a Manifest,
            name: &'a str,
            depth: &mut BTreeMap<&'a str, usize>,
        ) -> usize {
            if let Some(d) = depth.get(name) {
                return *d;
            }
            // Cycles were rejected during validation, so this terminates.
            let p = m.process(name).expect("validated dependency");
            let d = p
                .depends_on
                .iter()
                .filter(|dep| m.process(dep).is_some())
                .map(|dep| visit(m, dep, depth) + 1)
                .max()
                .unwrap_or(0);
            depth.insert(name, d);
            d
        }
        let mut depth = BTreeMap::new();
        let mut levels: Vec<Vec<&Process>> = Vec::new();
        for p in &self.processes {
            let d = visit(self, &p.name, &mut depth);
            if levels.len() <= d {
                levels.resize_with(d + 1, Vec::new);
            }
            levels[d].push(p);
        }
        levels
    }

    /// Services grouped by dependency depth: every service of one level only
    /// depends on services of earlier levels, so a level can start in parallel.
    pub fn start_levels(&self) -> Vec<Vec<&Service>> {
        let by_name: BTreeMap<&str, &Service> =
            self.services.iter().map(|s| (s.name.as_str(), s)).collect();
        let deps_of = |name: &str| -> Vec<&str> {
            by_name.get(name).map_or_else(Vec::new, |s| {
                s.depends_on
                    .iter()
                    .map(String::as_str)
                    .filter(|d| by_name.contains_key(d))
                    .collect()
            })
        };
        // A service's depth is one more than its deepest dependency's. The
        // walk keeps its own stack (a long chain would overflow the thread's),
        // and cycles were rejected during validation.
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.services {
            let mut stack = vec![(s.name.as_str(), false)];
            while let Some((name, deps_done)) = stack.pop() {
                if depth.contains_key(name) {
                    continue;
                }
                let deps = deps_of(name);
                if deps_done {
                    let d = deps.iter().map(|d| depth.get(d).map_or(0, |x| x + 1)).max();
                    depth.insert(name, d.unwrap_or(0));
                } else {
                    stack.push((name, true));
                    stack.extend(
                        deps.into_iter()
                            .filter(|d| !depth.contains_key(d))
                            .map(|d| (d, false)),
                    );
                }
            }
        }
        let visit = |name: &str| depth.get(name).copied().unwrap_or(0);
        let mut levels: Vec<Vec<&Service>> = Vec::new();
        for s in &self.services {
            let d = visit(&s.name);
            if levels.len() <= d {
                levels.resize_with(d + 1, Vec::new);
            }
            levels[d].push(s);
        }
        levels
    }
}
