//! Races and shared names: two `up`s at once, a duplicate network left by
//! a race, two clones that share a `[project] name`. Each test is named
//! after what broke: the engine allows two networks of one name, and every
//! command after such a race failed with "network is ambiguous".

mod common;

use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

use common::{engine_available, labelled_ids, wait_for_exit, Cleanup, TestEnv, REGISTRY};

/// `devenv ARGS` started in the background, its stderr kept in a file.
struct Started {
    child: Child,
    stderr: tempfile::NamedTempFile,
}

fn start(env: &TestEnv, args: &[&str]) -> Started {
    let stderr = tempfile::NamedTempFile::new().unwrap();
    let child = env
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr.reopen().unwrap()))
        .spawn()
        .unwrap();
    Started { child, stderr }
}

/// Waits (with a generous deadline) and returns the exit status and stderr.
fn finish(mut s: Started, what: &str) -> (ExitStatus, String) {
    let status = wait_for_exit(&mut s.child, Duration::from_secs(180), what);
    (status, std::fs::read_to_string(s.stderr.path()).unwrap())
}

fn web(project: &str) -> String {
    format!(
        "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\
         [services.web]\nimage = \"busybox:latest\"\ncommand = [\"sleep\", \"3600\"]\n"
    )
}

fn duplicate_networks(name: &str, project: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let docker = bollard::Docker::connect_with_unix_defaults().unwrap();
        for _ in 0..2 {
            let req = bollard::models::NetworkCreateRequest {
                name: name.to_string(),
                labels: Some([("dev.devenv.project".to_string(), project.to_string())].into()),
                ..Default::default()
            };
            docker.create_network(req).await.unwrap();
        }
    });
}

#[test]
fn a_duplicate_network_left_by_a_race_is_healed_by_the_next_up() {
    if !engine_available("a_duplicate_network_left_by_a_race_is_healed") {
        return;
    }
    let project = "race-heal";
    let _c = Cleanup(project.into());
    let name = format!("devenv_{project}_default");
    // Through the Engine API, as `up` creates networks: unlike the docker
    // CLI it does not refuse a duplicate name, which is how a race leaves two.
    duplicate_networks(&name, project);
    assert_eq!(labelled_ids(&["network", "ls", "-q"], project).len(), 2);

    let env = TestEnv::new().manifest(&web(project));
    env.run(["up"]).success();
    assert_eq!(labelled_ids(&["network", "ls", "-q"], project).len(), 1);
    env.run(["status"]).success().stdout_has("running");
    env.run(["down"]).success();
    assert!(labelled_ids(&["network", "ls", "-q"], project).is_empty());
}

#[test]
fn two_clones_sharing_a_project_name_come_up_at_once_with_one_network() {
    if !engine_available("two_clones_sharing_a_project_name") {
        return;
    }
    let project = "race-shared";
    let _c = Cleanup(project.into());
    let a = TestEnv::new().manifest(&web(project));
    let b = TestEnv::new().manifest(&web(project));
    let started: Vec<Started> = [&a, &b].iter().map(|env| start(env, &["up"])).collect();
    for s in started {
        let (status, stderr) = finish(s, "a racing `devenv up`");
        assert!(status.success(), "{stderr}");
    }
    assert_eq!(labelled_ids(&["network", "ls", "-q"], project).len(), 1);
    assert_eq!(labelled_ids(&["ps", "-aq"], project).len(), 1);
    a.run(["status"]).success().stdout_has("running");
    b.run(["status"]).success().stdout_has("running");
}

#[test]
fn a_second_clone_with_the_same_project_name_warns_and_leaves_the_first_clones_containers() {
    if !engine_available("a_second_clone_with_the_same_project_name_warns") {
        return;
    }
    let project = "shared-name";
    let _c = Cleanup(project.into());
    let a = TestEnv::new().manifest(&web(project));
    a.run(["up"]).success();
    let id_before = labelled_ids(&["ps", "-q"], project);
    // The second clone's web differs: without the clone label it would
    // recreate the first clone's container.
    let b = TestEnv::new().manifest(&web(project).replace("3600", "7200"));
    b.run(["up"])
        .success()
        .stderr_has(&format!(
            "project `{project}` is also brought up by the clone at {}",
            a.repo().display()
        ))
        .stderr_has("Give each clone its own [project] name");
    assert_eq!(labelled_ids(&["ps", "-q"], project), id_before, "recreated");
}

#[test]
fn two_ups_of_one_clone_at_once_leave_one_set_of_containers() {
    if !engine_available("two_ups_of_one_clone_at_once") {
        return;
    }
    let project = "race-one-clone";
    let _c = Cleanup(project.into());
    let env = TestEnv::new().manifest(&web(project));
    let started: Vec<Started> = (0..2).map(|_| start(&env, &["up"])).collect();
    for s in started {
        let (status, stderr) = finish(s, "a concurrent `devenv up`");
        assert!(status.success(), "{stderr}");
    }
    assert_eq!(labelled_ids(&["ps", "-aq"], project).len(), 1);
    assert_eq!(labelled_ids(&["network", "ls", "-q"], project).len(), 1);
    env.run(["up", "--no-wait"]).success();
}
