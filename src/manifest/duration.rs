//! Durations as devenv.toml writes them: `"500ms"`, `"30s"`, `"2m"`, `"1h"`,
//! or a number of seconds.
//!
//! Every duration is bounded by [`MAX_DURATION`]. Unbounded, a typo like
//! `"99999999999999999999h"` panicked in `Duration::from_secs_f64`, and a
//! large but representable one overflowed later, when added to an
//! `Instant`. Out of range is a type error at the value's span, like any
//! other (the loader turns serde errors into spanned diagnostics).

use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The longest duration devenv.toml may give: a day. Longer is a mistake,
/// and staying far from `Instant`'s range keeps deadline arithmetic safe.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// [`MAX_DURATION`] in milliseconds, for the `delay_ms` of mock routes and
/// WireMock's `fixedDelayMilliseconds`.
pub const MAX_DELAY_MS: u64 = MAX_DURATION.as_secs() * 1000;

/// A duration written as `"500ms"`, `"2s"`, `"1m"` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration like \"500ms\", \"30s\" or \"2m\", or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationValue, E> {
                parse_duration(v).map(DurationValue).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationValue, E> {
                if v < 0 {
                    return Err(E::custom("a duration cannot be negative"));
                }
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationValue, E> {
                seconds(v as f64, &v.to_string())
                    .map(DurationValue)
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<DurationValue, E> {
                seconds(v, &v.to_string())
                    .map(DurationValue)
                    .map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `"500ms"`, `"30s"`, `"2m"`, `"1.5h"` or `"10"` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| {
        format!("`{s}` is not a duration; write it like \"500ms\", \"30s\" or \"2m\"")
    })?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit `{other}`; use ms, s, m or h"
            ))
        }
    };
    seconds(secs, s)
}

/// `secs` as a `Duration`, refused when negative, not a number, or longer
/// than [`MAX_DURATION`]; `shown` is the value as written, for the message.
fn seconds(secs: f64, shown: &str) -> Result<Duration, String> {
    if secs.is_nan() || secs < 0.0 {
        return Err(format!(
            "`{shown}` is not a duration: it must be a positive number of seconds"
        ));
    }
    if secs > MAX_DURATION.as_secs_f64() {
        return Err(format!(
            "`{shown}` is too long: durations go up to {}h",
            MAX_DURATION.as_secs() / 3600
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{shown}` is not a duration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
    }

    #[test]
    fn huge_durations_are_errors_not_panics() {
        for s in [
            "99999999999999999999h",
            "25h",
            "1e400",
            "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000s",
        ] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
        assert!(seconds(f64::INFINITY, "inf").is_err());
        assert!(seconds(f64::NAN, "nan").is_err());
        assert!(seconds(-1.0, "-1").is_err());
        assert!(seconds(u64::MAX as f64, "u64::MAX").is_err());
    }

    #[test]
    fn words_are_not_durations() {
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("nan").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("").is_err());
    }
}
