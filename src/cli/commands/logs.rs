//! `devenv logs SERVICE [--follow] [--tail N]`: a container's log on stdout.

use crate::cli::args::LogsArgs;
use crate::cli::App;
use crate::error::Error;
use crate::services::{self, LogsOptions};

pub fn run(app: &mut App, args: LogsArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    // The lead adds: a mock's name streams the mock's log instead.
    if manifest.service(&args.service).is_none() {
        let names: Vec<&str> = manifest
            .services
            .iter()
            .map(|s| s.name.as_str())
            .chain(manifest.mocks.iter().map(|m| m.name.as_str()))
            .collect();
        let hint = if names.is_empty() {
            "devenv.toml declares no services".to_string()
        } else {
            format!("known: {}", names.join(", "))
        };
        return Err(Error::usage(
            format!("no service named `{}` in devenv.toml", args.service),
            Some(hint),
        ));
    }
    let runtime = super::runtime()?;
    let printer = &app.printer;
    runtime.block_on(super::up::interruptible(async {
        let engine = super::down::connect_engine().await?;
        let opts = LogsOptions {
            project_id: &manifest.project.id,
            service: &args.service,
            follow: args.follow,
            tail: args.tail,
        };
        services::logs(&engine, &opts, &mut |line| printer.data(line))
            .await
            .map_err(super::down::services_error)
    }))?;
    Ok(0)
}
