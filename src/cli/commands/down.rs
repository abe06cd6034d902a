//! `devenv down [--volumes]`: stop and remove this project's containers,
//! network (and mocks); named volumes are kept unless asked.
//!
//! Also home of the engine plumbing the service commands share: connecting
//! (no engine -> exit 3) and turning `ServicesError` into the program's error.

use crate::cli::args::DownArgs;
use crate::cli::App;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::progress::{Level, Reporter};
use crate::services::{self, DownOptions, Engine, EngineConfig, ServicesError};

pub fn run(app: &mut App, args: DownArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let runtime = super::runtime()?;
    let report = runtime.block_on(super::up::interruptible(async {
        let engine = connect_engine().await?;
        // The lead adds: stop this project's mocks here.
        down_services(&engine, &manifest, args.volumes).await
    }))?;
    let p = &app.printer;
    if report.containers.is_empty() && !report.network && report.volumes.is_empty() {
        p.message(
            Level::Info,
            &format!("{}: nothing to stop", manifest.project.name),
        );
        return Ok(0);
    }
    let mut text = format!(
        "{} is down: removed {} container{}",
        manifest.project.name,
        report.containers.len(),
        if report.containers.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if !report.volumes.is_empty() {
        text.push_str(&format!(" and {} volume(s)", report.volumes.len()));
    } else if !args.volumes {
        text.push_str("; data volumes kept (`devenv down --volumes` removes them)");
    }
    p.message(Level::Success, &text);
    Ok(0)
}

/// The services part of `down` (and `reset`).
pub(crate) async fn down_services(
    engine: &Engine,
    manifest: &Manifest,
    volumes: bool,
) -> Result<services::DownReport, Error> {
    services::down(
        engine,
        &DownOptions {
            project_id: &manifest.project.id,
            volumes,
        },
    )
    .await
    .map_err(services_error)
}

/// Connects to the user's engine; none answering is a missing prerequisite.
pub(crate) async fn connect_engine() -> Result<Engine, Error> {
    services::engine::connect(&EngineConfig::from_env())
        .await
        .map_err(|e| Error::prerequisite(e.to_string(), e.hint()))
}

/// Ports in use are bad input (exit 2, nothing created); the rest failed
/// operations (exit 1).
pub(crate) fn services_error(e: ServicesError) -> Error {
    let hint = e.hint();
    match e {
        ServicesError::PortsInUse(_) => Error::usage(e.to_string(), hint),
        other => {
            let text = match hint {
                Some(h) => format!("{other}\n  hint: {h}"),
                None => other.to_string(),
            };
            Error::Failed(anyhow::anyhow!(text))
        }
    }
}
