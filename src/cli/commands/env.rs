//! `devenv env --shell bash|zsh|fish|json`: the project environment as
//! something to eval, e.g. `eval "$(devenv env --shell bash)"` in `.envrc`.
//! On a terminal, where a person reads it, secret values are masked; piped
//! into a shell or direnv, they are the real values the shell needs.

use std::ffi::OsString;

use crate::cli::args::ShellKind;
use crate::cli::App;
use crate::error::Error;
use crate::settings::Flags;
use crate::util::single_quote;

pub fn run(app: &mut App, shell: ShellKind) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    let mut env = s.project_env_blocking()?;
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        for (_, v) in env.iter_mut() {
            *v = s
                .redactor()
                .redact(&v.to_string_lossy())
                .into_owned()
                .into();
        }
    }
    match shell {
        ShellKind::Json => {
            let map: serde_json::Map<String, serde_json::Value> = env
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string_lossy().into()))
                .collect();
            app.printer.json(&map);
        }
        _ => {
            for line in render(shell, &env) {
                app.printer.data(&line);
            }
        }
    }
    Ok(0)
}

/// One line per variable in the shell's syntax, values single-quoted.
pub fn render(shell: ShellKind, env: &[(String, OsString)]) -> Vec<String> {
    env.iter()
        .map(|(k, v)| {
            let v = v.to_string_lossy();
            match shell {
                ShellKind::Fish if k == "PATH" => {
                    let parts: Vec<String> = std::env::split_paths(v.as_ref())
                        .map(|p| single_quote(&p.to_string_lossy()))
                        .collect();
                    format!("set -gx PATH {};", parts.join(" "))
                }
                ShellKind::Fish => format!("set -gx {k} {};", single_quote(&v)),
                _ => format!("export {k}={}", single_quote(&v)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_odd_values() {
        let env = vec![("X".to_string(), OsString::from("a'b $c"))];
        assert_eq!(render(ShellKind::Bash, &env), vec![r"export X='a'\''b $c'"]);
        assert_eq!(
            render(ShellKind::Fish, &env),
            vec![r"set -gx X 'a'\''b $c';"]
        );
        let path = vec![("PATH".to_string(), OsString::from("/a:/b"))];
        assert_eq!(
            render(ShellKind::Fish, &path),
            vec!["set -gx PATH '/a' '/b';"]
        );
    }
}
