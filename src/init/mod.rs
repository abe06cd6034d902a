//! `devenv init`: turn what a repository already has (package manifests,
//! version files, a docker-compose file, an `.env.example`) into a first,
//! commented devenv.toml.
//!
//! Everything here is pure: detection and conversion take file contents
//! (through `RepoView`) and return a `Draft` plus the list of what could not
//! be converted; `render` turns the draft into text. The command layer reads
//! the files, asks the questions, validates the text and writes it.

mod compose;
mod detect;
mod detection;
mod dotenv;
mod finish;
pub mod flow;
mod hints;
mod render;

use std::collections::BTreeMap;

pub use compose::{
    convert as convert_compose, ComposeInput, Conversion, COMPOSE_FILES, OVERRIDE_FILES,
};
pub use detect::{detect, DETECT_FILES};
pub use detection::{Detection, StackHint};
pub use dotenv::{parse as parse_dotenv, vars as parse_dotenv_vars, DotenvLine};
pub use finish::{add_stack, resolve_port_clashes};
pub use render::render;

/// Read-only access to the repository being initialised, relative to its
/// root. The command layer implements it over the file system; tests over a map.
pub trait RepoView {
    /// Whether a path (relative to the repository root) exists.
    fn exists(&self, rel: &str) -> bool;
    /// A text file's contents, if it exists and is readable.
    fn read(&self, rel: &str) -> Option<String>;
}

/// Something of the input that the devenv.toml cannot say, listed for the
/// user rather than dropped silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconverted {
    /// Where it was, like `services.web.privileged` or `package.json engines.node`.
    pub what: String,
    /// Why, and what to do about it.
    pub why: String,
    /// `file:line` where it is, when it comes from a file.
    pub at: Option<String>,
}

impl Unconverted {
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> Self {
        Unconverted {
            what: what.into(),
            why: why.into(),
            at: None,
        }
    }

    /// The same, located at `file:line`.
    pub fn at(mut self, at: impl Into<String>) -> Self {
        self.at = Some(at.into());
        self
    }
}

impl std::fmt::Display for Unconverted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{} ({at}): {}", self.what, self.why),
            None => write!(f, "{}: {}", self.what, self.why),
        }
    }
}

/// A pinned tool for `[tools]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPin {
    pub name: String,
    pub version: String,
    /// The file the version came from, for the comment.
    pub from: String,
}

/// A readiness probe as init writes it: always an exec probe (what a compose
/// healthcheck is), with an optional timeout in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyDraft {
    pub exec: Vec<String>,
    pub timeout_secs: Option<u64>,
}

/// `build` as init writes it: the context relative to the repository root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildDraft {
    pub context: String,
    /// Relative to the context; `None` for `Dockerfile`.
    pub dockerfile: Option<String>,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
}

/// One `[services.NAME]` to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftService {
    pub name: String,
    pub stack: Option<String>,
    pub version: Option<String>,
    pub image: Option<String>,
    pub build: Option<BuildDraft>,
    /// `None`: the stack's own ports (only for stack services).
    pub ports: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub volumes: BTreeMap<String, String>,
    pub mounts: Vec<String>,
    pub ready: Option<ReadyDraft>,
    pub depends_on: Vec<String>,
    pub run_once: bool,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub platform: Option<String>,
    /// Comment lines written above the service.
    pub notes: Vec<String>,
}

/// `.env.example` turned into `[config.values]` and a template that renders `.env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvTemplate {
    /// The example file it came from.
    pub from: String,
    /// Key -> example value, in file order.
    pub values: Vec<(String, String)>,
    /// Repository-relative path of the template, e.g. `templates/.env.j2`.
    pub template: String,
    /// The template's text.
    pub template_text: String,
    /// Repository-relative output, `.env`.
    pub output: String,
}

/// Everything `render` needs to write a devenv.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub project_name: Option<String>,
    pub tools: Vec<ToolPin>,
    pub services: Vec<DraftService>,
    pub env_template: Option<EnvTemplate>,
    /// Suggested setup commands, written commented out (hooks need trust).
    pub hook_hints: Vec<String>,
    /// What was found, one line each, for the header and the summary.
    pub detected: Vec<String>,
    pub unconverted: Vec<Unconverted>,
}

impl Draft {
    pub fn service(&self, name: &str) -> Option<&DraftService> {
        self.services.iter().find(|s| s.name == name)
    }
}
