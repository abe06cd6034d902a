//! The typed shape of `[processes.<name>]`, beside `schema.rs` (which
//! re-exports it) to keep each file small. A process's command differs from
//! a container's: a string is run by `sh -c`, not split into words.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::schema::{EnvValue, Map, ReadyDef};

/// `[processes.<name>]`: the service itself, run on this machine and
/// supervised. `command` is required, so a table without it is a type
/// error at its position like any other missing key.
#[derive(Debug, Clone, Deserialize)]
pub struct ProcessDef {
    pub command: Spanned<ProcessCommand>,
    /// Relative to the repository root, and inside it.
    pub cwd: Option<Spanned<String>>,
    #[serde(default)]
    pub env: Map<Spanned<EnvValue>>,
    pub ready: Option<Spanned<ReadyDef>>,
    #[serde(default)]
    pub depends_on: Vec<Spanned<String>>,
    pub restart: Option<RestartPolicy>,
}

/// A process's command: an argv run as is, or a string run by `sh -c`
/// (unlike a container's `command`, which is split into words: on this
/// machine a developer expects their shell's pipes and `&&`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProcessCommand {
    Shell(String),
    Argv(Vec<String>),
}

impl ProcessCommand {
    /// What is executed.
    pub fn argv(&self) -> Vec<String> {
        match self {
            ProcessCommand::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
            ProcessCommand::Argv(a) => a.clone(),
        }
    }

    /// As the user wrote it, for trust and messages.
    pub fn display(&self) -> String {
        match self {
            ProcessCommand::Shell(s) => s.clone(),
            ProcessCommand::Argv(a) => a.join(" "),
        }
    }
}

impl<'de> Deserialize<'de> for ProcessCommand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProcessCommand;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command as an array of strings, or a string run by `sh -c`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProcessCommand, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("a command cannot be empty"));
                }
                Ok(ProcessCommand::Shell(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ProcessCommand, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                if out.first().is_none_or(|p| p.is_empty()) {
                    return Err(de::Error::custom("a command cannot be empty"));
                }
                Ok(ProcessCommand::Argv(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// What the supervisor does when a process ends.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Start it again after a non-zero exit, with backoff (the default: a
    /// dev server that crashes comes back once the file is fixed).
    #[default]
    OnFailure,
    /// Leave it down, whatever its exit.
    Never,
}

impl RestartPolicy {
    /// As written in devenv.toml (and on the supervisor's command line).
    pub fn name(self) -> &'static str {
        match self {
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "never",
        }
    }
}
