//! The binary's front: parse the command line, build the output layer and
//! the application context, run one command, map its error to an exit code.

pub mod args;
mod commands;
mod context;
mod views;

use clap::Parser;

pub use context::App;

use crate::error::Error;
use crate::ui::{OutputOptions, Printer, Verbosity};
use args::{Cli, Command};

/// Runs the program and returns its exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    // The one read of the process environment; everything below gets this.
    let env = crate::settings::ProcessEnv::capture();
    let no_color = env.var("NO_COLOR").is_some();
    let mut opts = OutputOptions::detect(verbosity, no_color);
    opts.file_flag = cli
        .file
        .as_ref()
        .map(|f| crate::render::filters::shell_quote(&f.to_string_lossy()));
    let printer = Printer::new(opts);
    let mut app = match App::new(printer, cli.file.clone(), env) {
        Ok(app) => app,
        Err(e) => {
            return report(
                &Printer::new(OutputOptions::detect(verbosity, no_color)),
                &e,
            )
        }
    };
    match run(&mut app, cli.command) {
        Ok(code) => code,
        Err(e) => report(&app.printer, &e),
    }
}

fn report(printer: &Printer, e: &Error) -> i32 {
    printer.error(e);
    e.exit_code()
}

/// Dispatches one command. `Ok` carries a non-error exit code (for commands
/// like `doctor` and `render --check` whose answer is the code itself).
fn run(app: &mut App, command: Command) -> Result<i32, Error> {
    use commands as c;
    // These record runs or show the timeline and refresh it themselves; the
    // background processes (mocks, supervisors) are not the user's commands.
    let own_refresh = matches!(
        command,
        Command::Up(_)
            | Command::Down(_)
            | Command::Reset(_)
            | Command::Metrics(_)
            | Command::Report(_)
            | Command::Mock(_)
            | Command::Process(_)
    );
    app.glance_at_timeline.set(!own_refresh);
    match command {
        Command::Validate(a) => c::validate::run(app, a.json),
        Command::Stacks(a) => c::stacks::run(app, a.json),
        Command::Completions(a) => c::completions::run(a.shell),
        Command::Up(a) => c::up::run(app, a),
        Command::Down(a) => c::down::run(app, a),
        Command::Reset(a) => c::reset::run(app, a),
        Command::Status(a) => c::status::run(app, a.json),
        Command::Logs(a) => c::logs::run(app, a),
        Command::Doctor(a) => c::doctor::run(app, a.json),
        Command::Render(a) => c::render::run(app, a),
        Command::Exec(a) => c::exec::run(app, a),
        Command::Shell => c::shell::run(app),
        Command::Env(a) => c::env::run(app, a.shell),
        Command::Lock => c::lock::run(app),
        Command::Mock(a) => c::mock::run(app, a),
        Command::Process(a) => c::process::run(a),
        Command::Metrics(a) => c::metrics::run(app, a),
        Command::Report(a) => c::report::run(app, a),
        Command::Init(a) => c::init::run(app, a),
        Command::Trust => c::trust::run(app),
        Command::Config(a) => c::config::run(app, a.json),
        Command::Gc => c::gc::run(app),
    }
}
