//! `devenv gc` cleans what interrupted runs leave behind: a download killed
//! half-way leaves its `.part-*` file in the cache, and nothing removed it.

mod common;

use common::TestEnv;

#[test]
fn gc_removes_the_part_file_a_killed_download_left_but_not_a_live_one() {
    let env = TestEnv::new();
    let archives = env.devenv_home().join("cache/archives");
    std::fs::create_dir_all(&archives).unwrap();
    let dead = archives.join(".part-dead01");
    std::fs::write(&dead, vec![0u8; 4096]).unwrap();
    // A download in progress holds its part file locked, as `up` does.
    let live = archives.join(".part-live01");
    let held = std::fs::File::create(&live).unwrap();
    held.lock().unwrap();

    env.run(["gc"])
        .success()
        .stderr_has("removed 1 unfinished download(s) left by an interrupted run");
    assert!(!dead.exists());
    assert!(live.exists(), "a live download was removed");
    drop(held);
    env.run(["gc"]).success();
    assert!(!live.exists());
}
