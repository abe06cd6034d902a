//! Tear-down always works: `down`, `reset` and `status` work from the
//! labels and the clone's state when devenv.toml does not load or is gone,
//! and say so. Before, a bad edit left containers and mocks running with no
//! devenv command able to stop them.

mod common;

use common::{engine_available, labelled_ids, try_http, Cleanup, TestEnv, REGISTRY};

fn project(name: &str) -> TestEnv {
    TestEnv::new().manifest(&format!(
        "[project]\nname = \"{name}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\
         [services.web]\nimage = \"busybox:latest\"\ncommand = [\"sleep\", \"3600\"]\n\
         [mocks.pay]\nport = \"auto\"\n[[mocks.pay.routes]]\npath = \"/v\"\n"
    ))
}

#[test]
fn down_works_when_devenv_toml_no_longer_parses() {
    if !engine_available("down_works_when_devenv_toml_no_longer_parses") {
        return;
    }
    let name = "teardown-broken";
    let _c = Cleanup(name.into());
    let env = project(name);
    env.run(["up"]).success();
    let url = common::mock_url(&env, "pay");
    assert_eq!(labelled_ids(&["ps", "-q"], name).len(), 1);

    env.write(
        "devenv.toml",
        &format!("[project]\nname = \"{name}\"\n[services.web\nimage = "),
    );
    let doc = env.run(["status", "--json"]).success().json();
    let web = doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "web")
        .cloned();
    assert_eq!(web.unwrap()["state"], "running", "{doc}");

    env.run(["down"])
        .success()
        .stderr_has("devenv.toml does not load (")
        .stderr_has(&format!(
            "working from the labels and state of project `{name}`"
        ))
        .stderr_has("stopped mock(s): pay");
    assert!(labelled_ids(&["ps", "-aq"], name).is_empty());
    assert!(labelled_ids(&["network", "ls", "-q"], name).is_empty());
    assert!(
        try_http("GET", &format!("{url}/v"), &[], "").is_err(),
        "the mock still answers"
    );
}

#[test]
fn reset_works_when_devenv_toml_is_gone() {
    if !engine_available("reset_works_when_devenv_toml_is_gone") {
        return;
    }
    let name = "teardown-gone";
    let _c = Cleanup(name.into());
    let env = project(name);
    env.run(["up"]).success();
    std::fs::remove_file(env.repo().join("devenv.toml")).unwrap();
    // The name was explicit and the file is gone: `up` remembered it.
    env.run(["reset", "--yes"])
        .success()
        .stderr_has("there is no devenv.toml in")
        .stderr_has(&format!("project `{name}`"));
    assert!(labelled_ids(&["ps", "-aq"], name).is_empty());
    assert!(!env.exists(".devenv"));
}

#[test]
fn without_a_clone_a_missing_devenv_toml_is_still_bad_input() {
    TestEnv::new()
        .run(["status"])
        .code(2)
        .stderr_has("no devenv.toml found");
}
