//! `devenv mock serve NAME`: one mock in the foreground until Ctrl-C or
//! SIGTERM. `up` runs the same command in the background with hidden
//! `--port`/`--bind` flags; its request log goes to stdout.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::cli::args::{MockArgs, MockCommand};
use crate::cli::App;
use crate::error::Error;
use crate::mocks::{self, ServeOptions};
use crate::paths::Paths;
use crate::settings::Flags;
use crate::state::PortBook;

pub fn run(app: &mut App, args: MockArgs) -> Result<i32, Error> {
    let MockCommand::Serve { name, port, bind } = args.command;
    let manifest = app.manifest()?;
    let Some(mock) = manifest.mock(&name).cloned() else {
        let names: Vec<&str> = manifest.mocks.iter().map(|m| m.name.as_str()).collect();
        return Err(Error::usage(
            format!("there is no mock named `{name}` in devenv.toml"),
            Some(if names.is_empty() {
                "declare one under [mocks.NAME]".into()
            } else {
                format!("mocks: {}", names.join(", "))
            }),
        ));
    };
    let port = match port {
        Some(p) => p,
        None => {
            let settings = app.settings(Some(&manifest), &Flags::default())?;
            let paths = Paths::new(&settings.home.value, &manifest.root);
            let mut book = PortBook::load(&paths);
            let p = mocks::port_for(&mock, &mut book, &[])?;
            if paths.state_dir().exists() {
                let _ = book.save(&paths);
            }
            p
        }
    };
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
    // One worker: a mock answers in microseconds, and on a laptop its
    // callers (the service, its tests) need the other cores. Measured on 2
    // cores: 107k req/s with p99 0.3 ms, against 80k and p99 3.3 ms with two
    // workers competing with the client (bench/mocks.sh).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))?;
    // The request log is this command's data: one line per request on stdout.
    let out: Box<dyn std::io::Write + Send> = Box::new(std::io::stdout());
    runtime.block_on(mocks::serve(opts, out, shutdown()))?;
    Ok(0)
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
