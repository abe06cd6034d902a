//! The engine check: which engine it is (Docker Engine, Docker Desktop,
//! Podman, ... from `/version`'s Platform and Components), where it runs
//! (a local socket, tcp with or without TLS, the context that named it),
//! and how long a `/_ping` takes there and back.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::checks::{clock_skew, Inputs};
use super::Check;
use crate::services::engine::{self, Engine};

/// What `doctor --json` says about the engine, beside the check's detail.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EngineFacts {
    /// `Docker Engine`, `Docker Desktop 4.30.0 (149282)`, `Podman`, ...
    pub kind: String,
    pub version: String,
    pub api_version: String,
    pub address: String,
    /// `local socket`, `tcp with TLS, verified`, ...
    pub via: String,
    /// The docker context that named it, if one did.
    pub context: Option<String>,
    /// The median of three `/_ping` round trips, each on a new connection
    /// (so a TLS handshake is in it), in milliseconds.
    pub ping_ms: Option<f64>,
}

/// The engine's product name from `/version`.
pub fn kind(version: &bollard::models::SystemVersion) -> String {
    let components: Vec<&str> = version
        .components
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    if components.iter().any(|c| c.contains("Podman")) {
        return "Podman".into();
    }
    let platform = version
        .platform
        .as_ref()
        .map(|p| p.name.trim().to_string())
        .filter(|n| !n.is_empty());
    match platform {
        Some(p) => p,
        None if components.contains(&"Engine") => "Docker Engine".into(),
        // Some engines report neither: say Docker rather than nothing.
        None => "Docker".into(),
    }
}

/// Three pings, the middle one.
async fn ping_ms(e: &Engine) -> Option<f64> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let ok = match &e.socket {
            Some(s) => crate::services::socket::ping(s).await.is_ok(),
            None => e.docker.ping().await.is_ok(),
        };
        if !ok {
            return None;
        }
        times.push(started.elapsed());
    }
    times.sort();
    Some(times[1].as_secs_f64() * 1000.0)
}

fn rtt(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// The detail line of a passing engine check.
pub fn describe(f: &EngineFacts) -> String {
    let mut s = format!("{} {} (API {}), ", f.kind, f.version, f.api_version);
    if let Some(c) = &f.context {
        s.push_str(&format!("context \"{c}\", "));
    }
    s.push_str(&format!("{} at {}", f.via, f.address));
    if let Some(ms) = f.ping_ms {
        s.push_str(&format!("; ping {}", rtt(ms)));
    }
    s
}

/// The engine, what it is, where, its round trip, and the clock skew
/// against it.
pub async fn check(inputs: &Inputs<'_>) -> (Vec<Check>, Option<Engine>) {
    let engine = match engine::connect(inputs.engine).await {
        Ok(e) => e,
        Err(e) => {
            let fail = Check::fail("engine", e.to_string(), e.hint());
            return (vec![fail], None);
        }
    };
    let mut out = Vec::new();
    match engine.docker.version().await {
        Ok(v) => {
            let facts = EngineFacts {
                kind: kind(&v),
                version: v.version.clone().unwrap_or_default(),
                api_version: v.api_version.clone().unwrap_or_default(),
                address: engine.address.clone(),
                via: engine.via.describe().to_string(),
                context: engine.context.clone(),
                ping_ms: ping_ms(&engine).await,
            };
            let mut c = Check::pass("engine", describe(&facts));
            c.engine = Some(facts);
            out.push(c);
        }
        Err(e) => out.push(Check::fail(
            "engine",
            format!("{}: {e}", engine.address),
            "restart the engine",
        )),
    }
    if let Ok(info) = engine.docker.info().await {
        if let Some(t) = info
            .system_time
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        {
            out.push(clock_skew(inputs.now, t.with_timezone(&Utc), "the engine"));
        }
    }
    (out, Some(engine))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{SystemVersion, SystemVersionComponents, SystemVersionPlatform};

    fn version(platform: &str, components: &[&str]) -> SystemVersion {
        SystemVersion {
            platform: Some(SystemVersionPlatform {
                name: platform.into(),
            }),
            components: Some(
                components
                    .iter()
                    .map(|c| SystemVersionComponents {
                        name: c.to_string(),
                        version: "1".into(),
                        details: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn engines_are_named_from_their_platform_and_components() {
        // Podman 4.3's answer: a platform that is an OS, a "Podman Engine".
        let podman = version("linux/amd64/debian-12", &["Podman Engine", "Conmon"]);
        assert_eq!(kind(&podman), "Podman");
        let desktop = version("Docker Desktop 4.30.0 (149282)", &["Engine", "containerd"]);
        assert_eq!(kind(&desktop), "Docker Desktop 4.30.0 (149282)");
        // Debian's docker.io leaves the platform empty.
        assert_eq!(kind(&version("", &["Engine", "runc"])), "Docker Engine");
        assert_eq!(kind(&version(" ", &[])), "Docker");
    }

    #[test]
    fn the_detail_says_what_where_and_how_fast() {
        let f = EngineFacts {
            kind: "Docker Engine".into(),
            version: "20.10.24".into(),
            api_version: "1.41".into(),
            address: "tcp://127.0.0.1:2376".into(),
            via: "tcp with TLS, verified".into(),
            context: Some("box".into()),
            ping_ms: Some(0.42),
        };
        assert_eq!(
            describe(&f),
            "Docker Engine 20.10.24 (API 1.41), context \"box\", tcp with TLS, verified at tcp://127.0.0.1:2376; ping 0.4 ms"
        );
        assert_eq!(rtt(42.0), "42 ms");
        assert_eq!(rtt(1500.0), "1.5 s");
    }
}
