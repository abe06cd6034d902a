//! The terminal while a command in a container owns it (`devenv exec
//! SERVICE`): raw mode, so keys reach the command as typed, restored when
//! dropped, as `docker compose exec` does. Through `stty`, because the
//! crate forbids `unsafe` and termios needs it.

use std::process::{Command, Stdio};

/// Whether stdin and stdout are both a terminal.
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

/// The terminal's size, rows and columns.
pub fn size() -> Option<(u16, u16)> {
    console::Term::stdout().size_checked()
}

/// Raw mode until dropped.
pub struct RawMode {
    saved: String,
}

impl RawMode {
    pub fn enter() -> Option<RawMode> {
        let saved = stty(&["-g"])?;
        stty(&["raw", "-echo"])?;
        Some(RawMode {
            saved: saved.trim().to_string(),
        })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = stty(&[&self.saved]);
    }
}

fn stty(args: &[&str]) -> Option<String> {
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let out = Command::new("stty")
        .args(args)
        .stdin(Stdio::from(tty))
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).to_string())
}
