//! What every command gets: the output layer and where things live. Built
//! once from the process environment, so core modules never read it.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::manifest::{self, Manifest};
use crate::ui::Printer;

pub struct App {
    pub printer: Printer,
    /// The working directory devenv was started in.
    pub cwd: PathBuf,
    /// `DEVENV_HOME`: the shared store, caches, spool, trust records.
    pub home: PathBuf,
    /// `-f PATH`, if given.
    pub file: Option<PathBuf>,
}

impl App {
    pub fn from_env(printer: Printer, file: Option<PathBuf>) -> Result<App, Error> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::usage(format!("cannot read the current directory: {e}"), None))?;
        let home = match std::env::var_os("DEVENV_HOME").filter(|v| !v.is_empty()) {
            Some(h) => PathBuf::from(h),
            None => dirs::data_dir().map(|d| d.join("devenv")).ok_or_else(|| {
                Error::usage(
                    "cannot tell where to keep devenv's data",
                    Some("set DEVENV_HOME".into()),
                )
            })?,
        };
        Ok(App {
            printer,
            cwd,
            home,
            file,
        })
    }

    /// The devenv.toml this command works on: `-f`, or the nearest upwards.
    pub fn manifest_path(&self) -> Result<PathBuf, Error> {
        match &self.file {
            Some(f) => Ok(self.cwd.join(f)),
            None => manifest::find(&self.cwd).ok_or_else(|| {
                manifest::ManifestError::NotFound {
                    start: self.cwd.clone(),
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

    pub fn display<'a>(&self, p: &'a Path) -> std::borrow::Cow<'a, str> {
        match p.strip_prefix(&self.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy(),
            _ => p.to_string_lossy(),
        }
    }
}
