//! Waiting for something that happens in the background, always with a
//! deadline, and (when a child process is what makes it happen) never past
//! that child's death. A deadline guards against a hang, it is not a speed
//! check (CONTRIBUTING.md: no wall-clock limits in tests): make it generous.
//!
//! ```ignore
//! wait_until(Duration::from_secs(10), "the mock to reload", || fetch() == "two!");
//! wait_until_alive(&mut child, Duration::from_secs(20), "the mock to answer", || up(port));
//! ```

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(20);

/// Checks `done` until it holds; panics, naming `what`, once `within` has
/// passed.
#[track_caller]
pub fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    wait_for(within, what, || done().then_some(()))
}

/// Checks `found` until it gives a value and returns it; panics, naming
/// `what`, once `within` has passed.
#[track_caller]
pub fn wait_for<T>(within: Duration, what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = found() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {within:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// Like [`wait_until`], and panics as soon as `child`, which is to make it
/// happen, has exited. On timeout the child is killed, so that a failed
/// test leaves no process behind.
#[track_caller]
pub fn wait_until_alive(
    child: &mut Child,
    within: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return;
        }
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            panic!("gave up waiting for {what}: the process exited ({status})");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gave up after {within:?} waiting for {what}; killed the process");
        }
        std::thread::sleep(POLL);
    }
}

/// Waits for `child` to exit and returns how; kills it and panics, naming
/// `what`, once `within` has passed.
#[track_caller]
pub fn wait_for_exit(child: &mut Child, within: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gave up after {within:?} waiting for {what}; killed it");
        }
        std::thread::sleep(POLL);
    }
}
