//! Services and jobs built from a Dockerfile in the repository, on the real
//! engine. Base images come from the loopback registry
//! (tests/support/setup.sh); every test has its own project and removes its
//! containers, network, volumes and built images, even when it fails.

mod common;

use common::{docker, engine_available, http_get, labelled_ids, remove_project, TestEnv, REGISTRY};

fn manifest(project: &str, services: &str) -> String {
    format!("[project]\nname = \"{project}\"\n[settings]\nregistry_mirror = \"{REGISTRY}\"\n\n{services}")
}

fn busybox() -> String {
    format!("{REGISTRY}/library/busybox:latest")
}

/// Removes what `Cleanup` does, and the images devenv built for the project.
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        remove_project(self.0);
        let images = built_images(self.0);
        if !images.is_empty() {
            let mut args = vec!["rmi", "-f"];
            args.extend(images.iter().map(String::as_str));
            let _ = docker(&args);
        }
    }
}

/// `repository:tag` of the images built for a project, by devenv's label.
fn built_images(project: &str) -> Vec<String> {
    labelled_ids(
        &["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
        project,
    )
}

fn inspect(object: &str, format: &str) -> String {
    let out = docker(&["inspect", "--format", format, object]);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The container's (id, image id).
fn container(project: &str, service: &str) -> (String, String) {
    let name = format!("devenv_{project}_{service}");
    (inspect(&name, "{{.Id}}"), inspect(&name, "{{.Image}}"))
}

/// A web server whose page is COPYed in, ready when it serves it.
const WEB: &str = r#"[services.web]
build = "web"
ports = ["auto:8080"]
command = ["httpd", "-f", "-p", "8080", "-h", "/www"]
ready = { http = "/index.html", port = 8080 }
"#;

fn web_env(project: &str) -> TestEnv {
    TestEnv::new()
        .manifest(&manifest(project, WEB))
        .file(
            "web/Dockerfile",
            &format!("FROM {}\nCOPY index.html /www/index.html\n", busybox()),
        )
        .file("web/index.html", "first\n")
}

fn page(env: &TestEnv) -> String {
    let port = common::host_port(env, "web");
    let (status, _, body) = http_get(&format!("http://127.0.0.1:{port}/index.html"));
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn a_built_service_is_ready_and_a_noop_up_builds_nothing() {
    if !engine_available("built_service") {
        return;
    }
    let project = "build-web";
    let _c = Cleanup(project);
    let env = web_env(project);
    env.run(["up"])
        .success()
        .stderr_has(&format!("built devenv_{project}_web:"))
        .stderr_has("web ready (created)");
    assert_eq!(page(&env), "first\n");
    let images = built_images(project);
    assert_eq!(images.len(), 1, "{images:?}");
    assert!(images[0].starts_with(&format!("devenv_{project}_web:")));
    let before = container(project, "web");

    env.run(["up", "-v"])
        .success()
        .stderr_lacks("built devenv_")
        .stderr_has("`web`: context unchanged, nothing built")
        .stderr_has("web ready (unchanged)");
    assert_eq!(
        container(project, "web"),
        before,
        "same container, same image"
    );
    assert_eq!(built_images(project), images);
}

/// `reset` left the images `up` had built: a reset clone was not back to
/// a fresh one, and every reset project kept its images on the engine.
#[test]
fn reset_removes_the_images_up_built_and_down_keeps_them() {
    if !engine_available("built_reset") {
        return;
    }
    let project = "build-reset";
    let _c = Cleanup(project);
    let env = web_env(project).manifest(&manifest(
        project,
        &format!("{WEB}image = \"build-reset-web:dev\"\n"),
    ));
    env.run(["up"]).success();
    let sorted = || {
        let mut i = built_images(project);
        i.sort();
        i
    };
    let images = sorted();
    assert_eq!(
        images.len(),
        2,
        "the hash tag and the `image` tag: {images:?}"
    );
    env.run(["down"]).success();
    assert_eq!(sorted(), images, "down keeps built images");
    env.run(["reset", "--yes"])
        .success()
        .stderr_has("1 built image(s)");
    assert_eq!(built_images(project), Vec::<String>::new());
}

/// With `registry_mirror` set, `up` pulled images through the mirror but
/// the builder pulled the Dockerfile's `FROM` image from Docker Hub, so
/// where only the mirror answers every build failed. The base is a Docker
/// Hub-style name that exists only in the loopback registry (the mirror):
/// found at all, it came through the mirror.
#[test]
fn a_dockerfile_from_a_docker_hub_name_builds_through_the_registry_mirror() {
    if !engine_available("built_through_mirror") {
        return;
    }
    let project = "build-mirror";
    let _c = Cleanup(project);
    let base = "devenv-test-mirror-base:1";
    let mirrored = format!("{REGISTRY}/library/{base}");
    struct Untag(String, String);
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = docker(&["rmi", &self.0, &self.1]);
        }
    }
    let _untag = Untag(base.to_string(), mirrored.clone());
    assert!(docker(&["tag", &busybox(), &mirrored]).status.success());
    assert!(docker(&["push", "-q", &mirrored]).status.success());
    let _ = docker(&["rmi", &mirrored]);
    let _ = docker(&["rmi", base]);
    let env = TestEnv::new()
        .manifest(&manifest(project, WEB))
        .file(
            "web/Dockerfile",
            &format!("FROM {base} AS site\nCOPY index.html /www/index.html\nFROM site\n"),
        )
        .file("web/index.html", "mirrored\n");
    env.run(["up"])
        .success()
        .stderr_has(&format!("pull {mirrored}"))
        .stderr_has("web ready (created)");
    assert_eq!(page(&env), "mirrored\n");
    assert!(
        docker(&["image", "inspect", base]).status.success(),
        "the base is there under the Dockerfile's name"
    );
}

#[test]
fn a_changed_context_file_rebuilds_and_recreates_and_build_forces_it() {
    if !engine_available("built_rebuild") {
        return;
    }
    let project = "build-rebuild";
    let _c = Cleanup(project);
    let env = web_env(project);
    env.run(["up"]).success();
    let (first_id, first_image) = container(project, "web");

    env.write("web/index.html", "second\n");
    env.run(["up"])
        .success()
        .stderr_has(&format!("built devenv_{project}_web:"))
        .stderr_has("web ready (recreated: image rebuilt)");
    let (second_id, second_image) = container(project, "web");
    assert_ne!(second_image, first_image, "a new image");
    assert_ne!(second_id, first_id, "a new container");
    assert_eq!(page(&env), "second\n");

    // Nothing changed, but --build builds anyway (without the cache), and
    // the container follows the new image.
    env.run(["up", "--build"])
        .success()
        .stderr_has(&format!("built devenv_{project}_web:"))
        .stderr_has("web ready (recreated: image rebuilt)");
    let (third_id, third_image) = container(project, "web");
    assert_ne!(third_image, second_image);
    assert_ne!(third_id, second_id);
    assert_eq!(page(&env), "second\n");
    env.run(["up"]).success().stderr_lacks("built devenv_");
}

#[test]
fn dockerignore_keeps_files_out_of_the_image_and_out_of_the_hash() {
    if !engine_available("built_dockerignore") {
        return;
    }
    let project = "build-ignore";
    let _c = Cleanup(project);
    let env = TestEnv::new()
        .manifest(&manifest(
            project,
            "[services.files]\nbuild = \"ctx\"\nrun = \"once\"\ncommand = [\"true\"]\n",
        ))
        .file(
            "ctx/Dockerfile",
            &format!("FROM {}\nCOPY . /ctx/\n", busybox()),
        )
        .file(
            "ctx/.dockerignore",
            "# local files\nsecret.txt\nlogs\n!logs/keep.log\n**/*.tmp\nDockerfile\n.dockerignore\n",
        )
        .file("ctx/app.txt", "app")
        .file("ctx/secret.txt", "do not send")
        .file("ctx/logs/keep.log", "kept")
        .file("ctx/logs/drop.log", "dropped")
        .file("ctx/src/deep/scratch.tmp", "tmp")
        .file("ctx/src/deep/code.txt", "code");
    env.run(["up"]).success().stderr_has("built devenv_");
    let images = built_images(project);
    assert_eq!(images.len(), 1, "{images:?}");
    let out = docker(&["run", "--rm", &images[0], "find", "/ctx", "-type", "f"]);
    let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "/ctx/app.txt",
            "/ctx/logs/keep.log",
            "/ctx/src/deep/code.txt"
        ],
        "the Dockerfile and .dockerignore are sent (or the build could not start) but not copied"
    );
    // A change to an ignored file changes nothing.
    env.write("ctx/secret.txt", "still not sent");
    env.run(["up"]).success().stderr_lacks("built devenv_");
    assert_eq!(built_images(project), images);
}

/// A repository whose third step fails. With a `.dockerignore` that names
/// the Dockerfile, devenv builds it with the classic builder.
fn failing_build(project: &str, dockerignore: Option<&str>) -> TestEnv {
    let env = TestEnv::new()
        .manifest(&manifest(project, "[services.app]\nbuild = \".\"\n"))
        .file(
            "Dockerfile",
            &format!(
                "FROM {}\nRUN echo preparing\nRUN echo the step says why && false\n",
                busybox()
            ),
        );
    match dockerignore {
        Some(text) => env.file(".dockerignore", text),
        None => env,
    }
}

fn nothing_was_made(project: &str, stderr: &str) {
    assert!(
        !stderr.contains("preparing"),
        "only the failing step's output: {stderr}"
    );
    assert!(
        labelled_ids(&["ps", "-aq"], project).is_empty(),
        "no container"
    );
    assert!(built_images(project).is_empty(), "no image");
}

#[test]
fn a_failing_step_is_exit_1_with_that_step_and_its_output() {
    if !engine_available("built_failure") {
        return;
    }
    let project = "build-fail";
    let _c = Cleanup(project);
    // BuildKit, as Compose v2 builds: its step names and its error.
    let run = failing_build(project, None)
        .run(["up"])
        .code(1)
        .stderr_has("building `app` failed at `[3/3] RUN echo the step says why && false`")
        .stderr_has("| the step says why")
        .stderr_has("exit code: 1")
        .stderr_has("hint: fix the Dockerfile");
    nothing_was_made(project, &run.stderr);
}

#[test]
fn a_failing_step_of_the_classic_builder_is_named_the_same_way() {
    if !engine_available("built_failure_classic") {
        return;
    }
    let project = "build-fail-classic";
    let _c = Cleanup(project);
    let run = failing_build(project, Some("Dockerfile\n"))
        .run(["up"])
        .code(1)
        .stderr_has("building `app` failed at `Step 3/4 : RUN echo the step says why && false`")
        .stderr_has("| the step says why")
        .stderr_has("returned a non-zero code: 1")
        .stderr_has("hint: fix the Dockerfile");
    nothing_was_made(project, &run.stderr);
}

const STAGES: &str = "FROM {base} AS base
ARG GREETING=default
RUN echo \"$GREETING\" > /greeting
FROM base AS dev
RUN echo dev > /stage
FROM base AS prod
RUN echo prod > /stage
";

#[test]
fn args_and_target_reach_the_build() {
    if !engine_available("built_args") {
        return;
    }
    let project = "build-args";
    let _c = Cleanup(project);
    let service = |args: &str, target: &str| {
        manifest(
            project,
            &format!(
                "[services.show]\nbuild = {{ context = \"img\", dockerfile = \"Dockerfile.stages\"{args}{target} }}\nrun = \"once\"\ncommand = [\"sh\", \"-c\", \"cat /greeting /stage\"]\n"
            ),
        )
    };
    let env = TestEnv::new().manifest(&service("", "")).file(
        "img/Dockerfile.stages",
        &STAGES.replace("{base}", &busybox()),
    );
    env.run(["up"]).success();
    assert_eq!(
        env.run(["logs", "show"]).success().stdout,
        "default\nprod\n"
    );
    env.write(
        "devenv.toml",
        &service(", args = { GREETING = \"hello\" }", ", target = \"dev\""),
    );
    env.run(["up"])
        .success()
        .stderr_has("built devenv_")
        .stderr_has("show done");
    assert_eq!(env.run(["logs", "show"]).success().stdout, "hello\ndev\n");
    assert_eq!(built_images(project).len(), 2, "one tag per settings");
}

#[test]
fn a_built_job_runs_once() {
    if !engine_available("built_job") {
        return;
    }
    let project = "build-job";
    let _c = Cleanup(project);
    let env = TestEnv::new()
        .manifest(&manifest(
            project,
            "[services.migrate]\nbuild = { context = \"migrations\" }\nrun = \"once\"\nvolumes = { out = \"/out\" }\n",
        ))
        .file(
            "migrations/Dockerfile",
            &format!(
                "FROM {}\nCOPY 001.sql /migrations/\nCMD [\"sh\", \"-c\", \"ls /migrations >> /out/runs\"]\n",
                busybox()
            ),
        )
        .file("migrations/001.sql", "create table t();\n");
    let runs = || {
        let out = docker(&[
            "run",
            "--rm",
            "-v",
            &format!("devenv_{project}_migrate_out:/out"),
            &busybox(),
            "cat",
            "/out/runs",
        ]);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    env.run(["up"]).success().stderr_has("migrate done");
    assert_eq!(runs(), "001.sql\n");
    env.run(["up"])
        .success()
        .stderr_has("migrate done (unchanged)")
        .stderr_lacks("built devenv_");
    assert_eq!(runs(), "001.sql\n", "an unchanged job does not run again");
    // A new migration is a new image, and the job runs again.
    env.write("migrations/002.sql", "create table u();\n");
    env.write(
        "migrations/Dockerfile",
        &format!(
            "FROM {}\nCOPY *.sql /migrations/\nCMD [\"sh\", \"-c\", \"ls /migrations | tr '\\\\n' ' ' >> /out/runs; echo >> /out/runs\"]\n",
            busybox()
        ),
    );
    env.run(["up"]).success().stderr_has("built devenv_");
    assert_eq!(runs(), "001.sql\n001.sql 002.sql \n");
}

#[test]
fn a_bad_dockerignore_pattern_is_exit_2_at_its_line_before_anything_runs() {
    let env = TestEnv::new()
        .manifest(&manifest(
            "build-bad-ignore",
            "[services.app]\nbuild = \"app\"\n",
        ))
        .file("app/Dockerfile", "FROM scratch\n")
        .file("app/.dockerignore", "# ok\nnode_modules\n[oops\n");
    for cmd in [&["validate"][..], &["up"]] {
        env.run(cmd)
            .code(2)
            .stderr_has("app/.dockerignore:3:1")
            .stderr_has("`[oops` is not a valid pattern: a `[` is not closed");
    }
    assert!(!env.exists(".devenv"), "nothing written");
}

#[test]
fn image_next_to_build_tags_it_and_other_services_run_it_without_a_pull() {
    if !engine_available("built_shared") {
        return;
    }
    let project = "build-shared";
    let _c = Cleanup(project);
    // As compose has it: one service builds and names the image, another
    // runs the same image with another command. Nothing is pulled: the
    // name exists in no registry.
    let idle = r#"command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]"#;
    let env = TestEnv::new()
        .manifest(&manifest(
            project,
            &format!("[services.app]\nbuild = \".\"\nimage = \"build-shared-app:dev\"\n{idle}\n\n[services.worker]\nimage = \"build-shared-app:dev\"\n{idle}\n"),
        ))
        .file("Dockerfile", &format!("FROM {}\nCOPY marker /marker\n", busybox()))
        .file("marker", "one\n");
    env.run(["up"])
        .success()
        .stderr_lacks("pull ")
        .stderr_has("app ready (created)")
        .stderr_has("worker ready (created)");
    let (_, app) = container(project, "app");
    let (_, worker) = container(project, "worker");
    assert_eq!(app, worker, "one image for both");
    assert_eq!(inspect("build-shared-app:dev", "{{.Id}}"), app);
    env.write("marker", "two\n");
    env.run(["up"])
        .success()
        .stderr_has("app ready (recreated: image rebuilt)")
        .stderr_has("worker ready (recreated: image rebuilt)");
    let out = docker(&[
        "exec",
        &format!("devenv_{project}_worker"),
        "cat",
        "/marker",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "two\n");
    // The context is the repository root, .devenv/ and all: what up writes
    // there is not a change.
    env.run(["up"])
        .success()
        .stderr_lacks("built devenv_")
        .stderr_has("app ready (unchanged)");
}
