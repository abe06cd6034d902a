//! The typed shape of devenv.toml (schema v1), exactly as written by the user.
//!
//! These structs are what serde fills in. They keep `Spanned` wrappers on every
//! value a cross-check may need to point at, so a problem found after parsing
//! (an unknown stack, a cycle, a taken port) still reports `line:column`.
//! Defaults and stack presets are applied later, in `resolve`.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

pub use super::duration::{parse_duration, DurationValue, MAX_DELAY_MS, MAX_DURATION};
pub use super::process_schema::{ProcessCommand, ProcessDef, RestartPolicy};
pub use super::size::SizeValue;

pub type Map<V> = BTreeMap<String, V>;

/// `[project]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ProjectSection {
    pub name: Option<Spanned<String>>,
}

/// `[settings]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SettingsSection {
    pub registry_mirror: Option<Spanned<String>>,
    pub pull: Option<PullPolicy>,
    /// Extra bind mounts per service, `SERVICE = ["SOURCE:TARGET[:ro]"]`.
    /// Read from the user config and devenv.local.toml only: devenv.toml is
    /// shared by everyone who clones, so it refuses them.
    pub mounts: Option<Spanned<Map<Vec<Spanned<String>>>>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullPolicy {
    #[default]
    Missing,
    Always,
    Never,
}

/// One entry of `[tools]`: either `node = "20.11.1"` or a table. The loader
/// tells the two apart from the TOML value, so no custom deserializer is needed.
#[derive(Debug, Clone)]
pub enum ToolEntry {
    Version(Spanned<String>),
    Detailed(Box<ToolDef>),
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolDef {
    pub version: Spanned<String>,
    /// URL template with `{version}`, `{os}`, `{arch}`.
    pub url: Option<Spanned<String>>,
    /// Paths inside the archive to expose; templated like `url`.
    pub bin: Option<Vec<Spanned<String>>>,
    /// `"<os>-<arch>" = "<hex sha256>"`.
    #[serde(default)]
    pub sha256: Map<Spanned<String>>,
    /// Leading path components dropped when unpacking.
    pub strip_components: Option<u32>,
    /// Per-platform overrides, keyed like `sha256`.
    #[serde(default)]
    pub platforms: Map<ToolPlatformOverride>,
    /// The explicit opt-in to install without any checksum.
    #[serde(default)]
    pub allow_unverified: bool,
    /// The most the archive may unpack to (default in `tools::archive`).
    pub max_unpacked: Option<SizeValue>,
    /// The most the archive may unpack to per byte downloaded.
    pub max_ratio: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolPlatformOverride {
    pub url: Option<Spanned<String>>,
    pub bin: Option<Vec<Spanned<String>>>,
    pub strip_components: Option<u32>,
}

/// `[services.<name>]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ServiceDef {
    pub stack: Option<Spanned<String>>,
    pub version: Option<Spanned<String>>,
    pub image: Option<Spanned<String>>,
    /// Build the image from a Dockerfile in the repository.
    pub build: Option<Spanned<BuildDef>>,
    pub ports: Option<Vec<Spanned<PortValue>>>,
    #[serde(default)]
    pub env: Map<EnvValue>,
    pub command: Option<CommandSpec>,
    pub entrypoint: Option<CommandSpec>,
    /// Named volumes: `name = "/container/path"`.
    #[serde(default)]
    pub volumes: Map<Spanned<String>>,
    /// Bind mounts from the repository: `"./init.sql:/docker-entrypoint-initdb.d/init.sql[:ro]"`.
    #[serde(default)]
    pub mounts: Vec<Spanned<String>>,
    pub ready: Option<Spanned<ReadyDef>>,
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    pub run: Option<RunMode>,
    /// Host address ports are published on; `127.0.0.1` unless the service opts out.
    pub bind: Option<Spanned<String>>,
    #[serde(default)]
    pub exports: Map<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub platform: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunMode {
    /// A long-running service (the default).
    #[default]
    Always,
    /// A one-shot job: runs to exit 0; re-runs only when its definition changes.
    Once,
}

/// `build = "dir"` or `build = { context, dockerfile, args, target }`.
#[derive(Debug, Clone)]
pub enum BuildDef {
    /// Just the context directory; the span is the whole value's.
    Context(String),
    Table(BuildTable),
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct BuildTable {
    /// Relative to the repository root; `"."` when absent.
    pub context: Option<Spanned<String>>,
    /// Relative to the context; `"Dockerfile"` when absent.
    pub dockerfile: Option<Spanned<String>>,
    /// `ARG` values, as text like `env`.
    #[serde(default)]
    pub args: Map<EnvValue>,
    /// The stage of a multi-stage Dockerfile to build.
    pub target: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for BuildDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BuildDef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a context directory, or a table with `context`, `dockerfile`, `args`, `target`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<BuildDef, E> {
                Ok(BuildDef::Context(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BuildDef, A::Error> {
                BuildTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(BuildDef::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// A port as written: `"6379"`, `"16379:6379"`, `"auto:6379"`, or a bare integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortValue(pub String);

impl<'de> Deserialize<'de> for PortValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a port like \"6379\", \"16379:6379\" or \"auto:6379\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortValue, E> {
                Ok(PortValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortValue, E> {
                Ok(PortValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortValue, E> {
                Ok(PortValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An environment value: strings, numbers and booleans are all accepted, as
/// compose does, and passed to the container as their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvValue(pub String);

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = EnvValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<EnvValue, E> {
                Ok(EnvValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A command: an argv array, or a string split like a shell would (no expansion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec(pub Vec<String>);

impl<'de> Deserialize<'de> for CommandSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CommandSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command as an array of strings, or a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CommandSpec, E> {
                crate::manifest::words::split(v)
                    .map(CommandSpec)
                    .map_err(E::custom)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<CommandSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("a command cannot be empty"));
                }
                Ok(CommandSpec(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `ready = { tcp = 6379 }` and friends. Exactly one probe kind must be set.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReadyDef {
    pub tcp: Option<u16>,
    pub http: Option<String>,
    pub port: Option<u16>,
    pub exec: Option<CommandSpec>,
    pub log: Option<String>,
    /// Use the image's own HEALTHCHECK, polled fast.
    pub healthcheck: Option<bool>,
    /// PostgreSQL's own startup exchange on this port (`pg_isready`
    /// without an exec).
    pub postgres: Option<u16>,
    /// How long to wait before giving up: `"60s"`, `"2m"`, or seconds.
    pub timeout: Option<DurationValue>,
}

/// `[mocks.<name>]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct MockDef {
    pub port: Option<Spanned<PortValue>>,
    pub wiremock: Option<Spanned<String>>,
    pub pact: Option<Spanned<String>>,
    pub openapi: Option<Spanned<String>>,
    /// A mountebank imposter file (one http imposter, or `{"imposters": [...]}`).
    pub mountebank: Option<Spanned<String>>,
    /// Pact provider state to serve when a request does not pick one by header.
    pub provider_state: Option<String>,
    /// Where the admin API lives (default `/__admin`), moved when a spec
    /// serves paths there.
    pub admin_prefix: Option<Spanned<String>>,
    #[serde(default)]
    pub routes: Vec<Spanned<RouteDef>>,
}

/// `[[mocks.<name>.routes]]`: an inline stub.
#[derive(Debug, Clone, Deserialize)]
pub struct RouteDef {
    pub method: Option<String>,
    pub path: Spanned<String>,
    pub status: Option<u16>,
    pub json: Option<serde_json::Value>,
    pub body: Option<String>,
    #[serde(default)]
    pub headers: Map<String>,
    #[serde(default)]
    pub query: Map<String>,
    pub delay_ms: Option<Spanned<u64>>,
    pub priority: Option<i64>,
}

/// `[config]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ConfigSection {
    pub environment: Option<Spanned<String>>,
    #[serde(default)]
    pub values: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub environments: BTreeMap<String, Spanned<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default)]
    pub files: Vec<Spanned<ConfigFileDef>>,
    #[serde(default)]
    pub sources: Map<Spanned<SourceDef>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfigFileDef {
    pub template: Spanned<String>,
    pub output: Spanned<String>,
    /// Render only for these environments (all when absent).
    pub environments: Option<Vec<String>>,
}

/// `[config.sources.<name>]`: values pulled from a running environment.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceDef {
    pub kind: SourceKind,
    pub url: Spanned<String>,
    /// Consul: the KV prefix to read recursively.
    pub prefix: Option<String>,
    /// Nest the values under this key instead of the top level.
    pub key: Option<String>,
    /// Only for these environments (all when absent).
    pub environments: Option<Vec<String>>,
    /// Name of an environment variable holding a bearer/Consul token.
    pub token_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Http,
    Consul,
}

/// `[secrets.<NAME>]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SecretDef {
    pub env: Option<String>,
    pub command: Option<CommandSpec>,
    pub prompt: Option<String>,
    #[serde(default)]
    pub optional: bool,
}

/// `[hooks]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct HooksSection {
    #[serde(default)]
    pub setup: Vec<Spanned<HookEntry>>,
    #[serde(default)]
    pub pre_down: Vec<Spanned<HookEntry>>,
}

/// A hook: `"npm ci"` or `{ run = "npm ci", if_changed = ["package-lock.json"] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEntry {
    pub run: String,
    pub name: Option<String>,
    pub if_changed: Vec<String>,
}

impl<'de> Deserialize<'de> for HookEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Full {
            run: String,
            name: Option<String>,
            #[serde(default)]
            if_changed: Vec<String>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HookEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command string or a table with `run` (and optional `if_changed`)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HookEntry, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("a hook command cannot be empty"));
                }
                Ok(HookEntry {
                    run: v.to_string(),
                    name: None,
                    if_changed: Vec::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HookEntry, A::Error> {
                let f = Full::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(HookEntry {
                    run: f.run,
                    name: f.name,
                    if_changed: f.if_changed,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `[metrics]`
#[derive(Debug, Default, Clone, Deserialize)]
pub struct MetricsSection {
    pub endpoint: Option<Spanned<String>>,
    pub format: Option<MetricsFormat>,
    pub auto_report: Option<bool>,
    pub timeout: Option<DurationValue>,
    /// How the hire is identified: a salted hash of the email (default), the email, or not at all.
    pub identity: Option<Identity>,
    /// Pushgateway job name (default "devenv").
    pub job: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsFormat {
    #[default]
    Pushgateway,
    Webhook,
    Otlp,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    #[default]
    Hashed,
    Email,
    None,
}

/// Every key the schema knows, per table path, for "did you mean" hints and
/// for the unknown-key check. Keep in step with the structs above.
pub fn known_keys(path: &[&str]) -> Option<&'static [&'static str]> {
    Some(match path {
        [] => &[
            "project",
            "settings",
            "tools",
            "requires",
            "services",
            "mocks",
            "processes",
            "config",
            "secrets",
            "hooks",
            "metrics",
            "env",
        ],
        ["project"] => &["name"],
        ["settings"] => &["registry_mirror", "pull", "mounts"],
        ["tools", _] => &[
            "version",
            "url",
            "bin",
            "sha256",
            "strip_components",
            "platforms",
            "allow_unverified",
            "max_unpacked",
            "max_ratio",
        ],
        ["tools", _, "platforms", _] => &["url", "bin", "strip_components"],
        ["services", _] => &[
            "stack",
            "version",
            "image",
            "build",
            "ports",
            "env",
            "command",
            "entrypoint",
            "volumes",
            "mounts",
            "ready",
            "depends_on",
            "run",
            "bind",
            "exports",
            "user",
            "working_dir",
            "platform",
        ],
        ["services", _, "build"] => &["context", "dockerfile", "args", "target"],
        ["services", _, "ready"] => &[
            "tcp",
            "http",
            "port",
            "exec",
            "log",
            "healthcheck",
            "postgres",
            "timeout",
        ],
        ["mocks", _] => &[
            "port",
            "wiremock",
            "pact",
            "openapi",
            "mountebank",
            "provider_state",
            "admin_prefix",
            "routes",
        ],
        ["mocks", _, "routes", _] => &[
            "method", "path", "status", "json", "body", "headers", "query", "delay_ms", "priority",
        ],
        ["processes", _] => &["command", "cwd", "env", "ready", "depends_on", "restart"],
        ["processes", _, "ready"] => &["tcp", "http", "port", "log", "timeout"],
        ["config"] => &["environment", "values", "environments", "files", "sources"],
        ["config", "files", _] => &["template", "output", "environments"],
        ["config", "sources", _] => &["kind", "url", "prefix", "key", "environments", "token_env"],
        ["secrets", _] => &["env", "command", "prompt", "optional"],
        ["hooks"] => &["setup", "pre_down"],
        ["hooks", _, _] => &["run", "name", "if_changed"],
        ["stack"] => &[
            "description",
            "image",
            "version",
            "ports",
            "env",
            "command",
            "entrypoint",
            "volumes",
            "ready",
            "exports",
            "docs",
        ],
        ["stack", "ready"] => &[
            "tcp",
            "http",
            "port",
            "exec",
            "log",
            "healthcheck",
            "postgres",
            "timeout",
        ],
        ["metrics"] => &[
            "endpoint",
            "format",
            "auto_report",
            "timeout",
            "identity",
            "job",
        ],
        _ => return None,
    })
}
