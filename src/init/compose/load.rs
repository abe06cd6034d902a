//! A compose project loaded as `docker compose config` loads it: the
//! `.env` beside the main file (its values expanded, the process
//! environment winning), each file interpolated, its `include`s and
//! `extends` resolved, then the next file (an override) merged over it.
//! Relative paths are rewritten to the repository root as each file is
//! read, because after merging nothing knows which file a path came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::interp::{interpolate, InterpError};
use super::rebase::rebase;
use super::yaml::{self, Entry, Node, Pos, V};
use super::{canon, merge, parts};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::init::{RepoView, Unconverted};

/// Compose's override files, in its order of preference: the first one
/// that exists beside a main file compose found itself is merged over it.
pub const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

pub(super) struct Request<'a> {
    /// The main file as shown in messages, its text, and its directory
    /// relative to the repository root (`None`: outside the repository).
    pub shown: &'a Path,
    pub text: &'a str,
    pub dir: Option<&'a str>,
    /// Whether compose would also merge an override file (it does for
    /// the file it finds itself, not for one named with `-f`).
    pub with_override: bool,
    pub repo: &'a dyn RepoView,
    pub process_env: &'a BTreeMap<String, String>,
}

/// The `.env` read for a project, and how many variables it had.
type DotenvRead = (String, usize);

pub(super) struct Project {
    /// Shown names of the files read; `Pos::file` indexes this.
    pub files: Vec<String>,
    /// The merged model (top-level keys and `services`).
    pub model: Node,
    /// What `${VAR}` and valueless `environment` entries resolve from.
    pub env: BTreeMap<String, String>,
    /// `.env` read for the project, and how many variables it had.
    pub dotenv: Option<(String, usize)>,
    /// Unset variables, unreadable includes: listed, not fatal.
    pub warnings: Vec<Unconverted>,
}

impl Project {
    /// `file:line` of a node, for the list of what was not converted.
    pub fn at(&self, p: Pos) -> String {
        format!("{}:{}", self.files.get(p.file).map_or("?", |s| s), p.line)
    }
}

struct Loader<'a> {
    req: &'a Request<'a>,
    files: Vec<String>,
    texts: Vec<String>,
    warnings: Vec<Unconverted>,
    /// Files being included or extended from, to stop cycles.
    stack: Vec<String>,
}

pub(super) fn load(req: &Request<'_>) -> Result<Project, Diagnostics> {
    let mut l = Loader {
        req,
        files: Vec::new(),
        texts: Vec::new(),
        warnings: Vec::new(),
        stack: Vec::new(),
    };
    let dir = req.dir.unwrap_or("..");
    let (env, dotenv) = l.environment(dir, req.process_env.clone())?;
    let main = l.add_file(req.shown.display().to_string(), req.text.to_string());
    let mut model = l.load_file(main, dir, &env)?;
    if req.with_override && req.dir.is_some() {
        if let Some(name) = OVERRIDE_FILES
            .iter()
            .find(|n| req.repo.exists(&join(dir, n)))
        {
            let rel = join(dir, name);
            let text = req.repo.read(&rel).unwrap_or_default();
            let id = l.add_file(rel, text);
            let over = l.load_file(id, dir, &env)?;
            model = merge_models(model, over);
        }
    }
    // What is left of `!reset` had nothing before it: it only drops itself.
    merge::strip_resets(&mut model);
    Ok(Project {
        files: l.files,
        model,
        env,
        dotenv,
        warnings: l.warnings,
    })
}

/// Two models merged as Compose merges files: services key by key, each
/// with the merge rules, then their lists made unique again.
fn merge_models(base: Node, over: Node) -> Node {
    let mut m = merge::merge(base, over, &[]);
    merge::strip_resets(&mut m);
    if let V::Map(entries) = &mut m.v {
        for e in entries.iter_mut().filter(|e| e.key == "services") {
            if let V::Map(svcs) = &mut e.value.v {
                svcs.iter_mut().for_each(|s| canon::dedup(&mut s.value));
            }
        }
    }
    m
}

pub(super) fn join(dir: &str, rel: &str) -> String {
    parts::repo_path(dir, rel).unwrap_or_else(|| {
        if dir.is_empty() {
            rel.to_string()
        } else {
            format!("{dir}/{rel}")
        }
    })
}

impl Loader<'_> {
    fn add_file(&mut self, shown: String, text: String) -> usize {
        self.files.push(shown);
        self.texts.push(text);
        self.files.len() - 1
    }

    fn diagnostic(&self, at: Pos, message: String, hint: &str) -> Diagnostics {
        let path = PathBuf::from(&self.files[at.file]);
        Diagnostic::at_line_col(&path, &self.texts[at.file], at.line, at.col, message)
            .with_hint(hint)
            .into()
    }

    /// The project environment: `dir/.env` expanded with the process
    /// environment, which wins over it.
    fn environment(
        &mut self,
        dir: &str,
        process: BTreeMap<String, String>,
    ) -> Result<(BTreeMap<String, String>, Option<DotenvRead>), Diagnostics> {
        let rel = join(dir, ".env");
        let Some(text) = self.req.repo.read(&rel) else {
            return Ok((process, None));
        };
        let lookup = |k: &str| process.get(k).cloned();
        let vars = crate::init::dotenv::resolve(&text, &lookup).map_err(|(line, msg)| {
            Diagnostics::from(
                Diagnostic::at_line_col(Path::new(&rel), &text, line, 1, format!("invalid .env: {msg}"))
                    .with_hint("compose reads this file too: fix it so that `docker compose config` accepts it"),
            )
        })?;
        let n = vars.len();
        let mut env = process;
        for (k, v) in vars {
            env.entry(k).or_insert(v);
        }
        Ok((env, Some((rel, n))))
    }

    /// One file: every document interpolated, paths rebased, includes and
    /// extends resolved, documents merged.
    fn load_file(
        &mut self,
        id: usize,
        dir: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Node, Diagnostics> {
        let docs = yaml::parse(&self.texts[id], id).map_err(|e| {
            let at = Pos {
                file: id,
                line: e.line,
                col: e.col,
            };
            self.diagnostic(
                at,
                format!("invalid YAML: {}", e.message),
                "fix the compose file's YAML syntax (`docker compose config` checks it too)",
            )
        })?;
        let mut model: Option<Node> = None;
        for mut doc in docs {
            if doc.entries().is_none() {
                if doc.is_null() {
                    continue;
                }
                return Err(self.diagnostic(
                    doc.at,
                    "not a compose file: the top level is not a mapping".into(),
                    "a compose file has a top-level `services:` mapping",
                ));
            }
            self.interpolate(&mut doc, "", env)?;
            rebase(&mut doc, dir);
            self.includes(&mut doc, env)?;
            self.extends(&mut doc, env)?;
            if let V::Map(entries) = &mut doc.v {
                for e in entries.iter_mut().filter(|e| e.key == "services") {
                    if let V::Map(svcs) = &mut e.value.v {
                        svcs.iter_mut().for_each(|s| canon::service(&mut s.value));
                    }
                }
            }
            // `!reset` stays on the nodes until this file is merged over
            // the ones before it (`merge_models`), where it drops their value.
            model = Some(match model {
                None => doc,
                Some(m) => merge_models(m, doc),
            });
        }
        Ok(model.unwrap_or_else(|| {
            Node::new(
                V::Map(Vec::new()),
                Pos {
                    file: id,
                    line: 1,
                    col: 1,
                },
            )
        }))
    }

    /// Every string value (not keys) through compose's interpolation.
    fn interpolate(
        &mut self,
        n: &mut Node,
        path: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<(), Diagnostics> {
        match &mut n.v {
            V::Str(s) => {
                let lookup = |k: &str| env.get(k).cloned();
                match interpolate(s, &lookup) {
                    Ok((text, missing)) => {
                        for var in missing {
                            self.warnings.push(
                                Unconverted::new(
                                    path.to_string(),
                                    format!("${{{var}}} is not set (no default, not in .env or the environment); compose and devenv use \"\""),
                                )
                                .at(format!("{}:{}", self.files[n.at.file], n.at.line)),
                            );
                        }
                        *s = text;
                    }
                    Err(e) => {
                        let hint = match e {
                            InterpError::Required { .. } => "set the variable in the environment or in the .env beside the compose file",
                            InterpError::Invalid => "write `$$` for a literal `$`",
                        };
                        return Err(self.diagnostic(n.at, format!("{path}: {e}"), hint));
                    }
                }
            }
            V::Seq(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.interpolate(item, &format!("{path}[{i}]"), env)?;
                }
            }
            V::Map(entries) => {
                for e in entries.iter_mut() {
                    let p = if path.is_empty() {
                        e.key.clone()
                    } else {
                        format!("{path}.{}", e.key)
                    };
                    self.interpolate(&mut e.value, &p, env)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads a file of the repository for `include` or `extends`.
    fn read_other(&mut self, rel: &str) -> Option<usize> {
        let rel = &parts::repo_path("", rel)?;
        if let Some(i) = self.files.iter().position(|f| f == rel) {
            return Some(i);
        }
        let text = self.req.repo.read(rel)?;
        Some(self.add_file(rel.to_string(), text))
    }

    /// `include:` entries: each a project of its own (its directory, its
    /// `.env` under the including project's environment), whose services
    /// join this file's.
    fn includes(
        &mut self,
        doc: &mut Node,
        env: &BTreeMap<String, String>,
    ) -> Result<(), Diagnostics> {
        let V::Map(entries) = &mut doc.v else {
            return Ok(());
        };
        let Some(i) = entries.iter().position(|e| e.key == "include") else {
            return Ok(());
        };
        let inc = entries.remove(i);
        let mut imported: Vec<Entry> = Vec::new();
        for item in inc.value.items().unwrap_or_default() {
            let (paths, project_dir) = match &item.v {
                V::Map(_) => {
                    let paths: Vec<String> = match item.get("path") {
                        Some(p) if p.items().is_some() => p
                            .items()
                            .unwrap_or_default()
                            .iter()
                            .filter_map(Node::text)
                            .collect(),
                        Some(p) => p.text().into_iter().collect(),
                        None => Vec::new(),
                    };
                    (paths, item.get("project_directory").and_then(Node::text))
                }
                _ => (item.text().into_iter().collect(), None),
            };
            let Some(first) = paths.first() else { continue };
            // Paths were rebased to the repository root already.
            let own_dir = project_dir.unwrap_or_else(|| parent(first));
            let own_dir = parts::repo_path("", &own_dir).unwrap_or(own_dir);
            let mut inc_env = env.clone();
            if let Some(text) = self.req.repo.read(&join(&own_dir, ".env")) {
                let lookup = |k: &str| env.get(k).cloned();
                if let Ok(vars) = crate::init::dotenv::resolve(&text, &lookup) {
                    for (k, v) in vars {
                        inc_env.entry(k).or_insert(v);
                    }
                }
            }
            let mut model: Option<Node> = None;
            for p in &paths {
                if self.stack.contains(p) {
                    return Err(self.diagnostic(
                        item.at,
                        format!("include cycle: {p} includes itself"),
                        "remove one of the includes",
                    ));
                }
                let Some(id) = self.read_other(p) else {
                    self.warnings.push(
                        Unconverted::new(format!("include {p}"), "the file does not exist in the repository; its services were not converted")
                            .at(format!("{}:{}", self.files[item.at.file], item.at.line)),
                    );
                    continue;
                };
                self.stack.push(p.clone());
                let m = self.load_file(id, &own_dir, &inc_env);
                self.stack.pop();
                let mut m = m?;
                merge::strip_resets(&mut m);
                model = Some(match model {
                    None => m,
                    Some(base) => merge_models(base, m),
                });
            }
            if let Some(svcs) = model
                .as_ref()
                .and_then(|m| m.get("services"))
                .and_then(Node::entries)
            {
                imported.extend(svcs.iter().cloned());
            }
        }
        if imported.is_empty() {
            return Ok(());
        }
        let services = match entries.iter_mut().find(|e| e.key == "services") {
            Some(e) => e,
            None => {
                entries.push(Entry {
                    key: "services".into(),
                    at: inc.at,
                    value: Node::new(V::Map(Vec::new()), inc.at),
                });
                entries.last_mut().expect("just pushed")
            }
        };
        if let V::Map(svcs) = &mut services.value.v {
            for s in imported {
                if let Some(existing) = svcs.iter().find(|x| x.key == s.key) {
                    return Err(self.diagnostic(
                        existing.at,
                        format!("service `{}` is also defined by an included file", s.key),
                        "compose refuses this too: rename one of them",
                    ));
                }
                svcs.push(s);
            }
        }
        Ok(())
    }

    /// `extends:` in every service of the document, bases first.
    fn extends(
        &mut self,
        doc: &mut Node,
        env: &BTreeMap<String, String>,
    ) -> Result<(), Diagnostics> {
        let Some(svcs) = doc.get("services").and_then(Node::entries) else {
            return Ok(());
        };
        let names: Vec<String> = svcs.iter().map(|e| e.key.clone()).collect();
        for name in names {
            let services = services_of(doc).expect("checked above");
            let resolved = self.extend_one(&name, services, env, &mut Vec::new())?;
            let services = services_mut(doc).expect("checked above");
            if let Some(e) = services.iter_mut().find(|e| e.key == name) {
                e.value = resolved;
            }
        }
        Ok(())
    }

    fn extend_one(
        &mut self,
        name: &str,
        services: &[Entry],
        env: &BTreeMap<String, String>,
        seen: &mut Vec<String>,
    ) -> Result<Node, Diagnostics> {
        let entry = services
            .iter()
            .find(|e| e.key == name)
            .expect("a known service");
        let svc = entry.value.clone();
        let Some(ext) = svc.entry("extends").cloned() else {
            return Ok(svc);
        };
        let (base_name, file) = match &ext.value.v {
            V::Map(_) => (
                ext.value
                    .get("service")
                    .and_then(Node::text)
                    .unwrap_or_default(),
                ext.value.get("file").and_then(Node::text),
            ),
            _ => (ext.value.text().unwrap_or_default(), None),
        };
        let key = format!("{}:{base_name}", file.as_deref().unwrap_or(""));
        if seen.contains(&key) {
            return Err(self.diagnostic(
                ext.at,
                format!("`extends` cycle through service `{base_name}`"),
                "compose refuses this too: break the cycle",
            ));
        }
        seen.push(key);
        let base = match &file {
            None => {
                if !services.iter().any(|e| e.key == base_name) {
                    return Err(self.diagnostic(
                        ext.at,
                        format!("cannot extend service `{name}`: service `{base_name}` not found"),
                        "name a service of this file, or add `file:`",
                    ));
                }
                self.extend_one(&base_name, services, env, seen)?
            }
            Some(f) => {
                let Some(id) = self.read_other(f) else {
                    return Err(self.diagnostic(
                        ext.at,
                        format!(
                            "cannot extend service `{name}`: {f} does not exist in the repository"
                        ),
                        "compose needs that file too",
                    ));
                };
                let docs = yaml::parse(&self.texts[id], id).map_err(|e| {
                    self.diagnostic(
                        Pos {
                            file: id,
                            line: e.line,
                            col: e.col,
                        },
                        format!("invalid YAML: {}", e.message),
                        "fix the extended file's YAML syntax",
                    )
                })?;
                let other_dir = parent(&parts::repo_path("", f).unwrap_or_else(|| f.clone()));
                let mut other = docs
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| Node::new(V::Null, ext.at));
                merge::strip_resets(&mut other);
                self.interpolate(&mut other, "", env)?;
                rebase(&mut other, &other_dir);
                let Some(svcs) = services_of(&other).map(<[Entry]>::to_vec) else {
                    return Err(self.diagnostic(
                        ext.at,
                        format!("{f} has no services"),
                        "compose needs the base service there",
                    ));
                };
                if !svcs.iter().any(|e| e.key == base_name) {
                    return Err(self.diagnostic(
                        ext.at,
                        format!("cannot extend service `{name}`: no service `{base_name}` in {f}"),
                        "name a service of that file",
                    ));
                }
                self.extend_one(&base_name, &svcs, env, seen)?
            }
        };
        let mut base = base;
        let mut svc = svc;
        canon::service(&mut base);
        canon::service(&mut svc);
        let mut merged = merge::merge(base, svc, &["services", name]);
        merge::strip_resets(&mut merged);
        canon::dedup(&mut merged);
        if let V::Map(entries) = &mut merged.v {
            entries.retain(|e| e.key != "extends");
        }
        Ok(merged)
    }
}

fn services_of(doc: &Node) -> Option<&[Entry]> {
    doc.get("services")?.entries()
}

fn services_mut(doc: &mut Node) -> Option<&mut Vec<Entry>> {
    let V::Map(entries) = &mut doc.v else {
        return None;
    };
    match &mut entries.iter_mut().find(|e| e.key == "services")?.value.v {
        V::Map(s) => Some(s),
        _ => None,
    }
}

fn parent(rel: &str) -> String {
    rel.rsplit_once('/')
        .map_or(String::new(), |(d, _)| d.to_string())
}
