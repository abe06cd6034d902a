//! The command line, as clap structs. Nothing here does work: `cli::run`
//! turns these into settings for the core modules.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "devenv",
    version,
    about = "From a fresh clone to a running development environment in one command",
    long_about = "devenv reads the repository's devenv.toml and brings the whole development \
environment up: pinned tools, dependency containers, mocks for upstream services, rendered \
config files and setup hooks.",
    after_help = "Examples:\n  devenv up                 bring everything up\n  devenv status             what is running, with URLs\n  devenv validate           check devenv.toml only\n  devenv down               stop it (data volumes are kept)",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Use this devenv.toml instead of searching upwards from the current directory
    #[arg(short = 'f', long = "file", global = true, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Print only errors and warnings
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail about what is done
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring the whole environment to the declared state
    #[command(
        after_help = "Examples:\n  devenv up\n  devenv up --env ci\n  devenv up --only tools,services\n  devenv up --build            rebuild images built from the repository\n  devenv up --frozen --yes     in CI: require devenv.lock, trust hooks"
    )]
    Up(UpArgs),

    /// Stop this project's processes and mocks, remove its containers and network
    #[command(
        after_help = "Examples:\n  devenv down\n  devenv down --volumes        also delete data volumes"
    )]
    Down(DownArgs),

    /// Back to a fresh clone: down, volumes, rendered files, local state
    #[command(
        after_help = "Examples:\n  devenv reset\n  devenv reset --yes           without asking"
    )]
    Reset(ResetArgs),

    /// Services, mocks, jobs, processes and tools, with state, readiness and URLs
    #[command(
        after_help = "Examples:\n  devenv status\n  devenv status --json | jq '.services[].url'"
    )]
    Status(JsonArgs),

    /// Logs of services, mocks, jobs and processes: one, several or all, interleaved
    #[command(
        after_help = "Examples:\n  devenv logs db\n  devenv logs payments --follow\n  devenv logs db --tail 50\n  devenv logs                     everything, interleaved, each line prefixed\n  devenv logs db payments --since 10m --follow"
    )]
    Logs(LogsArgs),

    /// Parse and check devenv.toml only
    #[command(
        after_help = "Examples:\n  devenv validate\n  devenv validate --json\n  devenv -f other/devenv.toml validate"
    )]
    Validate(JsonArgs),

    /// Pre-flight checks: engine, ports, disk, required tools, store, PATH
    #[command(after_help = "Examples:\n  devenv doctor\n  devenv doctor --json")]
    Doctor(JsonArgs),

    /// Render config files only
    #[command(
        after_help = "Examples:\n  devenv render\n  devenv render --env ci --set log_level=debug\n  devenv render --check        exit 1 when a rendered file is stale\n  devenv render --explain database.url\n  devenv render --explain values   every value and its layer"
    )]
    Render(RenderArgs),

    /// Run a command with the pinned tools and the project environment
    #[command(
        after_help = "Examples:\n  devenv exec -- node --version       on this machine, with the pinned tools\n  devenv exec -- npm test\n  devenv exec db -- psql -U devenv    inside the db service's container\n  devenv exec -T db -- pg_dump app > dump.sql"
    )]
    Exec(ExecArgs),

    /// Start your shell with the pinned tools and the project environment
    Shell,

    /// Print the environment to activate the pinned tools in a shell
    #[command(
        after_help = "Examples:\n  eval \"$(devenv env --shell bash)\"    e.g. in .envrc for direnv\n  devenv env --shell fish | source\n  devenv env --shell json"
    )]
    Env(EnvArgs),

    /// Resolve every tool for every platform and write devenv.lock
    Lock,

    /// Run one mock in the foreground
    #[command(after_help = "Examples:\n  devenv mock serve payments")]
    Mock(MockArgs),

    /// The supervisor `up` runs for each of [processes] (internal)
    #[command(hide = true)]
    Process(ProcessArgs),

    /// Setup runs and the onboarding timeline of this clone
    #[command(
        after_help = "Examples:\n  devenv metrics\n  devenv metrics --json\n  devenv metrics --install-hook   record your first commit right away"
    )]
    Metrics(MetricsArgs),

    /// Send unsent metrics to the configured platform endpoint
    #[command(
        after_help = "Examples:\n  devenv report\n  devenv report --dry-run      print what would be sent"
    )]
    Report(ReportArgs),

    /// Write a devenv.toml for an existing repository
    #[command(
        after_help = "Examples:\n  devenv init\n  devenv init --from docker-compose.yml --yes\n  devenv init --from compose.yaml --profile debug"
    )]
    Init(InitArgs),

    /// Trust this devenv.toml so its hooks may run
    Trust,

    /// The resolved settings and, for each, the file or variable it came from
    #[command(
        after_help = "Examples:\n  devenv config\n  devenv config --json | jq .settings.registry_mirror\n\nLayers, each overriding the one before: the user config file\n($XDG_CONFIG_HOME/devenv/config.toml), devenv.toml [settings], devenv.local.toml\n[settings], DEVENV_* variables, flags."
    )]
    Config(JsonArgs),

    /// List the stack presets (built in and the repository's own)
    #[command(after_help = "Examples:\n  devenv stacks\n  devenv stacks --json")]
    Stacks(JsonArgs),

    /// Remove tools from the shared store that no known project uses
    Gc,

    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  devenv completions bash > ~/.local/share/bash-completion/completions/devenv\n  devenv completions zsh > ~/.zfunc/_devenv\n  devenv completions fish > ~/.config/fish/completions/devenv.fish"
    )]
    Completions(CompletionsArgs),
}

/// `--pull`: the core's pull policy, spelled for the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullArg {
    Missing,
    Always,
    Never,
}

impl From<PullArg> for crate::manifest::PullPolicy {
    fn from(p: PullArg) -> Self {
        match p {
            PullArg::Missing => Self::Missing,
            PullArg::Always => Self::Always,
            PullArg::Never => Self::Never,
        }
    }
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Config environment to render for (default: [config] environment, or "local")
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Run only these phases: tools, mocks, services, config, hooks, processes
    #[arg(long, value_delimiter = ',', value_name = "PHASE,...")]
    pub only: Vec<crate::session::Phase>,
    /// When to pull images: missing, always or never (overrides [settings] pull)
    #[arg(long, value_enum, value_name = "POLICY")]
    pub pull: Option<PullArg>,
    /// Exit 1 at once if another devenv is working on this clone, instead of waiting
    #[arg(long)]
    pub no_wait: bool,
    /// Fail if devenv.lock is missing or does not match devenv.toml
    #[arg(long)]
    pub frozen: bool,
    /// Use only what is already downloaded; never touch the network
    #[arg(long)]
    pub offline: bool,
    /// Build every service with `build` again, without the builder's cache
    #[arg(long)]
    pub build: bool,
    /// Answer yes to questions (trust this devenv.toml's hooks)
    #[arg(short, long)]
    pub yes: bool,
    /// Record this run as a CI run (no identity, no onboarding timeline), as under CI=true
    #[arg(long)]
    pub ci: bool,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also remove the project's named volumes (their data is lost)
    #[arg(long)]
    pub volumes: bool,
    /// Exit 1 at once if another devenv is working on this clone, instead of waiting
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Exit 1 at once if another devenv is working on this clone, instead of waiting
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// One JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Services, jobs, mocks or processes; all of them, interleaved, when none is named
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only lines since then: a duration ago ("10m", "2h") or a time (RFC 3339)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Keep printing new lines (no `-f`: that is the global `--file`)
    #[arg(long)]
    pub follow: bool,
    /// Only the last N lines
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Config environment to render for
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Override a value (dots for nested keys)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Exit 1 if any rendered file is out of date; write nothing
    #[arg(long)]
    pub check: bool,
    /// Print a value and the layer it came from (`values`, `secrets`: all of them)
    #[arg(long, value_name = "KEY")]
    pub explain: Option<String>,
    /// Overwrite rendered files that were edited by hand
    #[arg(long)]
    pub force: bool,
    /// Trust this devenv.toml's secret commands and config sources without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Exit 1 at once if another devenv is working on this clone, instead of waiting
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Run CMD inside this service's running container (like `docker compose exec`)
    #[arg(value_name = "SERVICE")]
    pub service: Option<String>,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
    /// In a service: no pseudo-terminal, even on a terminal (for pipes and scripts)
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    /// In a service: the user (name or uid[:gid]) to run as
    #[arg(short, long, value_name = "USER")]
    pub user: Option<String>,
    /// In a service: the working directory
    #[arg(short, long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// In a service: an environment variable, KEY=VALUE (repeatable)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    Json,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// The syntax to print
    #[arg(long, value_enum, default_value = "bash")]
    pub shell: ShellKind,
}

#[derive(Debug, Args)]
pub struct MockArgs {
    #[command(subcommand)]
    pub command: MockCommand,
}

#[derive(Debug, Subcommand)]
pub enum MockCommand {
    /// Serve one mock in the foreground until Ctrl-C
    Serve {
        /// The mock's name from [mocks.NAME]
        name: String,
        /// Port to listen on (default: the mock's `port`, or its kept auto port)
        #[arg(long, hide = true)]
        port: Option<u16>,
        /// Address to listen on, repeatable (default 127.0.0.1)
        #[arg(long = "bind", hide = true)]
        bind: Vec<std::net::IpAddr>,
    },
    /// Proxy the mock's port to the real upstream; on Ctrl-C write what was
    /// seen as WireMock mappings into the mock's `wiremock` dir
    Record {
        /// The mock's name from [mocks.NAME]
        name: String,
        /// The real service, e.g. https://api.example.com
        #[arg(long)]
        upstream: String,
        /// Port to listen on (default: the mock's `port`, or its kept auto port)
        #[arg(long, hide = true)]
        port: Option<u16>,
    },
}

#[derive(Debug, Args)]
pub struct ProcessArgs {
    #[command(subcommand)]
    pub command: ProcessSub,
}

#[derive(Debug, Subcommand)]
pub enum ProcessSub {
    /// Run and restart one process until SIGTERM; `up` starts this detached
    Supervise {
        /// The process's name from [processes.NAME]
        name: String,
        /// Where the command runs
        #[arg(long)]
        cwd: PathBuf,
        /// on-failure or never
        #[arg(long, value_enum)]
        restart: RestartArg,
        /// The definition hash to record
        #[arg(long)]
        hash: String,
        /// The log file to append to
        #[arg(long)]
        log: PathBuf,
        /// processes.json
        #[arg(long)]
        state: PathBuf,
        /// The command and its arguments
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

/// `restart`, spelled as in devenv.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RestartArg {
    OnFailure,
    Never,
}

impl From<RestartArg> for crate::manifest::RestartPolicy {
    fn from(r: RestartArg) -> Self {
        match r {
            RestartArg::OnFailure => Self::OnFailure,
            RestartArg::Never => Self::Never,
        }
    }
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// One JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Install git post-commit and pre-push hooks that record your first commit and push
    #[arg(long)]
    pub install_hook: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Print the payload instead of sending it
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Convert this docker-compose file
    #[arg(long, value_name = "COMPOSE_FILE")]
    pub from: Option<PathBuf>,
    /// Take the defaults without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Replace an existing devenv.toml
    #[arg(long)]
    pub force: bool,
    /// Also convert compose services of this profile (repeatable)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
