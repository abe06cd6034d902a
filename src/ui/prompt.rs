//! Questions to the user. Only asked when both stdin and stderr are a
//! terminal; otherwise the caller gets `NotInteractive` and must say which
//! flag answers the question (`--yes`).

use dialoguer::theme::ColorfulTheme;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("not running on a terminal")]
    NotInteractive,
    #[error("prompt failed: {0}")]
    Io(String),
}

pub fn interactive() -> bool {
    console::Term::stderr().is_term()
        && console::user_attended_stderr()
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
}

pub fn confirm(question: &str, default: bool) -> Result<bool, PromptError> {
    if !interactive() {
        return Err(PromptError::NotInteractive);
    }
    dialoguer::Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(question)
        .default(default)
        .interact()
        .map_err(|e| PromptError::Io(e.to_string()))
}

pub fn password(question: &str) -> Result<String, PromptError> {
    if !interactive() {
        return Err(PromptError::NotInteractive);
    }
    dialoguer::Password::with_theme(&ColorfulTheme::default())
        .with_prompt(question)
        .interact()
        .map_err(|e| PromptError::Io(e.to_string()))
}

/// Several choices at once: space toggles, enter accepts. Returns the
/// indices of the chosen items, in item order.
pub fn multi_select(
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
        .map_err(|e| PromptError::Io(e.to_string()))
}
