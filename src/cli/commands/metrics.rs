//! `devenv metrics [--json] [--install-hook]`: the runs recorded in this
//! clone and its onboarding timeline.

use crate::cli::args::MetricsArgs;
use crate::cli::views;
use crate::cli::App;
use crate::error::Error;
use crate::manifest::Manifest;
use crate::metrics::{self, MetricsDoc};
use crate::progress::{Level, Reporter};
use crate::session;
use crate::settings::Flags;

pub fn run(app: &mut App, args: MetricsArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    if args.install_hook {
        return install_hook(app, &manifest);
    }
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    let cx = session::metrics_context(&s);
    let (runs, timeline) = metrics::load(&cx);
    if app.env.var_os("DEVENV_METRICS_HOOK").is_some() {
        // Called by the post-commit hook: the timeline is refreshed; send it
        // now if the project asks for automatic reports.
        session::auto_report(&app.printer, &cx, &session::runtime()?);
    }
    if args.json {
        app.printer.json(&MetricsDoc::new(&runs, &timeline));
        return Ok(0);
    }
    views::metrics::show(&app.printer, &runs, &timeline, cx.enabled);
    Ok(0)
}

fn install_hook(app: &App, manifest: &Manifest) -> Result<i32, Error> {
    use metrics::hook::How;
    for h in metrics::hook::install(&manifest.root, &app.exe, &manifest.path)? {
        let (name, path) = (h.hook.name(), app.display(&h.path));
        let text = match &h.how {
            How::New => format!("installed the {name} hook {path}"),
            How::Updated => format!("updated the {name} hook {path}"),
            How::Chained(kept) => format!(
                "installed the {name} hook {path}; your previous hook was kept as {} and still runs first",
                app.display(kept)
            ),
        };
        app.printer.message(Level::Success, &text);
    }
    Ok(0)
}
