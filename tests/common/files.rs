//! Files for test setup.

use std::path::Path;

/// Copies the directory `from` into `to` (created if needed), recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for e in entries.flatten() {
        let (src, dest) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dest);
        } else {
            std::fs::copy(&src, &dest)
                .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), dest.display()));
        }
    }
}
