//! The built-in mock server: WireMock mappings, Pact files, OpenAPI specs
//! and inline routes served by one hyper server per mock.
//!
//! The engine (sources, matching, templating, admin API) knows nothing of
//! sockets or processes; `server` puts it on HTTP; `lifecycle` runs one
//! background `devenv mock serve` per mock for `up`, `down` and `status`.

mod admin;
mod engine;
mod json_pos;
mod json_text;
mod jsonpath;
mod lifecycle;
mod matching;
mod pact_rules;
mod path_template;
mod record;
mod request;
mod server;
mod sources;
mod string_matcher;
mod stub;
mod template;
mod webhook;

use std::net::SocketAddr;

pub use engine::{Engine, Reply, JOURNAL_LIMIT, PROVIDER_STATE_HEADER};
pub use lifecycle::{
    check_ports, down, health, log_path, port_for, recorded, status, up, MockStatus, PortPair,
    UpRequest,
};
pub use record::{record, RecordError, RecordOptions, Recorded};
pub use request::Request;
pub use server::{serve, ServeOptions};

use crate::diagnostic::Diagnostics;
use crate::manifest::Manifest;

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// A mapping, pact or OpenAPI file is wrong.
    #[error("{0}")]
    Invalid(Diagnostics),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("mock {name}: port {port} is already in use by another program")]
    PortInUse { name: String, port: u16 },
    #[error("mock {name} never became ready; its log ends with:\n{log}")]
    NotReady { name: String, log: String },
    #[error("{0}")]
    Io(std::io::Error),
}

impl MockError {
    /// What to do next, when we know.
    pub fn hint(&self) -> Option<String> {
        match self {
            MockError::PortInUse { .. } => Some(
                "stop whatever holds the port, or change the mock's `port` (\"auto\" picks a free one)".into(),
            ),
            MockError::NotReady { name, .. } => Some(format!(
                "fix the mock's files, then run `devenv up` again; `devenv mock serve {name}` runs it in the foreground"
            )),
            _ => None,
        }
    }
}

/// Parses every mapping, pact and OpenAPI file of every mock; each problem
/// names its file and line:column. Nothing is started.
pub fn check(manifest: &Manifest) -> Diagnostics {
    let mut all = Diagnostics::default();
    for m in &manifest.mocks {
        if let Err(d) = sources::load(m) {
            all.extend(d);
        }
        if let Err(d) = sources::mountebank::load_for(m) {
            all.extend(d);
        }
    }
    all.sorted()
}

/// What the mocks' files do that devenv serves differently from what they
/// say, as warnings with file and line:column (they fail nothing).
pub fn warnings(manifest: &Manifest) -> Vec<crate::diagnostic::Diagnostic> {
    manifest.mocks.iter().flat_map(sources::warnings).collect()
}

/// The stubs of one mock, compiled, for tests and tools that drive the
/// engine directly.
pub fn engine_for(mock: &crate::manifest::Mock) -> Result<Engine, Diagnostics> {
    Ok(Engine::new(
        sources::load(mock)?,
        mock.provider_state.clone(),
    ))
}
