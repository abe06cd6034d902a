//! `devenv validate` against a corpus of broken manifests, one per kind of
//! mistake: each must exit 2 and point at the right line:column, and none may
//! leave anything behind.

mod common;

use std::path::{Path, PathBuf};

use common::TestEnv;

struct Case {
    path: PathBuf,
    expects: Vec<(usize, usize, String)>,
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let expects = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .map(|e| {
                    let (pos, msg) = e.split_once(' ').unwrap();
                    let (line, col) = pos.split_once(':').unwrap();
                    (line.parse().unwrap(), col.parse().unwrap(), msg.to_string())
                })
                .collect();
            Case { path, expects }
        })
        .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}

#[test]
fn the_corpus_has_at_least_thirty_kinds_of_mistake() {
    let cases = corpus();
    assert!(cases.len() >= 30, "only {} broken manifests", cases.len());
    for c in &cases {
        assert!(
            !c.expects.is_empty(),
            "{} has no `# expect:` line",
            c.path.display()
        );
    }
}

#[test]
fn every_broken_manifest_exits_2_at_the_right_place() {
    let env = TestEnv::new();
    let mut failures = Vec::new();
    for case in corpus() {
        let run = env.run(["-f", case.path.to_str().unwrap(), "validate", "--json"]);
        let name = case.path.file_name().unwrap().to_string_lossy().to_string();
        if run.code != 2 {
            failures.push(format!(
                "{name}: exit {} (stderr: {})",
                run.code, run.stderr
            ));
            continue;
        }
        let doc = run.json();
        assert_eq!(doc["valid"], false);
        let problems = doc["problems"].as_array().unwrap();
        for (line, col, msg) in &case.expects {
            let hit = problems.iter().any(|p| {
                p["line"] == *line
                    && p["column"] == *col
                    && p["message"].as_str().unwrap().contains(msg.as_str())
            });
            if !hit {
                failures.push(format!(
                    "{name}: no problem at {line}:{col} containing {msg:?}; got {problems:#?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn human_output_shows_the_location_the_line_and_a_hint() {
    let env =
        TestEnv::new().manifest("[services.cache]\nimage = \"redis:7\"\nimgae = \"redis:7\"\n");
    env.run(["validate"])
        .code(2)
        .stderr_has("error: unknown key `imgae` in [services.cache]")
        .stderr_has("--> devenv.toml:3:1")
        .stderr_has("3 | imgae = \"redis:7\"")
        .stderr_has("  | ^^^^^")
        .stderr_has("help: did you mean `image`?");
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let env = TestEnv::new().manifest(
        "[project]\nnmae = \"x\"\n[services.db]\nstack = \"postgress\"\n[services.web]\nimage = \"nginx\"\ndepends_on = [\"dbb\"]\n",
    );
    let run = env.run(["validate", "--json"]).code(2);
    assert_eq!(
        run.json()["problems"].as_array().unwrap().len(),
        3,
        "{}",
        run.stdout
    );
}

#[test]
fn a_malformed_file_never_leaves_anything_behind() {
    for case in corpus() {
        let env = TestEnv::new();
        let text = std::fs::read_to_string(&case.path).unwrap();
        env.write("devenv.toml", &text);
        env.write("templates/app.env.j2", "LOG_LEVEL={{ log_level }}\n");
        let before = env.repo_files();
        for cmd in [
            &["validate"][..],
            &["up"],
            &["up", "--only", "services"],
            &["render"],
        ] {
            let run = env.run(cmd);
            assert_eq!(
                run.code,
                2,
                "{} with {}: {}",
                cmd.join(" "),
                case.path.display(),
                run.stderr
            );
        }
        assert!(
            !env.devenv_home().exists(),
            "{} created DEVENV_HOME",
            case.path.display()
        );
        // Tear-down and status must always work: from the labels, saying
        // so, and still without touching the repository.
        for cmd in [&["down"][..], &["status"]] {
            let run = env.run(cmd);
            let shown = format!(
                "{} with {}: {}",
                cmd.join(" "),
                case.path.display(),
                run.stderr
            );
            assert_eq!(run.code, 0, "{shown}");
            assert!(run.stderr.contains("does not load"), "{shown}");
        }
        assert_eq!(
            env.repo_files(),
            before,
            "{} left files behind",
            case.path.display()
        );
    }
}

#[test]
fn the_examples_are_valid() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap().flatten() {
        let manifest = entry.path().join("devenv.toml");
        if manifest.exists() {
            seen += 1;
            TestEnv::new()
                .run(["-f", manifest.to_str().unwrap(), "validate"])
                .success();
        }
    }
    assert!(seen > 0, "no example manifests under examples/");
}

#[test]
fn validate_finds_the_manifest_from_a_subdirectory() {
    let env = TestEnv::new()
        .manifest("[project]\nname = \"shop\"\n")
        .file("src/app/main.rs", "");
    let mut cmd = env.command(["validate", "--json"]);
    cmd.current_dir(env.repo().join("src/app"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["project"], "shop");
}

#[test]
fn no_manifest_is_bad_input_with_a_way_forward() {
    TestEnv::new()
        .run(["validate"])
        .code(2)
        .stderr_has("no devenv.toml found")
        .stderr_has("devenv init");
}

/// A compose user's first `devenv up` should lead to `init --from`, from
/// the repository root and from a folder below it.
#[test]
fn up_in_a_compose_repository_without_devenv_toml_points_at_init_from() {
    let env = TestEnv::new()
        .file(
            "docker-compose.yml",
            "services:\n  db:\n    image: postgres:16\n",
        )
        .file("src/app/main.py", "");
    env.run(["up"])
        .code(2)
        .stderr_has("no devenv.toml found")
        .stderr_has("hint: this repository has a compose file: `devenv init --from docker-compose.yml` converts it to devenv.toml");
    let mut cmd = env.command(["up"]);
    cmd.current_dir(env.repo().join("src/app"));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`devenv init --from ../../docker-compose.yml`"),
        "{stderr}"
    );
    assert!(!env.exists(".devenv"), "nothing ran");
}

#[test]
fn the_starter_template_is_valid() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/devenv.toml");
    let env = TestEnv::new().manifest(&std::fs::read_to_string(template).unwrap());
    env.run(["validate"]).success();
}

/// A port range got no list of the accepted forms, and `database` for a
/// service called `db` got no suggestion.
#[test]
fn a_port_range_lists_the_forms_and_an_abbreviated_name_is_suggested() {
    TestEnv::new()
        .manifest(
            "[services.db]\nimage = \"redis:7\"\nports = [\"6379-16379\"]\n\
             [services.api]\nimage = \"redis:7\"\ndepends_on = [\"database\"]\n",
        )
        .run(["validate"])
        .code(2)
        .stderr_has("`6379-16379` is a range; port ranges are not supported")
        .stderr_has("\"HOST:CONTAINER\" or \"auto:CONTAINER\"")
        .stderr_has("did you mean `db`?");
}
