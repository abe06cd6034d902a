//! What detection found in a repository: the [`Detection`] that `detect`
//! fills in, and its [`StackHint`]s.
//!
//! Its own file because `detect` calls `hints` to add stack hints while
//! `hints` writes into a `Detection`: with the types in `detect`, the two
//! files imported each other.

use super::{EnvTemplate, ToolPin, Unconverted};

/// A preset the repository probably needs, and why we think so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackHint {
    pub stack: String,
    pub because: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detection {
    pub tools: Vec<ToolPin>,
    pub stack_hints: Vec<StackHint>,
    /// The compose file compose itself would pick.
    pub compose_file: Option<String>,
    pub env_template: Option<EnvTemplate>,
    pub hook_hints: Vec<String>,
    pub detected: Vec<String>,
    pub unconverted: Vec<Unconverted>,
}
