//! What every command gets: the output layer, the captured process
//! environment, and the helpers that turn them into a manifest, resolved
//! settings and a core `Session`.

use std::path::{Path, PathBuf};

use crate::clock::SystemClock;
use crate::error::Error;
use crate::manifest::{self, Manifest};
use crate::progress::{Level, Reporter};
use crate::session::{Io, Session};
use crate::settings::{Flags, Inputs, ProcessEnv, Settings};
use crate::ui::prompt::Terminal;
use crate::ui::Printer;

pub struct App {
    pub printer: Printer,
    /// The working directory devenv was started in.
    pub cwd: PathBuf,
    /// `-f PATH`, if given.
    pub file: Option<PathBuf>,
    /// The process environment, read once at start-up.
    pub env: ProcessEnv,
    /// This binary, for the background processes `up` starts.
    pub exe: PathBuf,
    /// Whether building the session takes a look at the onboarding
    /// timeline: true for commands that do not record or show it
    /// themselves (`status`, `exec`, ...), so that a merge is seen on any
    /// command after a fetch.
    pub glance_at_timeline: std::cell::Cell<bool>,
}

impl App {
    pub fn new(printer: Printer, file: Option<PathBuf>, env: ProcessEnv) -> Result<App, Error> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::usage(format!("cannot read the current directory: {e}"), None))?;
        let exe = std::env::current_exe()
            .map_err(|e| Error::failed(format!("cannot tell where devenv is: {e}")))?;
        Ok(App {
            printer,
            cwd,
            file,
            env,
            exe,
            glance_at_timeline: std::cell::Cell::new(false),
        })
    }

    /// The devenv.toml this command works on: `-f`, or the nearest upwards.
    pub fn manifest_path(&self) -> Result<PathBuf, Error> {
        match &self.file {
            Some(f) => Ok(self.cwd.join(f)),
            None => manifest::find(&self.cwd).ok_or_else(|| {
                manifest::ManifestError::NotFound {
                    start: self.cwd.clone(),
                    compose: compose_file(&self.cwd),
                }
                .into()
            }),
        }
    }

    /// Loads and checks the manifest; paths in messages become relative to
    /// the working directory.
    pub fn manifest(&mut self) -> Result<Manifest, Error> {
        let path = self.manifest_path()?;
        self.printer.set_base(self.cwd.clone());
        Ok(manifest::load(&path)?)
    }

    /// For `down`, `reset` and `status`, which must work whatever state
    /// devenv.toml is in: the manifest, or (when it does not load, or is
    /// gone from a clone that has `.devenv/`) a stand-in naming only the
    /// project, with a warning. The flag says which.
    pub fn manifest_for_teardown(&mut self) -> Result<(Manifest, bool), Error> {
        let fallback = |app: &App, path: PathBuf, why: String| {
            let m = crate::session::standin::stand_in(&path);
            app.printer.message(
                Level::Warn,
                &format!(
                    "{why}: working from the labels and state of project `{}`",
                    m.project.id
                ),
            );
            Ok((m, true))
        };
        match self.manifest() {
            Ok(m) => Ok((m, false)),
            Err(Error::Invalid(d)) => {
                let path = self.manifest_path()?;
                let why = format!(
                    "{} does not load ({} problem{}; `devenv validate` shows them)",
                    self.display(&path),
                    d.len(),
                    if d.len() == 1 { "" } else { "s" }
                );
                fallback(self, path, why)
            }
            Err(e) if self.file.is_none() => match crate::session::standin::clone_root(&self.cwd) {
                Some(root) => {
                    let why = format!("there is no {} in {}", manifest::FILE_NAME, root.display());
                    fallback(self, root.join(manifest::FILE_NAME), why)
                }
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The one settings resolution of this command.
    pub fn settings(&self, manifest: Option<&Manifest>, flags: &Flags) -> Result<Settings, Error> {
        Settings::resolve(&Inputs {
            env: &self.env,
            manifest,
            flags,
        })
    }

    /// The core's view of this clone for this command.
    pub fn session<'a>(&'a self, manifest: &'a Manifest, settings: &'a Settings) -> Session<'a> {
        let io = Io {
            clock: &SystemClock,
            reporter: &self.printer,
            prompter: &Terminal,
        };
        let s = Session::new(manifest, settings, &self.env, io, self.exe.clone());
        // Once per command, however many sessions it builds.
        if self.glance_at_timeline.replace(false) {
            crate::metrics::glance(&crate::session::metrics_context(&s));
        }
        s
    }

    pub fn display<'a>(&self, p: &'a Path) -> std::borrow::Cow<'a, str> {
        match p.strip_prefix(&self.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy(),
            _ => p.to_string_lossy(),
        }
    }
}

/// The compose file nearest to `cwd` (Compose looks in parents too), as a
/// path from `cwd`.
fn compose_file(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors().enumerate().find_map(|(up, dir)| {
        let name = crate::init::COMPOSE_FILES
            .iter()
            .find(|f| dir.join(f).is_file())?;
        let mut path: PathBuf = std::iter::repeat_n("..", up).collect();
        path.push(name);
        Some(path)
    })
}
