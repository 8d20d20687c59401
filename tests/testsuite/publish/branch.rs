//! Publishing to a Git branch (read back with stock git), and bad input.

use super::*;
use crate::support::{EXPENSE, edit, git};

fn publish_git(root: &Path, extra: &[&str]) -> crate::support::Run {
    let site = root.join("public");
    let mut args = vec![
        "publish",
        "--site",
        site.to_str().unwrap(),
        "--to",
        "git:gh-pages",
        "--root",
        root.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    bazaar(&args)
}

#[test]
fn a_branch_holds_the_site_and_an_unchanged_site_makes_no_commit() {
    let cat = built_demo();
    let root = cat.path();
    let head = git(root, &["rev-parse", "HEAD"]);
    let r = publish_git(root, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("commit "), "{}", r.stdout);
    let listed = git(root, &["ls-tree", "-r", "--name-only", "gh-pages"]);
    let site = files(&root.join("public"));
    let mut want: Vec<&str> = site.keys().map(String::as_str).collect();
    want.push(".nojekyll");
    want.sort_unstable();
    let mut got: Vec<&str> = listed.lines().collect();
    got.sort_unstable();
    assert_eq!(got, want);
    assert_eq!(
        git(root, &["show", "gh-pages:index.html"]),
        String::from_utf8_lossy(&site["index.html"]).trim()
    );
    // no checkout: the work tree's branch and files are untouched
    assert_eq!(git(root, &["rev-parse", "HEAD"]), head);
    assert_eq!(git(root, &["symbolic-ref", "--short", "HEAD"]), "main");
    let tip = git(root, &["rev-parse", "gh-pages"]);

    let r = publish_git(root, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("no change, no commit"), "{}", r.stdout);
    assert_eq!(git(root, &["rev-parse", "gh-pages"]), tip);

    // a change makes one commit on top of the previous one
    edit(&root.join(EXPENSE), "Submit, attach", "File, attach");
    rebuild(root);
    let r = publish_git(root, &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let new = git(root, &["rev-parse", "gh-pages"]);
    assert_eq!(v["commit"], new.as_str());
    assert_eq!(git(root, &["rev-parse", "gh-pages^"]), tip);
    let (changed, removed) = diff(&site, &files(&root.join("public")));
    assert!(!changed.is_empty());
    assert_eq!(v["uploaded"], changed.len(), "{changed:?}");
    assert_eq!(v["deleted"], removed.len(), "{removed:?}");
    git(root, &["fsck", "--no-dangling"]);
}

#[test]
fn push_goes_through_with_a_lease_and_a_moved_remote_is_never_overwritten() {
    let cat = built_demo();
    let root = cat.path();
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    let url = remote.path().to_str().unwrap();
    let r = publish_git(root, &["--push", url]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("pushed"), "{}", r.stdout);
    let tip = git(root, &["rev-parse", "gh-pages"]);
    assert_eq!(git(remote.path(), &["rev-parse", "gh-pages"]), tip);

    // someone else pushes to the remote's gh-pages
    let other = tempfile::tempdir().unwrap();
    git(
        other.path(),
        &["clone", "-q", "--branch", "gh-pages", url, "."],
    );
    std::fs::write(other.path().join("CNAME"), "catalog.acme.example\n").unwrap();
    git(other.path(), &["add", "CNAME"]);
    git(other.path(), &["commit", "-q", "-m", "custom domain"]);
    git(other.path(), &["push", "-q", "origin", "gh-pages"]);
    let theirs = git(remote.path(), &["rev-parse", "gh-pages"]);

    edit(&root.join(EXPENSE), "Submit, attach", "File, attach");
    rebuild(root);
    let r = publish_git(root, &["--push", url]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("nothing was overwritten"), "{}", r.stderr);
    assert_eq!(git(remote.path(), &["rev-parse", "gh-pages"]), theirs);
    assert_eq!(
        git(root, &["rev-parse", "gh-pages"]),
        tip,
        "the local branch stays"
    );
}

#[test]
fn symlinks_in_the_site_and_bad_targets_are_refused() {
    let cat = built_demo();
    let root = cat.path();
    let site = std::fs::canonicalize(root.join("public")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", site.join("passwd.txt")).unwrap();
    let r = publish_git(root, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("passwd.txt") && r.stderr.contains("symbolic link"),
        "{}",
        r.stderr
    );
    assert!(
        std::process::Command::new("git")
            .args(["rev-parse", "--verify", "-q", "gh-pages"])
            .current_dir(root)
            .output()
            .unwrap()
            .stdout
            .is_empty(),
        "no branch made"
    );
    std::fs::remove_file(site.join("passwd.txt")).unwrap();

    for (to, says) in [
        ("ftp://host/x", "neither git:BRANCH"),
        ("gh-pages", "neither git:BRANCH"),
        ("git:bad..name", "not a branch name"),
        ("s3://A_B/x", "not a bucket name"),
        ("s3://bucket/a//b", "not a valid object path"),
    ] {
        let r = bazaar(&["publish", "--site", site.to_str().unwrap(), "--to", to]);
        assert_eq!(r.code, 2, "{to}");
        assert!(r.stderr.contains(says), "{to}: {}", r.stderr);
    }
}
