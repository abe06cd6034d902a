//! `devenv mock serve NAME`: one mock in the foreground until Ctrl-C or
//! SIGTERM. `up` runs the same command in the background with hidden
//! `--port`/`--bind` flags; its request log goes to stdout.
//!
//! `devenv mock record NAME --upstream URL`: a recording proxy on the
//! mock's port (`mocks::record`); on Ctrl-C or SIGTERM the mappings are
//! written and summed up.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::cli::args::{MockArgs, MockCommand};
use crate::cli::App;
use crate::error::Error;
use crate::manifest::{Manifest, Mock};
use crate::mocks::{self, RecordOptions, ServeOptions};
use crate::paths::Paths;
use crate::progress::{Level, Reporter};
use crate::settings::Flags;
use crate::state::PortBook;

pub fn run(app: &mut App, args: MockArgs) -> Result<i32, Error> {
    match args.command {
        MockCommand::Serve { name, port, bind } => serve(app, &name, port, bind),
        MockCommand::Record {
            name,
            upstream,
            port,
        } => record(app, &name, &upstream, port),
    }
}

fn serve(app: &mut App, name: &str, port: Option<u16>, bind: Vec<IpAddr>) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let mock = find(&manifest, name)?;
    let port = resolve_port(app, &manifest, &mock, port)?;
    let addresses = if bind.is_empty() {
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
    } else {
        bind
    };
    let opts = ServeOptions {
        mock,
        addresses,
        port,
        reload_every: Duration::from_millis(500),
    };
    // The request log is this command's data: one line per request on stdout.
    let out: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    runtime()?.block_on(mocks::serve(opts, out, shutdown()))?;
    Ok(0)
}

fn record(app: &mut App, name: &str, upstream: &str, port: Option<u16>) -> Result<i32, Error> {
    let path = app.manifest_path()?;
    app.printer.set_base(app.cwd.clone());
    let manifest = crate::manifest::load_for_recording(&path, name)?;
    let mock = find(&manifest, name)?;
    let Some(dir) = mock.wiremock.clone() else {
        return Err(Error::usage(
            format!("mock `{name}` has no `wiremock` directory to record into"),
            Some(format!(
                "add `wiremock = \"mocks/{name}\"` to [mocks.{name}] (or leave out every source: mocks/{name} is the default)"
            )),
        ));
    };
    if dir.is_file() {
        return Err(Error::usage(
            format!(
                "mock `{name}`: `wiremock` names a file; a recording is written into a directory"
            ),
            Some("point `wiremock` at a directory (its mappings/ and __files/ are written)".into()),
        ));
    }
    let port = resolve_port(app, &manifest, &mock, port)?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let redactor = app.session(&manifest, &settings).redactor().clone();
    let opts = RecordOptions {
        name: name.to_string(),
        upstream: upstream.to_string(),
        addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        port,
        root: manifest.root.clone(),
        dir: dir.clone(),
        redactor,
    };
    let out: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    let done = runtime()?.block_on(mocks::record(opts, out, shutdown()))?;
    for n in &done.notes {
        app.printer.message(Level::Warn, n);
    }
    app.printer.message(
        Level::Success,
        &format!(
            "recorded {} request(s) as {} mapping(s) ({} body file(s)) in {}; `devenv mock serve {name}` replays them",
            done.requests,
            done.mappings,
            done.body_files,
            app.display(&dir)
        ),
    );
    Ok(0)
}

fn find(manifest: &Manifest, name: &str) -> Result<Mock, Error> {
    manifest.mock(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = manifest.mocks.iter().map(|m| m.name.as_str()).collect();
        Error::usage(
            format!("there is no mock named `{name}` in devenv.toml"),
            Some(if names.is_empty() {
                "declare one under [mocks.NAME]".into()
            } else {
                format!("mocks: {}", names.join(", "))
            }),
        )
    })
}

/// The flag's port, else the mock's `port`, else its kept auto port.
fn resolve_port(
    app: &App,
    manifest: &Manifest,
    mock: &Mock,
    port: Option<u16>,
) -> Result<u16, Error> {
    if let Some(p) = port {
        return Ok(p);
    }
    let settings = app.settings(Some(manifest), &Flags::default())?;
    let paths = Paths::new(&settings.home.value, &manifest.root);
    let mut book = PortBook::load(&paths);
    let p = mocks::port_for(mock, &mut book, &[])?;
    if paths.state_dir().exists() {
        let _ = book.save(&paths);
    }
    Ok(p)
}

/// One thread: a mock answers in microseconds, and on a laptop its
/// callers (the service, its tests) need the other cores. Measured on 2
/// cores: 107k req/s with p99 0.3 ms, against 80k and p99 3.3 ms with two
/// workers competing with the client (bench/mocks.sh). The current-thread
/// scheduler, not one worker: no hand-off between the main thread and a
/// worker, and no work-stealing bookkeeping per wake-up.
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
