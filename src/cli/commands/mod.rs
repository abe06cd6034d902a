//! One file per command: each turns parsed arguments into calls to the core
//! and hands the results to the printer.

pub mod completions;
pub mod stacks;
pub mod validate;
