//! Questions to the user on a terminal: the UI's `Prompter`. Only asked
//! when both stdin and stderr are a terminal; otherwise the core gets
//! `NotInteractive` and says which flag answers the question (`--yes`).

use dialoguer::theme::ColorfulTheme;

pub use crate::prompt::{PromptError, Prompter};

/// Asks with dialoguer, when someone is there to answer.
pub struct Terminal;

pub fn interactive() -> bool {
    console::Term::stderr().is_term()
        && console::user_attended_stderr()
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
}

fn io(e: dialoguer::Error) -> PromptError {
    PromptError::Io(e.to_string())
}

impl Prompter for Terminal {
    fn confirm(&self, question: &str, default: bool) -> Result<bool, PromptError> {
        if !interactive() {
            return Err(PromptError::NotInteractive);
        }
        dialoguer::Confirm::with_theme(&ColorfulTheme::default())
            .with_prompt(question)
            .default(default)
            .interact()
            .map_err(io)
    }

    fn password(&self, question: &str) -> Result<String, PromptError> {
        if !interactive() {
            return Err(PromptError::NotInteractive);
        }
        dialoguer::Password::with_theme(&ColorfulTheme::default())
            .with_prompt(question)
            .interact()
            .map_err(io)
    }

    fn multi_select(
        &self,
        question: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>, PromptError> {
        if !interactive() {
            return Err(PromptError::NotInteractive);
        }
        dialoguer::MultiSelect::with_theme(&ColorfulTheme::default())
            .with_prompt(question)
            .items(items)
            .defaults(defaults)
            .interact()
            .map_err(io)
    }
}
