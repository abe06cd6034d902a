//! `devenv init`'s flow: read the repository's files, ask the questions,
//! convert a compose file, check the result with the same parser `validate`
//! uses, and only then write, never over an existing file (except
//! devenv.toml itself with `force`). Detection and conversion are pure (the
//! rest of this module); this file does the I/O, through the core's
//! `Prompter` and `Reporter`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::manifest;
use crate::progress::{Level, Reporter};
use crate::prompt::{PromptError, Prompter};
use crate::stacks::Stacks;

use super::{ComposeInput, Draft, RepoView};

/// What `devenv init` was asked to do.
pub struct InitRequest<'a> {
    /// Paths in messages are shown relative to this.
    pub cwd: &'a Path,
    /// Where devenv.toml goes.
    pub target: PathBuf,
    /// `--from`: this compose file (relative to `cwd`).
    pub from: Option<PathBuf>,
    /// `--yes`: take the defaults without asking.
    pub yes: bool,
    /// `--force`: replace an existing devenv.toml.
    pub force: bool,
    /// `--profile`: also convert compose services of these profiles.
    pub profiles: Vec<String>,
    /// The process environment, as compose would see it (`${VAR}`,
    /// `COMPOSE_PROFILES`, valueless `environment` entries).
    pub env: BTreeMap<String, String>,
}

/// How `init` talks to the user.
pub struct Io<'a> {
    pub reporter: &'a dyn Reporter,
    pub prompter: &'a dyn Prompter,
}

/// Writes devenv.toml (and an env template, when detected); returns the
/// draft it was written from.
pub fn init(req: &InitRequest<'_>, io: &Io<'_>) -> Result<Draft, Error> {
    let target = &req.target;
    let root = target.parent().unwrap_or(req.cwd).to_path_buf();
    if target.exists() && !req.force {
        return Err(Error::usage(
            format!("{} already exists", display(req.cwd, target)),
            Some("init only writes a new devenv.toml: edit this one (and check it with `devenv validate`), or pass --force to replace it".into()),
        ));
    }
    let ask = !req.yes;
    let repo = FsRepo { root: &root };
    let detection = super::detect(&detect_files(&root));
    let stacks = Stacks::load(&root)?;
    let mut draft = Draft {
        tools: detection.tools.clone(),
        hook_hints: detection.hook_hints.clone(),
        detected: detection.detected.clone(),
        unconverted: detection.unconverted.clone(),
        env_template: detection.env_template.clone(),
        ..Default::default()
    };

    let compose = match &req.from {
        Some(p) => Some(req.cwd.join(p)),
        None => match &detection.compose_file {
            Some(c) if !ask || confirm(io, &format!("Convert {c} into devenv services?"))? => {
                Some(root.join(c))
            }
            _ => None,
        },
    };
    if compose.is_none() && !req.profiles.is_empty() {
        return Err(Error::usage(
            "--profile only applies when a compose file is converted",
            Some("add --from docker-compose.yml".into()),
        ));
    }
    let setup = Setup {
        req,
        io,
        root: &root,
        repo: &repo,
        stacks: &stacks,
    };
    let left_out = match &compose {
        Some(path) => convert_compose(&setup, path, &mut draft)?,
        None => Vec::new(),
    };

    let hints: Vec<super::StackHint> = detection
        .stack_hints
        .iter()
        .filter(|h| !left_out.contains(&h.stack))
        .cloned()
        .collect();
    pick_stacks(&setup, &hints, ask, &mut draft)?;
    super::resolve_port_clashes(&mut draft, &stacks);
    let text = super::render(&draft);
    write_all(&setup, &text, &draft)?;
    Ok(draft)
}

/// Detection reads at most this much of a file; lock files can be huge and
/// only their presence matters.
const READ_LIMIT: u64 = 1 << 20;

/// What the steps of one `init` share.
struct Setup<'a> {
    req: &'a InitRequest<'a>,
    io: &'a Io<'a>,
    /// Its directory: the repository root.
    root: &'a Path,
    repo: &'a FsRepo<'a>,
    stacks: &'a Stacks,
}

fn display(cwd: &Path, p: &Path) -> String {
    match p.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => p.display().to_string(),
    }
}

struct FsRepo<'a> {
    root: &'a Path,
}

impl RepoView for FsRepo<'_> {
    fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }
    fn read(&self, rel: &str) -> Option<String> {
        crate::fsread::read_limited(&self.root.join(rel)).ok()
    }
}

/// Yes/no with "yes" as the default; nobody to ask means the default.
fn confirm(io: &Io<'_>, question: &str) -> Result<bool, Error> {
    match io.prompter.confirm(question, true) {
        Err(PromptError::NotInteractive) => Ok(true),
        other => other.map_err(prompt_error),
    }
}

fn prompt_error(e: PromptError) -> Error {
    match e {
        PromptError::NotInteractive => Error::usage(
            "cannot ask: not running on a terminal",
            Some("pass --yes to take the defaults".into()),
        ),
        PromptError::Io(m) if m.to_lowercase().contains("interrupt") => Error::Interrupted,
        PromptError::Io(m) => Error::failed(format!("prompt failed: {m}")),
    }
}

/// The root files detection looks at, name -> contents.
fn detect_files(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in super::DETECT_FILES {
        let p = root.join(name);
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let text = if meta.len() <= READ_LIMIT {
            crate::fsread::read_limited(&p).unwrap_or_default()
        } else {
            String::new()
        };
        out.insert(name.to_string(), text);
    }
    out
}

/// Adds the compose file's services to the draft; returns the presets of
/// services it left out on purpose.
fn convert_compose(
    setup: &Setup<'_>,
    path: &Path,
    draft: &mut Draft,
) -> Result<Vec<String>, Error> {
    let Setup {
        req,
        root,
        repo,
        stacks,
        ..
    } = *setup;
    let shown = PathBuf::from(display(req.cwd, path));
    let text = crate::fsread::read_limited(path).map_err(|e| {
        Error::usage(
            format!("cannot read {}: {e}", shown.display()),
            Some("give the path of a docker-compose file, like --from docker-compose.yml".into()),
        )
    })?;
    let dir = path.parent().unwrap_or(root);
    // Relative paths in the file are relative to its directory; outside the
    // repository they cannot become mounts.
    let rel_dir = match dir.strip_prefix(root) {
        Ok(r) => r.to_string_lossy().replace('\\', "/"),
        Err(_) => "..".to_string(),
    };
    // Compose merges an override file only into the file it found itself.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let conv = super::convert_compose(&ComposeInput {
        path: &shown,
        text: &text,
        dir: &rel_dir,
        env: &req.env,
        repo,
        stacks,
        profiles: &req.profiles,
        with_override: super::COMPOSE_FILES.contains(&name.as_str()),
    })?;
    draft.project_name = conv.project_name;
    draft.services.extend(conv.services);
    draft.detected.extend(conv.detected);
    draft.unconverted.extend(conv.unconverted);
    Ok(conv.left_out_stacks)
}

/// The multi-select: presets not already used, hinted ones pre-selected.
fn pick_stacks(
    setup: &Setup<'_>,
    hints: &[super::StackHint],
    ask: bool,
    draft: &mut Draft,
) -> Result<(), Error> {
    let stacks = setup.stacks;
    let used: Vec<String> = draft
        .services
        .iter()
        .filter_map(|s| s.stack.clone())
        .collect();
    let offered: Vec<&crate::stacks::Stack> =
        stacks.iter().filter(|s| !used.contains(&s.name)).collect();
    let hint_for = |name: &str| hints.iter().find(|h| h.stack == name);
    let defaults: Vec<bool> = offered
        .iter()
        .map(|s| hint_for(&s.name).is_some())
        .collect();
    let chosen: Vec<usize> = if ask && !offered.is_empty() {
        let items: Vec<String> = offered
            .iter()
            .map(|s| match hint_for(&s.name) {
                Some(h) => format!("{:<11} {} ({})", s.name, s.def.description, h.because),
                None => format!("{:<11} {}", s.name, s.def.description),
            })
            .collect();
        match setup.io.prompter.multi_select(
            "Which stacks should devenv run? (space toggles, enter accepts)",
            &items,
            &defaults,
        ) {
            Err(PromptError::NotInteractive) => {
                (0..offered.len()).filter(|i| defaults[*i]).collect()
            }
            other => other.map_err(prompt_error)?,
        }
    } else {
        (0..offered.len()).filter(|i| defaults[*i]).collect()
    };
    for i in chosen {
        let st = offered[i];
        let because = match hint_for(&st.name) {
            Some(h) => format!("{} (added by init)", h.because),
            None => "picked at init".to_string(),
        };
        super::add_stack(draft, &st.name, &because);
        draft.detected.push(format!("stack {}: {because}", st.name));
    }
    Ok(())
}

/// Checks the text with the real parser, then writes the template (if new)
/// and devenv.toml. On any failure, what this run created is removed.
fn write_all(setup: &Setup<'_>, text: &str, draft: &Draft) -> Result<(), Error> {
    let Setup {
        req,
        io,
        root,
        stacks,
        ..
    } = *setup;
    let target = &req.target;
    let force = req.force;
    let mut created: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), Error> {
        if let Some(t) = &draft.env_template {
            let p = root.join(&t.template);
            if !p.exists() {
                create_new(&p, t.template_text.as_bytes(), &mut created)?;
                io.reporter
                    .message(Level::Success, &format!("wrote {}", display(req.cwd, &p)));
            }
        }
        // The template exists now, so the manifest checks as it will on disk.
        if let Err(problems) = manifest::parse(target, text, stacks) {
            return Err(Error::failed(format!(
                "the devenv.toml init generated does not pass validation (a bug in devenv init; nothing was written):\n{problems}"
            )));
        }
        if force && target.exists() {
            crate::state::write_atomic(target, text.as_bytes())
                .map_err(|e| Error::failed(format!("cannot write {}: {e}", target.display())))?;
        } else {
            create_new(target, text.as_bytes(), &mut created)?;
        }
        Ok(())
    })();
    if result.is_err() {
        for p in created.iter().rev() {
            let _ = if p.is_dir() {
                std::fs::remove_dir(p)
            } else {
                std::fs::remove_file(p)
            };
        }
    }
    result
}

/// Writes a file that must not exist yet, creating (and remembering) parents.
fn create_new(path: &Path, bytes: &[u8], created: &mut Vec<PathBuf>) -> Result<(), Error> {
    let fail = |e: std::io::Error| Error::failed(format!("cannot write {}: {e}", path.display()));
    let mut missing = Vec::new();
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        dir = d.parent();
    }
    for d in missing.into_iter().rev() {
        std::fs::create_dir(&d).map_err(fail)?;
        created.push(d);
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(fail)?;
    created.push(path.to_path_buf());
    f.write_all(bytes).map_err(fail)?;
    f.sync_all().map_err(fail)
}
