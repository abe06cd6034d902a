//! A service's environment as Compose resolves it: its `env_file`s in
//! order (each expanded against the files before it, then the project
//! environment), then `environment`, where an entry without a value takes
//! the project environment's (`.env` or the shell), and is dropped, as
//! Compose drops it, when neither has one.

use std::collections::BTreeMap;

use super::parts;
use super::service::Ctx;
use super::yaml::Node;

pub(super) fn resolve(svc: &Node, cx: &mut Ctx<'_, '_>) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    if let Some(files) = svc.get("env_file") {
        for f in files.items().unwrap_or_default() {
            env_file(f, &mut env, cx);
        }
    }
    let Some(list) = svc.get("environment") else {
        return env;
    };
    let Some(entries) = list.entries() else {
        cx.note("environment", "not a list or mapping");
        return env;
    };
    let mut from_env = Vec::new();
    for e in entries {
        if !e.value.is_null() {
            env.insert(e.key.clone(), e.value.text().unwrap_or_default());
            continue;
        }
        match cx.project.env.get(&e.key) {
            Some(v) => {
                env.insert(e.key.clone(), v.clone());
                from_env.push(e.key.clone());
            }
            None => {
                env.remove(&e.key);
                cx.note_at(
                    &format!("environment.{}", e.key),
                    e.at,
                    "takes its value from the shell, where it is not set, so compose leaves it out and so does devenv: set it in `env`, or make it a [secrets] entry",
                );
            }
        }
    }
    if !from_env.is_empty() {
        cx.svc_notes.push(format!(
            "{} from .env or the environment at init (compose reads them there each time)",
            from_env.join(", ")
        ));
    }
    env
}

fn env_file(f: &Node, env: &mut BTreeMap<String, String>, cx: &mut Ctx<'_, '_>) {
    let Some(path) = f.get("path").and_then(Node::text) else {
        return;
    };
    let required = f.get("required").and_then(Node::as_bool).unwrap_or(true);
    let written = f
        .get("path")
        .and_then(|p| p.written.clone())
        .unwrap_or_else(|| path.clone());
    let key = format!("env_file {written}");
    let rel = parts::repo_path("", &path);
    if rel
        .as_deref()
        .is_some_and(|p| parts::git_ignored(cx.input.repo, p))
    {
        // A git-ignored env file holds someone's local settings, often
        // real secrets: they must not end up in a committed devenv.toml.
        cx.note_at(
            &key,
            f.at,
            "git-ignored, so it likely holds local secrets: not inlined; put shared values in `env` and secrets in [secrets]",
        );
        return;
    }
    let Some(text) = rel.as_ref().and_then(|p| cx.input.repo.read(p)) else {
        if required {
            cx.note_at(
                &key,
                f.at,
                "the file does not exist (or is outside the repository); its variables were not converted",
            );
        }
        return;
    };
    let project = &cx.project.env;
    let known = env.clone();
    let lookup = |k: &str| known.get(k).or_else(|| project.get(k)).cloned();
    match crate::init::dotenv::resolve(&text, &lookup) {
        Ok(vars) => {
            cx.svc_notes.push(format!(
                "env from env_file {written} ({} variable(s) inlined; keep real secrets out of devenv.toml)",
                vars.len()
            ));
            env.extend(vars);
        }
        Err((line, msg)) => cx.note_at(
            &key,
            f.at,
            format!("line {line}: {msg}; its variables were not converted"),
        ),
    }
}
