//! Presentation shared by the commands: tables and charts printed from
//! the core's documents. Command files never import each other; they
//! import these.

pub mod metrics;
mod onboarding;
mod setup_runs;
