use clap::CommandFactory;

use crate::cli::args::Cli;
use crate::error::Error;

pub fn run(shell: clap_complete::Shell) -> Result<i32, Error> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "devenv", &mut std::io::stdout());
    Ok(0)
}
