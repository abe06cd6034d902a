//! How core modules tell the user what they are doing, without knowing about
//! terminals. The binary's UI layer implements `Reporter` with progress bars
//! on a terminal and plain lines elsewhere; tests use `Silent` or a recorder.

use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Shown only with `-v`.
    Detail,
    Info,
    Success,
    Warn,
}

/// Facts the metrics journal records (cache hits, bytes, seconds).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Tool {
        name: String,
        version: String,
        downloaded: bool,
        bytes: u64,
        seconds: f64,
    },
    Image {
        reference: String,
        pulled: bool,
        bytes: u64,
        seconds: f64,
    },
    /// A (sub-)phase of a run and how long it took, e.g. `images` inside the
    /// services phase. The run recorder files it next to the top-level phases.
    Phase { name: String, seconds: f64 },
}

pub trait Reporter: Send + Sync {
    fn message(&self, level: Level, text: &str);
    /// A unit of work with optional known size (bytes, layers, ...).
    fn task(&self, label: &str, total: Option<u64>) -> Box<dyn Task>;
    /// A fact for the metrics journal; display is up to the reporter.
    fn event(&self, _event: &Event) {}
}

pub trait Task: Send + Sync {
    fn set_total(&self, total: u64);
    fn advance(&self, delta: u64);
    fn set_message(&self, message: &str);
    /// Ends the task; `ok` decides how it is shown.
    fn finish(&self, ok: bool, message: &str);
}

/// Reports nothing. For tests and `-q` paths that must stay silent.
pub struct Silent;

impl Reporter for Silent {
    fn message(&self, _: Level, _: &str) {}
    fn task(&self, _: &str, _: Option<u64>) -> Box<dyn Task> {
        Box::new(SilentTask)
    }
}

struct SilentTask;

impl Task for SilentTask {
    fn set_total(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn set_message(&self, _: &str) {}
    fn finish(&self, _: bool, _: &str) {}
}

/// Keeps every message and event, for assertions in unit tests.
#[derive(Default)]
pub struct Recorder {
    pub messages: Mutex<Vec<(Level, String)>>,
    pub events: Mutex<Vec<Event>>,
}

impl Reporter for Recorder {
    fn message(&self, level: Level, text: &str) {
        self.messages
            .lock()
            .unwrap()
            .push((level, text.to_string()));
    }
    fn task(&self, _: &str, _: Option<u64>) -> Box<dyn Task> {
        Box::new(SilentTask)
    }
    fn event(&self, event: &Event) {
        self.events.lock().unwrap().push(event.clone());
    }
}
