//! One file per command: each turns parsed arguments into calls to the core
//! and hands the results to the printer.

pub mod completions;
pub mod doctor;
pub mod down;
pub mod env;
pub mod exec;
pub mod gc;
pub mod init;
pub mod lock;
pub mod logs;
pub mod metrics;
pub mod mock;
pub mod render;
pub mod report;
pub mod reset;
pub mod shell;
pub mod stacks;
pub mod status;
pub mod trust;
pub mod up;
pub mod validate;

use crate::error::Error;

/// The async runtime for commands that talk to the engine or the network.
/// Built per command, never for `--version` or `validate`, to keep start-up fast.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failed(format!("cannot start the async runtime: {e}")))
}

/// The registry Docker Hub images come from: `DEVENV_REGISTRY_MIRROR` wins
/// over `[settings] registry_mirror` (CONTRACT.md).
pub fn registry_mirror(m: &crate::manifest::Manifest) -> Option<String> {
    std::env::var("DEVENV_REGISTRY_MIRROR")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| m.settings.registry_mirror.clone())
}
