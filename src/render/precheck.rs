//! Before any phase: every template rendered once, in strict mode, against
//! everything that will exist when the config phase runs, so that an
//! undefined variable is bad input (exit 2) found before containers and
//! mocks start, not after.
//!
//! "Everything that will exist": the value layers (without remote sources,
//! which are fetched only by the config phase), `services.<name>.*` and
//! `mocks.<name>.*` for every declared name with the fields `up` will give
//! them (from the last `up` when there was one, placeholders otherwise),
//! `secrets.<name>` for every declared secret, `env`, `project`. Rendering
//! (rather than listing variable names) keeps `is defined` and `default`
//! working as they do for real. Only undefined variables are reported here:
//! any other error is left to the config phase, which renders for real.

use serde_json::{json, Map, Value};

use crate::diagnostic::Diagnostics;
use crate::manifest::{HostPort, Manifest};
use crate::state::Connections;

use super::{engine, Request};

/// The undefined variables of every template, each with its template:line.
pub async fn check_variables(req: &Request<'_>) -> Diagnostics {
    let Ok((mut env, tpls)) = super::templates(req) else {
        // Unreadable or unparsable templates are reported by `render::check`.
        return Diagnostics::default();
    };
    // `[env]` values are templates too, reported at their place in devenv.toml.
    let vars: Vec<(&crate::manifest::EnvVar, super::engine::Source)> = req
        .manifest
        .env
        .iter()
        .map(|v| (v, super::env_vars::source(req, v)))
        .filter(|(_, src)| engine::add(&mut env, src).is_ok())
        .collect();
    if tpls.is_empty() && vars.is_empty() {
        return Diagnostics::default();
    }
    // Sources are not fetched before trust and phases; their keys are unknown.
    let mut offline = req.manifest.clone();
    let with_sources =
        offline.config.sources.iter().any(|s| {
            s.environments.is_empty() || s.environments.iter().any(|e| e == req.environment)
        });
    offline.config.sources.clear();
    let local = Request {
        manifest: &offline,
        paths: req.paths,
        environment: req.environment,
        env_values: req.env_values.clone(),
        sets: req.sets.clone(),
        vars: req.vars.clone(),
        offline: true,
        prompter: req.prompter,
        redactor: req.redactor,
        commands: req.commands,
    };
    let Ok(merged) = super::merged_values(&local, &crate::progress::Silent, false).await else {
        // Bad --set or DEVENV_VALUE_* are reported by the render itself.
        return Diagnostics::default();
    };
    let known = Connections::load(req.paths);
    let cx = engine::Context::new(engine::ContextInput {
        values: &merged.values,
        project: super::project_value(req.manifest),
        environment: req.environment,
        services: services(req.manifest, &known),
        mocks: mocks(req.manifest, &known),
        secrets: req
            .manifest
            .secrets
            .iter()
            .map(|s| (s.name.clone(), "secret".to_string()))
            .collect(),
    });
    let mut problems = Diagnostics::default();
    let mut results = super::render_all(&env, &tpls, &cx, req.redactor);
    for (var, src) in &vars {
        let moved = engine::render(&env, src, &cx, req.redactor)
            .map_err(|d| super::env_vars::at_value(req, var, d));
        results.push(moved);
    }
    for result in results {
        let Err(d) = result else { continue };
        for one in d.0 {
            let undefined = one.message.starts_with("undefined variable")
                || (one.message.starts_with("[env] ")
                    && one.message.contains(": undefined variable"));
            // A top-level name may come from a source: only the config
            // phase, with the source fetched, can tell.
            let top_level = !one.message.contains("` has no `");
            if undefined && !(with_sources && top_level) {
                problems.push(one);
            }
        }
    }
    problems.sorted()
}

/// Every declared service with the fields `up` gives it.
fn services(m: &Manifest, known: &Connections) -> Value {
    let mut out = Map::new();
    for s in &m.services {
        let mut o = Map::new();
        for k in s.exports.keys() {
            o.insert(k.clone(), Value::String(String::new()));
        }
        let mut ports = Map::new();
        for (i, p) in s.ports.iter().enumerate() {
            let host = match p.host {
                HostPort::Fixed(h) => h,
                HostPort::Auto => 1,
            };
            ports.insert(p.container.to_string(), json!(host));
            if i == 0 {
                o.insert("port".into(), json!(host));
            }
        }
        o.entry("port").or_insert(Value::Null);
        o.insert("ports".into(), Value::Object(ports));
        o.insert("name".into(), json!(s.name));
        o.insert("host".into(), json!("127.0.0.1"));
        if let Some(ep) = known.services.get(&s.name) {
            for (k, v) in &ep.exports {
                o.insert(k.clone(), json!(v));
            }
        }
        out.insert(s.name.clone(), Value::Object(o));
    }
    Value::Object(out)
}

/// Every declared mock with its `name`, `host`, `port` and `url`.
fn mocks(m: &Manifest, known: &Connections) -> Value {
    let mut out = Map::new();
    for mk in &m.mocks {
        let port = match (mk.port, known.mocks.get(&mk.name)) {
            (HostPort::Fixed(p), _) => p,
            (HostPort::Auto, Some(ep)) => ep.port,
            (HostPort::Auto, None) => 1,
        };
        out.insert(
            mk.name.clone(),
            json!({"name": mk.name, "host": "127.0.0.1", "port": port, "url": format!("http://127.0.0.1:{port}")}),
        );
    }
    Value::Object(out)
}
