//! Sizes as devenv.toml writes them: `"4GiB"`, `"512MiB"`, `"100MB"`, or a
//! number of bytes. Used by `[tools.NAME] max_unpacked`.
//!
//! Like durations, sizes are bounded ([`MAX_SIZE`]) and checked for
//! negative, fractional-overflow and non-numeric values while they are
//! deserialized, so a bad one is a spanned diagnostic, never a panic or a
//! wrapped-around `u64`.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The largest size devenv.toml may give: 1 TiB.
pub const MAX_SIZE: u64 = 1 << 40;

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeValue(pub u64);

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SizeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size like \"512MiB\" or \"4GiB\", or a number of bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SizeValue, E> {
                parse_size(v).map(SizeValue).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SizeValue, E> {
                if v < 0 {
                    return Err(E::custom("a size cannot be negative"));
                }
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SizeValue, E> {
                bounded(v as f64, &v.to_string())
                    .map(SizeValue)
                    .map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `"4GiB"`, `"1.5GB"`, `"512KiB"`, `"100"` (bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size; write it like \"512MiB\" or \"4GiB\""))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "MB" => 1000 * 1000,
        "GB" => 1000 * 1000 * 1000,
        "TB" => 1000 * 1000 * 1000 * 1000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit `{other}`; use B, KiB, MiB, GiB or TiB (or KB, MB, GB, TB)"
            ))
        }
    };
    bounded(n * mult as f64, s)
}

fn bounded(bytes: f64, shown: &str) -> Result<u64, String> {
    if bytes.is_nan() || bytes < 1.0 {
        return Err(format!(
            "`{shown}` is not a size: it must be at least 1 byte"
        ));
    }
    if bytes > MAX_SIZE as f64 {
        return Err(format!("`{shown}` is too large: sizes go up to 1TiB"));
    }
    // In range, so the conversion neither saturates nor wraps.
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_units() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1.5 KiB"), Ok(1536));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("1TiB"), Ok(MAX_SIZE));
    }

    #[test]
    fn out_of_range_sizes_are_errors() {
        for s in [
            "2TiB",
            "99999999999999999999999GiB",
            "0",
            "0.1B",
            "-1GiB",
            "GiB",
            "5 parsecs",
            "nan",
        ] {
            assert!(parse_size(s).is_err(), "{s}");
        }
    }
}
