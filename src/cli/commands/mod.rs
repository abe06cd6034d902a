//! One file per command: each parses nothing (clap did), resolves the
//! settings once, calls the core and hands the results to the printer.
//! Command files never import each other; what they share lives in
//! `cli::context` (the `App`) or `cli::views` (tables and charts).

pub mod completions;
pub mod config;
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
pub mod process;
pub mod render;
pub mod report;
pub mod reset;
pub mod shell;
pub mod stacks;
pub mod status;
pub mod trust;
pub mod up;
pub mod validate;
