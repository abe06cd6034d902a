//! `devenv logs NAME [--follow] [--tail N]`: a container's log, or a mock's
//! request log, on stdout.

use crate::cli::args::LogsArgs;
use crate::cli::App;
use crate::error::Error;
use crate::session::{self, Live, LogsRequest};
use crate::settings::Flags;

pub fn run(app: &mut App, args: LogsArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    let req = LogsRequest {
        name: &args.service,
        follow: args.follow,
        tail: args.tail,
    };
    let printer = &app.printer;
    session::logs(&s, &Live::new(), &req, &mut |line| printer.data(line))?;
    Ok(0)
}
