//! A service's `volumes` entry to a devenv named volume or bind mount.
//! Bind sources were rebased to the repository root while loading.

use super::canon::short_volume;
use super::parts;
use super::service::{shown, Ctx};
use super::yaml::Node;
use crate::init::DraftService;

enum Volume {
    Named {
        name: String,
        target: String,
        read_only: bool,
    },
    Bind {
        source: String,
        target: String,
        read_only: bool,
    },
    Other(String),
}

fn classify(v: &Node) -> Volume {
    if v.entries().is_some() {
        let get = |k: &str| v.get(k).and_then(Node::text);
        let ro = v.get("read_only").and_then(Node::as_bool).unwrap_or(false);
        let target = get("target").unwrap_or_default();
        return match (get("type").as_deref(), get("source")) {
            (Some("volume"), Some(s)) if !s.is_empty() => Volume::Named {
                name: s,
                target,
                read_only: ro,
            },
            (Some("volume"), _) => anonymous(&target),
            (Some("bind"), Some(s)) => Volume::Bind {
                source: s,
                target,
                read_only: ro,
            },
            (Some("tmpfs"), _) => {
                Volume::Other("a tmpfs mount; devenv does not mount tmpfs".into())
            }
            (Some(t), _) => Volume::Other(format!("a `{t}` mount is not supported")),
            (None, _) => Volume::Other("a long-syntax volume without `type`".into()),
        };
    }
    let Some(s) = v.text() else {
        return Volume::Other("not a volume".into());
    };
    let (source, target, mode) = short_volume(&s);
    let Some(source) = source else {
        return anonymous(&target);
    };
    let opts: Vec<&str> = mode.split(',').filter(|m| !m.is_empty()).collect();
    if let Some(o) = opts.iter().find(|o| !matches!(**o, "ro" | "rw")) {
        return Volume::Other(format!(
            "mount option `{o}` is not converted (devenv mounts read-write or `:ro`)"
        ));
    }
    let read_only = opts.contains(&"ro");
    if source.starts_with(['/', '.', '~']) {
        Volume::Bind {
            source,
            target,
            read_only,
        }
    } else {
        Volume::Named {
            name: source,
            target,
            read_only,
        }
    }
}

fn anonymous(target: &str) -> Volume {
    Volume::Other(format!(
        "an anonymous volume at {target}; devenv keeps data only in named volumes: add `volumes = {{ data = \"{target}\" }}` if it must persist"
    ))
}

pub(super) fn convert(v: &Node, svc: &mut DraftService, foreign: bool, cx: &mut Ctx<'_, '_>) {
    let key = format!("volumes `{}`", shown(v));
    let at = v.at;
    match classify(v) {
        Volume::Named { .. } | Volume::Bind { .. } if foreign => {
            cx.note_at(
                &key,
                at,
                "the path belongs to the original image; the preset's `data` volume is used",
            );
        }
        Volume::Named {
            name,
            target,
            read_only,
        } => {
            if !crate::manifest::valid_name(&name) || !target.starts_with('/') {
                cx.note_at(&key, at, "not a valid named volume");
                return;
            }
            let preset = svc
                .stack
                .as_ref()
                .and_then(|s| super::preset::versioned(cx, s, svc.version.as_deref()));
            let kept = preset.and_then(|p| {
                p.def
                    .volumes
                    .iter()
                    .find(|(_, t)| **t == target)
                    .map(|(n, _)| n.clone())
            });
            if let Some(pname) = kept {
                // The name is only a handle (devenv names its volumes
                // devenv_<project>_...): it matters when services share it.
                if pname != name && shared(cx, &name) {
                    cx.note_at(&key, at, format!("the preset keeps {target} in its own `{pname}` volume, so other services no longer share `{name}` with it"));
                }
                return;
            }
            if read_only {
                cx.note_at(
                    &key,
                    at,
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
                cx.note_at(&key, at, "the container path is not absolute");
                return;
            }
            let outside = "a host path outside the repository; devenv mounts only paths inside the repository";
            if source.starts_with('/') || source.starts_with('~') {
                cx.note_at(&key, at, outside);
                return;
            }
            let Some(rel) = parts::repo_path("", &source) else {
                cx.note_at(&key, at, outside);
                return;
            };
            if !rel.is_empty() && !cx.input.repo.exists(&rel) {
                cx.note_at(&key, at, format!("`{rel}` does not exist in the repository; create it, then add it to `mounts`"));
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
        Volume::Other(why) => cx.note_at(&key, at, why),
    }
}

/// Whether another service of the project mounts the named volume too.
fn shared(cx: &Ctx<'_, '_>, name: &str) -> bool {
    let services = cx
        .project
        .model
        .get("services")
        .and_then(Node::entries)
        .unwrap_or_default();
    services.iter().filter(|s| s.key != cx.name).any(|s| {
        s.value
            .get("volumes")
            .and_then(Node::items)
            .unwrap_or_default()
            .iter()
            .any(|v| match v.entries() {
                Some(_) => v.get("source").and_then(Node::text).as_deref() == Some(name),
                None => v.text().and_then(|t| short_volume(&t).0).as_deref() == Some(name),
            })
    })
}
