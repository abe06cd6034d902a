//! docker-compose files to `[services]`: the project is loaded as
//! `docker compose config` loads it (`load`: `.env`, interpolation,
//! includes, `extends`, the override file, merge rules, profiles), then
//! each service is converted; what does not map is listed with the reason
//! and its `file:line`.

mod build;
mod canon;
mod env;
mod health;
mod interp;
mod load;
mod merge;
mod parts;
mod ports;
mod preset;
mod rebase;
mod service;
mod shellwords;
mod volumes;
mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{DraftService, RepoView, Unconverted};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::stacks::Stacks;

pub use interp::interpolate;
pub use load::OVERRIDE_FILES;

/// The names compose itself looks for, in its order of preference.
pub const COMPOSE_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

pub struct ComposeInput<'a> {
    /// The file as it should appear in messages.
    pub path: &'a Path,
    pub text: &'a str,
    /// Repository-relative directory of the compose file ("" for the root,
    /// ".." when it is outside the repository).
    pub dir: &'a str,
    /// The process environment: what compose reads `${VAR}`,
    /// `COMPOSE_PROFILES` and valueless `environment` entries from, over
    /// the `.env` beside the file.
    pub env: &'a BTreeMap<String, String>,
    pub repo: &'a dyn RepoView,
    pub stacks: &'a Stacks,
    /// `--profile`: profiles to include besides the services that have
    /// none (when empty, `COMPOSE_PROFILES` decides, as in compose).
    pub profiles: &'a [String],
    /// Merge the override file beside it, as compose does for the file it
    /// finds itself.
    pub with_override: bool,
}

#[derive(Debug, Default)]
pub struct Conversion {
    pub project_name: Option<String>,
    pub services: Vec<DraftService>,
    pub detected: Vec<String>,
    pub unconverted: Vec<Unconverted>,
    /// Presets whose compose services were left out on purpose (profiles):
    /// not to be suggested again.
    pub left_out_stacks: Vec<String>,
}

/// How a dependency must have finished before its dependent starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Started,
    Healthy,
    Completed,
}

struct Dep {
    pub name: String,
    pub condition: Condition,
    pub required: bool,
    pub at: yaml::Pos,
}

pub fn convert(input: &ComposeInput<'_>) -> Result<Conversion, Diagnostics> {
    let project = load::load(&load::Request {
        shown: input.path,
        text: input.text,
        dir: (input.dir != ".." && !input.dir.starts_with("../")).then_some(input.dir),
        with_override: input.with_override,
        repo: input.repo,
        process_env: input.env,
    })?;
    let mut out = Conversion {
        unconverted: project.warnings.clone(),
        ..Default::default()
    };
    let Some(top) = project.model.entries() else {
        return Err(no_services(input));
    };
    let mut services_value = None;
    for e in top {
        let at = project.at(e.at);
        let note = |what: &str, why: &str| Unconverted::new(what, why).at(at.clone());
        match e.key.as_str() {
            "services" => services_value = Some(&e.value),
            "version" => {}
            "name" => {
                let name = e.value.text().unwrap_or_default();
                if crate::manifest::sanitise_project_name(&name) == name {
                    out.project_name = Some(name);
                } else {
                    out.unconverted.push(note("name", &format!("`{name}` is not a valid devenv project name (lowercase letters, digits, `-`, `_`)")));
                }
            }
            "volumes" => top_volumes(&e.value, &project, &mut out.unconverted),
            "networks" => {
                for n in e.value.entries().unwrap_or_default() {
                    if n.key != "default" {
                        out.unconverted.push(Unconverted::new(
                            format!("networks.{}", n.key),
                            "devenv puts every service on one project network where they reach each other by name; extra networks are not converted",
                        ).at(project.at(n.at)));
                    }
                }
            }
            "secrets" | "configs" => out.unconverted.push(note(
                &e.key,
                "file-based secrets and configs are not converted; mount the file with `mounts`, or use [secrets] and a rendered config file",
            )),
            // Extension fields only feed anchors, which were expanded where used.
            k if k.starts_with("x-") => {}
            other => out.unconverted.push(note(other, "top-level key with no devenv equivalent")),
        }
    }
    if let Some(name) = input
        .env
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
    {
        out.project_name =
            Some(name.clone()).filter(|n| crate::manifest::sanitise_project_name(n) == *n);
    }
    let Some(services) = services_value.and_then(yaml::Node::entries) else {
        return Err(no_services(input));
    };
    let wanted = enabled_profiles(input, &project.env);
    let mut deps: Vec<(String, Vec<Dep>)> = Vec::new();
    for e in services {
        let name = e.key.as_str();
        let profiles: Vec<String> = e
            .value
            .get("profiles")
            .and_then(yaml::Node::items)
            .map(|s| s.iter().filter_map(yaml::Node::text).collect())
            .unwrap_or_default();
        let on = profiles.is_empty()
            || wanted.contains("*")
            || profiles.iter().any(|p| wanted.contains(p.as_str()));
        if !on {
            let image = e
                .value
                .get("image")
                .and_then(yaml::Node::text)
                .unwrap_or_default();
            if let Some(st) = parts::hub_image(&image).and_then(|(r, _)| parts::stack_for(&r)) {
                out.left_out_stacks.push(st.to_string());
            }
            out.unconverted.push(
                Unconverted::new(
                    format!("services.{name}"),
                    format!(
                        "in profile {}: not converted (pass `--profile {}` to include it)",
                        profiles.join(", "),
                        profiles[0]
                    ),
                )
                .at(project.at(e.at)),
            );
            continue;
        }
        let mut cx = service::Ctx {
            input,
            project: &project,
            name,
            svc: &e.value,
            at: e.at,
            out: &mut out.unconverted,
            svc_notes: Vec::new(),
        };
        if let Some((svc, d)) = service::convert(&mut cx) {
            deps.push((svc.name.clone(), d));
            out.services.push(svc);
        }
    }
    link_dependencies(&mut out, deps, &project);
    if let Some((file, n)) = &project.dotenv {
        out.detected.push(format!(
            "{file}: {n} variable(s) for ${{VAR}} in the compose file"
        ));
    }
    for f in project.files.iter().skip(1) {
        out.detected
            .push(format!("{f}: merged as compose merges it"));
    }
    out.detected.push(format!(
        "{}: {} service(s) converted",
        input.path.display(),
        out.services.len()
    ));
    Ok(out)
}

fn no_services(input: &ComposeInput<'_>) -> Diagnostics {
    Diagnostic::file(input.path, "no `services:` mapping in this compose file")
        .with_hint("init --from converts the services of a compose file")
        .into()
}

/// `--profile` flags, or else `COMPOSE_PROFILES` (from `.env` or the
/// environment), as compose decides.
fn enabled_profiles<'a>(
    input: &'a ComposeInput<'_>,
    env: &'a BTreeMap<String, String>,
) -> BTreeSet<&'a str> {
    if !input.profiles.is_empty() {
        return input.profiles.iter().map(String::as_str).collect();
    }
    env.get("COMPOSE_PROFILES")
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `depends_on` with conditions: dependencies that were not converted are
/// dropped (and listed); `service_completed_successfully` makes the
/// dependency a one-shot job when it publishes nothing.
fn link_dependencies(out: &mut Conversion, deps: Vec<(String, Vec<Dep>)>, project: &load::Project) {
    let names: BTreeSet<String> = out.services.iter().map(|s| s.name.clone()).collect();
    // Each dependency others wait on to complete, with who waits.
    let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (owner, list) in deps {
        let mut kept = Vec::new();
        for d in list {
            if !names.contains(&d.name) {
                if d.required {
                    out.unconverted.push(
                        Unconverted::new(
                            format!("services.{owner}.depends_on.{}", d.name),
                            format!(
                                "`{}` was not converted, so the dependency was dropped",
                                d.name
                            ),
                        )
                        .at(project.at(d.at)),
                    );
                }
                continue;
            }
            if d.condition == Condition::Completed {
                jobs.entry(d.name.clone()).or_default().push(owner.clone());
            }
            kept.push(d.name);
        }
        if let Some(s) = out.services.iter_mut().find(|s| s.name == owner) {
            s.depends_on = kept;
        }
    }
    break_cycles(out);
    for s in out
        .services
        .iter_mut()
        .filter(|s| jobs.contains_key(&s.name))
    {
        let publishes = s.ports.as_ref().is_some_and(|p| !p.is_empty());
        if publishes {
            let why = "others wait for it to complete (service_completed_successfully); it publishes ports, so it stays a service and devenv waits for its readiness";
            s.notes.push(why.into());
            // Waiting for readiness is not waiting for an exit: listed.
            for owner in &jobs[&s.name] {
                out.unconverted.push(Unconverted::new(
                    format!("services.{owner}.depends_on.{}", s.name),
                    why,
                ));
            }
        } else {
            s.run_once = true;
            s.ready = None;
            s.notes.push(
                "a one-shot job: others waited for it to complete (service_completed_successfully)"
                    .into(),
            );
        }
    }
}

/// Compose refuses dependency cycles and so does devenv: the edge that
/// closes a cycle is dropped and listed, so the rest still converts.
fn break_cycles(out: &mut Conversion) {
    fn visit(
        i: usize,
        services: &mut [DraftService],
        state: &mut [u8],
        path: &mut Vec<usize>,
        dropped: &mut Vec<Unconverted>,
    ) {
        state[i] = 1;
        path.push(i);
        let deps = services[i].depends_on.clone();
        for d in deps {
            let Some(j) = services.iter().position(|s| s.name == d) else {
                continue;
            };
            match state[j] {
                0 => visit(j, services, state, path, dropped),
                1 => {
                    let start = path.iter().position(|p| *p == j).unwrap_or(0);
                    let mut names: Vec<&str> = path[start..]
                        .iter()
                        .map(|p| services[*p].name.as_str())
                        .collect();
                    names.push(&services[j].name);
                    dropped.push(Unconverted::new(
                        format!("services.{}.depends_on.{d}", services[i].name),
                        format!(
                            "closes a dependency cycle ({}); dropped",
                            names.join(" -> ")
                        ),
                    ));
                    services[i].depends_on.retain(|x| *x != d);
                }
                _ => {}
            }
        }
        path.pop();
        state[i] = 2;
    }
    let mut state = vec![0u8; out.services.len()];
    let mut dropped = Vec::new();
    for i in 0..out.services.len() {
        if state[i] == 0 {
            visit(
                i,
                &mut out.services,
                &mut state,
                &mut Vec::new(),
                &mut dropped,
            );
        }
    }
    out.unconverted.extend(dropped);
}

fn top_volumes(v: &yaml::Node, project: &load::Project, unconverted: &mut Vec<Unconverted>) {
    for vol in v.entries().unwrap_or_default() {
        for opt in vol.value.entries().unwrap_or_default() {
            let why = match opt.key.as_str() {
                "external" => "an external volume; devenv creates and owns its volumes (named devenv_<project>_<name>)",
                "driver" | "driver_opts" => "volume drivers and their options are not converted; devenv uses the engine's local driver",
                "name" => "a custom volume name; devenv names volumes devenv_<project>_<name>",
                "labels" => continue,
                _ => "volume option with no devenv equivalent",
            };
            unconverted.push(
                Unconverted::new(format!("volumes.{}.{}", vol.key, opt.key), why)
                    .at(project.at(opt.at)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct MapRepo(BTreeMap<&'static str, &'static str>);

    impl RepoView for MapRepo {
        fn exists(&self, rel: &str) -> bool {
            self.0.contains_key(rel) || self.0.keys().any(|k| k.starts_with(&format!("{rel}/")))
        }
        fn read(&self, rel: &str) -> Option<String> {
            self.0.get(rel).map(|s| s.to_string())
        }
    }

    fn convert_in(dir: &str, text: &str, files: &[(&'static str, &'static str)]) -> Conversion {
        let repo = MapRepo(files.iter().copied().collect());
        let stacks = Stacks::built_in();
        let env = BTreeMap::new();
        convert(&ComposeInput {
            path: Path::new("compose.yaml"),
            text,
            dir,
            env: &env,
            repo: &repo,
            stacks: &stacks,
            profiles: &[],
            with_override: false,
        })
        .unwrap_or_else(|d| panic!("{d}"))
    }

    fn whats(c: &Conversion) -> Vec<&str> {
        c.unconverted.iter().map(|u| u.what.as_str()).collect()
    }

    #[test]
    fn a_build_is_rebased_from_the_compose_file_to_the_repository_root() {
        let c = convert_in(
            "deploy",
            "services:\n  api:\n    build:\n      context: ../api\n      dockerfile: docker/Dev.Dockerfile\n      args: {VERSION: 2}\n  web:\n    build: ./web\n  out:\n    build: ../../elsewhere\n  far:\n    build:\n      context: ../api\n      dockerfile: ../Dockerfile\n",
            &[("api/docker/Dev.Dockerfile", ""), ("deploy/web/Dockerfile", ""), ("Dockerfile", "")],
        );
        let names: Vec<&str> = c.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["api", "web"]);
        let api = c.services[0].build.as_ref().unwrap();
        assert_eq!(api.context, "api");
        assert_eq!(api.dockerfile.as_deref(), Some("docker/Dev.Dockerfile"));
        assert_eq!(api.args["VERSION"], "2");
        let web = c.services[1].build.as_ref().unwrap();
        assert_eq!(
            (web.context.as_str(), web.dockerfile.as_deref()),
            ("deploy/web", None)
        );
        assert_eq!(whats(&c), ["services.out", "services.far"]);
        assert!(c.unconverted[0].why.contains("outside the repository"));
        assert!(c.unconverted[1].why.contains("outside the context"));
    }

    #[test]
    fn dependencies_on_left_out_services_are_dropped_and_listed() {
        let c = convert_in(
            "",
            "services:\n  app:\n    image: a\n    depends_on:\n      dbg: {condition: service_started}\n      opt: {condition: service_started, required: false}\n  dbg:\n    image: b\n    profiles: [debug]\n",
            &[],
        );
        assert_eq!(c.services[0].depends_on, Vec::<String>::new());
        assert_eq!(whats(&c), ["services.dbg", "services.app.depends_on.dbg"]);
    }

    #[test]
    fn a_completed_dependency_with_ports_stays_a_service() {
        let c = convert_in(
            "",
            "services:\n  seed:\n    image: s\n    ports: ['9000']\n  app:\n    image: a\n    depends_on:\n      seed: {condition: service_completed_successfully}\n",
            &[],
        );
        assert!(!c.services[0].run_once);
        assert!(c.services[0].notes[0].contains("stays a service"));
        assert_eq!(whats(&c), ["services.app.depends_on.seed"]);
    }

    #[test]
    fn paths_are_relative_to_the_compose_file() {
        let c = convert_in(
            "deploy",
            "services:\n  app:\n    image: a\n    volumes: ['../src:/src', './missing:/m', '../../etc:/e']\n",
            &[("src/main.go", "")],
        );
        assert_eq!(c.services[0].mounts, ["./src:/src"]);
        assert_eq!(
            whats(&c),
            [
                "services.app.volumes `./missing:/m`",
                "services.app.volumes `../../etc:/e`"
            ]
        );
    }

    #[test]
    fn git_ignored_env_files_are_not_inlined() {
        let c = convert_in(
            "",
            "services:\n  app:\n    image: a\n    env_file: [.env, shared.env]\n",
            &[
                (".gitignore", "node_modules/\n.env\n"),
                (".env", "TOKEN=real\n"),
                ("shared.env", "MODE=dev\n"),
            ],
        );
        assert_eq!(
            c.services[0].env.get("MODE").map(String::as_str),
            Some("dev")
        );
        assert!(!c.services[0].env.contains_key("TOKEN"));
        assert_eq!(whats(&c), ["services.app.env_file .env"]);
    }

    #[test]
    fn odd_but_legal_entries() {
        let c = convert_in(
            "",
            "services:\n  _x:\n    image: a\n  app:\n    image: a\n    entrypoint: []\n    environment: ['URL=http://x/?a=b']\n    healthcheck: {test: [NONE]}\n",
            &[],
        );
        assert_eq!(c.services.len(), 1);
        let app = &c.services[0];
        assert_eq!(app.env["URL"], "http://x/?a=b");
        assert_eq!(app.ready, None);
        assert_eq!(whats(&c), ["services._x", "services.app.entrypoint"]);
        let c = convert_in(
            "",
            "services:\n  a:\n    image: My App\n  db:\n    image: postgres\n",
            &[],
        );
        assert_eq!(
            whats(&c),
            [
                "services.a",
                "services.db.environment",
                "services.db.healthcheck",
                "services.db.volumes"
            ]
        );
        assert_eq!(c.services[0].ports, Some(Vec::new()));
        assert_eq!(c.services[0].version.as_deref(), Some("latest"));
        assert!(c.services[0]
            .notes
            .iter()
            .any(|n| n.contains("remove `ports = []` to publish the preset's 5432")));
    }

    #[test]
    fn a_dependency_cycle_loses_its_closing_edge() {
        let c = convert_in(
            "",
            "services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    depends_on: [c]\n  c:\n    image: c\n    depends_on: [a]\n",
            &[],
        );
        assert_eq!(c.services[0].depends_on, ["b"]);
        assert_eq!(c.services[2].depends_on, Vec::<String>::new());
        assert_eq!(c.unconverted[0].what, "services.c.depends_on.a");
        assert!(c.unconverted[0].why.contains("a -> b -> c -> a"));
    }

    #[test]
    fn not_a_compose_file() {
        let repo = MapRepo(BTreeMap::new());
        let stacks = Stacks::built_in();
        let env = BTreeMap::new();
        let input = |text| ComposeInput {
            path: Path::new("c.yml"),
            text,
            dir: "",
            env: &env,
            repo: &repo,
            stacks: &stacks,
            profiles: &[],
            with_override: false,
        };
        let e = convert(&input("- a\n- b\n")).unwrap_err();
        assert!(e.0[0].message.contains("top level"));
        let e = convert(&input("version: '3'\n")).unwrap_err();
        assert!(e.0[0].message.contains("no `services:`"));
    }

    #[test]
    fn a_bind_mount_at_the_presets_data_path_keeps_the_image() {
        // The preset's data volume and the bind mount would both land on
        // /var/lib/postgresql/data, and devenv.toml cannot drop the former.
        let c = convert_in(
            "",
            "services:\n  db:\n    image: postgres:14-alpine\n    volumes: ['./pg:/var/lib/postgresql/data']\n",
            &[("pg/PG_VERSION", "14")],
        );
        let db = &c.services[0];
        assert_eq!(
            (db.stack.as_deref(), db.image.as_deref()),
            (None, Some("postgres:14-alpine"))
        );
        assert_eq!(db.mounts, ["./pg:/var/lib/postgresql/data"]);
        assert!(db.notes[0].contains("not the postgres preset"));
    }
}
