//! Small helpers shared across modules.

use sha2::{Digest, Sha256};

/// `s` in single quotes, each `'` written as `'\''`: one word to POSIX
/// shells, bash, zsh and fish alike, with nothing expanded.
pub fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn single_quote_keeps_quotes_inside() {
        assert_eq!(super::single_quote("it's $HOME"), r"'it'\''s $HOME'");
    }
}
