//! A compose service that runs a preset's image becomes `stack = "..."`,
//! so it gets the preset's readiness probe and connection exports. What
//! the preset then adds that compose did not say (environment variables,
//! a data volume, a probe, a command) is listed, never slipped in.

use std::collections::BTreeMap;

use super::parts;
use super::service::Ctx;
use crate::init::DraftService;

pub(super) struct Chosen {
    pub name: String,
    /// The compose image is the preset's own (so its tag, environment and
    /// commands carry over), not another distribution of it.
    pub same_image: bool,
}

/// Sets `stack`/`version` or `image`; returns the preset, if one is used.
pub(super) fn choose(svc: &mut DraftService, image: &str, cx: &mut Ctx<'_, '_>) -> Option<Chosen> {
    // A built image is the service's own: no preset stands in for it, and
    // `image` only names the build.
    let found = if svc.build.is_none() {
        stack_of(image, cx)
    } else {
        None
    };
    // devenv.toml cannot take a preset's data volume away, so a bind mount
    // at its path would mount twice: such a service keeps its own image.
    let found = found.filter(|c| match bound_over_data(&c.name, cx) {
        Some(path) => {
            cx.svc_notes.push(format!(
                "not the {} preset: compose mounts a host directory at {path}, where the preset keeps its data volume",
                c.name
            ));
            false
        }
        None => true,
    });
    let Some(chosen) = found else {
        svc.image = Some(image.to_string()).filter(|i| !i.is_empty());
        return None;
    };
    svc.stack = Some(chosen.name.clone());
    if chosen.same_image {
        // Untagged means `latest` to compose, not the preset's default.
        svc.version = Some(
            parts::hub_image(image)
                .and_then(|(_, t)| t)
                .unwrap_or_else(|| "latest".into()),
        );
    } else {
        let preset = cx
            .input
            .stacks
            .get(&chosen.name)
            .map(|s| format!("{}:{}", s.def.image, s.def.version))
            .unwrap_or_default();
        cx.note(
            "image",
            format!(
                "`{image}` is replaced by the {} preset, which runs {preset}",
                chosen.name
            ),
        );
    }
    Some(chosen)
}

/// The preset's data path, when compose bind-mounts a host path there.
fn bound_over_data(stack: &str, cx: &Ctx<'_, '_>) -> Option<String> {
    let preset = cx.input.stacks.get(stack)?;
    let vols = cx.svc.get("volumes")?.items()?;
    vols.iter().find_map(|v| {
        let (bind, target) = match v.entries() {
            Some(_) => (
                v.get("type").and_then(|t| t.as_str()) == Some("bind"),
                v.get("target").and_then(|t| t.text())?,
            ),
            None => {
                let (src, target, _) = super::canon::short_volume(&v.text()?);
                (src?.starts_with(['.', '/', '~']), target)
            }
        };
        (bind && preset.def.volumes.values().any(|t| *t == target)).then_some(target)
    })
}

fn stack_of(image: &str, cx: &Ctx<'_, '_>) -> Option<Chosen> {
    let (repo, _) = parts::hub_image(image)?;
    let st = parts::stack_for(&repo)?;
    let preset = cx.input.stacks.get(st)?;
    let same_image = if preset.def.image == repo {
        true
    } else if preset.origin == crate::stacks::Origin::BuiltIn {
        // Another distribution of the same software (bitnami/kafka).
        false
    } else {
        // The repository's own preset runs something else: keep the image.
        return None;
    };
    Some(Chosen {
        name: st.to_string(),
        same_image,
    })
}

/// The preset as this service will run it: its row for the service's
/// version (postgres 18+ keeps its data elsewhere), so what the conversion
/// compares is what `up` will do.
pub(super) struct Versioned {
    pub name: String,
    pub def: crate::stacks::StackDef,
}

pub(super) fn versioned(cx: &Ctx<'_, '_>, stack: &str, version: Option<&str>) -> Option<Versioned> {
    let p = cx.input.stacks.get(stack)?;
    let def = match version {
        Some(v) => p.def.for_version(v).0,
        None => p.def.clone(),
    };
    Some(Versioned {
        name: p.name.clone(),
        def,
    })
}

/// The environment to write: only what differs from the preset's, and for
/// what the preset sets but compose left unset, the image's default where
/// one is known (the other services' connection strings rely on it).
pub(super) fn env(
    svc: &DraftService,
    mut env: BTreeMap<String, String>,
    stack: Option<&Chosen>,
    cx: &mut Ctx<'_, '_>,
) -> BTreeMap<String, String> {
    let Some(st) = stack else {
        return env;
    };
    let Some(p) = versioned(cx, &st.name, svc.version.as_deref()) else {
        return env;
    };
    if !st.same_image {
        if !env.is_empty() {
            let keys: Vec<&str> = env.keys().map(String::as_str).collect();
            cx.note(
                "environment",
                format!(
                    "settings for the original image do not apply to the preset's and were not carried over: {}",
                    keys.join(", ")
                ),
            );
        }
        return BTreeMap::new();
    }
    let written = env.clone();
    env.retain(|k, v| p.def.env.get(k).is_none_or(|pv| pv.0 != *v));
    let mut added = Vec::new();
    for (k, pv) in &p.def.env {
        if written.contains_key(k) {
            continue;
        }
        match parts::image_default(&p.name, k, &written) {
            Some(v) => {
                added.push(format!(
                    "{k}={v:?} (the image's default, which compose relied on)"
                ));
                env.insert(k.clone(), v);
            }
            None => added.push(format!("{k}={:?} (the {} preset's)", pv.0, p.name)),
        }
    }
    if !added.is_empty() {
        cx.note(
            "environment",
            format!(
                "compose leaves these unset; devenv sets {}",
                added.join(", ")
            ),
        );
    }
    env
}

/// What the preset adds besides the environment: listed, or undone where
/// devenv.toml can say so (`ports = []`).
pub(super) fn differences(
    svc: &mut DraftService,
    st: &Chosen,
    had_healthcheck: bool,
    cx: &mut Ctx<'_, '_>,
) {
    let Some(p) = versioned(cx, &st.name, svc.version.as_deref()) else {
        return;
    };
    if svc.ports.is_none() {
        let list: Vec<&str> = p.def.ports.iter().map(|p| p.0.as_str()).collect();
        // A preset that advertises its own host port (kafka's HOST
        // listener) cannot run unpublished: keep its ports, and say so.
        let advertises_port = p.def.env.values().any(|v| v.0.contains("ports["));
        if advertises_port {
            cx.note(
                "ports",
                format!(
                    "compose published no ports; the {} preset publishes {} on 127.0.0.1, because it advertises that host port to its clients",
                    p.name,
                    list.join(", ")
                ),
            );
        } else {
            svc.ports = Some(Vec::new());
            cx.svc_notes.push(format!(
                "compose published no ports; remove `ports = []` to publish the preset's {} on 127.0.0.1",
                list.join(", ")
            ));
        }
    }
    if !had_healthcheck && p.def.ready.is_some() {
        cx.note(
            "healthcheck",
            format!(
                "compose has none; devenv waits for the {} preset's readiness probe",
                p.name
            ),
        );
    }
    let targets: Vec<String> = cx
        .svc
        .get("volumes")
        .and_then(|v| v.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| match v.entries() {
            Some(_) => v.get("target").and_then(|t| t.text()),
            None => v.text().map(|s| super::canon::short_volume(&s).1),
        })
        .collect();
    for (name, target) in &p.def.volumes {
        if !targets.contains(target) {
            cx.note(
                "volumes",
                format!("the {} preset adds the volume `{name}` at {target} (compose left that path to the image)", p.name),
            );
        }
    }
    if svc.command.is_none() {
        if let Some(c) = &p.def.command {
            cx.note(
                "command",
                format!(
                    "compose runs the image's own command; the {} preset runs {:?}",
                    p.name, c.0
                ),
            );
        }
    }
    if svc.entrypoint.is_none() {
        if let Some(c) = &p.def.entrypoint {
            cx.note(
                "entrypoint",
                format!(
                    "compose runs the image's own entrypoint; the {} preset runs {:?}",
                    p.name, c.0
                ),
            );
        }
    }
}
