//! The session's prompter, adapted to what the render module asks (secret
//! values, hidden input).

use crate::prompt::{PromptError, Prompter};

/// Secret prompts for the render module, through the session's prompter.
pub struct SecretPrompts<'a>(pub &'a dyn Prompter);

impl crate::render::SecretPrompter for SecretPrompts<'_> {
    fn ask(&self, name: &str, prompt: &str) -> anyhow::Result<Option<String>> {
        match self.0.password(&format!("{prompt} ({name})")) {
            Ok(v) => Ok(Some(v)),
            Err(PromptError::NotInteractive) => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        }
    }
}
