//! `devenv validate [--json]`: parse and check devenv.toml and the files
//! it points at, and nothing else.

use serde::Serialize;

use crate::cli::App;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::manifest::ManifestError;
use crate::progress::{Level, Reporter};
use crate::settings::Flags;

#[derive(Serialize)]
struct Report<'a> {
    valid: bool,
    file: String,
    project: Option<String>,
    problems: &'a [Diagnostic],
    /// Allowed but worth a look (a stack version outside its preset's table).
    warnings: &'a [Diagnostic],
}

pub fn run(app: &mut App, json: bool) -> Result<i32, Error> {
    let path = app.manifest_path()?;
    app.printer.set_base(app.cwd.clone());
    let result = match crate::manifest::load(&path) {
        Ok(m) => {
            let mut problems = crate::session::file_problems(&m);
            if problems.is_empty() && !(m.config.files.is_empty() && m.env.is_empty()) {
                // Undefined template variables are bad input like the rest.
                let settings = app.settings(Some(&m), &Flags::default())?;
                problems = crate::session::template_problems(&app.session(&m, &settings))?;
            }
            if problems.is_empty() {
                let mut m = m;
                let more = crate::mocks::warnings(&m);
                m.warnings.extend(more);
                Ok(m)
            } else {
                Err(ManifestError::Invalid(problems))
            }
        }
        Err(e) => Err(e),
    };
    let file = path.display().to_string();
    match result {
        Ok(m) => {
            if json {
                app.printer.json(&Report {
                    valid: true,
                    file,
                    project: Some(m.project.name.clone()),
                    problems: &[],
                    warnings: &m.warnings,
                });
            } else {
                app.printer.warnings(&m.warnings);
                let summary = format!(
                    "{} is valid: {} service(s), {} mock(s), {} tool(s), {} template(s)",
                    app.display(&path),
                    m.services.len(),
                    m.mocks.len(),
                    m.tools.len(),
                    m.config.files.len()
                );
                app.printer.message(Level::Success, &summary);
            }
            Ok(0)
        }
        Err(ManifestError::Invalid(d)) if json => {
            app.printer.json(&Report {
                valid: false,
                file,
                project: None,
                problems: &d.0,
                warnings: &[],
            });
            Ok(2)
        }
        Err(e) => Err(e.into()),
    }
}
