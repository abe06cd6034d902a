//! `devenv up`: bring the environment to the declared state (the flow is
//! `session::up`).

use crate::cli::args::UpArgs;
use crate::cli::App;
use crate::clock::SystemClock;
use crate::error::Error;
use crate::metrics::Start;
use crate::session::{self, Live, UpOptions, Wait};
use crate::settings::Flags;

pub fn run(app: &mut App, args: UpArgs) -> Result<i32, Error> {
    // Preflight (manifest load and checks) counts toward the run's time.
    let start = Start::now(&SystemClock);
    let manifest = app.manifest()?;
    app.printer.warnings(&manifest.warnings);
    app.printer.warnings(&crate::mocks::warnings(&manifest));
    let flags = Flags {
        environment: args.env.clone(),
        pull: args.pull.map(Into::into),
        ci: args.ci,
    };
    let settings = app.settings(Some(&manifest), &flags)?;
    let s = app.session(&manifest, &settings);
    let opts = UpOptions {
        only: args.only,
        frozen: args.frozen,
        offline: args.offline,
        build: args.build,
        yes: args.yes,
        wait: if args.no_wait { Wait::No } else { Wait::Yes },
        start,
    };
    session::up(&s, &Live::new(), &opts)?;
    Ok(0)
}
