//! `exec SERVICE -- CMD…`: a command in a service's running container.
//! The flow only checks the name and connects; `services::exec` moves the
//! bytes, and the caller owns the terminal.

use crate::error::Error;
use crate::services::exec::{self, ExecIo, ExecRequest};

use super::{interruptible, Live, Session};

/// Runs the command in this session's project; returns its exit code
/// (clamped to 0..=255).
pub fn exec_in_service(
    s: &Session<'_>,
    live: &Live,
    req: &ExecRequest<'_>,
    io: ExecIo<'_>,
) -> Result<i32, Error> {
    let m = s.manifest;
    if m.service(req.service).is_none() {
        let names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
        return Err(Error::usage(
            format!("no service named `{}` in devenv.toml", req.service),
            Some(if names.is_empty() {
                "devenv.toml declares no services; `devenv exec -- CMD` runs CMD here".into()
            } else {
                format!(
                    "services: {}; `devenv exec -- CMD` runs CMD here",
                    names.join(", ")
                )
            }),
        ));
    }
    let runtime = super::runtime()?;
    let code = runtime.block_on(interruptible(async {
        let engine = live.engine(s).await?;
        Ok(exec::exec(engine, &m.project.id, req, io).await?)
    }));
    // The thread reading our stdin may be blocked in a read the command no
    // longer wants: do not wait for it.
    runtime.shutdown_background();
    Ok(code?.clamp(0, 255) as i32)
}
