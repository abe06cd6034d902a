//! The built-in index of common tools: where each is downloaded from, how its
//! archive is laid out, and where upstream publishes checksums.

/// Names of the tools in the index.
const NAMES: &[&str] = &[
    "bun",
    "deno",
    "gh",
    "go",
    "golangci-lint",
    "helm",
    "jq",
    "kubectl",
    "node",
    "protoc",
    "terraform",
    "yq",
];

pub fn is_known(name: &str) -> bool {
    NAMES.contains(&name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().copied()
}
