//! `devenv render --explain KEY`: a value and the layer it came from, with
//! the layers it overrides. Secrets show as `***` with their origin only.
//! The namespaces `values` and `secrets` are explained whole: every key
//! below them and where it comes from.

use std::fmt;

use serde_json::Value;

use super::secrets::{NoPrompt, Resolver, SecretError};
use super::values::{display_key, parse_key, Explanation, Merged};
use super::{engine::RESERVED, RenderError, Request};
use crate::diagnostic::did_you_mean;
use crate::redact::MASK;

#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    pub key: String,
    /// As JSON, or `***` for a secret.
    pub value: String,
    /// The layer that won, or where a connection detail or secret came from.
    pub from: String,
    /// Layers the winner overrides, highest first, with their values.
    pub overrides: Vec<(String, String)>,
    /// For a table: each leaf below it and its layer.
    pub leaves: Vec<(String, String)>,
    /// For a namespace: what it is, in one line.
    pub about: String,
}

impl fmt::Display for Explained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} = {}", self.key, self.value)?;
        if !self.about.is_empty() {
            writeln!(f, "  {}", self.about)?;
        }
        if !self.from.is_empty() {
            writeln!(f, "  from {}", self.from)?;
        }
        if !self.overrides.is_empty() {
            writeln!(f, "  overrides:")?;
            for (layer, v) in &self.overrides {
                writeln!(f, "    {v} from {layer}")?;
            }
        }
        for (leaf, layer) in &self.leaves {
            writeln!(f, "  {leaf} from {layer}")?;
        }
        Ok(())
    }
}

pub struct Inputs<'a> {
    pub req: &'a Request<'a>,
    pub merged: &'a Merged,
    pub services: &'a Value,
    pub mocks: &'a Value,
    pub project: &'a Value,
}

fn json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn walk<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(v, |cur, seg| cur.as_object()?.get(seg))
}

pub fn explain(i: Inputs<'_>, key: &str) -> Result<Explained, RenderError> {
    let path = parse_key(key).map_err(|e| {
        RenderError::usage(
            format!("--explain {key}: {e}"),
            "give a key like `log_level` or `database.pool`",
        )
    })?;
    let simple = |value: String, from: &str| Explained {
        key: display_key(&path),
        value,
        from: from.to_string(),
        overrides: Vec::new(),
        leaves: Vec::new(),
        about: String::new(),
    };
    // `idx`: the segment of `path` that does not exist; `known`: what does.
    let not_found_at = |idx: usize, mut known: Vec<String>, at: &str| {
        // The name just rejected is never the suggestion.
        known.retain(|k| *k != path[idx]);
        let hint = match did_you_mean(&path[idx], known.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{}`?", {
                let mut p = path[..idx].to_vec();
                p.push(s.to_string());
                display_key(&p)
            }),
            None if known.is_empty() => "nothing is defined there".to_string(),
            None => format!("known here: {}", known.join(", ")),
        };
        RenderError::usage(format!("`{}` is not defined{at}", display_key(&path)), hint)
    };
    let not_found = |known: Vec<String>, at: &str| not_found_at(path.len() - 1, known, at);
    let keys_of = |v: &Value, p: &[String]| -> Vec<String> {
        walk(v, p)
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    match path[0].as_str() {
        "services" | "mocks" => {
            let root = if path[0] == "services" {
                i.services
            } else {
                i.mocks
            };
            let rest = &path[1..];
            match walk(root, rest) {
                Some(v) => Ok(simple(
                    json(v),
                    "what `devenv up` started (.devenv/state/connections.json)",
                )),
                None => {
                    let idx = (0..rest.len())
                        .find(|&n| walk(root, &rest[..=n]).is_none())
                        .unwrap_or(0);
                    let declared = if path[0] == "services" {
                        i.req.manifest.service(&rest[0]).is_some()
                    } else {
                        i.req.manifest.mock(&rest[0]).is_some()
                    };
                    let at = if idx == 0 && declared {
                        format!(
                            ": `{}` is declared but has not been started (run `devenv up` first)",
                            rest[0]
                        )
                    } else if idx == 0 {
                        format!(" among the running {}", path[0])
                    } else {
                        String::new()
                    };
                    Err(not_found_at(idx + 1, keys_of(root, &rest[..idx]), &at))
                }
            }
        }
        "project" => match walk(i.project, &path[1..]) {
            Some(v) => Ok(simple(json(v), "devenv.toml ([project])")),
            None => Err(not_found(keys_of(i.project, &[]), "")),
        },
        "environment" | "env" if path.len() == 1 => Ok(simple(
            json(&Value::from(i.req.environment)),
            "--env, else [config] environment in devenv.toml",
        )),
        "environment" | "env" => Err(RenderError::usage(
            format!("`{}` is not defined", display_key(&path)),
            format!(
                "`{}` is the config environment's name, a string with no keys: try `--explain {}`",
                path[0], path[0]
            ),
        )),
        "secrets" if path.len() == 1 => all_secrets(i.req),
        "secrets" if path.len() > 2 => Err(RenderError::usage(
            format!("`{}` is not defined", display_key(&path)),
            format!(
                "a secret is a string with no keys: try `--explain {}`",
                display_key(&path[..2])
            ),
        )),
        "values" if path.len() == 1 => Ok(all_values(i.req, i.merged)),
        "secrets" => {
            let name = path[1].as_str();
            if !i.req.manifest.secrets.iter().any(|s| s.name == name) {
                let known = i
                    .req
                    .manifest
                    .secrets
                    .iter()
                    .map(|s| s.name.clone())
                    .collect();
                return Err(not_found(known, " in [secrets]"));
            }
            let resolved = super::resolver(i.req).resolve(&[name])?;
            match resolved.origins.get(name) {
                Some(origin) => Ok(simple(MASK.to_string(), &origin.to_string())),
                None => Ok(simple(
                    "(not set)".into(),
                    "nowhere: it is optional and not provided",
                )),
            }
        }
        first => {
            let vpath: Vec<String> = if first == "values" && path.len() > 1 {
                path[1..].to_vec()
            } else {
                path.clone()
            };
            let Some(ex) = i.merged.explain(&vpath) else {
                let (idx, mut known) = i.merged.siblings(&vpath);
                if idx == 0 && vpath.len() == path.len() {
                    known.extend(RESERVED.iter().map(|s| s.to_string()));
                }
                return Err(not_found_at(idx + path.len() - vpath.len(), known, ""));
            };
            Ok(match ex {
                Explanation::Leaf { value, chain } => {
                    let mut chain = chain;
                    let (from, _) = chain.pop().unwrap_or_default();
                    Explained {
                        key: display_key(&path),
                        value: json(&value),
                        from,
                        overrides: chain
                            .iter()
                            .rev()
                            .map(|(l, v)| (l.clone(), json(v)))
                            .collect(),
                        leaves: Vec::new(),
                        about: String::new(),
                    }
                }
                Explanation::Table { value, leaves } => Explained {
                    key: display_key(&path),
                    value: json(&value),
                    from: String::new(),
                    overrides: Vec::new(),
                    leaves: leaves
                        .into_iter()
                        .map(|(p, l)| (display_key(&p), l))
                        .collect(),
                    about: String::new(),
                },
            })
        }
    }
}

/// `--explain values`: every value a template sees, each with the layer it
/// came from (templates read them as `KEY` or `values.KEY`).
fn all_values(req: &Request<'_>, merged: &Merged) -> Explained {
    let leaves = merged
        .provenance
        .iter()
        .filter_map(|(p, chain)| Some((display_key(p), chain.last()?.0.clone())))
        .collect();
    Explained {
        key: "values".into(),
        value: json(&Value::Object(merged.values.clone())),
        from: String::new(),
        overrides: Vec::new(),
        leaves,
        about: format!(
            "the merged values for `{}`, lowest layer first: [config.values] < [config.sources.*] < [config.environments.{}] < devenv.local.toml < DEVENV_VALUE_<KEY> < --set KEY=VALUE",
            req.environment, req.environment
        ),
    }
}

/// `--explain secrets`: each declared secret, masked, and where it comes
/// from. Nobody is asked here: one secret's `--explain secrets.NAME` asks,
/// as a render would; a list of them should not turn into a row of prompts.
fn all_secrets(req: &Request<'_>) -> Result<Explained, RenderError> {
    let resolver = Resolver {
        prompter: &NoPrompt,
        ..super::resolver(req)
    };
    let mut value = serde_json::Map::new();
    let mut leaves = Vec::new();
    for s in &req.manifest.secrets {
        let key = display_key(&["secrets".to_string(), s.name.clone()]);
        let (shown, from) = match resolver.resolve(&[s.name.as_str()]) {
            Ok(r) => match r.origins.get(&s.name) {
                Some(origin) => (Value::from(MASK), origin.to_string()),
                None => (Value::Null, "nowhere: it is optional and not provided".into()),
            },
            Err(SecretError::Missing(_)) if s.prompt.is_some() => (
                Value::Null,
                "not given yet: `devenv render` or `devenv up` asks for it on a terminal and keeps it outside the repository".into(),
            ),
            Err(SecretError::Missing(m)) => {
                let tried = m.iter().flat_map(|m| m.tried.clone()).collect::<Vec<_>>();
                (Value::Null, format!("nowhere: {}", tried.join("; ")))
            }
            Err(e) => return Err(e.into()),
        };
        value.insert(s.name.clone(), shown);
        leaves.push((key, from));
    }
    let about = if req.manifest.secrets.is_empty() {
        "no secrets are declared: add [secrets.NAME] to devenv.toml".to_string()
    } else {
        "the [secrets] of devenv.toml, masked; each from its env, its command or the value kept under DEVENV_HOME".to_string()
    };
    Ok(Explained {
        key: "secrets".into(),
        value: json(&Value::Object(value)),
        from: String::new(),
        overrides: Vec::new(),
        leaves,
        about,
    })
}
