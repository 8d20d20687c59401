//! Governance that a submission cannot route around: templates need admin and are audited, the
//! audit's genesis ends at the first trusted `allowed_signers`, and `merge` signs only with a
//! key the base trusts, from a regular key file, for a branch that shares the base's history.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

type Repo = SignedCatalog;

/// The demo catalog (templates included) on main, Bazaar's key trusted from the first commit.
fn repo() -> Repo {
    signed_catalog(&["bazaar.toml", "catalog", "policies", "site-templates"])
}

fn merge_with(r: &Repo, head: &str, key: &Path, extra: &[&str]) -> Run {
    r.merge_with_key(head, key, extra)
}

fn audit(r: &Repo) -> Run {
    bazaar(&["audit", "--root", r.dir.to_str().unwrap()])
}

fn a_template(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("site-templates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .expect("a template")
}

#[test]
fn a_template_change_needs_admin_and_an_unsigned_one_fails_the_audit() {
    let r = repo();
    git(&r.dir, &["checkout", "-q", "-b", "t"]);
    let t = a_template(&r.dir);
    let text = std::fs::read_to_string(&t).unwrap();
    std::fs::write(
        &t,
        format!("{text}\n<script src=\"https://evil.example/x.js\"></script>\n"),
    )
    .unwrap();
    commit_all(&r.dir, "a template");
    git(&r.dir, &["checkout", "-q", "main"]);
    let (code, v) = check_json(&r.dir, &["--base", "main", "--rev", "t"]);
    assert_eq!(code, 0, "{v:#}");
    let roles: Vec<&str> = v["required_roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin"], "{v:#}");
    assert!(codes(&v).contains(&"BZ0393".to_string()), "{v:#}");
    let refused = merge_with(&r, "t", &r.key, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("admin"), "{}", refused.stderr);
    let merged = merge_with(&r, "t", &r.key, &["--approval", "erin:admin:5"]);
    assert_eq!(merged.code, 0, "{}{}", merged.stdout, merged.stderr);
    assert_eq!(audit(&r).code, 0);
    // the same kind of change committed straight to main, unsigned, fails the audit
    let t = a_template(&r.dir);
    let text = std::fs::read_to_string(&t).unwrap();
    std::fs::write(&t, format!("{text}\n<!-- unsigned -->\n")).unwrap();
    commit_all(&r.dir, "sneak a template in");
    let out = audit(&r);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains("site-templates") && out.stdout.contains("not signed"),
        "{}",
        out.stdout
    );
}

#[test]
fn once_signers_are_trusted_removing_them_does_not_bring_genesis_back() {
    let r = repo();
    std::fs::remove_file(r.dir.join("policies/allowed_signers")).unwrap();
    commit_all(&r.dir, "drop the signers");
    edit(
        &r.dir.join("catalog/finance/expense-tracker/app.toml"),
        "name = \"",
        "name = \"Unsigned ",
    );
    commit_all(&r.dir, "an unsigned change");
    let out = bazaar(&[
        "audit",
        "--root",
        r.dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let commits = v["commits"].as_array().unwrap();
    // newest first: the unsigned change, the removal, the first commit (genesis)
    assert_eq!(commits[0]["status"], "failed", "{:#}", commits[0]);
    assert!(
        commits[0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("allowed_signers"),
        "{:#}",
        commits[0]
    );
    assert_eq!(commits[1]["status"], "failed");
    assert_eq!(commits[2]["status"], "genesis");
    // an emptied file is the same
    let r = repo();
    std::fs::write(r.dir.join("policies/allowed_signers"), "").unwrap();
    commit_all(&r.dir, "empty the signers");
    edit(
        &r.dir.join("catalog/finance/expense-tracker/app.toml"),
        "name = \"",
        "name = \"Unsigned ",
    );
    commit_all(&r.dir, "an unsigned change");
    let out = audit(&r);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("lists no key"), "{}", out.stdout);
}

fn submission(r: &Repo) {
    git(&r.dir, &["checkout", "-q", "-b", "s"]);
    raise_data_class(&r.dir);
    commit_all(&r.dir, "raise");
    git(&r.dir, &["checkout", "-q", "main"]);
}

const APPROVALS: [&str; 4] = [
    "--approval",
    "alice:security:1",
    "--approval",
    "bob:product-owner:2",
];

#[test]
fn merge_signs_only_with_a_key_the_base_trusts() {
    let r = repo();
    submission(&r);
    let (other, _) = keygen(r.tmp.path(), "other_key");
    let before = git(&r.dir, &["rev-parse", "main"]);
    let out = merge_with(&r, "s", &other, &APPROVALS);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("not trusted"), "{}", out.stderr);
    assert_eq!(git(&r.dir, &["rev-parse", "main"]), before);
    let out = merge_with(&r, "s", &r.key, &APPROVALS);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn merge_refuses_a_key_that_is_a_pipe_and_names_an_ecdsa_key() {
    let r = repo();
    submission(&r);
    let fifo = r.tmp.path().join("fifo_key");
    let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(ok.success());
    let started = Instant::now();
    let mut child = Command::new(bin())
        .args(["merge", "--root", r.dir.to_str().unwrap(), "--base", "main"])
        .args(["--head", "s", "--key", fifo.to_str().unwrap()])
        .args(APPROVALS)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("merge hangs on a FIFO given as --key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // an ECDSA key is named as such
    let ecdsa = r.tmp.path().join("ecdsa_key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-N", "", "-f"])
        .arg(&ecdsa)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = merge_with(&r, "s", &ecdsa, &APPROVALS);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("ecdsa-sha2-nistp256"), "{}", out.stderr);
}

#[test]
fn merge_refuses_an_unrelated_history() {
    let r = repo();
    git(&r.dir, &["checkout", "-q", "--orphan", "u"]);
    raise_data_class(&r.dir);
    commit_all(&r.dir, "from scratch");
    git(&r.dir, &["checkout", "-q", "-f", "main"]);
    let before = git(&r.dir, &["rev-parse", "main"]);
    let out = merge_with(&r, "u", &r.key, &APPROVALS);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no history"), "{}", out.stderr);
    assert_eq!(git(&r.dir, &["rev-parse", "main"]), before);
    let (code, v) = check_json(&r.dir, &["--base", "main", "--rev", "u"]);
    assert_eq!(code, 1);
    assert!(errors(&v).contains(&"BZ0216".to_string()), "{v:#}");
}
