//! `devenv init [--from COMPOSE] [--yes] [--force] [--profile NAME]`: write a
//! first devenv.toml for an existing repository.
//!
//! Detection and conversion are pure (`crate::init`); this file reads the
//! files, asks the questions, checks the result with the same parser
//! `validate` uses, and only then writes, never over an existing file
//! (except devenv.toml itself with `--force`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::args::InitArgs;
use crate::cli::App;
use crate::error::Error;
use crate::init::{self, ComposeInput, Draft, RepoView};
use crate::manifest;
use crate::progress::{Level, Reporter};
use crate::stacks::Stacks;
use crate::ui::prompt::{self, PromptError};

/// Detection reads at most this much of a file; lock files can be huge and
/// only their presence matters.
const READ_LIMIT: u64 = 1 << 20;

/// What the steps of one `init` share.
struct Setup<'a> {
    app: &'a App,
    /// Where devenv.toml goes.
    target: &'a Path,
    /// Its directory: the repository root.
    root: &'a Path,
    repo: &'a FsRepo<'a>,
    stacks: &'a Stacks,
    args: &'a InitArgs,
}

struct FsRepo<'a> {
    root: &'a Path,
}

impl RepoView for FsRepo<'_> {
    fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }
    fn read(&self, rel: &str) -> Option<String> {
        let p = self.root.join(rel);
        p.is_file()
            .then(|| std::fs::read_to_string(p).ok())
            .flatten()
    }
}

pub fn run(app: &mut App, args: InitArgs) -> Result<i32, Error> {
    app.printer.set_base(app.cwd.clone());
    let target = match &app.file {
        Some(f) => app.cwd.join(f),
        None => app.cwd.join(manifest::FILE_NAME),
    };
    let root = target.parent().unwrap_or(&app.cwd).to_path_buf();
    if target.exists() && !args.force {
        return Err(Error::usage(
            format!("{} already exists", app.display(&target)),
            Some("init only writes a new devenv.toml: edit this one (and check it with `devenv validate`), or pass --force to replace it".into()),
        ));
    }
    let ask = !args.yes && prompt::interactive();
    let repo = FsRepo { root: &root };
    let detection = init::detect(&detect_files(&root));
    let stacks = Stacks::load(&root)?;
    let mut draft = Draft {
        tools: detection.tools.clone(),
        hook_hints: detection.hook_hints.clone(),
        detected: detection.detected.clone(),
        unconverted: detection.unconverted.clone(),
        env_template: detection.env_template.clone(),
        ..Default::default()
    };

    let compose = match &args.from {
        Some(p) => Some(app.cwd.join(p)),
        None => match &detection.compose_file {
            Some(c) if !ask || confirm(&format!("Convert {c} into devenv services?"))? => {
                Some(root.join(c))
            }
            _ => None,
        },
    };
    if compose.is_none() && !args.profiles.is_empty() {
        return Err(Error::usage(
            "--profile only applies when a compose file is converted",
            Some("add --from docker-compose.yml".into()),
        ));
    }
    let setup = Setup {
        app,
        target: &target,
        root: &root,
        repo: &repo,
        stacks: &stacks,
        args: &args,
    };
    let left_out = match &compose {
        Some(path) => convert_compose(&setup, path, &mut draft)?,
        None => Vec::new(),
    };

    let hints: Vec<init::StackHint> = detection
        .stack_hints
        .iter()
        .filter(|h| !left_out.contains(&h.stack))
        .cloned()
        .collect();
    pick_stacks(&stacks, &hints, ask, &mut draft)?;
    init::resolve_port_clashes(&mut draft, &stacks);
    let text = init::render(&draft);
    write_all(&setup, &text, &draft)?;
    summary(app, &draft);
    Ok(0)
}

fn confirm(question: &str) -> Result<bool, Error> {
    prompt::confirm(question, true).map_err(prompt_error)
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
    for name in init::DETECT_FILES {
        let p = root.join(name);
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let text = if meta.len() <= READ_LIMIT {
            std::fs::read_to_string(&p).unwrap_or_default()
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
        app,
        root,
        repo,
        stacks,
        args,
        ..
    } = *setup;
    let shown = PathBuf::from(app.display(path).to_string());
    let text = std::fs::read_to_string(path).map_err(|e| {
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
    let vars: BTreeMap<String, String> = std::fs::read_to_string(dir.join(".env"))
        .map(|t| init::parse_dotenv_vars(&t).into_iter().collect())
        .unwrap_or_default();
    let conv = init::convert_compose(&ComposeInput {
        path: &shown,
        text: &text,
        dir: &rel_dir,
        vars: &vars,
        repo,
        stacks,
        profiles: &args.profiles,
    })?;
    if !vars.is_empty() {
        draft.detected.push(format!(
            "{}: {} variable(s) for ${{VAR}} in the compose file",
            app.display(&dir.join(".env")),
            vars.len()
        ));
    }
    // Compose merges `<name>.override.<ext>` over the file by default.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if let Some((stem, ext)) = name.rsplit_once('.') {
        let over = dir.join(format!("{stem}.override.{ext}"));
        if over.is_file() {
            draft.unconverted.push(init::Unconverted::new(
                app.display(&over).to_string(),
                format!("compose merges it over {name} by default; init converted {name} alone: carry its changes over by hand"),
            ));
        }
    }
    draft.project_name = conv.project_name;
    draft.services.extend(conv.services);
    draft.detected.extend(conv.detected);
    draft.unconverted.extend(conv.unconverted);
    Ok(conv.left_out_stacks)
}

/// The multi-select: presets not already used, hinted ones pre-selected.
fn pick_stacks(
    stacks: &Stacks,
    hints: &[init::StackHint],
    ask: bool,
    draft: &mut Draft,
) -> Result<(), Error> {
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
        prompt::multi_select(
            "Which stacks should devenv run? (space toggles, enter accepts)",
            &items,
            &defaults,
        )
        .map_err(prompt_error)?
    } else {
        (0..offered.len()).filter(|i| defaults[*i]).collect()
    };
    for i in chosen {
        let st = offered[i];
        let because = match hint_for(&st.name) {
            Some(h) => format!("{} (added by init)", h.because),
            None => "picked at init".to_string(),
        };
        init::add_stack(draft, &st.name, &because);
        draft.detected.push(format!("stack {}: {because}", st.name));
    }
    Ok(())
}

/// Checks the text with the real parser, then writes the template (if new)
/// and devenv.toml. On any failure, what this run created is removed.
fn write_all(setup: &Setup<'_>, text: &str, draft: &Draft) -> Result<(), Error> {
    let Setup {
        app,
        target,
        root,
        stacks,
        args,
        ..
    } = *setup;
    let force = args.force;
    let mut created: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), Error> {
        if let Some(t) = &draft.env_template {
            let p = root.join(&t.template);
            if !p.exists() {
                create_new(&p, t.template_text.as_bytes(), &mut created)?;
                app.printer
                    .message(Level::Success, &format!("wrote {}", app.display(&p)));
            }
        }
        // The template exists now, so the manifest checks as it will on disk.
        if let Err(problems) = manifest::parse(target, text, stacks) {
            app.printer.diagnostics(&problems);
            return Err(Error::failed(
                "the devenv.toml init generated does not pass validation (a bug in devenv init; nothing was written)"
            ));
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

fn summary(app: &App, draft: &Draft) {
    let p = &app.printer;
    for d in &draft.detected {
        p.message(Level::Info, &format!("  found {d}"));
    }
    if !draft.unconverted.is_empty() {
        p.message(
            Level::Warn,
            &format!(
                "{} thing(s) not converted (also listed at the top of devenv.toml):",
                draft.unconverted.len()
            ),
        );
        for u in &draft.unconverted {
            // Warn level so `-q` still shows what was left out.
            p.message(Level::Warn, &format!("  {u}"));
        }
    }
    p.message(
        Level::Success,
        &format!(
            "wrote {} ({} service(s), {} tool(s))",
            manifest::FILE_NAME,
            draft.services.len(),
            draft.tools.len()
        ),
    );
    p.message(Level::Info, "next: review it, then `devenv up`");
}
