//! Config files from templates: the same templates for every environment,
//! with layered values, connection details of what `up` started, values
//! pulled from remote sources, and secrets that never leak.
//!
//! Values, lowest first (each overrides the one before):
//! `[config.values]` < `[config.sources.*]` < `[config.environments.<env>]`
//! < `devenv.local.toml` < `DEVENV_VALUE_<KEY>` < `--set KEY=VALUE`.
//!
//! Everything is rendered in memory first; nothing is written unless every
//! template rendered. A file edited by hand since devenv wrote it is never
//! overwritten without `force`.

mod diff;
mod engine;
mod env_vars;
mod explain;
pub mod filters;
mod includes;
pub mod local;
mod outputs;
mod precheck;
pub mod secrets;
pub mod sources;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use crate::manifest::Manifest;
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::state::Connections;

pub use crate::redact::{RedactingReporter, Redactor, MASK};
pub use env_vars::{render_env, RenderedEnv};
pub use explain::Explained;
pub use outputs::{Removed, Status};
pub use precheck::check_variables;
pub use secrets::{CommandOutputs, NoPrompt, SecretError, SecretPrompter};
pub use sources::SourceError;
pub use values::{Layer, Merged};

/// Everything a render needs from outside the core. The command layer
/// builds it: the core never reads the process environment.
pub struct Request<'a> {
    pub manifest: &'a Manifest,
    pub paths: &'a Paths,
    /// The config environment (`--env`, else `[config] environment`).
    pub environment: &'a str,
    /// `DEVENV_VALUE_<KEY>` variables as (KEY, value), KEY without the prefix.
    pub env_values: Vec<(String, String)>,
    /// `--set KEY=VALUE` arguments, in command-line order.
    pub sets: Vec<String>,
    /// The environment variables the manifest names for secrets and source
    /// tokens (see `referenced_vars`), and only those.
    pub vars: BTreeMap<String, String>,
    pub offline: bool,
    pub prompter: &'a dyn SecretPrompter,
    /// Learns every secret value as soon as it is found.
    pub redactor: &'a Redactor,
    /// Secret commands this devenv command already ran.
    pub commands: &'a CommandOutputs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Write what changed; `force` overwrites hand-edited files.
    Write { force: bool },
    /// Write nothing; report what is missing or stale.
    Check,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template, devenv.local.toml or a value is wrong. Exit 2.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// A flag or variable is wrong (`--set`, `--env`, `--explain`). Exit 2.
    #[error("{message}")]
    Usage { message: String, hint: String },
    /// Exit 3 when missing.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Exit 1.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Files edited by hand since devenv wrote them. Exit 1.
    #[error("{}", edited_message(.0))]
    HandEdited(Vec<Edited>),
    /// Exit 1.
    #[error("{0}")]
    Io(String),
}

#[derive(Debug, Clone)]
pub struct Edited {
    pub rel: String,
    pub foreign: bool,
    pub diff: String,
}

fn edited_message(e: &[Edited]) -> String {
    let mut s = String::new();
    for (i, one) in e.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        if one.foreign {
            s.push_str(&format!(
                "{} exists and was not written by devenv; not overwriting it\n",
                one.rel
            ));
        } else {
            s.push_str(&format!(
                "{} was edited by hand since devenv wrote it; not overwriting it\n",
                one.rel
            ));
        }
        s.push_str(one.diff.trim_end());
    }
    s
}

impl RenderError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RenderError::Usage { hint, .. } => Some(hint.clone()),
            RenderError::Secret(e) => e.hint(),
            RenderError::Source(e) => Some(e.hint()),
            RenderError::HandEdited(_) => Some(hand_edit_hint("devenv render --force")),
            _ => None,
        }
    }

    fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        RenderError::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// What to do about a hand-edited output; `command` is the render command
/// that overwrites it (the caller knows which flags this one was given).
pub fn hand_edit_hint(command: &str) -> String {
    format!(
        "keep your change in devenv.local.toml or the template, then run `{command}` to overwrite the file"
    )
}

/// The result of a render.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Each output for this environment with its status before the run.
    pub files: Vec<(String, Status)>,
    /// Outputs written (Write mode only).
    pub written: Vec<String>,
    /// Outputs missing or out of date, with a diff (Check mode only).
    pub stale: Vec<(String, Status, String)>,
}

/// The environment variables a render may need to read: those named by
/// `[secrets.*] env` and `[config.sources.*] token_env`.
pub fn referenced_vars(m: &Manifest) -> Vec<String> {
    let mut v: Vec<String> = m
        .secrets
        .iter()
        .filter_map(|s| s.env.clone())
        .chain(
            m.config
                .sources
                .iter()
                .filter_map(|s| match (&s.token_env, s.kind) {
                    (Some(v), _) => Some(v.clone()),
                    (None, crate::manifest::SourceKind::Consul) => {
                        Some(sources::CONSUL_TOKEN_VAR.to_string())
                    }
                    (None, _) => None,
                }),
        )
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Parses (does not render) every template and devenv.local.toml; reports
/// every syntax error with its file and line.
pub fn check(m: &Manifest) -> Diagnostics {
    let mut problems = Diagnostics::default();
    // Building the environment is most of a no-op `up`'s render check:
    // only when there is a template to parse.
    if !m.config.files.is_empty() {
        let env = engine::environment(&m.root);
        for f in &m.config.files {
            match read_template(&m.root, &f.template) {
                Ok(src) => {
                    if let Err(d) = engine::parse(&env, &src) {
                        problems.extend(d);
                    }
                    problems.extend(includes::scan(&m.root, &src));
                }
                Err(d) => problems.extend(d),
            }
        }
    }
    if let Err(d) = local::load(&m.root) {
        problems.extend(d);
    }
    problems.sorted()
}

/// Removes the rendered files devenv wrote and nobody edited since, and the
/// render state (for `devenv reset`).
pub fn remove_outputs(m: &Manifest, paths: &Paths) -> std::io::Result<Removed> {
    debug_assert_eq!(m.root, paths.root);
    outputs::remove(paths)
}

/// Reads a template through `confine`: checked when devenv.toml was
/// loaded, and again here, where it is opened.
fn read_template(root: &Path, path: &Path) -> Result<engine::Source, Diagnostics> {
    let text = crate::confine::read_to_string(root, path).map_err(|e| {
        let what = match &e {
            e if e.is_not_found() => "template not found".to_string(),
            crate::confine::OpenError::Escape(e) => format!("template {e}"),
            e => format!("cannot read the template: {e}"),
        };
        Diagnostics::from(
            Diagnostic::file(path, what)
                .with_hint("check `template` in [[config.files]] of devenv.toml"),
        )
    })?;
    Ok(engine::Source {
        name: outputs::rel_path(path, root),
        path: path.to_path_buf(),
        text,
    })
}

fn resolver<'a>(req: &'a Request<'a>) -> secrets::Resolver<'a> {
    secrets::Resolver {
        secrets: &req.manifest.secrets,
        vars: &req.vars,
        paths: req.paths,
        project_id: &req.manifest.project.id,
        prompter: req.prompter,
        redactor: req.redactor,
        commands: req.commands,
    }
}

/// The merged values for the request's environment, with where each came from.
pub async fn values(req: &Request<'_>, reporter: &dyn Reporter) -> Result<Merged, RenderError> {
    merged_values(req, reporter, true).await
}

/// `write_cache` is false for `--check`, which writes nothing at all.
async fn merged_values(
    req: &Request<'_>,
    reporter: &dyn Reporter,
    write_cache: bool,
) -> Result<Merged, RenderError> {
    check_environment(req)?;
    resolver(req).learn_known();
    let m = req.manifest;
    let mut layers = vec![Layer::new(
        "[config.values] in devenv.toml",
        m.config.values.clone(),
    )];
    let wanted: Vec<&crate::manifest::ValueSource> = m
        .config
        .sources
        .iter()
        .filter(|s| {
            s.environments.is_empty() || s.environments.iter().any(|e| e == req.environment)
        })
        .collect();
    if !wanted.is_empty() {
        let opts = sources::FetchOptions {
            offline: req.offline,
            vars: &req.vars,
            write_cache,
        };
        for f in sources::load(&wanted, req.paths, &opts, reporter).await? {
            layers.push(Layer::new(format!("[config.sources.{}]", f.name), f.values));
        }
    }
    if let Some(env_values) = m.config.environments.get(req.environment) {
        layers.push(Layer::new(
            format!("[config.environments.{}] in devenv.toml", req.environment),
            env_values.clone(),
        ));
    }
    if let Some(local) = local::load(&m.root).map_err(RenderError::Invalid)? {
        layers.push(Layer::new(local::FILE_NAME, local));
    }
    // Variable names are matched against the keys known so far.
    let known = values::merge(&layers).values;
    let mut env_values = req.env_values.clone();
    env_values.sort();
    for (key, value) in &env_values {
        let path = values::env_key_path(key, &known).map_err(|e| {
            RenderError::usage(
                format!("DEVENV_VALUE_{key}: {e}"),
                "name it DEVENV_VALUE_<KEY>, with `__` between nested keys: DEVENV_VALUE_DATABASE__POOL=5 sets database.pool",
            )
        })?;
        layers.push(Layer::new(
            format!("environment variable DEVENV_VALUE_{key}"),
            values::nested(&path, values::parse_scalar(value)),
        ));
    }
    for arg in &req.sets {
        let (path, value) = values::parse_set(arg).map_err(|e| {
            RenderError::usage(
                format!("--set {arg}: {e}"),
                "write it as --set KEY=VALUE, with dots for nested keys: --set database.pool=5",
            )
        })?;
        layers.push(Layer::new(
            format!("--set {}", values::display_key(&path)),
            values::nested(&path, value),
        ));
    }
    Ok(values::merge(&layers))
}

fn check_environment(req: &Request<'_>) -> Result<(), RenderError> {
    let envs = &req.manifest.config.environments;
    if req.environment == "local" || envs.contains_key(req.environment) {
        return Ok(());
    }
    let known: Vec<&str> = envs.keys().map(String::as_str).collect();
    let hint = match did_you_mean(req.environment, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if known.is_empty() => "define it as [config.environments.NAME] in devenv.toml".into(),
        None => format!("defined environments: local, {}", known.join(", ")),
    };
    Err(RenderError::usage(
        format!("environment `{}` is not defined", req.environment),
        hint,
    ))
}

/// `services` and `mocks` for templates, from `.devenv/state/connections.json`.
fn connection_values(paths: &Paths) -> (Value, Value) {
    let c = Connections::load(paths);
    let services: Map<String, Value> = c
        .services
        .iter()
        .map(|(name, ep)| {
            let mut o: Map<String, Value> = ep
                .exports
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            o.insert("name".into(), name.clone().into());
            o.insert("host".into(), ep.host.clone().into());
            o.insert("port".into(), ep.port.map_or(Value::Null, Value::from));
            o.insert(
                "ports".into(),
                Value::Object(
                    ep.ports
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(*v)))
                        .collect(),
                ),
            );
            (name.clone(), Value::Object(o))
        })
        .collect();
    let mocks: Map<String, Value> = c
        .mocks
        .iter()
        .map(|(name, ep)| {
            let o =
                serde_json::json!({"name": name, "host": ep.host, "port": ep.port, "url": ep.url});
            (name.clone(), o)
        })
        .collect();
    (Value::Object(services), Value::Object(mocks))
}

fn project_value(m: &Manifest) -> Value {
    serde_json::json!({
        "name": m.project.name,
        "id": m.project.id,
        "root": m.root.to_string_lossy(),
    })
}

/// The templates for the request's environment, read and compiled once
/// into one minijinja environment.
type Compiled = (
    minijinja::Environment<'static>,
    Vec<(engine::Source, PathBuf)>,
);

fn templates(req: &Request<'_>) -> Result<Compiled, RenderError> {
    let mut env = engine::environment(&req.manifest.root);
    let mut out = Vec::new();
    let mut problems = Diagnostics::default();
    for f in &req.manifest.config.files {
        if !f.environments.is_empty() && !f.environments.iter().any(|e| e == req.environment) {
            continue;
        }
        match read_template(&req.manifest.root, &f.template) {
            Ok(src) => {
                problems.extend(includes::scan(&req.manifest.root, &src));
                match engine::add(&mut env, &src) {
                    Ok(()) => out.push((src, f.output.clone())),
                    Err(d) => problems.extend(d),
                }
            }
            Err(d) => problems.extend(d),
        }
    }
    if let Err(d) = local::load(&req.manifest.root) {
        problems.extend(d);
    }
    problems
        .into_result((env, out))
        .map_err(RenderError::Invalid)
}

/// The declared secrets these templates refer to, in declaration order.
fn needed_secrets<'m>(
    env: &minijinja::Environment<'static>,
    sources: impl Iterator<Item = &'m engine::Source>,
    m: &'m Manifest,
) -> Vec<&'m str> {
    let mut needed: Vec<&str> = Vec::new();
    for src in sources {
        match engine::secret_use(env, src) {
            engine::SecretUse::None => {}
            engine::SecretUse::All => return m.secrets.iter().map(|s| s.name.as_str()).collect(),
            engine::SecretUse::Names(n) => {
                for name in n {
                    if let Some(s) = m.secrets.iter().find(|s| s.name == name) {
                        if !needed.contains(&s.name.as_str()) {
                            needed.push(&s.name);
                        }
                    }
                }
            }
        }
    }
    needed
}

/// Renders every template for the environment in memory, then writes
/// (or, in `Check` mode, compares) them.
pub async fn render(
    req: &Request<'_>,
    mode: Mode,
    reporter: &dyn Reporter,
) -> Result<Outcome, RenderError> {
    check_environment(req)?;
    let (env, tpls) = templates(req)?;
    let merged = merged_values(req, reporter, mode != Mode::Check).await?;

    // Only the secrets some template refers to are looked up (and asked for).
    let needed = needed_secrets(&env, tpls.iter().map(|(src, _)| src), req.manifest);
    let resolved = resolver(req).resolve(&needed)?;

    let (services, mocks) = connection_values(req.paths);
    let cx = engine::Context::new(engine::ContextInput {
        values: &merged.values,
        project: project_value(req.manifest),
        environment: req.environment,
        services,
        mocks,
        secrets: resolved.values,
    });
    let rendered = render_all(&env, &tpls, &cx, req.redactor);
    let mut planned = Vec::new();
    let mut problems = Diagnostics::default();
    for ((src, output), result) in tpls.iter().zip(rendered) {
        match result {
            Ok(out) => planned.push(outputs::Planned {
                root: req.manifest.root.clone(),
                rel: outputs::rel_path(output, &req.manifest.root),
                path: output.clone(),
                template: src.name.clone(),
                text: out.text,
                secret: out.used_secret,
            }),
            Err(d) => problems.extend(d),
        }
    }
    problems.extend(outputs::escapes(&planned));
    if !problems.is_empty() {
        return Err(RenderError::Invalid(
            req.redactor.redact_diagnostics(problems.sorted()),
        ));
    }

    let mut state = outputs::RenderState::load(req.paths);
    let assessed = outputs::assess(planned, &state);
    let mut outcome = Outcome {
        files: assessed
            .iter()
            .map(|a| (a.planned.rel.clone(), a.status))
            .collect(),
        ..Outcome::default()
    };
    match mode {
        Mode::Check => {
            outcome.stale = assessed
                .iter()
                .filter(|a| a.status.needs_write())
                .map(|a| (a.planned.rel.clone(), a.status, a.diff()))
                .collect();
        }
        Mode::Write { force } => {
            let edited: Vec<Edited> = assessed
                .iter()
                .filter(|a| a.status.needs_force())
                .map(|a| Edited {
                    rel: a.planned.rel.clone(),
                    foreign: a.status == Status::Foreign,
                    diff: a.diff(),
                })
                .collect();
            if !edited.is_empty() && !force {
                return Err(RenderError::HandEdited(edited));
            }
            for e in &edited {
                reporter.message(Level::Warn, &format!("overwriting {} (--force)", e.rel));
            }
            req.paths
                .ensure_state_dir()
                .map_err(|e| RenderError::Io(format!("cannot create .devenv/: {e}")))?;
            outcome.written = outputs::write_all(&assessed, req.environment, req.paths, &mut state)
                .map_err(|e| RenderError::Io(e.to_string()))?;
            state
                .save(req.paths)
                .map_err(|e| RenderError::Io(format!("cannot save the render state: {e}")))?;
        }
    }
    Ok(outcome)
}

/// Renders the templates on every core, results in template order.
fn render_all(
    env: &minijinja::Environment<'static>,
    tpls: &[(engine::Source, PathBuf)],
    cx: &engine::Context,
    redactor: &Redactor,
) -> Vec<Result<engine::Output, Diagnostics>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = tpls.len().div_ceil(threads.max(1)).max(8);
    if tpls.len() <= chunk {
        return tpls
            .iter()
            .map(|(src, _)| engine::render(env, src, cx, redactor))
            .collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = tpls
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(src, _)| engine::render(env, src, cx, redactor))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a render thread panicked"))
            .collect()
    })
}

/// What `--explain KEY` prints, for values, connection details, secrets
/// and the built-in names.
pub async fn explain(
    req: &Request<'_>,
    key: &str,
    reporter: &dyn Reporter,
) -> Result<Explained, RenderError> {
    let merged = values(req, reporter).await?;
    let (services, mocks) = connection_values(req.paths);
    explain::explain(
        explain::Inputs {
            req,
            merged: &merged,
            services: &services,
            mocks: &mocks,
            project: &project_value(req.manifest),
        },
        key,
    )
}
