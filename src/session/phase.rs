//! The phases of `up`, in the one order they run.

use std::str::FromStr;

use crate::hooks::trust::Code;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Tools,
    Mocks,
    Services,
    Config,
    Hooks,
    Processes,
}

impl Phase {
    /// Mocks start before services, so a container that calls an upstream
    /// while it starts finds the mock already answering; config renders
    /// from what services and mocks really got; hooks run last, with all of
    /// it ready; and the app itself (processes) starts after them, with
    /// its dependencies up, its config rendered and its setup done.
    pub const ORDER: [Phase; 6] = [
        Phase::Tools,
        Phase::Mocks,
        Phase::Services,
        Phase::Config,
        Phase::Hooks,
        Phase::Processes,
    ];

    /// The phase's name on the command line and in the metrics journal.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Tools => "tools",
            Phase::Mocks => "mocks",
            Phase::Services => "services",
            Phase::Config => "config",
            Phase::Hooks => "hooks",
            Phase::Processes => "processes",
        }
    }

    /// The repository code the phase may run (so needs trust for).
    pub fn code(self) -> &'static [Code] {
        match self {
            Phase::Config => &[Code::SecretCommands, Code::ConfigSources],
            Phase::Hooks => &[Code::Hooks],
            Phase::Processes => &[Code::Processes],
            Phase::Tools | Phase::Mocks | Phase::Services => &[],
        }
    }
}

impl FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ORDER
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Phase::ORDER.iter().map(|p| p.name()).collect();
                format!("unknown phase `{s}`; phases are {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Phase::ORDER {
            assert_eq!(p.name().parse::<Phase>(), Ok(p));
        }
        assert!("bogus"
            .parse::<Phase>()
            .unwrap_err()
            .contains("tools, mocks"));
    }
}
