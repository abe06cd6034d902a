//! `[tools]`: built-in index names, URL templates, checksums, platforms.

use super::*;

impl Resolver<'_> {
    pub(super) fn tool(&mut self, key: &Spanned<String>, entry: &ToolEntry) -> Option<Tool> {
        let name = key.get_ref().clone();
        if !self.check_name("tool", key) {
            return None;
        }
        let (version, def) = match entry {
            ToolEntry::Version(v) => (v, None),
            ToolEntry::Detailed(d) => (&d.version, Some(d.as_ref())),
        };
        if version.get_ref().trim().is_empty() {
            self.err(version.span(), format!("tool `{name}` needs a version"));
        }
        let in_index = crate::tools::index::is_known(&name);
        let source = match def.and_then(|d| d.url.as_ref().map(|u| (d, u))) {
            None => {
                if !in_index {
                    let hint = match did_you_mean(&name, crate::tools::index::names()) {
                        Some(s) => format!(
                            "did you mean `{s}`? Otherwise give a [tools.{name}] table with `url`"
                        ),
                        None => format!(
                            "give a [tools.{name}] table with `version`, `url` and `sha256`"
                        ),
                    };
                    self.err_hint(
                        key.span(),
                        format!("`{name}` is not in the built-in tool index"),
                        hint,
                    );
                    return None;
                }
                ToolSource::Index
            }
            Some((d, url)) => {
                self.check_url_template(url);
                let bins = d.bin.iter().flatten();
                let platform_bins = d.platforms.values().flat_map(|o| o.bin.iter().flatten());
                for b in bins.chain(platform_bins) {
                    self.check_bin_path(b);
                }
                for sum in d.sha256.iter() {
                    self.check_platform_key(key, sum.0);
                    let v = sum.1.get_ref();
                    if v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
                        self.err_hint(
                            sum.1.span(),
                            "not a sha256 checksum",
                            "a sha256 is 64 hexadecimal characters",
                        );
                    }
                }
                for (plat, o) in &d.platforms {
                    self.check_platform_key(key, plat);
                    if let Some(u) = &o.url {
                        self.check_url_template(u);
                    }
                }
                ToolSource::Url(UrlTool {
                    url: url.get_ref().clone(),
                    bin: d
                        .bin
                        .iter()
                        .flatten()
                        .map(|b| b.get_ref().clone())
                        .collect(),
                    sha256: d
                        .sha256
                        .iter()
                        .map(|(k, v)| (k.clone(), v.get_ref().to_ascii_lowercase()))
                        .collect(),
                    strip_components: d.strip_components.unwrap_or(0),
                    platforms: d
                        .platforms
                        .iter()
                        .map(|(k, o)| {
                            (
                                k.clone(),
                                PlatformOverride {
                                    url: o.url.as_ref().map(|u| u.get_ref().clone()),
                                    bin: o
                                        .bin
                                        .as_ref()
                                        .map(|b| b.iter().map(|x| x.get_ref().clone()).collect()),
                                    strip_components: o.strip_components,
                                },
                            )
                        })
                        .collect(),
                })
            }
        };
        let unpack = self.unpack_limits(def);
        Some(Tool {
            name,
            version: version.get_ref().trim().to_string(),
            source,
            allow_unverified: def.is_some_and(|d| d.allow_unverified),
            unpack,
        })
    }

    /// `max_unpacked` (its range is checked while reading) and `max_ratio`.
    fn unpack_limits(&mut self, def: Option<&ToolDef>) -> UnpackLimits {
        let Some(d) = def else {
            return UnpackLimits::default();
        };
        if let Some(r) = d.max_ratio.as_ref().filter(|r| *r.get_ref() == 0) {
            self.err_hint(
                r.span(),
                "`max_ratio` must be at least 1",
                "it is how many bytes an archive may unpack to per byte downloaded, like 200",
            );
        }
        UnpackLimits {
            max_bytes: d.max_unpacked.map(|s| s.0),
            max_ratio: d.max_ratio.as_ref().map(|r| *r.get_ref()),
        }
    }

    pub(super) fn check_platform_key(&mut self, tool: &Spanned<String>, k: &str) {
        if !crate::tools::PLATFORMS.contains(&k) {
            let hint = format!("platforms are {}", crate::tools::PLATFORMS.join(", "));
            self.err_hint(
                tool.span(),
                format!("tool `{}`: unknown platform `{k}`", tool.get_ref()),
                hint,
            );
        }
    }

    /// A `bin` entry names a file inside the unpacked archive: never an
    /// absolute path or one that climbs out (`crate::confine`, checked again
    /// when the archive is unpacked).
    pub(super) fn check_bin_path(&mut self, b: &Spanned<String>) {
        use crate::confine::Escape;
        let v = b.get_ref();
        let message = match crate::confine::lexical(Path::new(v)) {
            Ok(()) => return,
            Err(Escape::Absolute { .. }) => {
                format!("bin `{v}` is an absolute path, outside the archive")
            }
            Err(_) => format!("bin `{v}` climbs out of the archive with `..`"),
        };
        self.err_hint(
            b.span(),
            message,
            "bin paths are relative to the unpacked archive, like \"bin/tool\"",
        );
    }

    pub(super) fn check_url_template(&mut self, url: &Spanned<String>) {
        let u = url.get_ref();
        if !(u.starts_with("https://") || u.starts_with("http://") || u.starts_with("file://")) {
            self.err_hint(
                url.span(),
                format!("`{u}` is not an http(s) URL"),
                "tool URLs start with https://",
            );
        }
        let mut rest = u.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                self.err(url.span(), "unclosed `{` in URL template");
                break;
            };
            let var = &after[..close];
            if !matches!(var, "version" | "os" | "arch") {
                self.err_hint(
                    url.span(),
                    format!("unknown placeholder `{{{var}}}` in URL template"),
                    "placeholders are {version}, {os} and {arch}",
                );
            }
            rest = &after[close + 1..];
        }
    }
}
