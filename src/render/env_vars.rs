//! `[env]`: variables whose values are templates, rendered with exactly the
//! context config files get (values, `services.*`, `mocks.*`, `secrets.*`,
//! `env`, `project`), for hooks, processes, `exec`, `shell` and `env`.
//!
//! A problem in a value (an undefined variable, a syntax error) is reported
//! at the value in devenv.toml, with its line and column.

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::manifest::EnvVar;

use super::{engine, RenderError, Request};

/// The rendered `[env]`, and what was left out.
#[derive(Debug, Default)]
pub struct RenderedEnv {
    /// Name and value, in declaration order.
    pub vars: Vec<(String, String)>,
    /// Variables left unset because a declared service or mock they name is
    /// not up yet (before the first `up`), each with why.
    pub unset: Vec<String>,
}

/// Every `[env]` variable with its rendered value, in declaration order.
pub async fn render_env(req: &Request<'_>) -> Result<RenderedEnv, RenderError> {
    let vars = &req.manifest.env;
    if vars.is_empty() {
        return Ok(RenderedEnv::default());
    }
    super::check_environment(req)?;
    let mut env = engine::environment(&req.manifest.root);
    let sources: Vec<engine::Source> = vars.iter().map(|v| source(req, v)).collect();
    let mut problems = Diagnostics::default();
    for (var, src) in vars.iter().zip(&sources) {
        if let Err(d) = engine::add(&mut env, src) {
            problems.extend(at_value(req, var, d));
        }
    }
    if !problems.is_empty() {
        return Err(RenderError::Invalid(problems));
    }
    let merged = super::merged_values(req, &crate::progress::Silent, false).await?;
    let needed = super::needed_secrets(&env, sources.iter(), req.manifest);
    let resolved = super::resolver(req).resolve(&needed)?;
    let (services, mocks) = super::connection_values(req.paths);
    let cx = engine::Context::new(engine::ContextInput {
        values: &merged.values,
        project: super::project_value(req.manifest),
        environment: req.environment,
        services,
        mocks,
        secrets: resolved.values,
    });
    let mut out = RenderedEnv::default();
    for (var, src) in vars.iter().zip(&sources) {
        match engine::render(&env, src, &cx, req.redactor) {
            Ok(o) => out.vars.push((var.name.clone(), o.text)),
            Err(d) => match not_up_yet(req, &d) {
                Some(what) => out.unset.push(format!(
                    "{} is not set: {what} is not up yet (`devenv up` starts it)",
                    var.name
                )),
                None => problems.extend(at_value(req, var, d)),
            },
        }
    }
    problems.into_result(out).map_err(RenderError::Invalid)
}

/// "mock `pay`" when the only problem is that a declared service or mock
/// has no connection details yet.
fn not_up_yet(req: &Request<'_>, d: &Diagnostics) -> Option<String> {
    let [one] = d.0.as_slice() else { return None };
    let m = req.manifest;
    for (kind, names) in [
        (
            "services",
            m.services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
        ),
        ("mocks", m.mocks.iter().map(|x| x.name.as_str()).collect()),
    ] {
        for name in names {
            if one.message.contains(&format!("`{kind}` has no `{name}`")) {
                let what = if kind == "services" {
                    "service"
                } else {
                    "mock"
                };
                return Some(format!("{what} `{name}`"));
            }
        }
    }
    None
}

pub(super) fn source(req: &Request<'_>, var: &EnvVar) -> engine::Source {
    engine::Source {
        name: format!("[env] {}", var.name),
        path: req.manifest.path.clone(),
        text: var.template.clone(),
    }
}

/// The engine's problems, moved from the value's own text to where the
/// value is in devenv.toml.
pub(super) fn at_value(req: &Request<'_>, var: &EnvVar, d: Diagnostics) -> Diagnostics {
    let text = std::fs::read_to_string(&req.manifest.path).unwrap_or_default();
    d.0.into_iter()
        .map(|one| {
            let moved = Diagnostic::at(
                &req.manifest.path,
                &text,
                var.span.clone(),
                format!("[env] {}: {}", var.name, one.message),
            );
            match one.hint {
                Some(h) => moved.with_hint(h),
                None => moved,
            }
        })
        .fold(Diagnostics::default(), |mut all, one| {
            all.push(one);
            all
        })
}
