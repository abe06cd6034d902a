//! The real engine path: connect through bollard and pull an image from the
//! loopback registry the support script runs. Needs `tests/support/setup.sh`.

mod common;

use common::{docker, engine_available, REGISTRY};
use devenv::progress::Silent;
use devenv::services::engine::{self, EngineConfig};
use devenv::services::images::{self, ImageRef};
use devenv::settings::{Flags, Inputs, ProcessEnv, Settings};

/// Where the engine is, resolved as devenv itself resolves it.
fn engine_config() -> EngineConfig {
    let env = ProcessEnv::capture();
    let inputs = Inputs {
        env: &env,
        manifest: None,
        flags: &Flags::default(),
    };
    Settings::resolve(&inputs).expect("settings resolve").engine
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn pulls_an_image_from_the_loopback_registry_through_the_mirror_rewrite() {
    if !engine_available("pulls_an_image_from_the_loopback_registry") {
        return;
    }
    let image = ImageRef::parse("busybox:latest").with_mirror(Some(REGISTRY));
    let reference = image.to_string();
    assert_eq!(reference, format!("{REGISTRY}/library/busybox:latest"));
    // Make sure the pull really goes to the registry, not the local cache.
    let _ = docker(&["rmi", "-f", &reference]);
    assert!(!docker(&["image", "inspect", &reference]).status.success());

    block_on(async {
        let engine = engine::connect(&engine_config()).await.expect("engine");
        images::pull(&engine, &image, &Silent).await.expect("pull");
    });
    assert!(
        docker(&["image", "inspect", &reference]).status.success(),
        "image not present after pull"
    );
}

#[test]
fn a_missing_tag_names_the_reference_tried() {
    if !engine_available("a_missing_tag_names_the_reference_tried") {
        return;
    }
    let image = ImageRef::parse("busybox:no-such-tag").with_mirror(Some(REGISTRY));
    let err = block_on(async {
        let engine = engine::connect(&engine_config()).await.expect("engine");
        images::pull(&engine, &image, &Silent).await.unwrap_err()
    });
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1:5000/library/busybox:no-such-tag"),
        "{text}"
    );
    assert!(matches!(err, images::PullError::NotFound { .. }), "{err:?}");
}

#[test]
fn an_unreachable_engine_lists_what_was_tried() {
    let cfg = EngineConfig {
        docker_host: Some("unix:///nonexistent/docker.sock".into()),
        ..Default::default()
    };
    let err = block_on(engine::connect(&cfg)).err().expect("must fail");
    let text = err.to_string();
    assert!(text.contains("unix:///nonexistent/docker.sock"), "{text}");
    assert!(err.hint().contains("DOCKER_HOST"));
}
