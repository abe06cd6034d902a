//! `devenv render [--env NAME] [--set K=V]… [--check] [--explain KEY]
//! [--force]`: render config files only (the flow is `session::render`).

use crate::cli::args::RenderArgs;
use crate::cli::App;
use crate::error::Error;
use crate::progress::{Level, Reporter};
use crate::session::{self, RenderMode, RenderRequest, Rendered, Wait};
use crate::settings::Flags;

pub fn run(app: &mut App, args: RenderArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let flags = Flags {
        environment: args.env.clone(),
        ..Flags::default()
    };
    let settings = app.settings(Some(&manifest), &flags)?;
    let s = app.session(&manifest, &settings);
    let mode = match (&args.explain, args.check) {
        (Some(key), _) => RenderMode::Explain(key.clone()),
        (None, true) => RenderMode::Check,
        (None, false) => RenderMode::Write { force: args.force },
    };
    let req = RenderRequest {
        mode,
        yes: args.yes,
        wait: if args.no_wait { Wait::No } else { Wait::Yes },
        sets: args.set,
    };
    match session::render(&s, &req)? {
        Rendered::Explained(text) => app.printer.data(&text),
        Rendered::Nothing => app.printer.message(
            Level::Info,
            "nothing to render: devenv.toml has no [[config.files]]",
        ),
        Rendered::Checked { stale, hint } if stale > 0 => {
            if let Some(hint) = hint {
                app.printer.hint(&hint);
            }
            return Ok(1);
        }
        Rendered::Checked { .. } | Rendered::Written => {}
    }
    Ok(0)
}
