//! A service's stack preset as it applies to that service: the row of the
//! preset's version table its version picks (with a warning outside the
//! supported versions), and the preset's env split into plain values and
//! templates rendered when the container is made.

use super::*;
use crate::manifest::model::{HostPort, PortMapping};
use crate::stacks::{Stack, StackDef, VersionNote};

/// A service's env: plain values, and the stack's templates.
pub(super) struct ServiceEnv {
    pub plain: BTreeMap<String, String>,
    pub templates: BTreeMap<String, String>,
}

impl Resolver<'_> {
    /// The preset for this service's version: `version`, else the tag of an
    /// `image` that replaces the preset's, else the preset's own default.
    pub(super) fn stack_for(
        &mut self,
        key: &Spanned<String>,
        found: &Stack,
        s: &schema::ServiceDef,
    ) -> StackDef {
        let image_tag = s
            .image
            .as_ref()
            .and_then(|i| tag_of(i.get_ref().trim()).map(|t| (t.to_string(), i.span())));
        let (tag, span) = match (&s.version, image_tag) {
            (Some(v), _) => (v.get_ref().trim().to_string(), v.span()),
            (None, Some((t, span))) => (t, span),
            (None, None) => (found.def.version.clone(), key.span()),
        };
        let (def, note) = found.def.for_version(&tag);
        if let Some(note) = note {
            let message = note.message(&found.name, &found.def.supported_versions());
            let hint = match note {
                VersionNote::Unknown { .. } => {
                    "put the version number in the tag, like \"16-alpine\" (`devenv stacks` lists the supported versions)"
                        .to_string()
                }
                _ => format!(
                    "pick a supported version (`devenv stacks` lists them), or set what differs yourself under [services.{}]",
                    key.get_ref()
                ),
            };
            self.warn_hint(span, message, hint);
        }
        def
    }

    /// The stack's env under the service's own (which wins), with the
    /// stack's templates kept apart. They are rendered now with stand-in
    /// ports (an `auto:` one is not picked yet), so one that names a port
    /// the service does not publish fails here, before anything starts.
    pub(super) fn service_env(
        &mut self,
        key: &Spanned<String>,
        stack: Option<&StackDef>,
        s: &schema::ServiceDef,
        ports: &[PortMapping],
    ) -> ServiceEnv {
        let mut plain = BTreeMap::new();
        let mut templates = BTreeMap::new();
        for (k, v) in stack.iter().flat_map(|st| st.env.iter()) {
            if crate::stacks::is_template(&v.0) {
                templates.insert(k.clone(), v.0.clone());
            } else {
                plain.insert(k.clone(), v.0.clone());
            }
        }
        for (k, v) in &s.env {
            templates.remove(k);
            plain.insert(k.clone(), v.0.clone());
        }
        if !templates.is_empty() {
            let stand_in: Vec<(u16, u16)> = ports
                .iter()
                .map(|p| match p.host {
                    HostPort::Fixed(h) => (p.container, h),
                    HostPort::Auto => (p.container, p.container),
                })
                .collect();
            let at = crate::stacks::Placement {
                name: key.get_ref(),
                ports: &stand_in,
            };
            if let Err((var, why)) = crate::stacks::render_env(&templates, &at) {
                let span = s.stack.as_ref().map_or(key.span(), |st| st.span());
                self.err_hint(
                    span,
                    format!("the stack's `{var}` cannot be filled in for this service: {why}"),
                    "it names a container port of the preset: keep that port in `ports`, or set the variable yourself in `env`",
                );
            }
        }
        ServiceEnv { plain, templates }
    }
}

/// The tag of an image reference, if it names one (a digest pins no tag).
fn tag_of(reference: &str) -> Option<&str> {
    if reference.contains('@') {
        return None;
    }
    let last = reference.rsplit('/').next()?;
    last.split_once(':')
        .map(|(_, tag)| tag)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::tag_of;

    #[test]
    fn an_image_tag_is_read_past_a_registry_port() {
        assert_eq!(tag_of("postgres:18"), Some("18"));
        assert_eq!(tag_of("127.0.0.1:5000/library/postgres:15"), Some("15"));
        assert_eq!(tag_of("127.0.0.1:5000/library/postgres"), None);
        assert_eq!(tag_of("postgres@sha256:abc"), None);
        assert_eq!(tag_of("postgres"), None);
    }
}
