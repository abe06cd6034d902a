//! devenv: one command from a fresh clone to a running development
//! environment.
//!
//! Layers, from the outside in (see ARCHITECTURE.md): `cli` (clap
//! arguments, one settings resolution, one thin file per command) ->
//! `session` (the flows: phases, pre-flight, trust, the per-clone lock, run
//! recording, signals) -> the capability modules (`tools`, `services`,
//! `mocks`, `render`, `hooks`, `metrics`), which report through
//! `progress::Reporter` -> `ui`, the only code that writes to the terminal.

pub mod cli;
pub mod clock;
pub mod confine;
pub mod diagnostic;
pub mod doctor;
pub mod error;
pub mod forward;
pub mod fsread;
pub mod hooks;
pub mod init;
pub mod log_trim;
pub mod manifest;
pub mod metrics;
pub mod mocks;
pub mod paths;
pub mod probe;
pub mod processes;
pub mod progress;
pub mod prompt;
pub mod redact;
pub mod render;
pub mod services;
pub mod session;
pub mod settings;
pub mod stacks;
pub mod state;
pub mod tools;
pub mod ui;
pub mod util;
