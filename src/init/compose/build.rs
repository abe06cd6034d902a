//! A compose `build:` to `build = ...`: the short form (a context) and the
//! long form's `context`, `dockerfile`, `args` and `target`.
//!
//! Paths in compose are relative to the compose file; in devenv.toml to
//! the repository root, so the context is rebased. devenv.toml refuses a
//! context or Dockerfile that is missing or outside the repository, so
//! such a build is not converted (and says why) rather than written into
//! a file that would not validate.

use std::collections::BTreeMap;

use super::parts::repo_path;
use super::yaml::Node;
use super::ComposeInput;
use crate::init::BuildDraft;

/// The build, and the keys of it that were left out with the reason.
pub(super) struct Converted {
    pub draft: BuildDraft,
    pub left_out: Vec<(String, String)>,
}

/// `Err` says why the build cannot be converted at all.
pub(super) fn convert(v: &Node, input: &ComposeInput<'_>) -> Result<Converted, String> {
    let mut left_out = Vec::new();
    let (context, dockerfile, args, target) = match v.entries() {
        Some(m) => {
            let mut context = None;
            let mut dockerfile = None;
            let mut args = BTreeMap::new();
            let mut target = None;
            for e in m {
                let (key, v) = (e.key.as_str(), &e.value);
                match key {
                    "context" => context = v.text(),
                    "dockerfile" => dockerfile = v.text(),
                    "target" => target = v.text(),
                    "args" => build_args(v, &mut args, &mut left_out),
                    "dockerfile_inline" => {
                        return Err("an inline Dockerfile is not converted: put it in a file and name it with `dockerfile`".into())
                    }
                    other => left_out.push((
                        format!("build.{other}"),
                        "not converted: devenv builds with context, dockerfile, args and target"
                            .to_string(),
                    )),
                }
            }
            (context, dockerfile, args, target)
        }
        None => (v.text(), None, BTreeMap::new(), None),
    };
    let context = context.unwrap_or_else(|| ".".to_string());
    if context.contains("://") || context.starts_with("git@") {
        return Err(format!(
            "the context `{context}` is remote; devenv builds from a directory in the repository"
        ));
    }
    // Contexts were rebased to the repository root while loading.
    let _ = input.dir;
    let Some(rel) = repo_path("", &context).filter(|_| !context.starts_with('/')) else {
        return Err(format!("the context `{context}` is outside the repository"));
    };
    let rel = if rel.is_empty() { ".".to_string() } else { rel };
    let file = dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
    let in_context = repo_path(&rel, &file)
        .filter(|p| !file.starts_with('/') && (rel == "." || p.starts_with(&format!("{rel}/"))));
    let Some(file_path) = in_context else {
        return Err(format!(
            "the Dockerfile `{file}` is outside the context `{context}`"
        ));
    };
    if !input.repo.exists(&rel) {
        return Err(format!("the context `{context}` does not exist"));
    }
    if !input.repo.exists(&file_path) {
        return Err(format!(
            "there is no Dockerfile `{file}` in the context `{context}`"
        ));
    }
    Ok(Converted {
        draft: BuildDraft {
            context: rel,
            dockerfile: dockerfile.filter(|d| d != "Dockerfile"),
            args,
            target,
        },
        left_out,
    })
}

/// `args:` as a mapping or a list of `K=V`. An arg without a value takes
/// compose's environment at build time, which devenv.toml cannot say.
fn build_args(v: &Node, args: &mut BTreeMap<String, String>, left_out: &mut Vec<(String, String)>) {
    let mut put = |k: String, val: Option<String>| match val {
        Some(val) => {
            args.insert(k, val);
        }
        None => left_out.push((
            format!("build.args.{k}"),
            "has no value (compose takes it from the environment at build time); set it in `args`"
                .into(),
        )),
    };
    match (v.entries(), v.items()) {
        (Some(m), _) => {
            for e in m {
                put(e.key.clone(), e.value.text());
            }
        }
        (_, Some(items)) => {
            for item in items.iter().filter_map(Node::text) {
                match item.split_once('=') {
                    Some((k, val)) => put(k.to_string(), Some(val.to_string())),
                    None => put(item, None),
                }
            }
        }
        _ => {}
    }
}
