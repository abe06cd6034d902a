//! Questions to the user, as the core sees them (beside `progress`, which
//! is how the core talks to the user). The UI layer implements
//! `Prompter` with dialoguer on a terminal; off a terminal, and in tests,
//! `NoPrompt` answers `NotInteractive` and the caller names the flag that
//! answers instead (`--yes`).

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("not running on a terminal")]
    NotInteractive,
    #[error("prompt failed: {0}")]
    Io(String),
}

pub trait Prompter: Send + Sync {
    fn confirm(&self, question: &str, default: bool) -> Result<bool, PromptError>;
    /// Hidden input, for secrets.
    fn password(&self, question: &str) -> Result<String, PromptError>;
    /// Several choices at once; the indices chosen, in item order.
    fn multi_select(
        &self,
        question: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>, PromptError>;
}

/// Nobody to ask.
pub struct NoPrompt;

impl Prompter for NoPrompt {
    fn confirm(&self, _: &str, _: bool) -> Result<bool, PromptError> {
        Err(PromptError::NotInteractive)
    }
    fn password(&self, _: &str) -> Result<String, PromptError> {
        Err(PromptError::NotInteractive)
    }
    fn multi_select(&self, _: &str, _: &[String], _: &[bool]) -> Result<Vec<usize>, PromptError> {
        Err(PromptError::NotInteractive)
    }
}
