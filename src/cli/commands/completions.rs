use std::io::Write;

use clap::CommandFactory;

use crate::cli::args::Cli;
use crate::error::Error;

pub fn run(shell: clap_complete::Shell) -> Result<i32, Error> {
    let mut cmd = Cli::command();
    // Into a buffer first: clap_complete panics when its writer fails, and
    // `devenv completions bash | head` closes the pipe early. A reader that
    // stops reading is not an error, as with every other output.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "devenv", &mut script);
    let _ = std::io::stdout().lock().write_all(&script);
    Ok(0)
}
