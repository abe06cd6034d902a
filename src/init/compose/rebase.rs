//! Relative paths of a compose file rewritten to the repository root as
//! the file is read: after merging, nothing knows which file a path came
//! from, and compose resolves each against its own file's directory.

use super::load::join;
use super::yaml::{Entry, Node, V};

/// A file's relative paths rewritten to the repository root: build
/// contexts, env files, bind-mount sources, `extends.file`, `include`.
pub(super) fn rebase(doc: &mut Node, dir: &str) {
    let V::Map(entries) = &mut doc.v else {
        return;
    };
    for e in entries.iter_mut() {
        match e.key.as_str() {
            "include" => {
                if let V::Seq(items) = &mut e.value.v {
                    for item in items.iter_mut() {
                        match &mut item.v {
                            V::Map(m) => {
                                for f in m.iter_mut().filter(|f| {
                                    f.key == "path"
                                        || f.key == "project_directory"
                                        || f.key == "env_file"
                                }) {
                                    rebase_paths(&mut f.value, dir);
                                }
                            }
                            _ => rebase_path(item, dir),
                        }
                    }
                }
            }
            "services" => {
                if let V::Map(svcs) = &mut e.value.v {
                    for s in svcs.iter_mut() {
                        rebase_service(&mut s.value, dir);
                    }
                }
            }
            _ => {}
        }
    }
}

fn rebase_service(svc: &mut Node, dir: &str) {
    let V::Map(entries) = &mut svc.v else {
        return;
    };
    for e in entries.iter_mut() {
        match e.key.as_str() {
            "build" => match &mut e.value.v {
                V::Map(m) => match m.iter_mut().find(|f| f.key == "context") {
                    Some(c) => rebase_path(&mut c.value, dir),
                    None => {
                        let at = e.value.at;
                        m.push(Entry {
                            key: "context".into(),
                            at,
                            value: Node::new(
                                V::Str(if dir.is_empty() {
                                    ".".into()
                                } else {
                                    dir.into()
                                }),
                                at,
                            ),
                        });
                    }
                },
                _ => rebase_path(&mut e.value, dir),
            },
            "env_file" => match &mut e.value.v {
                V::Seq(items) => {
                    for item in items.iter_mut() {
                        match &mut item.v {
                            V::Map(m) => {
                                if let Some(p) = m.iter_mut().find(|f| f.key == "path") {
                                    rebase_path(&mut p.value, dir);
                                }
                            }
                            _ => rebase_path(item, dir),
                        }
                    }
                }
                _ => rebase_path(&mut e.value, dir),
            },
            "extends" => {
                if let V::Map(m) = &mut e.value.v {
                    if let Some(f) = m.iter_mut().find(|f| f.key == "file") {
                        rebase_path(&mut f.value, dir);
                    }
                }
            }
            "volumes" => {
                if let V::Seq(items) = &mut e.value.v {
                    for item in items.iter_mut() {
                        match &mut item.v {
                            V::Map(m) => {
                                let bind = m
                                    .iter()
                                    .any(|f| f.key == "type" && f.value.as_str() == Some("bind"));
                                if let Some(src) =
                                    m.iter_mut().find(|f| f.key == "source").filter(|_| bind)
                                {
                                    rebase_path(&mut src.value, dir);
                                }
                            }
                            V::Str(s) if s.starts_with('.') => {
                                let (src, rest) = s.split_once(':').unwrap_or((s.as_str(), ""));
                                let src = local(dir, src);
                                let new = if rest.is_empty() {
                                    src
                                } else {
                                    format!("{src}:{rest}")
                                };
                                item.written = Some(std::mem::replace(s, new));
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn rebase_paths(n: &mut Node, dir: &str) {
    match &mut n.v {
        V::Seq(items) => items.iter_mut().for_each(|i| rebase_path(i, dir)),
        _ => rebase_path(n, dir),
    }
}

fn rebase_path(n: &mut Node, dir: &str) {
    if let V::Str(s) = &mut n.v {
        let remote = s.contains("://") || s.starts_with("git@");
        if !remote && !s.starts_with('/') && !s.starts_with('~') {
            let new = local(dir, s);
            n.written = Some(std::mem::replace(s, new));
        }
    }
}

/// `rel` (relative to `dir`) as a path from the repository root, `./`-prefixed.
fn local(dir: &str, rel: &str) -> String {
    let j = join(dir, rel);
    if j.starts_with("..") || j.starts_with('/') {
        j
    } else if j.is_empty() {
        ".".into()
    } else {
        format!("./{j}")
    }
}
