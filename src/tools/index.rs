//! The built-in index of common tools: where each is downloaded from, how its
//! archive is laid out, and where upstream publishes checksums.
//!
//! URLs are split into an `origin` (scheme + host) and a path template, so a
//! mirror (`DEVENV_TOOLS_MIRROR`) can replace every upstream origin: with the
//! mirror `https://m.internal/tools`, `https://nodejs.org/dist/...` is fetched
//! from `https://m.internal/tools/nodejs.org/dist/...`.

use super::Platform;

/// How upstream publishes the sha256 of each artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SumFormat {
    /// Lines of `<hex>  <file name>` (sha256sum output, SHASUMS256.txt).
    Lines,
    /// A file holding only the hex (maybe followed by the file name).
    Single,
    /// yq's `checksums` file: `<file>  <hash> <hash> ...`, with the column
    /// order in `checksums_hashes_order` (beside it).
    YqMulti,
    /// The GitHub releases API: `assets[].digest = "sha256:<hex>"`.
    GithubDigest,
}

#[derive(Debug, Clone, Copy)]
pub struct Checksums {
    /// Path template of the checksum document on the tool's origin (or on
    /// `https://api.github.com` for `GithubDigest`).
    pub path: &'static str,
    pub format: SumFormat,
}

#[derive(Debug, Clone, Copy)]
pub struct IndexEntry {
    pub name: &'static str,
    pub origin: &'static str,
    /// Path template: `{version}`, `{os}`, `{arch}`, `{ext}`.
    pub path: &'static str,
    /// Our OS names (linux, macos) -> upstream's.
    pub os: [(&'static str, &'static str); 2],
    /// Our arch names (x86_64, aarch64) -> upstream's.
    pub arch: [(&'static str, &'static str); 2],
    /// Archive extension per OS (`{ext}`); empty when the path has none.
    pub ext: [(&'static str, &'static str); 2],
    pub strip_components: u32,
    /// Binaries to expose, relative to the unpacked (stripped) tree.
    pub bins: &'static [&'static str],
    pub checksums: Option<Checksums>,
}

const LINUX_DARWIN: [(&str, &str); 2] = [("linux", "linux"), ("macos", "darwin")];
const AMD64_ARM64: [(&str, &str); 2] = [("x86_64", "amd64"), ("aarch64", "arm64")];
const NO_EXT: [(&str, &str); 2] = [("linux", ""), ("macos", "")];

const fn lines(path: &'static str) -> Option<Checksums> {
    Some(Checksums {
        path,
        format: SumFormat::Lines,
    })
}

pub const INDEX: &[IndexEntry] = &[
    IndexEntry {
        name: "bun",
        origin: "https://github.com",
        path: "/oven-sh/bun/releases/download/bun-v{version}/bun-{os}-{arch}.zip",
        os: LINUX_DARWIN,
        arch: [("x86_64", "x64"), ("aarch64", "aarch64")],
        ext: NO_EXT,
        strip_components: 1,
        bins: &["bun"],
        checksums: lines("/oven-sh/bun/releases/download/bun-v{version}/SHASUMS256.txt"),
    },
    IndexEntry {
        name: "deno",
        origin: "https://github.com",
        path: "/denoland/deno/releases/download/v{version}/deno-{arch}-{os}.zip",
        os: [("linux", "unknown-linux-gnu"), ("macos", "apple-darwin")],
        arch: [("x86_64", "x86_64"), ("aarch64", "aarch64")],
        ext: NO_EXT,
        strip_components: 0,
        bins: &["deno"],
        checksums: Some(Checksums {
            path: "/denoland/deno/releases/download/v{version}/deno-{arch}-{os}.zip.sha256sum",
            format: SumFormat::Single,
        }),
    },
    IndexEntry {
        name: "gh",
        origin: "https://github.com",
        path: "/cli/cli/releases/download/v{version}/gh_{version}_{os}_{arch}.{ext}",
        os: [("linux", "linux"), ("macos", "macOS")],
        arch: AMD64_ARM64,
        ext: [("linux", "tar.gz"), ("macos", "zip")],
        strip_components: 1,
        bins: &["bin/gh"],
        checksums: lines("/cli/cli/releases/download/v{version}/gh_{version}_checksums.txt"),
    },
    IndexEntry {
        name: "go",
        origin: "https://dl.google.com",
        path: "/go/go{version}.{os}-{arch}.tar.gz",
        os: LINUX_DARWIN,
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 1,
        bins: &["bin/go", "bin/gofmt"],
        checksums: Some(Checksums {
            path: "/go/go{version}.{os}-{arch}.tar.gz.sha256",
            format: SumFormat::Single,
        }),
    },
    IndexEntry {
        name: "golangci-lint",
        origin: "https://github.com",
        path: "/golangci/golangci-lint/releases/download/v{version}/golangci-lint-{version}-{os}-{arch}.tar.gz",
        os: LINUX_DARWIN,
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 1,
        bins: &["golangci-lint"],
        checksums: lines(
            "/golangci/golangci-lint/releases/download/v{version}/golangci-lint-{version}-checksums.txt",
        ),
    },
    IndexEntry {
        name: "helm",
        origin: "https://get.helm.sh",
        path: "/helm-v{version}-{os}-{arch}.tar.gz",
        os: LINUX_DARWIN,
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 1,
        bins: &["helm"],
        checksums: Some(Checksums {
            path: "/helm-v{version}-{os}-{arch}.tar.gz.sha256sum",
            format: SumFormat::Single,
        }),
    },
    IndexEntry {
        name: "jq",
        origin: "https://github.com",
        path: "/jqlang/jq/releases/download/jq-{version}/jq-{os}-{arch}",
        os: [("linux", "linux"), ("macos", "macos")],
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 0,
        bins: &["jq"],
        checksums: lines("/jqlang/jq/releases/download/jq-{version}/sha256sum.txt"),
    },
    IndexEntry {
        name: "kubectl",
        origin: "https://dl.k8s.io",
        path: "/release/v{version}/bin/{os}/{arch}/kubectl",
        os: LINUX_DARWIN,
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 0,
        bins: &["kubectl"],
        checksums: Some(Checksums {
            path: "/release/v{version}/bin/{os}/{arch}/kubectl.sha256",
            format: SumFormat::Single,
        }),
    },
    IndexEntry {
        name: "node",
        origin: "https://nodejs.org",
        path: "/dist/v{version}/node-v{version}-{os}-{arch}.tar.xz",
        os: LINUX_DARWIN,
        arch: [("x86_64", "x64"), ("aarch64", "arm64")],
        ext: NO_EXT,
        strip_components: 1,
        bins: &["bin/node", "bin/npm", "bin/npx", "bin/corepack"],
        checksums: lines("/dist/v{version}/SHASUMS256.txt"),
    },
    IndexEntry {
        name: "protoc",
        origin: "https://github.com",
        path: "/protocolbuffers/protobuf/releases/download/v{version}/protoc-{version}-{os}-{arch}.zip",
        os: [("linux", "linux"), ("macos", "osx")],
        arch: [("x86_64", "x86_64"), ("aarch64", "aarch_64")],
        ext: NO_EXT,
        strip_components: 0,
        bins: &["bin/protoc"],
        // protobuf publishes no checksum file; GitHub records each asset's digest.
        checksums: Some(Checksums {
            path: "/repos/protocolbuffers/protobuf/releases/tags/v{version}",
            format: SumFormat::GithubDigest,
        }),
    },
    IndexEntry {
        name: "terraform",
        origin: "https://releases.hashicorp.com",
        path: "/terraform/{version}/terraform_{version}_{os}_{arch}.zip",
        os: LINUX_DARWIN,
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 0,
        bins: &["terraform"],
        checksums: lines("/terraform/{version}/terraform_{version}_SHA256SUMS"),
    },
    IndexEntry {
        name: "yq",
        origin: "https://github.com",
        path: "/mikefarah/yq/releases/download/v{version}/yq_{os}_{arch}",
        os: LINUX_DARWIN,
        arch: AMD64_ARM64,
        ext: NO_EXT,
        strip_components: 0,
        bins: &["yq"],
        checksums: Some(Checksums {
            path: "/mikefarah/yq/releases/download/v{version}/checksums",
            format: SumFormat::YqMulti,
        }),
    },
];

/// The origin of GitHub's API, where `GithubDigest` documents live.
pub const GITHUB_API: &str = "https://api.github.com";

pub fn get(name: &str) -> Option<&'static IndexEntry> {
    INDEX.iter().find(|e| e.name == name)
}

pub fn is_known(name: &str) -> bool {
    get(name).is_some()
}

pub fn names() -> impl Iterator<Item = &'static str> {
    INDEX.iter().map(|e| e.name)
}

fn pick(table: &[(&'static str, &'static str); 2], key: &str) -> &'static str {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or("")
}

impl IndexEntry {
    /// Fills a path template for one version and platform.
    pub fn fill(&self, template: &str, version: &str, p: Platform) -> String {
        template
            .replace("{version}", version)
            .replace("{os}", pick(&self.os, p.os))
            .replace("{arch}", pick(&self.arch, p.arch))
            .replace("{ext}", pick(&self.ext, p.os))
    }

    /// The canonical upstream URL of the artifact.
    pub fn url(&self, version: &str, p: Platform) -> String {
        format!("{}{}", self.origin, self.fill(self.path, version, p))
    }

    /// The URL of the checksum document, if upstream publishes one.
    pub fn checksum_url(&self, version: &str, p: Platform) -> Option<(String, SumFormat)> {
        let c = self.checksums?;
        let origin = match c.format {
            SumFormat::GithubDigest => GITHUB_API,
            _ => self.origin,
        };
        Some((
            format!("{origin}{}", self.fill(c.path, version, p)),
            c.format,
        ))
    }
}

/// Rewrites an upstream URL to go through `mirror`, keeping the host as the
/// first path segment so one mirror can serve every upstream.
pub fn through_mirror(url: &str, mirror: Option<&str>) -> String {
    let Some(mirror) = mirror else {
        return url.to_string();
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    format!("{}/{rest}", mirror.trim_end_matches('/'))
}

/// Finds the sha256 of `file` in a checksum document. `order` is yq's
/// `checksums_hashes_order` for `YqMulti`.
pub fn find_sum(format: SumFormat, doc: &str, file: &str, order: Option<&str>) -> Option<String> {
    let is_hex = |s: &str| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit());
    let found = match format {
        SumFormat::Lines => doc.lines().find_map(|l| {
            let mut parts = l.split_whitespace();
            let (sum, name) = (parts.next()?, parts.next()?);
            let name = name.trim_start_matches('*').trim_start_matches("./");
            (name == file && is_hex(sum)).then(|| sum.to_string())
        }),
        SumFormat::Single => doc
            .split_whitespace()
            .next()
            .filter(|s| is_hex(s))
            .map(str::to_string),
        SumFormat::YqMulti => {
            let col = order?.lines().position(|l| l.trim() == "SHA-256")?;
            doc.lines().find_map(|l| {
                let parts: Vec<&str> = l.split_whitespace().collect();
                (parts.first() == Some(&file))
                    .then(|| parts.get(col + 1).map(|s| s.to_string()))
                    .flatten()
            })
        }
        SumFormat::GithubDigest => {
            let v: serde_json::Value = serde_json::from_str(doc).ok()?;
            v.get("assets")?.as_array()?.iter().find_map(|a| {
                (a.get("name")?.as_str()? == file)
                    .then(|| a.get("digest")?.as_str()?.strip_prefix("sha256:"))
                    .flatten()
                    .map(str::to_string)
            })
        }
    };
    found.filter(|s| is_hex(s)).map(|s| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX: Platform = Platform {
        os: "linux",
        arch: "x86_64",
    };

    #[test]
    fn every_index_entry_fills_every_placeholder() {
        for e in INDEX {
            for p in Platform::all() {
                let url = e.url("1.2.3", p);
                assert!(!url.contains('{'), "{url}");
                assert!(url.starts_with("https://"), "{url}");
                if let Some((c, _)) = e.checksum_url("1.2.3", p) {
                    assert!(!c.contains('{'), "{c}");
                }
            }
        }
    }

    #[test]
    fn node_url_and_mirror() {
        let node = get("node").unwrap();
        let u = node.url("20.11.1", LINUX);
        assert_eq!(
            u,
            "https://nodejs.org/dist/v20.11.1/node-v20.11.1-linux-x64.tar.xz"
        );
        assert_eq!(
            through_mirror(&u, Some("http://127.0.0.1:9/m/")),
            "http://127.0.0.1:9/m/nodejs.org/dist/v20.11.1/node-v20.11.1-linux-x64.tar.xz"
        );
    }

    #[test]
    fn checksum_documents_in_upstream_formats() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let doc = format!("{a}  node-v1-linux-x64.tar.gz\n{b}  node-v1-linux-x64.tar.xz\n");
        assert_eq!(
            find_sum(SumFormat::Lines, &doc, "node-v1-linux-x64.tar.xz", None),
            Some("b".repeat(64))
        );
        assert_eq!(find_sum(SumFormat::Lines, &doc, "nope", None), None);
        assert_eq!(
            find_sum(SumFormat::Single, &format!("{a}\n"), "x", None),
            Some(a.clone())
        );
        let yq = format!("yq_linux_amd64  1111 {a} 2222\n");
        assert_eq!(
            find_sum(
                SumFormat::YqMulti,
                &yq,
                "yq_linux_amd64",
                Some("CRC32\nSHA-256\nX\n")
            ),
            Some(a.clone())
        );
        let gh = format!(r#"{{"assets":[{{"name":"p.zip","digest":"sha256:{a}"}}]}}"#);
        assert_eq!(
            find_sum(SumFormat::GithubDigest, &gh, "p.zip", None),
            Some(a)
        );
    }
}
