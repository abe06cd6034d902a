//! `devenv exec SERVICE -- CMD…`: a command inside a service's running
//! container, like `docker compose exec`: stdin forwarded, stdout and
//! stderr kept apart (or one pseudo-terminal with `tty`), and the command's
//! own exit code. Terminal handling (raw mode, size) is the caller's; this
//! only moves bytes.

use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::ResizeExecOptionsBuilder;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWriteExt};

use super::{container_name, Engine, Result, ServicesError};

pub struct ExecRequest<'a> {
    pub service: &'a str,
    pub command: &'a [String],
    /// Allocate a pseudo-terminal (on a terminal, unless `-T`).
    pub tty: Option<TtySize>,
    pub user: Option<&'a str>,
    pub workdir: Option<&'a str>,
    /// `KEY=VALUE`, as `docker compose exec -e`.
    pub env: &'a [String],
}

#[derive(Debug, Clone, Copy)]
pub struct TtySize {
    pub rows: u16,
    pub cols: u16,
}

/// Where the command's bytes go, and where its input comes from.
pub struct ExecIo<'a> {
    pub stdin: Box<dyn AsyncRead + Send + Unpin>,
    pub stdout: &'a mut (dyn std::io::Write + Send),
    pub stderr: &'a mut (dyn std::io::Write + Send),
}

/// Runs the command; returns its exit code. A service whose container is
/// not running is an error saying how to start it.
/// `project_id` is the project whose container `req.service` names.
pub async fn exec(
    engine: &Engine,
    project_id: &str,
    req: &ExecRequest<'_>,
    io: ExecIo<'_>,
) -> Result<i64> {
    let name = container_name(project_id, req.service);
    let running = engine
        .docker
        .inspect_container(
            &name,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()
        .and_then(|c| c.state?.running)
        .unwrap_or(false);
    if !running {
        return Err(ServicesError::Other(format!(
            "service `{}` is not running; `devenv up` starts it",
            req.service
        )));
    }
    let config = ExecConfig {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(req.tty.is_some()),
        cmd: Some(req.command.to_vec()),
        env: (!req.env.is_empty()).then(|| req.env.to_vec()),
        user: req.user.map(str::to_string),
        working_dir: req.workdir.map(str::to_string),
        ..Default::default()
    };
    let id = engine
        .docker
        .create_exec(&name, config)
        .await
        .map_err(ServicesError::engine(format!(
            "starting a command in {name}"
        )))?
        .id;
    let opts = StartExecOptions {
        detach: false,
        tty: req.tty.is_some(),
        output_capacity: None,
    };
    let started =
        engine
            .docker
            .start_exec(&id, Some(opts))
            .await
            .map_err(ServicesError::engine(format!(
                "starting a command in {name}"
            )))?;
    if let Some(size) = req.tty {
        let resize = ResizeExecOptionsBuilder::new()
            .h(size.rows.into())
            .w(size.cols.into())
            .build();
        let _ = engine.docker.resize_exec(&id, resize).await;
    }
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started
    else {
        return Err(ServicesError::Other(
            "the engine detached the command".into(),
        ));
    };
    let mut stdin = io.stdin;
    // Input until it ends (then the command sees EOF), output until the
    // command closes it.
    let feed = async move {
        let _ = tokio::io::copy(&mut stdin, &mut input).await;
        let _ = input.shutdown().await;
    };
    let feed = tokio::spawn(feed);
    while let Some(chunk) = output.next().await {
        let chunk = chunk.map_err(ServicesError::engine(format!("reading from {name}")))?;
        use bollard::container::LogOutput;
        let (out, bytes): (&mut (dyn std::io::Write + Send), _) = match chunk {
            LogOutput::StdErr { message } => (&mut *io.stderr, message),
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (&mut *io.stdout, message)
            }
            LogOutput::StdIn { .. } => continue,
        };
        let _ = out.write_all(&bytes);
        let _ = out.flush();
    }
    feed.abort();
    let code = engine
        .docker
        .inspect_exec(&id)
        .await
        .map_err(ServicesError::engine(format!(
            "reading the exit code in {name}"
        )))?
        .exit_code
        .unwrap_or(1);
    Ok(code)
}
