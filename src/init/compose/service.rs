//! One compose service to one `[services.NAME]`.

use std::collections::BTreeMap;

use serde_yaml_ng::{Mapping, Value};

use super::parts::{self, Health, Volume};
use super::{interpolate, key_str, scalar, ComposeInput, Condition, Dep};
use crate::init::{dotenv, DraftService, Unconverted};

struct Ctx<'a, 'b> {
    input: &'a ComposeInput<'b>,
    name: &'a str,
    out: &'a mut Vec<Unconverted>,
}

impl Ctx<'_, '_> {
    fn note(&mut self, key: &str, why: impl Into<String>) {
        let what = if key.is_empty() {
            format!("services.{}", self.name)
        } else {
            format!("services.{}.{key}", self.name)
        };
        self.out.push(Unconverted::new(what, why));
    }
}

/// Converts one service; `None` (with the reason listed) when it cannot be.
pub(super) fn convert(
    name: &str,
    raw: &Value,
    input: &ComposeInput<'_>,
    out: &mut Vec<Unconverted>,
) -> Option<(DraftService, Vec<Dep>)> {
    let mut cx = Ctx { input, name, out };
    if !crate::manifest::valid_name(name) {
        cx.note("", "not a valid devenv service name (letters, digits, `-`, `_`, `.`, starting with a letter or digit)");
        return None;
    }
    let value = interpolate_tree(raw, &format!("services.{name}"), &mut cx);
    let Some(m) = value.as_mapping() else {
        cx.note("", "not a mapping");
        return None;
    };
    let get = |k: &str| m.get(k);
    let image = get("image").and_then(scalar).filter(|s| !s.is_empty());
    let build = match get("build").map(|b| super::build::convert(b, input)) {
        Some(Ok(b)) => {
            for (key, why) in b.left_out {
                cx.note(&key, why);
            }
            Some(b.draft)
        }
        Some(Err(why)) => {
            match &image {
                Some(i) => cx.note("build", format!("not converted: {why}; build `{i}` before `devenv up` (e.g. `docker compose build {name}`)")),
                None => {
                    cx.note("build", format!("not converted: {why}; the service was left out"));
                    return None;
                }
            }
            None
        }
        None => None,
    };
    if image.is_none() && build.is_none() {
        let why = if get("extends").is_some() {
            "uses `extends`, which init does not resolve: merge the base service into it by hand"
        } else {
            "has no `image`"
        };
        cx.note("", why);
        return None;
    }
    if let Some(image) = image.as_deref().filter(|i| {
        i.contains(char::is_whitespace)
            || (i.chars().any(|c| c.is_ascii_uppercase()) && !i.contains('/'))
    }) {
        cx.note(
            "image",
            format!("`{image}` is not a valid image reference; the service was left out"),
        );
        return None;
    }
    let mut svc = DraftService {
        name: name.to_string(),
        ..Default::default()
    };
    // A built image is the service's own: no preset stands in for it, and
    // `image` only names the build.
    let stack = match (&build, &image) {
        (None, Some(image)) => stack_of(image, input),
        _ => None,
    };
    let image = image.unwrap_or_default();
    svc.build = build;
    let foreign = stack.as_ref().is_some_and(|(_, same)| !same);
    match &stack {
        Some((st, true)) => {
            svc.stack = Some(st.clone());
            svc.version = parts::hub_image(&image).and_then(|(_, t)| t);
        }
        Some((st, false)) => {
            svc.stack = Some(st.clone());
            let preset = input
                .stacks
                .get(st)
                .map(|s| format!("{}:{}", s.def.image, s.def.version))
                .unwrap_or_default();
            svc.notes
                .push(format!("was `{image}`; the {st} preset runs {preset}"));
        }
        None => svc.image = Some(image.clone()).filter(|i| !i.is_empty()),
    }
    let mut env = BTreeMap::new();
    if let Some(v) = get("env_file") {
        env_files(v, &mut env, &mut svc, &mut cx);
    }
    if let Some(v) = get("environment") {
        environment(v, &mut env, &mut cx);
    }
    let preset = svc.stack.as_ref().and_then(|s| input.stacks.get(s));
    if foreign && !env.is_empty() {
        let keys: Vec<&str> = env.keys().map(String::as_str).collect();
        cx.note(
            "environment",
            format!(
                "{image} settings do not apply to the preset's image and were not carried over: {}",
                keys.join(", ")
            ),
        );
        env.clear();
    }
    if let Some(p) = preset {
        let written = env.clone();
        env.retain(|k, v| p.def.env.get(k).is_none_or(|pv| pv.0 != *v));
        if !foreign {
            // Where compose relied on the image's defaults (user `postgres`,
            // rabbitmq's guest), keep them: the other services' connection
            // strings were written against them, not against the preset's.
            for k in p.def.env.keys().filter(|k| !written.contains_key(*k)) {
                if let Some(v) = parts::image_default(&p.name, k, &written) {
                    svc.notes.push(if v.is_empty() {
                        format!("{k} = \"\": compose left it unset, and the preset's value would change the image's behaviour")
                    } else {
                        format!("{k} = \"{v}\" is the image's default the compose file relied on (the preset would set another)")
                    });
                    env.insert(k.clone(), v);
                }
            }
        }
        let unset: Vec<String> = p
            .def
            .env
            .iter()
            .filter(|(k, _)| !written.contains_key(*k) && !env.contains_key(*k))
            .map(|(k, v)| format!("{k}={}", v.0))
            .collect();
        if !unset.is_empty() && !foreign {
            svc.notes.push(format!(
                "the {} preset also sets {}",
                p.name,
                unset.join(", ")
            ));
        }
    }
    svc.env = env;
    let mut deps = Vec::new();
    for (k, v) in m {
        let key = key_str(k);
        match key.as_str() {
            "image" | "build" | "environment" | "env_file" | "profiles" | "expose" => {}
            "ports" => {
                let mut specs = Vec::new();
                for p in v.as_sequence().into_iter().flatten() {
                    let port = parts::port(p);
                    if let Some(s) = port.spec {
                        specs.push(s);
                    }
                    if let Some(why) = port.problem {
                        cx.note(&format!("ports `{}`", shown_long(p)), why);
                    }
                }
                svc.ports = Some(specs);
            }
            "volumes" => {
                for vol in v.as_sequence().into_iter().flatten() {
                    volume(vol, &mut svc, foreign, &mut cx);
                }
            }
            "command" | "entrypoint" => match command(v) {
                Ok(c) if foreign => {
                    let _ = c;
                    cx.note(
                        &key,
                        "written for the original image; not carried over to the preset",
                    );
                }
                Ok(c) if key == "command" => svc.command = Some(c),
                Ok(c) => svc.entrypoint = Some(c),
                Err(why) => cx.note(&key, why),
            },
            "healthcheck" if foreign => cx.note(
                &key,
                "written for the original image; the preset's readiness probe is used",
            ),
            "healthcheck" => match parts::healthcheck(v) {
                Health::Ready(r) => svc.ready = Some(r),
                Health::Disabled if svc.stack.is_some() => cx.note(
                    &key,
                    "disabled in compose; the preset's readiness probe is used",
                ),
                Health::Disabled => {}
                Health::Invalid(why) => cx.note(&key, why),
            },
            "depends_on" => deps = depends_on(v, &mut cx),
            "user" => svc.user = scalar(v),
            "working_dir" => svc.working_dir = scalar(v),
            "platform" => svc.platform = scalar(v),
            "networks" => networks(v, &mut cx),
            "links" => {
                if v.as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(scalar)
                    .any(|l| l.contains(':'))
                {
                    cx.note(
                        "links",
                        "link aliases are not converted; services reach each other by service name",
                    );
                }
            }
            other => cx.note(other, unsupported(other)),
        }
    }
    if svc.ports.is_none() {
        if let Some(p) = svc.stack.as_ref().and_then(|s| input.stacks.get(s)) {
            let list: Vec<&str> = p.def.ports.iter().map(|p| p.0.as_str()).collect();
            svc.notes.push(format!(
                "compose published no ports; the preset publishes {} on 127.0.0.1",
                list.join(", ")
            ));
        }
    }
    Some((svc, deps))
}

/// The stack for an image and whether it is the preset's own image (so its
/// tag, environment and commands carry over).
fn stack_of(image: &str, input: &ComposeInput<'_>) -> Option<(String, bool)> {
    let (repo, _) = parts::hub_image(image)?;
    let st = parts::stack_for(&repo)?;
    let preset = input.stacks.get(st)?;
    if preset.def.image == repo {
        Some((st.to_string(), true))
    } else if preset.origin == crate::stacks::Origin::BuiltIn {
        // Another distribution of the same software (bitnami/kafka).
        Some((st.to_string(), false))
    } else {
        // The repository's own preset runs something else: keep the image.
        None
    }
}

fn unsupported(key: &str) -> String {
    match key {
        "privileged" => "privileged containers are not supported".into(),
        "network_mode" => {
            "devenv runs every service on the project network; `network_mode` is not supported"
                .into()
        }
        "devices" => "device mappings are not supported".into(),
        "cap_add" | "cap_drop" => "capabilities are not converted".into(),
        "deploy" => {
            "`deploy` (replicas, resources, placement) is for orchestrators; not converted".into()
        }
        "secrets" | "configs" => {
            "file-based secrets and configs are not converted; use `mounts` or [secrets]".into()
        }
        "tmpfs" => "tmpfs mounts are not supported".into(),
        "restart" => "devenv starts services on `up` and has no restart policy".into(),
        "container_name" => {
            "devenv names containers devenv_<project>_<service>; others reach it by service name"
                .into()
        }
        "hostname" | "domainname" => {
            "devenv sets no hostname; others reach it by service name".into()
        }
        "extra_hosts" | "dns" | "dns_search" => "host and DNS overrides are not supported".into(),
        "ulimits" | "sysctls" | "shm_size" | "mem_limit" | "cpus" | "security_opt" | "pid"
        | "ipc" => "container resource and kernel options are not converted".into(),
        "logging" => {
            "log drivers are not converted; `devenv logs` reads the container's log".into()
        }
        "labels" => "labels are not converted; devenv labels containers with its project".into(),
        "stdin_open" | "tty" => {
            "interactive containers are not supported; use `devenv exec` or `docker exec`".into()
        }
        "extends" => "`extends` is not resolved; merge the base service by hand".into(),
        "pull_policy" => "set `pull` in [settings] for the whole project".into(),
        k if k.starts_with("x-") => "extension field: not converted".into(),
        _ => "no devenv equivalent; not converted".into(),
    }
}

fn env_files(
    v: &Value,
    env: &mut BTreeMap<String, String>,
    svc: &mut DraftService,
    cx: &mut Ctx<'_, '_>,
) {
    let entries: Vec<(String, bool)> = match v {
        Value::Sequence(seq) => seq
            .iter()
            .filter_map(|e| match e {
                Value::Mapping(m) => Some((
                    m.get("path").and_then(scalar)?,
                    m.get("required").and_then(Value::as_bool).unwrap_or(true),
                )),
                other => scalar(other).map(|s| (s, true)),
            })
            .collect(),
        other => scalar(other).map(|s| vec![(s, true)]).unwrap_or_default(),
    };
    for (file, required) in entries {
        let path = parts::repo_path(cx.input.dir, &file);
        if path
            .as_deref()
            .is_some_and(|p| parts::git_ignored(cx.input.repo, p))
        {
            // A git-ignored env file holds someone's local settings, often
            // real secrets: they must not end up in a committed devenv.toml.
            cx.note(
                &format!("env_file {file}"),
                "git-ignored, so it likely holds local secrets: not inlined; put shared values in `env` and secrets in [secrets]",
            );
            continue;
        }
        match path.as_ref().and_then(|p| cx.input.repo.read(p)) {
            Some(text) => {
                let vars = dotenv::vars(&text);
                svc.notes.push(format!("env from env_file {file} ({} variable(s) inlined; keep real secrets out of devenv.toml)", vars.len()));
                env.extend(vars);
            }
            None if required => cx.note(&format!("env_file {file}"), "the file does not exist (or is outside the repository); its variables were not converted"),
            None => {}
        }
    }
}

fn environment(v: &Value, env: &mut BTreeMap<String, String>, cx: &mut Ctx<'_, '_>) {
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                pairs.push((key_str(k), scalar(v)));
            }
        }
        Value::Sequence(seq) => {
            for e in seq.iter().filter_map(scalar) {
                match e.split_once('=') {
                    Some((k, v)) => pairs.push((k.to_string(), Some(v.to_string()))),
                    None => pairs.push((e, None)),
                }
            }
        }
        _ => cx.note("environment", "not a list or mapping"),
    }
    for (k, v) in pairs {
        match v {
            Some(v) => {
                env.insert(k, v);
            }
            None => cx.note(&format!("environment.{k}"), "takes its value from your shell, which devenv does not pass to containers: set it in `env`, or make it a [secrets] entry"),
        }
    }
}

fn volume(v: &Value, svc: &mut DraftService, foreign: bool, cx: &mut Ctx<'_, '_>) {
    let key = format!("volumes `{}`", shown_long(v));
    match parts::volume(v) {
        Volume::Named { .. } | Volume::Bind { .. } if foreign => {
            cx.note(
                &key,
                "the path belongs to the original image; the preset's `data` volume is used",
            );
        }
        Volume::Named {
            name,
            target,
            read_only,
        } => {
            if !crate::manifest::valid_name(&name) || !target.starts_with('/') {
                cx.note(&key, "not a valid named volume");
                return;
            }
            let preset = svc.stack.as_ref().and_then(|s| cx.input.stacks.get(s));
            if let Some((pname, _)) =
                preset.and_then(|p| p.def.volumes.iter().find(|(_, t)| **t == target))
            {
                svc.notes.push(format!(
                    "volume `{name}` is the preset's `{pname}` volume at {target}"
                ));
                return;
            }
            if read_only {
                cx.note(
                    &key,
                    "mounted read-write: devenv has no read-only named volumes",
                );
            }
            svc.volumes.insert(name, target);
        }
        Volume::Bind {
            source,
            target,
            read_only,
        } => {
            if !target.starts_with('/') {
                cx.note(&key, "the container path is not absolute");
                return;
            }
            if source.starts_with('/') || source.starts_with('~') {
                cx.note(&key, "a host path outside the repository; devenv mounts only paths inside the repository");
                return;
            }
            let Some(rel) = parts::repo_path(cx.input.dir, &source) else {
                cx.note(&key, "a host path outside the repository; devenv mounts only paths inside the repository");
                return;
            };
            if !rel.is_empty() && !cx.input.repo.exists(&rel) {
                cx.note(&key, format!("`{rel}` does not exist in the repository; create it, then add it to `mounts`"));
                return;
            }
            let src = if rel.is_empty() {
                ".".to_string()
            } else {
                format!("./{rel}")
            };
            let ro = if read_only { ":ro" } else { "" };
            svc.mounts.push(format!("{src}:{target}{ro}"));
        }
        Volume::Other(why) => cx.note(&key, why),
    }
}

fn command(v: &Value) -> Result<Vec<String>, String> {
    let words = match v {
        Value::Sequence(seq) => seq.iter().filter_map(scalar).collect(),
        Value::Null => Vec::new(),
        other => match scalar(other) {
            Some(s) if s.trim().is_empty() => Vec::new(),
            Some(s) => crate::manifest::words::split(&s)?,
            None => return Err("not a command".into()),
        },
    };
    if words.is_empty() {
        return Err("an empty command (clearing the image's default) is not supported".into());
    }
    Ok(words)
}

fn depends_on(v: &Value, cx: &mut Ctx<'_, '_>) -> Vec<Dep> {
    let mut out = Vec::new();
    match v {
        Value::Sequence(seq) => {
            for n in seq.iter().filter_map(scalar) {
                out.push(Dep {
                    name: n,
                    condition: Condition::Started,
                    required: true,
                });
            }
        }
        Value::Mapping(m) => {
            for (k, d) in m {
                let name = key_str(k);
                let cond = d
                    .get("condition")
                    .and_then(scalar)
                    .unwrap_or_else(|| "service_started".into());
                let condition = match cond.as_str() {
                    "service_healthy" => Condition::Healthy,
                    "service_completed_successfully" => Condition::Completed,
                    _ => Condition::Started,
                };
                if d.get("restart").and_then(Value::as_bool) == Some(true) {
                    cx.note(
                        &format!("depends_on.{name}.restart"),
                        "devenv does not restart dependents",
                    );
                }
                let required = d.get("required").and_then(Value::as_bool).unwrap_or(true);
                out.push(Dep {
                    name,
                    condition,
                    required,
                });
            }
        }
        _ => cx.note("depends_on", "not a list or mapping"),
    }
    out
}

fn networks(v: &Value, cx: &mut Ctx<'_, '_>) {
    let names: Vec<(String, bool)> = match v {
        Value::Sequence(seq) => seq.iter().filter_map(scalar).map(|n| (n, false)).collect(),
        Value::Mapping(m) => m
            .iter()
            .map(|(k, d)| {
                (
                    key_str(k),
                    d.get("aliases").is_some() || d.get("ipv4_address").is_some(),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    for (n, extra) in names {
        if n != "default" || extra {
            cx.note(&format!("networks.{n}"), "devenv puts every service on one project network; extra networks, aliases and fixed addresses are not converted");
        }
    }
}

/// The service with every string interpolated; unresolved variables listed.
fn interpolate_tree(v: &Value, path: &str, cx: &mut Ctx<'_, '_>) -> Value {
    match v {
        Value::String(s) => {
            let (text, missing) = interpolate(s, cx.input.vars);
            for var in missing {
                cx.out.push(Unconverted::new(
                    path.to_string(),
                    format!("${{{var}}} is not set (no default, not in .env); used an empty value"),
                ));
            }
            Value::String(text)
        }
        Value::Sequence(seq) => {
            Value::Sequence(seq.iter().map(|e| interpolate_tree(e, path, cx)).collect())
        }
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, e) in m {
                let p = format!("{path}.{}", key_str(k));
                out.insert(k.clone(), interpolate_tree(e, &p, cx));
            }
            Value::Mapping(out)
        }
        other => other.clone(),
    }
}

/// A short label for an entry: its text, or `key=value` pairs of the long syntax.
fn shown_long(v: &Value) -> String {
    match v {
        Value::Mapping(m) => m
            .iter()
            .filter_map(|(k, v)| scalar(v).map(|v| format!("{}={v}", key_str(k))))
            .collect::<Vec<_>>()
            .join(" "),
        other => scalar(other).unwrap_or_default(),
    }
}
