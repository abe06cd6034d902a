//! devenv.toml: finding it, reading it, checking it, and the resolved
//! `Manifest` every other module works from.
//!
//! `load` is the one entry point: it either returns a manifest that passed
//! every check, or every problem found, each pinned to file:line:column.

mod duration;
mod graph;
pub mod hook_inputs;
pub mod load;
pub mod model;
pub mod mounts;
mod ports;
mod process_schema;
mod resolve;
pub mod schema;
mod size;
pub mod words;

use std::path::{Path, PathBuf};

pub use model::*;
pub use ports::parse_port_spec;
pub use resolve::{image_ref_problem, readiness_of, sanitise_project_name, valid_name};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::stacks::Stacks;

pub const FILE_NAME: &str = "devenv.toml";

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("no {FILE_NAME} found in {} or any parent directory", start.display())]
    NotFound {
        start: PathBuf,
        /// A compose file found where devenv.toml was looked for, as the
        /// user would type it: `init --from` converts it.
        compose: Option<PathBuf>,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// devenv.toml in `start` or the nearest parent, like git finds `.git`.
/// Anything but a directory counts as found, so a FIFO or a device there is
/// refused by `load` with its name rather than silently skipped.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir()))
}

/// Reads and checks the manifest at `path` (absolute or relative to the
/// working directory), with the repository's own stacks.
pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
    load_with(path, None)
}

/// As [`load`], for `devenv mock record NAME`: that mock's `wiremock` dir
/// (default `mocks/NAME`) is where the recording will be written, so it may
/// be missing or empty.
pub fn load_for_recording(path: &Path, mock: &str) -> Result<Manifest, ManifestError> {
    load_with(path, Some(mock))
}

fn load_with(path: &Path, recording: Option<&str>) -> Result<Manifest, ManifestError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let source = crate::fsread::read_limited(&path).map_err(|e| {
        if e.is_not_found() {
            ManifestError::NotFound {
                start: path.clone(),
                compose: None,
            }
        } else {
            ManifestError::Invalid(
                Diagnostic::file(&path, format!("cannot read {}: {e}", path.display()))
                    .with_hint(format!(
                        "the manifest must be a regular file of at most {} MiB",
                        crate::fsread::LIMIT >> 20
                    ))
                    .into(),
            )
        }
    })?;
    let root = path.parent().unwrap_or(Path::new("."));
    let stacks = Stacks::load(root).map_err(ManifestError::Invalid)?;
    parse_with(&path, &source, &stacks, recording).map_err(ManifestError::Invalid)
}

/// Parses and checks manifest text; `path` is used for messages and as the
/// base of relative paths.
pub fn parse(path: &Path, source: &str, stacks: &Stacks) -> Result<Manifest, Diagnostics> {
    parse_with(path, source, stacks, None)
}

fn parse_with(
    path: &Path,
    source: &str,
    stacks: &Stacks,
    recording: Option<&str>,
) -> Result<Manifest, Diagnostics> {
    let (raw, mut problems) = load::read_manifest(path, source)?;
    let resolved = resolve::resolve(resolve::ResolveInput {
        path,
        source,
        raw,
        stacks,
        recording,
    });
    match resolved {
        Ok(m) if problems.is_empty() => Ok(m),
        Ok(_) => Err(problems.sorted()),
        Err(more) => {
            problems.extend(more);
            Err(problems.sorted())
        }
    }
}
