//! Shared helpers: run the binary, make catalogs and Git repositories in temporary folders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's own root (holds the demo catalog).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Output of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The binary under test: this build's, or another build's named by `BAZAAR_TEST_BIN` (to show
/// that a regression test fails on the code before a fix).
pub fn bin() -> PathBuf {
    std::env::var_os("BAZAAR_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bazaar")))
}

/// Runs `bazaar ARGS` and captures everything.
pub fn bazaar(args: &[&str]) -> Run {
    let out = Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .env("BAZAAR_TODAY", TODAY)
        .output()
        .expect("run bazaar");
    Run {
        code: out.status.code().expect("exited normally (no signal)"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The arguments of `bazaar check --root DIR --format json EXTRA…` (the format is at index 4).
pub fn check_args<'a>(root: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "check",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args
}

/// `bazaar check --root DIR EXTRA… --format json`, parsed.
pub fn check_json(root: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let r = bazaar(&check_args(root, extra));
    let mut v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("json ({e}): {}\n{}", r.stdout, r.stderr));
    // wall-clock timings differ between runs; everything else must not
    if let Some(o) = v.as_object_mut() {
        o.remove("timings_ms");
    }
    (r.code, v)
}

/// Codes of the findings in a JSON report.
pub fn codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// Codes of the blocking findings only.
pub fn errors(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A temporary copy of the demo catalog (bazaar.toml, catalog/, policies/).
pub fn demo_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for top in ["bazaar.toml", "catalog", "policies", "signals"] {
        copy(&repo_root().join(top), &dir.path().join(top));
    }
    dir
}

/// Copies a file or folder recursively.
pub fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// Runs git in `dir`, panicking with its output on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `git init` + commit everything.
pub fn git_init_commit(dir: &Path) {
    git(dir, &["init", "-q"]);
    commit_all(dir, "initial");
}

/// Stages everything and commits.
pub fn commit_all(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", msg]);
}

/// Replaces `from` by `to` in a file (which must contain it).
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The day the tests pin as today (the demo catalog's dates are written relative to it).
pub const TODAY: &str = "2026-11-25";

/// The demo app used by most tests.
pub const EXPENSE: &str = "catalog/finance/expense-tracker/app.toml";

/// A fresh ed25519 key made by stock ssh-keygen (which git also needs to verify SSH signatures;
/// .ci/run installs it). Returns the private key path and the public key line.
pub fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .expect(
            "ssh-keygen is required by the signing tests: install openssh-client (.ci/run does)",
        );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_string())
}

/// Rewrites the commit `branch` points at with `edit` on its raw text (signature header kept),
/// writes it and moves the branch to it: a tampered commit. Returns its id.
pub fn forge_tip(dir: &Path, branch: &str, edit: impl Fn(String) -> String) -> String {
    let raw = git(dir, &["cat-file", "commit", branch]) + "\n";
    let changed = edit(raw.clone());
    assert_ne!(raw, changed, "the edit must change the commit");
    let path = dir.join(".git/forged-commit");
    std::fs::write(&path, changed).unwrap();
    let id = git(
        dir,
        &["hash-object", "-t", "commit", "-w", path.to_str().unwrap()],
    );
    git(dir, &["update-ref", &format!("refs/heads/{branch}"), &id]);
    id
}

/// A catalog repository whose history Bazaar may sign: the demo's `tops` (e.g. `bazaar.toml`,
/// `catalog`, `policies`) in `<tmp>/catalog`, Bazaar's fresh key trusted by
/// `policies/allowed_signers` from the first commit (which is genesis), `main` checked out.
pub struct SignedCatalog {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub key: PathBuf,
}

pub fn signed_catalog(tops: &[&str]) -> SignedCatalog {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("catalog");
    std::fs::create_dir(&dir).unwrap();
    for top in tops {
        copy(&repo_root().join(top), &dir.join(top));
    }
    let (key, public) = keygen(tmp.path(), "bazaar_key");
    std::fs::write(
        dir.join("policies/allowed_signers"),
        format!("bazaar@acme.example namespaces=\"git\" {public}\n"),
    )
    .unwrap();
    git_init_commit(&dir);
    SignedCatalog { tmp, dir, key }
}

impl SignedCatalog {
    /// `bazaar merge` of `head` into `main` by jane-doe, signed with `key`, plus `extra`.
    pub fn merge_with_key(&self, head: &str, key: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "merge",
            "--root",
            self.dir.to_str().unwrap(),
            "--base",
            "main",
        ];
        args.extend(["--head", head, "--key", key.to_str().unwrap()]);
        args.extend(["--author", "jane-doe"]);
        args.extend_from_slice(extra);
        bazaar(&args)
    }

    /// [`SignedCatalog::merge_with_key`] with Bazaar's trusted key.
    pub fn merge(&self, head: &str, extra: &[&str]) -> Run {
        self.merge_with_key(head, &self.key, extra)
    }
}

/// The demo's password strength meter, public before, internal after: a medium-risk change
/// (security and product-owner must approve).
pub fn raise_data_class(dir: &Path) {
    edit(
        &dir.join("catalog/security/password-strength-meter/app.toml"),
        "classification = \"public\"",
        "classification = \"internal\"",
    );
}
