//! One file per command: each turns parsed arguments into calls to the core
//! and hands the results to the printer.

pub mod completions;
pub mod down;
pub mod logs;
pub mod reset;
pub mod stacks;
pub mod status;
pub mod up;
pub mod validate;

use crate::error::Error;

/// The async runtime for commands that talk to the engine or the network.
/// Built per command, never for `--version` or `validate`, to keep start-up fast.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(anyhow::anyhow!("cannot start the async runtime: {e}")))
}
