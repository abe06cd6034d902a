//! `devenv init [--from COMPOSE] [--yes] [--force] [--profile NAME]`: write a
//! first devenv.toml for an existing repository (the flow is `init::flow`).

use crate::cli::args::InitArgs;
use crate::cli::App;
use crate::error::Error;
use crate::init::flow::{self, InitRequest, Io};
use crate::init::Draft;
use crate::manifest;
use crate::progress::{Level, Reporter};
use crate::ui::prompt::Terminal;

pub fn run(app: &mut App, args: InitArgs) -> Result<i32, Error> {
    app.printer.set_base(app.cwd.clone());
    let target = match &app.file {
        Some(f) => app.cwd.join(f),
        None => app.cwd.join(manifest::FILE_NAME),
    };
    let req = InitRequest {
        cwd: &app.cwd,
        target,
        from: args.from,
        yes: args.yes,
        force: args.force,
        profiles: args.profiles,
        env: app.env.with_prefix("").into_iter().collect(),
    };
    let io = Io {
        reporter: &app.printer,
        prompter: &Terminal,
    };
    let draft = flow::init(&req, &io)?;
    summary(app, &draft);
    Ok(0)
}

fn summary(app: &App, draft: &Draft) {
    let p = &app.printer;
    for d in &draft.detected {
        p.message(Level::Info, &format!("  found {d}"));
    }
    if !draft.unconverted.is_empty() {
        p.message(
            Level::Warn,
            &format!(
                "{} thing(s) not converted (also listed at the top of devenv.toml):",
                draft.unconverted.len()
            ),
        );
        for u in &draft.unconverted {
            // Warn level so `-q` still shows what was left out.
            p.message(Level::Warn, &format!("  {u}"));
        }
    }
    p.message(
        Level::Success,
        &format!(
            "wrote {} ({} service(s), {} tool(s))",
            manifest::FILE_NAME,
            draft.services.len(),
            draft.tools.len()
        ),
    );
    p.message(Level::Info, "next: review it, then `devenv up`");
}
