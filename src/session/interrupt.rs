//! Interrupts: SIGINT, SIGTERM and SIGHUP end the work they interrupt (its
//! pending engine calls are dropped, so cancelled) and become
//! `Error::Interrupted`, exit 130. What was left half-done is repaired by the
//! next `up`, which converges from the labels and state files.

use std::future::Future;

use crate::error::Error;

/// Runs `work` until it ends or a terminating signal arrives.
pub async fn interruptible<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::select! {
        r = work => r,
        _ = terminated() => Err(Error::Interrupted),
    }
}

/// Resolves on the first SIGINT, SIGTERM or SIGHUP.
async fn terminated() {
    use tokio::signal::unix::{signal, SignalKind};
    let wait = |kind: SignalKind| async move {
        match signal(kind) {
            Ok(mut s) => {
                s.recv().await;
            }
            // Without a handler the default action ends the process anyway.
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = wait(SignalKind::interrupt()) => {}
        _ = wait(SignalKind::terminate()) => {}
        _ = wait(SignalKind::hangup()) => {}
    }
}
