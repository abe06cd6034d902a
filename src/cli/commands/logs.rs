//! `devenv logs SERVICE [--follow] [--tail N]`: a container's log, or a
//! mock's request log, on stdout.

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use crate::cli::args::LogsArgs;
use crate::cli::App;
use crate::error::Error;
use crate::paths::Paths;
use crate::services::{self, LogsOptions};

pub fn run(app: &mut App, args: LogsArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    if manifest.mock(&args.service).is_some() {
        let paths = Paths::new(&app.home, &manifest.root);
        return mock_log(app, &crate::mocks::log_path(&paths, &args.service), &args);
    }
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

/// A mock's request log: the last lines, then (with `--follow`) whatever is
/// appended, until Ctrl-C.
fn mock_log(app: &App, path: &std::path::Path, args: &LogsArgs) -> Result<i32, Error> {
    let open = || std::fs::File::open(path);
    let mut file = match open() {
        Ok(f) => f,
        Err(_) if !args.follow => {
            return Err(Error::usage(
                format!("mock `{}` has no log yet", args.service),
                Some("start it with `devenv up`".into()),
            ))
        }
        Err(_) => {
            std::fs::create_dir_all(path.parent().unwrap_or(path)).ok();
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|_| open())
                .map_err(|e| Error::failed(format!("cannot open {}: {e}", path.display())))?
        }
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| Error::failed(format!("cannot read {}: {e}", path.display())))?;
    let lines: Vec<&str> = text.lines().collect();
    let skip = args.tail.map_or(0, |n| lines.len().saturating_sub(n));
    for line in &lines[skip..] {
        app.printer.data(line);
    }
    if !args.follow {
        return Ok(0);
    }
    let mut pos = text.len() as u64;
    let runtime = super::runtime()?;
    // Follows until Ctrl-C, which ends it like any interrupt (exit 130).
    runtime.block_on(super::up::interruptible(async {
        let mut pending = String::new();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if len < pos {
                pos = 0; // the mock restarted and truncated its log
            }
            if len == pos {
                continue;
            }
            let mut f = open().map_err(|e| Error::failed(format!("{e}")))?;
            f.seek(SeekFrom::Start(pos))
                .map_err(|e| Error::failed(format!("{e}")))?;
            let mut chunk = String::new();
            f.read_to_string(&mut chunk)
                .map_err(|e| Error::failed(format!("{e}")))?;
            pos += chunk.len() as u64;
            pending.push_str(&chunk);
            while let Some(i) = pending.find('\n') {
                app.printer.data(&pending[..i]);
                pending.drain(..=i);
            }
        }
        #[allow(unreachable_code)]
        Ok::<i32, Error>(0)
    }))
}
