//! devenv.toml is untrusted input: for any UTF-8 text, the manifest loader
//! and the settings-file parsers return a value or diagnostics, and never
//! panic, overflow the stack or hang. A crash here is a bug.

#![no_main]

use std::path::Path;

use devenv::settings::file::{self, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/fuzz/devenv.toml");
    let stacks = devenv::stacks::Stacks::built_in();
    if let Ok(m) = devenv::manifest::parse(path, text, &stacks) {
        let _ = m.start_levels();
    }
    let _ = file::parse(path, text, Kind::User);
    let _ = file::parse(path, text, Kind::Local);
    let _ = devenv::render::local::parse(path, text);
});
