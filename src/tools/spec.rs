//! From a `[tools]` entry and a platform to the one artifact to fetch:
//! its URL, archive kind, layout and (when known without the network) sum.

use crate::manifest::{Tool, ToolSource, UnpackLimits};

use super::index::{self, IndexEntry};
use super::{Platform, ToolsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    TarGz,
    TarXz,
    Zip,
    /// The download is the binary itself.
    Bare,
}

impl ArchiveKind {
    pub fn from_url(url: &str) -> ArchiveKind {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
            ArchiveKind::TarGz
        } else if lower.ends_with(".tar.xz") || lower.ends_with(".txz") {
            ArchiveKind::TarXz
        } else if lower.ends_with(".zip") {
            ArchiveKind::Zip
        } else {
            ArchiveKind::Bare
        }
    }
}

/// One tool's download for one platform.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub tool: String,
    pub version: String,
    /// The canonical URL (what devenv.lock records).
    pub url: String,
    /// Where it is actually fetched from (after the mirror rewrite).
    pub fetch_url: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub kind: ArchiveKind,
    pub strip_components: u32,
    /// Paths inside the unpacked tree; empty = the default rule.
    pub bins: Vec<String>,
    /// Index tools list more binaries than every version ships (corepack).
    pub bins_optional: bool,
    pub allow_unverified: bool,
    /// `max_unpacked` and `max_ratio` from devenv.toml.
    pub unpack: UnpackLimits,
}

impl Artifact {
    /// The file name the checksum documents list.
    pub fn file_name(&self) -> &str {
        let path = self.url.split(['?', '#']).next().unwrap_or(&self.url);
        path.rsplit('/').next().unwrap_or(path)
    }
}

/// Resolves a tool for a platform. The sum is the manifest's own (URL tools)
/// or `None` (index tools: see `locking` and `install` for upstream sums).
pub fn resolve(tool: &Tool, p: Platform, mirror: Option<&str>) -> Result<Artifact, ToolsError> {
    match &tool.source {
        ToolSource::Index => {
            let e: &IndexEntry = index::get(&tool.name).ok_or_else(|| ToolsError::Unsupported {
                tool: tool.name.clone(),
                platform: p.key(),
            })?;
            let url = e.url(&tool.version, p);
            Ok(Artifact {
                tool: tool.name.clone(),
                version: tool.version.clone(),
                fetch_url: index::through_mirror(&url, mirror),
                kind: ArchiveKind::from_url(&url),
                url,
                sha256: None,
                size: None,
                strip_components: e.strip_components,
                bins: e.bins.iter().map(|b| b.to_string()).collect(),
                bins_optional: true,
                allow_unverified: tool.allow_unverified,
                unpack: tool.unpack,
            })
        }
        ToolSource::Url(u) => {
            let o = u.platforms.get(&p.key()).cloned().unwrap_or_default();
            let fill = |s: &str| {
                s.replace("{version}", &tool.version)
                    .replace("{os}", p.os)
                    .replace("{arch}", p.arch)
            };
            let url = fill(o.url.as_deref().unwrap_or(&u.url));
            let bins = o
                .bin
                .as_ref()
                .unwrap_or(&u.bin)
                .iter()
                .map(|b| fill(b))
                .collect();
            Ok(Artifact {
                tool: tool.name.clone(),
                version: tool.version.clone(),
                fetch_url: url.clone(),
                kind: ArchiveKind::from_url(&url),
                url,
                sha256: u.sha256.get(&p.key()).cloned(),
                size: None,
                strip_components: o.strip_components.unwrap_or(u.strip_components),
                bins,
                bins_optional: false,
                allow_unverified: tool.allow_unverified,
                unpack: tool.unpack,
            })
        }
    }
}

/// A short stable hash of everything in devenv.toml that decides what a tool
/// installs: a lock entry or install record with another fingerprint is stale.
///
/// The unpack limits are left out: they decide whether an install may
/// finish, not what it installs. The text is spelled as `Tool`'s `Debug`
/// form was before the limits existed, so existing lockfiles and install
/// records stay fresh.
pub fn fingerprint(tool: &Tool) -> String {
    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug only
    struct Tool<'a> {
        name: &'a str,
        version: &'a str,
        source: &'a ToolSource,
        allow_unverified: bool,
    }
    let text = format!(
        "{:?}",
        Tool {
            name: &tool.name,
            version: &tool.version,
            source: &tool.source,
            allow_unverified: tool.allow_unverified,
        }
    );
    crate::util::sha256_hex(text.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::UrlTool;

    #[test]
    fn archive_kinds_from_urls() {
        assert_eq!(ArchiveKind::from_url("x/a.tar.gz"), ArchiveKind::TarGz);
        assert_eq!(ArchiveKind::from_url("x/a.tgz?x=1"), ArchiveKind::TarGz);
        assert_eq!(ArchiveKind::from_url("x/a.tar.xz"), ArchiveKind::TarXz);
        assert_eq!(ArchiveKind::from_url("x/a.ZIP"), ArchiveKind::Zip);
        assert_eq!(ArchiveKind::from_url("x/jq-linux-amd64"), ArchiveKind::Bare);
    }

    #[test]
    fn url_tools_fill_templates_and_take_platform_overrides() {
        let mut platforms = std::collections::BTreeMap::new();
        platforms.insert(
            "macos-aarch64".to_string(),
            crate::manifest::PlatformOverride {
                url: Some("https://e.com/mac/{version}.zip".into()),
                bin: None,
                strip_components: Some(2),
            },
        );
        let tool = Tool {
            name: "jq".into(),
            version: "1.7.1".into(),
            source: ToolSource::Url(UrlTool {
                url: "https://e.com/jq-{version}-{os}-{arch}.tar.gz".into(),
                bin: vec!["jq-{version}/bin/jq".into()],
                sha256: [("linux-x86_64".to_string(), "ab".repeat(32))].into(),
                strip_components: 1,
                platforms,
            }),
            allow_unverified: false,
            unpack: Default::default(),
        };
        let linux = resolve(&tool, Platform::parse("linux-x86_64").unwrap(), None).unwrap();
        assert_eq!(linux.url, "https://e.com/jq-1.7.1-linux-x86_64.tar.gz");
        assert_eq!(linux.bins, vec!["jq-1.7.1/bin/jq"]);
        assert_eq!(linux.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(linux.file_name(), "jq-1.7.1-linux-x86_64.tar.gz");
        let mac = resolve(&tool, Platform::parse("macos-aarch64").unwrap(), None).unwrap();
        assert_eq!(mac.url, "https://e.com/mac/1.7.1.zip");
        assert_eq!(mac.kind, ArchiveKind::Zip);
        assert_eq!(mac.strip_components, 2);
        assert_eq!(mac.sha256, None);
    }

    #[test]
    fn the_fingerprint_ignores_the_limits_and_is_what_it_was() {
        let mut tool = Tool {
            name: "jq".into(),
            version: "1.7.1".into(),
            source: ToolSource::Index,
            allow_unverified: false,
            unpack: Default::default(),
        };
        // The Debug text of `Tool` before the limits existed: lockfiles
        // written then must stay fresh.
        let old =
            "Tool { name: \"jq\", version: \"1.7.1\", source: Index, allow_unverified: false }";
        let want = crate::util::sha256_hex(old.as_bytes())[..16].to_string();
        assert_eq!(fingerprint(&tool), want);
        tool.unpack.max_bytes = Some(1 << 40);
        tool.unpack.max_ratio = Some(5000);
        assert_eq!(fingerprint(&tool), want);
    }
}
