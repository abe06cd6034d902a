//! How much a tool's archive may unpack to.
//!
//! An archive is input from wherever its URL points, checked only against
//! the sum devenv.toml pins, and a repository can pin a bomb: a 3 MiB zip
//! of zeros unpacks to 3 GiB. So every unpack is metered: the bytes that
//! come out of the decompressor (not only those written, so skipped entries
//! count too), the number of entries, and the ratio of unpacked to
//! downloaded bytes once past [`RATIO_FLOOR`]. The defaults are far above
//! any real tool; `[tools.NAME] max_unpacked` and `max_ratio` raise them.

use std::cell::Cell;
use std::io::{self, Read, Write};

use crate::manifest::UnpackLimits;

/// The default for `max_unpacked`: 2 GiB (the largest SDKs are a few hundred MiB).
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;
/// The default for `max_ratio`: unpacked bytes per downloaded byte.
/// Binaries compress 3-10 times; 200 is a bomb.
pub const DEFAULT_MAX_RATIO: u32 = 200;
/// Below this many unpacked bytes the ratio is not checked: a small archive
/// of text or empty files compresses far better than any binary does.
pub const RATIO_FLOOR: u64 = 16 << 20;
/// The most entries one archive may hold (each costs an inode, not bytes).
pub const MAX_ENTRIES: u64 = 200_000;

/// Which limit an archive went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Exceeded {
    #[error("it unpacks to more than {}", human(*limit))]
    Total { limit: u64 },
    #[error("it unpacks to more than {limit} times its download size")]
    Ratio { limit: u32 },
    #[error("it holds more than {limit} entries")]
    Entries { limit: u64 },
}

impl Exceeded {
    /// The `[tools.NAME]` key that raises this limit, with a value to suggest.
    pub fn key(&self) -> Option<(&'static str, String)> {
        match *self {
            Exceeded::Total { limit } => Some((
                "max_unpacked",
                format!("\"{}\"", human(limit.saturating_mul(2))),
            )),
            Exceeded::Ratio { limit } => Some(("max_ratio", (u64::from(limit) * 5).to_string())),
            Exceeded::Entries { .. } => None,
        }
    }
}

/// Counts one unpack against its limits. The first limit passed is kept,
/// so the caller can tell a bomb from a broken archive whatever error the
/// archive reader wrapped it in.
pub struct Meter {
    max_bytes: u64,
    max_ratio: u32,
    compressed: u64,
    used: Cell<u64>,
    entries: Cell<u64>,
    tripped: Cell<Option<Exceeded>>,
}

impl Meter {
    /// A meter for an archive of `compressed` bytes.
    pub fn new(limits: UnpackLimits, compressed: u64) -> Meter {
        Meter {
            max_bytes: limits.max_bytes.unwrap_or(DEFAULT_MAX_BYTES),
            max_ratio: limits.max_ratio.unwrap_or(DEFAULT_MAX_RATIO).max(1),
            compressed,
            used: Cell::new(0),
            entries: Cell::new(0),
            tripped: Cell::new(None),
        }
    }

    /// Counts `n` more unpacked bytes.
    pub fn charge(&self, n: u64) -> io::Result<()> {
        let used = self.used.get().saturating_add(n);
        self.used.set(used);
        if used > self.max_bytes {
            return self.trip(Exceeded::Total {
                limit: self.max_bytes,
            });
        }
        let allowed = self.compressed.saturating_mul(u64::from(self.max_ratio));
        if used > RATIO_FLOOR && used > allowed {
            return self.trip(Exceeded::Ratio {
                limit: self.max_ratio,
            });
        }
        Ok(())
    }

    /// Refuses now what `n` more bytes would pass, without counting them:
    /// they are counted as they are produced.
    pub fn foresee(&self, n: u64) -> io::Result<()> {
        let before = self.used.get();
        let r = self.charge(n);
        self.used.set(before);
        r
    }

    /// Counts one more entry.
    pub fn entry(&self) -> io::Result<()> {
        let n = self.entries.get() + 1;
        self.entries.set(n);
        if n > MAX_ENTRIES {
            return self.trip(Exceeded::Entries { limit: MAX_ENTRIES });
        }
        Ok(())
    }

    /// The limit passed, if one was.
    pub fn tripped(&self) -> Option<Exceeded> {
        self.tripped.get()
    }

    pub fn reader<R: Read>(&self, inner: R) -> Metered<'_, R> {
        Metered { inner, meter: self }
    }

    pub fn writer<W: Write>(&self, inner: W) -> Metered<'_, W> {
        Metered { inner, meter: self }
    }

    fn trip(&self, e: Exceeded) -> io::Result<()> {
        if self.tripped.get().is_none() {
            self.tripped.set(Some(e));
        }
        Err(io::Error::other(e))
    }
}

/// A reader or writer whose bytes count against a [`Meter`].
pub struct Metered<'m, T> {
    inner: T,
    meter: &'m Meter,
}

impl<T> Metered<'_, T> {
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.charge(n as u64)?;
        Ok(n)
    }
}

impl<W: Write> Write for Metered<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.meter.charge(n as u64)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `2GiB`, `512MiB`, `300KiB`, `12B`: as `max_unpacked` is written.
pub fn human(bytes: u64) -> String {
    for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift {
            return format!("{:.1}{unit}", bytes as f64 / (1u64 << shift) as f64);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_bytes: u64, max_ratio: u32) -> UnpackLimits {
        UnpackLimits {
            max_bytes: Some(max_bytes),
            max_ratio: Some(max_ratio),
        }
    }

    #[test]
    fn the_total_is_a_hard_limit() {
        let m = Meter::new(limits(100, 200), 1 << 30);
        assert!(m.charge(100).is_ok());
        assert!(m.charge(1).is_err());
        assert_eq!(m.tripped(), Some(Exceeded::Total { limit: 100 }));
    }

    #[test]
    fn the_ratio_counts_only_past_the_floor() {
        let m = Meter::new(limits(u64::MAX, 10), 1000);
        assert!(
            m.charge(RATIO_FLOOR).is_ok(),
            "small archives may compress well"
        );
        assert!(m.charge(1).is_err());
        assert_eq!(m.tripped(), Some(Exceeded::Ratio { limit: 10 }));
    }

    #[test]
    fn a_metered_reader_stops_a_stream_of_zeros() {
        let m = Meter::new(limits(1 << 20, 200), 10);
        let mut sink = io::sink();
        let r = io::copy(&mut m.reader(io::repeat(0)), &mut sink);
        assert!(r.is_err());
        assert!(matches!(m.tripped(), Some(Exceeded::Total { .. })));
    }

    #[test]
    fn sizes_read_like_the_key() {
        assert_eq!(human(2 << 30), "2GiB");
        assert_eq!(human(3 << 19), "1536KiB");
        assert_eq!(human(1500), "1.5KiB");
        assert_eq!(human(12), "12B");
        assert_eq!(
            Exceeded::Total { limit: 2 << 30 }.key(),
            Some(("max_unpacked", "\"4GiB\"".to_string()))
        );
    }
}
