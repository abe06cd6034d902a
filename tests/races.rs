//! Races and shared names: two `up`s at once, a duplicate network left by
//! a race, two clones that share a `[project] name`. Each test is named
//! after what broke: the engine allows two networks of one name, and every
//! command after such a race failed with "network is ambiguous".

mod common;

use std::process::{Child, ExitStatus, Stdio};
use std::time::Duration;

use common::{
    engine_available, labelled_ids, wait_for_exit, wait_until, wait_until_alive, Cleanup, TestEnv,
    REGISTRY,
};

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

/// One user, two clones: they share `DEVENV_HOME`, and so the network lock.
/// CI once saw two networks here: the engine stamps a network's creation
/// time before it lists it, so "keep the oldest" alone let each `up` keep
/// its own.
#[test]
fn two_clones_sharing_a_project_name_come_up_at_once_with_one_network() {
    if !engine_available("two_clones_sharing_a_project_name") {
        return;
    }
    let project = "race-shared";
    let _c = Cleanup(project.into());
    let a = TestEnv::new().manifest(&web(project));
    let home = a.devenv_home().display().to_string();
    let b = TestEnv::new()
        .manifest(&web(project))
        .env("DEVENV_HOME", &home);
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

/// While an `up` works on the clone, a second command waits for it, naming
/// its pid, or with `--no-wait` exits 1 at once; neither changes anything
/// while the first runs.
#[test]
fn a_second_command_waits_for_the_first_or_exits_1_with_no_wait() {
    let env = TestEnv::new().manifest(
        "[project]\nname = \"lock\"\n[hooks]\nsetup = [\"while [ ! -f go ]; do sleep 0.05; done\"]\n",
    );
    let mut first = start(&env, &["up", "--yes"]);
    let pid = first.child.id();
    wait_until_alive(
        &mut first.child,
        Duration::from_secs(120),
        "the first up to take the lock",
        || env.run(["down", "--no-wait"]).code == 1,
    );
    env.run(["down", "--no-wait"]).code(1).stderr_has(&format!(
        "devenv (pid {pid}) is already working on this clone"
    ));
    env.run(["reset", "--yes", "--no-wait"]).code(1);

    let waiting = start(&env, &["down"]);
    let stderr = waiting.stderr.path().to_path_buf();
    wait_until(
        Duration::from_secs(120),
        "the second command to say whom it waits for",
        || {
            std::fs::read_to_string(&stderr)
                .unwrap_or_default()
                .contains(&format!("waiting for devenv (pid {pid})"))
        },
    );
    env.write("go", "");
    let (status, stderr) = finish(first, "the first up");
    assert!(status.success(), "{stderr}");
    let (status, stderr) = finish(waiting, "the waiting down");
    assert!(status.success(), "{stderr}");
}

/// After Ctrl-C during the readiness wait, the container runs and its
/// docker-proxy holds the host port; the next `up` must see the port as its
/// own container's, not as taken by another program.
#[test]
fn an_up_after_ctrl_c_recognises_its_own_docker_proxy() {
    if !engine_available("an_up_after_ctrl_c_recognises_its_own_docker_proxy") {
        return;
    }
    let project = "race-ctrl-c";
    let _c = Cleanup(project.into());
    let port = common::free_port();
    let manifest = |ready: &str| {
        format!(
            "[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\
             [services.web]\nimage = \"busybox:latest\"\ncommand = [\"httpd\", \"-f\", \"-p\", \"8080\"]\n\
             ports = [\"{port}:8080\"]\nready = {ready}\n"
        )
    };
    // httpd answers 404 to this path, so `up` waits until interrupted.
    let env = TestEnv::new().manifest(&manifest(
        "{ http = \"/never\", port = 8080, timeout = \"10m\" }",
    ));
    let mut up = start(&env, &["up"]);
    wait_until_alive(
        &mut up.child,
        Duration::from_secs(120),
        "the container to run",
        || labelled_ids(&["ps", "-q"], project).len() == 1,
    );
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &up.child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let (status, stderr) = finish(up, "the interrupted up");
    assert_eq!(status.code(), Some(130), "{stderr}");

    env.write("devenv.toml", &manifest("{ tcp = 8080 }"));
    env.run(["up"])
        .success()
        .stderr_lacks("already in use")
        .stderr_has(&format!("{project} is up"));
}
