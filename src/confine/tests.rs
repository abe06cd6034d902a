use std::os::unix::fs::symlink;

use super::*;

/// A repository beside a directory outside it.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(root.join("templates/app.j2"), "inside").unwrap();
    std::fs::write(outside.join("secret"), "outside").unwrap();
    Fixture {
        _dir: dir,
        root,
        outside,
    }
}

#[test]
fn a_plain_path_resolves_inside() {
    let f = fixture();
    let got = confine(&f.root, Path::new("templates/app.j2")).unwrap();
    assert_eq!(got, real(&f.root).join("templates/app.j2"));
    assert!(confine(&f.root, Path::new("./templates/../templates/app.j2")).is_ok());
    // Not there yet (an output about to be written) is fine.
    let new = confine(&f.root, Path::new("config/new/app.env")).unwrap();
    assert!(new.ends_with("config/new/app.env"));
}

#[test]
fn absolute_paths_are_refused() {
    let f = fixture();
    let e = confine(&f.root, Path::new("/etc/passwd")).unwrap_err();
    assert!(matches!(e, Escape::Absolute { .. }), "{e:?}");
    assert!(e.to_string().contains("`/etc/passwd`"), "{e}");
}

#[test]
fn dotdot_that_leaves_is_refused_and_says_where_it_points() {
    let f = fixture();
    let e = confine(&f.root, Path::new("templates/../../outside/secret")).unwrap_err();
    assert!(matches!(e, Escape::ParentDir { .. }), "{e:?}");
    assert_eq!(e.target(), Some(real(&f.outside).join("secret").as_path()));
    assert!(e.to_string().contains("outside/secret"), "{e}");
}

#[test]
fn a_file_symlinked_outside_is_refused() {
    let f = fixture();
    symlink(f.outside.join("secret"), f.root.join("templates/evil.j2")).unwrap();
    let e = confine(&f.root, Path::new("templates/evil.j2")).unwrap_err();
    let Escape::Symlink { link, target, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(link, Path::new("templates/evil.j2"));
    assert_eq!(target, &real(&f.outside).join("secret"));
    assert!(e.to_string().contains("is a symlink to"), "{e}");
}

#[test]
fn a_directory_symlinked_outside_is_refused_at_any_depth() {
    let f = fixture();
    symlink(&f.outside, f.root.join("templates/shared")).unwrap();
    let e = confine(&f.root, Path::new("templates/shared/secret")).unwrap_err();
    assert!(
        e.to_string()
            .contains("goes through the symlink `templates/shared` and points to"),
        "{e}"
    );
    // Even for a file that does not exist yet behind it (an output).
    assert!(confine(&f.root, Path::new("templates/shared/new/file")).is_err());
}

#[test]
fn a_relative_symlink_chain_is_followed_to_the_end() {
    let f = fixture();
    symlink("../../outside", f.root.join("templates/hop")).unwrap();
    symlink("templates/hop", f.root.join("up")).unwrap();
    let e = confine(&f.root, Path::new("up/secret")).unwrap_err();
    assert_eq!(e.target(), Some(real(&f.outside).join("secret").as_path()));
    // `..` after a symlink is taken from where the link points.
    symlink(&f.outside, f.root.join("out")).unwrap();
    assert!(confine(&f.root, Path::new("out/../repo/templates/app.j2")).is_err());
}

#[test]
fn symlinks_that_stay_inside_are_fine() {
    let f = fixture();
    symlink("templates/app.j2", f.root.join("link.j2")).unwrap();
    symlink("../templates", f.root.join("templates/self")).unwrap();
    assert!(confine(&f.root, Path::new("link.j2")).is_ok());
    let got = confine(&f.root, Path::new("templates/self/app.j2")).unwrap();
    assert_eq!(got, real(&f.root).join("templates/app.j2"));
    assert_eq!(
        read_to_string(&f.root, Path::new("link.j2")).unwrap(),
        "inside"
    );
}

#[test]
fn a_dangling_symlink_out_is_still_refused() {
    let f = fixture();
    symlink(f.outside.join("nothing/yet"), f.root.join("later")).unwrap();
    assert!(matches!(
        confine(&f.root, Path::new("later")),
        Err(Escape::Symlink { .. })
    ));
}

#[test]
fn reading_applies_the_rule_again() {
    let f = fixture();
    let joined = f.root.join("templates/app.j2");
    assert_eq!(read(&f.root, &joined).unwrap(), b"inside");
    // Checked fine, then swapped for a symlink before it is read.
    assert!(confine(&f.root, Path::new("templates/app.j2")).is_ok());
    std::fs::remove_file(&joined).unwrap();
    symlink(f.outside.join("secret"), &joined).unwrap();
    let e = read_to_string(&f.root, &joined).unwrap_err();
    assert!(
        matches!(e, OpenError::Escape(Escape::Symlink { .. })),
        "{e:?}"
    );
    assert!(!e.to_string().contains("outside\n"));
}

#[test]
fn a_symlink_swapped_after_the_check_is_still_refused() {
    // What a swap between the resolution and the open leaves: the path
    // resolves inside, but the file that was opened is another one.
    let f = fixture();
    let rel = Path::new("templates/app.j2");
    let real_path = confine(&f.root, rel).unwrap();
    let opened = File::open(f.outside.join("secret")).unwrap();
    let e = verify(&f.root, rel, &real_path, &opened).unwrap_err();
    let OpenError::Escape(Escape::Swapped { path, target }) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, "templates/app.j2");
    assert!(target.starts_with(real(&f.outside)), "{target:?}");
    // And the honest case passes.
    let ok = File::open(&real_path).unwrap();
    assert!(verify(&f.root, rel, &real_path, &ok).is_ok());
}

#[test]
fn write_targets_create_parents_inside_only() {
    let f = fixture();
    let t = write_target(&f.root, &f.root.join("config/deep/app.env")).unwrap();
    assert!(real(&f.root).join("config/deep").is_dir());
    assert_eq!(t, real(&f.root).join("config/deep/app.env"));
    symlink(&f.outside, f.root.join("conf")).unwrap();
    let e = write_target(&f.root, &f.root.join("conf/sub/app.env")).unwrap_err();
    assert!(
        matches!(e, OpenError::Escape(Escape::Symlink { .. })),
        "{e:?}"
    );
    assert!(!f.outside.join("sub").exists());
}

#[test]
fn the_lexical_rule_needs_no_files() {
    assert!(lexical(Path::new("bin/tool")).is_ok());
    assert!(lexical(Path::new("a/../bin/tool")).is_ok());
    assert!(matches!(
        lexical(Path::new("../../bin/sh")),
        Err(Escape::ParentDir { .. })
    ));
    assert!(matches!(
        lexical(Path::new("/bin/sh")),
        Err(Escape::Absolute { .. })
    ));
}
