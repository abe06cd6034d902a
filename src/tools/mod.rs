//! Pinned tools: the built-in index, downloads, the shared store, activation.

pub mod index;

/// Every platform a lockfile pins, as `<os>-<arch>`.
pub const PLATFORMS: &[&str] = &[
    "linux-x86_64",
    "linux-aarch64",
    "macos-x86_64",
    "macos-aarch64",
];
