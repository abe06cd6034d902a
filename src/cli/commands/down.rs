//! `devenv down [--volumes]`: stop this project's processes and mocks and
//! remove its containers and network; named volumes are kept unless asked.

use crate::cli::args::DownArgs;
use crate::cli::App;
use crate::clock::SystemClock;
use crate::error::Error;
use crate::metrics::Start;
use crate::progress::{Level, Reporter};
use crate::session::{self, DownOptions, Live, Wait};
use crate::settings::Flags;

pub fn run(app: &mut App, args: DownArgs) -> Result<i32, Error> {
    let start = Start::now(&SystemClock);
    let (manifest, from_labels) = app.manifest_for_teardown()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let mut s = app.session(&manifest, &settings);
    s.from_labels = from_labels;
    let opts = DownOptions {
        volumes: args.volumes,
        wait: if args.no_wait { Wait::No } else { Wait::Yes },
        start,
    };
    let done = session::down(&s, &Live::new(), &opts)?;
    let p = &app.printer;
    let name = &manifest.project.name;
    if !done.processes.is_empty() {
        p.message(
            Level::Info,
            &format!("stopped process(es): {}", done.processes.join(", ")),
        );
    }
    if !done.mocks.is_empty() {
        p.message(
            Level::Info,
            &format!("stopped mock(s): {}", done.mocks.join(", ")),
        );
    }
    let r = &done.removed;
    if r.containers.is_empty()
        && !r.network
        && r.volumes.is_empty()
        && done.mocks.is_empty()
        && done.processes.is_empty()
    {
        p.message(Level::Info, &format!("{name}: nothing to stop"));
        return Ok(0);
    }
    let n = r.containers.len();
    let mut text = format!(
        "{name} is down: removed {n} container{}",
        if n == 1 { "" } else { "s" }
    );
    if !r.volumes.is_empty() {
        text.push_str(&format!(" and {} volume(s)", r.volumes.len()));
    } else if !args.volumes {
        text.push_str("; data volumes kept (`devenv down --volumes` removes them)");
    }
    p.message(Level::Success, &text);
    Ok(0)
}
