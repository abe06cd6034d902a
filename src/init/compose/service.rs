//! One compose service (already merged, interpolated and in canonical
//! form) to one `[services.NAME]`.

use super::health::{self, Health};
use super::load::Project;
use super::yaml::{Node, Pos, V};
use super::{env, ports, preset, shellwords, volumes, ComposeInput, Condition, Dep};
use crate::init::{DraftService, Unconverted};

pub(super) struct Ctx<'a, 'b> {
    pub input: &'a ComposeInput<'b>,
    pub project: &'a Project,
    pub name: &'a str,
    pub svc: &'a Node,
    /// Where the service's name is.
    pub at: Pos,
    pub out: &'a mut Vec<Unconverted>,
    /// Comment lines for the service.
    pub svc_notes: Vec<String>,
}

impl Ctx<'_, '_> {
    /// Lists `key` (`ports`, `environment.X`, ...) at the service's entry for it.
    pub fn note(&mut self, key: &str, why: impl Into<String>) {
        let first = key.split(['.', ' ']).next().unwrap_or("");
        let at = self.svc.entry(first).map_or(self.at, |e| e.at);
        self.note_at(key, at, why);
    }

    pub fn note_at(&mut self, key: &str, at: Pos, why: impl Into<String>) {
        let what = if key.is_empty() {
            format!("services.{}", self.name)
        } else {
            format!("services.{}.{key}", self.name)
        };
        self.out
            .push(Unconverted::new(what, why).at(self.project.at(at)));
    }
}

/// Converts one service; `None` (with the reason listed) when it cannot be.
pub(super) fn convert(cx: &mut Ctx<'_, '_>) -> Option<(DraftService, Vec<Dep>)> {
    let name = cx.name;
    let m = cx.svc;
    if !crate::manifest::valid_name(name) {
        cx.note("", "not a valid devenv service name (letters, digits, `-`, `_`, `.`, starting with a letter or digit)");
        return None;
    }
    if m.entries().is_none() {
        cx.note("", "not a mapping");
        return None;
    }
    let image = m
        .get("image")
        .and_then(Node::text)
        .filter(|s| !s.is_empty());
    let build = match m.get("build").map(|b| super::build::convert(b, cx.input)) {
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
                    let at = m.entry("build").map_or(cx.at, |e| e.at);
                    cx.note_at("", at, format!("left out: its build is not converted: {why}"));
                    return None;
                }
            }
            None
        }
        None => None,
    };
    if image.is_none() && build.is_none() {
        cx.note("", "has no `image`");
        return None;
    }
    if let Some((image, why)) = image
        .as_deref()
        .and_then(|i| crate::manifest::image_ref_problem(i).map(|w| (i, w)))
    {
        let at = m.entry("image").map_or(cx.at, |e| e.at);
        cx.note_at(
            "",
            at,
            format!("left out: `{image}` is not a valid image reference ({why})"),
        );
        return None;
    }
    let mut svc = DraftService {
        name: name.to_string(),
        build,
        ..Default::default()
    };
    let image = image.unwrap_or_default();
    let stack = preset::choose(&mut svc, &image, cx);
    let env = env::resolve(m, cx);
    svc.env = preset::env(&svc, env, stack.as_ref(), cx);
    let foreign = stack.as_ref().is_some_and(|s| !s.same_image);
    let mut deps = Vec::new();
    let mut healthcheck = false;
    for e in m.entries().unwrap_or_default() {
        let (key, v) = (e.key.as_str(), &e.value);
        match key {
            "image" | "build" | "environment" | "env_file" | "profiles" | "expose" => {}
            // Extension fields: compose itself does nothing with them.
            k if k.starts_with("x-") => {}
            "ports" => {
                let mut specs = Vec::new();
                for p in v.items().unwrap_or_default() {
                    let port = ports::port(p);
                    if let Some(s) = port.spec {
                        specs.push(s);
                    }
                    if let Some(why) = port.problem {
                        cx.note_at(&format!("ports `{}`", shown(p)), p.at, why);
                    }
                }
                svc.ports = Some(specs);
            }
            "volumes" => {
                for vol in v.items().unwrap_or_default() {
                    volumes::convert(vol, &mut svc, foreign, cx);
                }
            }
            "command" | "entrypoint" if foreign => cx.note(
                key,
                "written for the original image; not carried over to the preset",
            ),
            "command" | "entrypoint" => match command(v) {
                Ok((c, dropped)) => {
                    if let Some(rest) = dropped {
                        cx.note(key, format!("compose stops reading it at `{rest}` and runs only {c:?}; so does devenv"));
                    }
                    if key == "command" {
                        svc.command = Some(c);
                    } else {
                        svc.entrypoint = Some(c);
                    }
                }
                Err(why) => cx.note(key, why),
            },
            "healthcheck" if foreign => {
                healthcheck = true;
                cx.note(
                    key,
                    "written for the original image; the preset's readiness probe is used",
                );
            }
            "healthcheck" => match health::healthcheck(v) {
                Health::Ready(r) => {
                    healthcheck = true;
                    svc.ready = Some(r);
                }
                Health::Disabled if svc.stack.is_some() => {
                    healthcheck = true;
                    cx.note(
                        key,
                        "disabled in compose; the preset's readiness probe is used",
                    );
                }
                Health::Disabled => {}
                Health::Invalid(why) => {
                    healthcheck = true;
                    cx.note(key, why);
                }
            },
            "depends_on" => deps = depends_on(v, cx),
            "user" => svc.user = v.text().filter(|s| !s.is_empty()),
            "working_dir" => svc.working_dir = v.text().filter(|s| !s.is_empty()),
            "platform" => svc.platform = v.text().filter(|s| !s.is_empty()),
            "networks" => networks(v, cx),
            "links" => {
                if v.items()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::text)
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
    if let Some(st) = &stack {
        preset::differences(&mut svc, st, healthcheck, cx);
    }
    svc.notes.append(&mut cx.svc_notes);
    Some((svc, deps))
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
        "pull_policy" => "set `pull` in [settings] for the whole project".into(),
        "init" => "devenv runs the image's own init; `init` is not converted".into(),
        "stop_grace_period" | "stop_signal" => {
            "devenv stops containers with the engine's defaults; not converted".into()
        }
        k if k.starts_with("x-") => "extension field: not converted".into(),
        _ => "no devenv equivalent; not converted".into(),
    }
}

/// A command as a list, as `docker compose config` prints it; the text
/// Compose ignores after an unquoted operator, if any.
fn command(v: &Node) -> Result<(Vec<String>, Option<String>), String> {
    let (words, dropped) = match &v.v {
        V::Seq(items) => (items.iter().filter_map(Node::text).collect(), None),
        V::Null => (Vec::new(), None),
        _ => {
            let s = v.text().ok_or("not a command")?;
            let (w, stop) = shellwords::split(&s).map_err(|()| {
                "compose cannot split this command (an open quote or a stray `(`)".to_string()
            })?;
            (w, stop.map(|i| s[i..].trim().to_string()))
        }
    };
    if words.is_empty() {
        return Err("an empty command (clearing the image's default) is not supported".into());
    }
    Ok((words, dropped))
}

fn depends_on(v: &Node, cx: &mut Ctx<'_, '_>) -> Vec<Dep> {
    let mut out = Vec::new();
    let Some(entries) = v.entries() else {
        cx.note("depends_on", "not a list or mapping");
        return out;
    };
    for e in entries {
        let cond = e.value.get("condition").and_then(Node::text);
        let condition = match cond.as_deref() {
            Some("service_healthy") => Condition::Healthy,
            Some("service_completed_successfully") => Condition::Completed,
            _ => Condition::Started,
        };
        if e.value.get("restart").and_then(Node::as_bool) == Some(true) {
            cx.note_at(
                &format!("depends_on.{}.restart", e.key),
                e.at,
                "devenv does not restart dependents",
            );
        }
        out.push(Dep {
            name: e.key.clone(),
            condition,
            required: e
                .value
                .get("required")
                .and_then(Node::as_bool)
                .unwrap_or(true),
            at: e.at,
        });
    }
    out
}

fn networks(v: &Node, cx: &mut Ctx<'_, '_>) {
    let names: Vec<(String, Pos, bool)> = match &v.v {
        V::Seq(items) => items
            .iter()
            .filter_map(|n| Some((n.text()?, n.at, false)))
            .collect(),
        V::Map(m) => m
            .iter()
            .map(|e| {
                let extra =
                    e.value.get("aliases").is_some() || e.value.get("ipv4_address").is_some();
                (e.key.clone(), e.at, extra)
            })
            .collect(),
        _ => Vec::new(),
    };
    for (n, at, extra) in names {
        if n != "default" || extra {
            cx.note_at(&format!("networks.{n}"), at, "devenv puts every service on one project network; extra networks, aliases and fixed addresses are not converted");
        }
    }
}

/// A short label for an entry: its text, or `key=value` pairs of the long syntax.
pub(super) fn shown(v: &Node) -> String {
    if let Some(w) = &v.written {
        return w.clone();
    }
    match v.entries() {
        Some(m) => m
            .iter()
            .filter_map(|e| shown_text(&e.value).map(|t| format!("{}={t}", e.key)))
            .collect::<Vec<_>>()
            .join(" "),
        None => shown_text(v).unwrap_or_default(),
    }
}

fn shown_text(v: &Node) -> Option<String> {
    v.written.clone().or_else(|| v.text())
}
