//! devenv: one command from a fresh clone to a running development
//! environment.
//!
//! Layers, from the outside in: `cli` (clap arguments and one file per
//! command) -> `manifest` (the validated devenv.toml) -> the core modules,
//! one per capability (`tools`, `services`, `mocks`, `render`, `metrics`),
//! which report through `progress::Reporter` -> `ui`, the only code that
//! writes to the terminal.

pub mod cli;
pub mod clock;
pub mod diagnostic;
pub mod doctor;
pub mod error;
pub mod hooks;
pub mod init;
pub mod manifest;
pub mod metrics;
pub mod mocks;
pub mod paths;
pub mod progress;
pub mod render;
pub mod services;
pub mod stacks;
pub mod state;
pub mod tools;
pub mod ui;
pub mod util;
