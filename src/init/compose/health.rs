//! A compose `healthcheck` to devenv's `ready`.
//!
//! The one rule for the readiness timeout: the longest Compose waits
//! before it calls the service unhealthy, `start_period + retries ×
//! (interval + timeout)`, with Docker's defaults (interval 30s, timeout
//! 30s, retries 3, start_period 0) for what the healthcheck leaves out.
//! It is always written, so devenv gives up no sooner than Compose would.

use super::parts::duration_secs;
use super::yaml::Node;
use crate::init::ReadyDraft;

/// devenv.toml refuses durations over a day.
const MAX_SECS: f64 = 86_400.0;

pub(super) enum Health {
    Ready(ReadyDraft),
    Disabled,
    Invalid(String),
}

pub(super) fn healthcheck(n: &Node) -> Health {
    if n.entries().is_none() {
        return Health::Invalid("not a mapping".into());
    }
    if n.get("disable").and_then(Node::as_bool) == Some(true) {
        return Health::Disabled;
    }
    let exec = match n.get("test") {
        Some(t) if t.items().is_some() => {
            let words: Vec<String> = t.items().unwrap_or_default().iter().filter_map(Node::text).collect();
            match words.split_first() {
                Some((first, _)) if first == "NONE" => return Health::Disabled,
                Some((first, rest)) if first == "CMD" && !rest.is_empty() => rest.to_vec(),
                Some((first, rest)) if first == "CMD-SHELL" && !rest.is_empty() => {
                    vec!["sh".into(), "-c".into(), rest.join(" ")]
                }
                _ => return Health::Invalid("`test` must start with CMD, CMD-SHELL or NONE".into()),
            }
        }
        Some(t) => match t.text() {
            Some(s) if !s.is_empty() => vec!["sh".into(), "-c".into(), s],
            _ => return Health::Invalid("an empty `test`".into()),
        },
        None => {
            return Health::Invalid(
                "no `test`: the image's own healthcheck runs, which devenv cannot see; add `ready` by hand".into(),
            )
        }
    };
    match timeout(n) {
        Ok(t) => Health::Ready(ReadyDraft {
            exec,
            timeout_secs: Some(t),
        }),
        Err(why) => Health::Invalid(why),
    }
}

/// The readiness timeout in whole seconds (see the module's rule).
pub(super) fn timeout(n: &Node) -> Result<u64, String> {
    let secs = |k: &str, default: f64| -> Result<f64, String> {
        match n.get(k).and_then(Node::text) {
            None => Ok(default),
            Some(s) => duration_secs(&s).ok_or(format!("`{k}: {s}` is not a duration")),
        }
    };
    let retries = match n.get("retries").and_then(Node::text) {
        None => 3.0,
        Some(r) => r
            .parse::<u32>()
            .map_err(|_| format!("`retries: {r}` is not a number"))? as f64,
    };
    let total =
        secs("start_period", 0.0)? + retries * (secs("interval", 30.0)? + secs("timeout", 30.0)?);
    if total > MAX_SECS {
        return Err(format!(
            "compose waits up to {}s for it to become healthy; devenv waits at most a day",
            total.ceil()
        ));
    }
    Ok((total.ceil() as u64).max(1))
}

#[cfg(test)]
mod tests {
    use super::super::yaml;
    use super::*;

    fn t(text: &str) -> Result<u64, String> {
        timeout(&yaml::parse(text, 0).unwrap().remove(0))
    }

    #[test]
    fn the_timeout_rule_with_docker_defaults() {
        assert_eq!(t("test: x"), Ok(180), "3 x (30s + 30s)");
        assert_eq!(t("interval: 2s\ntimeout: 5s\nretries: 60"), Ok(420));
        assert_eq!(
            t("interval: 1m30s\nstart_period: 10s\nretries: 1\ntimeout: 500ms"),
            Ok(101)
        );
        assert!(t("interval: soon").is_err());
        assert!(t("retries: 10000\ninterval: 1h").is_err());
    }
}
