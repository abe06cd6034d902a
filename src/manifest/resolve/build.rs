//! `[services.NAME] build`: the context must be a directory inside the
//! repository and the Dockerfile a file inside the context, both checked
//! now (exit 2 with a span) rather than when the engine is half way through
//! a build. The build itself is `services::build`.

use super::*;
use schema::BuildDef;

impl Resolver<'_> {
    pub(super) fn build(&mut self, def: &Spanned<BuildDef>) -> Option<Build> {
        let whole = def.span();
        let (context, dockerfile, args, target) = match def.get_ref() {
            BuildDef::Context(c) => (
                Spanned::new(whole.clone(), c.clone()),
                None,
                BTreeMap::new(),
                None,
            ),
            BuildDef::Table(t) => (
                t.context
                    .clone()
                    .unwrap_or_else(|| Spanned::new(whole.clone(), ".".to_string())),
                t.dockerfile.clone(),
                t.args
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect(),
                t.target.clone(),
            ),
        };
        let real_context = self.context_dir(&context)?;
        let dockerfile =
            dockerfile.unwrap_or_else(|| Spanned::new(whole.clone(), "Dockerfile".to_string()));
        let dockerfile = self.dockerfile(&context, &real_context, &dockerfile)?;
        if let Some(t) = &target {
            if t.get_ref().trim().is_empty() || t.get_ref().contains(char::is_whitespace) {
                self.err_hint(
                    t.span(),
                    format!("`{}` is not a build stage name", t.get_ref()),
                    "name a stage of the Dockerfile, as in `FROM ... AS dev`",
                );
                return None;
            }
        }
        Some(Build {
            context: self.root.join(context.get_ref()),
            dockerfile,
            args,
            target: target.map(|t| t.get_ref().clone()),
        })
    }

    /// The context, resolved: it exists, is a directory, and stays inside
    /// the repository.
    fn context_dir(&mut self, context: &Spanned<String>) -> Option<PathBuf> {
        let real = self.confined("build context", context)?;
        let problem = if !real.exists() {
            "does not exist"
        } else if !real.is_dir() {
            "is not a directory"
        } else {
            return Some(real);
        };
        self.err_hint(
            context.span(),
            format!("build context `{}` {problem}", context.get_ref()),
            format!(
                "name a directory with a Dockerfile, relative to {}",
                self.root.display()
            ),
        );
        None
    }

    /// The Dockerfile relative to the (real) context, `/`-separated: it
    /// exists and, symlinks followed, stays inside the context.
    fn dockerfile(
        &mut self,
        context: &Spanned<String>,
        real_context: &Path,
        dockerfile: &Spanned<String>,
    ) -> Option<String> {
        let joined = Path::new(context.get_ref()).join(dockerfile.get_ref());
        let written = Spanned::new(dockerfile.span(), joined.display().to_string());
        let real = self.confined("dockerfile", &written)?;
        let Ok(rel) = real.strip_prefix(real_context) else {
            self.err_hint(
                dockerfile.span(),
                format!(
                    "dockerfile `{}` is outside the build context `{}`",
                    dockerfile.get_ref(),
                    context.get_ref()
                ),
                "the engine reads the Dockerfile from the context: move it inside, or widen `context`",
            );
            return None;
        };
        if !real.is_file() {
            self.err_hint(
                dockerfile.span(),
                format!(
                    "dockerfile `{}` does not exist in the build context `{}`",
                    dockerfile.get_ref(),
                    context.get_ref()
                ),
                "create it, or name it with `dockerfile` (relative to the context)",
            );
            return None;
        }
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        Some(parts.join("/"))
    }
}
