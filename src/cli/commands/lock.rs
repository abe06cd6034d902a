//! `devenv lock`: resolve every tool for every platform into devenv.lock.

use crate::cli::App;
use crate::error::Error;
use crate::progress::{Level, Reporter};
use crate::session::{self, interruptible};
use crate::settings::Flags;
use crate::tools;

pub fn run(app: &mut App) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    // Downloads follow the same settings as `up` (mirror, timeout, jobs).
    let tool_settings = session::tool_settings(&s, false, false)?;
    let lock = session::runtime()?.block_on(interruptible(async {
        Ok(tools::lock(&manifest, &s.paths, &app.printer, &tool_settings).await?)
    }))?;
    let platforms: usize = lock.tools.values().map(|t| t.platforms.len()).sum();
    app.printer.message(
        Level::Success,
        &format!(
            "wrote {} ({} tools, {platforms} artifacts)",
            tools::LOCKFILE,
            lock.tools.len()
        ),
    );
    Ok(0)
}
