//! `bazaar merge` on real repositories: signed merges stock git verifies, trailers git parses,
//! and every refusal (checks, missing/stale/self approvals, conflicts, dirty tree, lost race).

use std::path::{Path, PathBuf};

use crate::support::*;

const PSM: &str = "catalog/security/password-strength-meter/app.toml";

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: PathBuf,
    signers: PathBuf,
}

/// The demo catalog on main; a `submission` branch by jane-doe raising an app's data class
/// (medium risk: security and product-owner must approve); main checked out again.
fn repo() -> Repo {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("catalog");
    std::fs::create_dir(&dir).unwrap();
    for top in ["bazaar.toml", "catalog", "policies"] {
        copy(&repo_root().join(top), &dir.join(top));
    }
    let (key, public) = keygen(tmp.path(), "bazaar_key");
    let signers = tmp.path().join("allowed_signers");
    std::fs::write(
        &signers,
        format!("bazaar@acme.example namespaces=\"git\" {public}\n"),
    )
    .unwrap();
    // the catalog trusts Bazaar's key from its first commit on (that commit is genesis)
    std::fs::copy(&signers, dir.join("policies/allowed_signers")).unwrap();
    git_init_commit(&dir);
    git(&dir, &["checkout", "-q", "-b", "submission"]);
    edit(
        &dir.join(PSM),
        "classification = \"public\"",
        "classification = \"internal\"",
    );
    commit_all(&dir, "raise the data class");
    git(&dir, &["checkout", "-q", "main"]);
    Repo {
        _tmp: tmp,
        dir,
        key,
        signers,
    }
}

fn merge(r: &Repo, extra: &[&str]) -> Run {
    let mut args = vec![
        "merge",
        "--root",
        r.dir.to_str().unwrap(),
        "--base",
        "main",
        "--head",
        "submission",
        "--key",
        r.key.to_str().unwrap(),
    ];
    if !extra.contains(&"--author") {
        args.extend(["--author", "jane-doe"]);
    }
    args.extend_from_slice(extra);
    bazaar(&args)
}

fn tip(dir: &Path) -> String {
    git(dir, &["rev-parse", "main"])
}

#[test]
fn a_merge_is_signed_verified_by_git_and_records_its_approvals() {
    let r = repo();
    let head = git(&r.dir, &["rev-parse", "submission"]);
    let out = merge(
        &r,
        &[
            "--approval",
            "alice:security:101",
            "--approval",
            "bob:product-owner:102",
            "--submission",
            "https://github.com/acme/app-catalog/pull/42",
            "--opened",
            "2026-11-20T09:00:00Z",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("working tree updated"),
        "{}",
        out.stdout
    );
    // two parents: main's old tip and the submission's head
    let parents = git(&r.dir, &["rev-list", "--parents", "-n", "1", "main"]);
    assert_eq!(parents.split_whitespace().count(), 3);
    assert!(parents.ends_with(&head));
    // stock git verifies the signature
    let cfg = format!("gpg.ssh.allowedSignersFile={}", r.signers.display());
    let v = std::process::Command::new("git")
        .args(["-c", &cfg, "verify-commit", "main"])
        .current_dir(&r.dir)
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(
        String::from_utf8_lossy(&v.stderr)
            .contains("Good \"git\" signature for bazaar@acme.example")
    );
    // and parses the trailers
    let trailers = git(
        &r.dir,
        &["log", "-1", "--format=%(trailers:only,unfold)", "main"],
    );
    assert!(
        trailers.contains(&format!(
            "Bazaar-Approval: alice role=security review=101 head={head} at="
        )),
        "{trailers}"
    );
    assert!(
        trailers.contains("Bazaar-Approval: bob role=product-owner review=102"),
        "{trailers}"
    );
    assert!(trailers.contains("Bazaar-Risk: medium"));
    assert!(
        trailers.contains("Bazaar-Required-Roles: product-owner, security"),
        "{trailers}"
    );
    assert!(trailers.contains("Bazaar-Changed: com.acme.security.password-strength-meter"));
    assert!(trailers.contains("Bazaar-Opened: 2026-11-20T09:00:00Z"));
    assert_eq!(
        git(&r.dir, &["log", "-1", "--format=%s", "main"]),
        "Merge submission #42: update com.acme.security.password-strength-meter"
    );
    assert_eq!(
        git(&r.dir, &["log", "-1", "--format=%cn <%ce>", "main"]),
        "Bazaar <bazaar@acme.example>"
    );
    // the checked-out working tree followed
    assert!(
        std::fs::read_to_string(r.dir.join(PSM))
            .unwrap()
            .contains("classification = \"internal\"")
    );
    assert_eq!(git(&r.dir, &["status", "--porcelain"]), "");
}

fn refused(r: &Repo, extra: &[&str], want: &str) {
    let before = tip(&r.dir);
    let out = merge(r, extra);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("merge refused") && out.stderr.contains(want),
        "wanted {want:?} in:\n{}",
        out.stderr
    );
    assert_eq!(tip(&r.dir), before, "main must not move");
}

#[test]
fn missing_stale_self_and_wrong_role_approvals_are_refused() {
    let r = repo();
    refused(
        &r,
        &["--approval", "alice:security:101"],
        "no valid approval in the product-owner role",
    );
    let old = git(&r.dir, &["rev-parse", "submission~1"]);
    refused(
        &r,
        &[
            "--approval",
            &format!("alice:security:101@{old}"),
            "--approval",
            "bob:product-owner:102",
        ],
        "was given on",
    );
    refused(
        &r,
        &[
            "--author",
            "alice",
            "--approval",
            "alice:security:101",
            "--approval",
            "bob:product-owner:102",
        ],
        "cannot approve",
    );
    refused(
        &r,
        &[
            "--approval",
            "carol:security:101",
            "--approval",
            "bob:product-owner:102",
        ],
        "does not hold the security role",
    );
}

#[test]
fn failing_checks_are_refused_with_the_findings() {
    let r = repo();
    git(&r.dir, &["checkout", "-q", "submission"]);
    edit(&r.dir.join(PSM), "version = \"", "version = \"v");
    commit_all(&r.dir, "break it");
    git(&r.dir, &["checkout", "-q", "main"]);
    let before = tip(&r.dir);
    let out = merge(
        &r,
        &[
            "--approval",
            "alice:security:1",
            "--approval",
            "bob:product-owner:2",
        ],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("BZ0106") && out.stderr.contains("checks block"),
        "{}",
        out.stderr
    );
    assert_eq!(tip(&r.dir), before);
}

#[test]
fn conflicts_and_a_dirty_checkout_are_refused() {
    let r = repo();
    edit(
        &r.dir.join(PSM),
        "classification = \"public\"",
        "classification = \"confidential\"",
    );
    refused(
        &r,
        &[
            "--approval",
            "alice:security:1",
            "--approval",
            "bob:product-owner:2",
        ],
        "uncommitted changes",
    );
    commit_all(&r.dir, "main changes the same line");
    refused(
        &r,
        &[
            "--approval",
            "alice:security:1",
            "--approval",
            "bob:product-owner:2",
        ],
        "conflicts in catalog/security/password-strength-meter/app.toml",
    );
}

#[test]
fn a_remote_that_moved_is_never_overwritten() {
    let r = repo();
    let remote = r.dir.parent().unwrap().join("remote.git");
    git(
        r.dir.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            r.dir.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    git(
        &r.dir,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    // someone else pushes to the remote's main first
    let other = r.dir.parent().unwrap().join("other");
    git(
        r.dir.parent().unwrap(),
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    std::fs::write(other.join("NOTES.md"), "x\n").unwrap();
    commit_all(&other, "someone else");
    git(&other, &["push", "-q", "origin", "main"]);
    let theirs = git(&remote, &["rev-parse", "main"]);
    let before = tip(&r.dir);
    let out = merge(
        &r,
        &[
            "--approval",
            "alice:security:1",
            "--approval",
            "bob:product-owner:2",
            "--push",
            "origin",
        ],
    );
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("moved") && out.stderr.contains("retry"),
        "{}",
        out.stderr
    );
    assert_eq!(
        git(&remote, &["rev-parse", "main"]),
        theirs,
        "the remote keeps their commit"
    );
    assert_eq!(tip(&r.dir), before, "and the local branch did not move");

    // with the remote where main is, the push goes through
    let r = repo();
    let remote = r.dir.parent().unwrap().join("remote.git");
    git(
        r.dir.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            r.dir.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    git(
        &r.dir,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    let out = merge(
        &r,
        &[
            "--approval",
            "alice:security:1",
            "--approval",
            "bob:product-owner:2",
            "--push",
            "origin",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(git(&remote, &["rev-parse", "main"]), tip(&r.dir));
}

// ---------------------------------------------------------------------------------------------
// bazaar audit

fn audit(r: &Repo) -> Run {
    bazaar(&["audit", "--root", r.dir.to_str().unwrap()])
}

fn approve_and_merge(r: &Repo) {
    let out = merge(
        r,
        &[
            "--approval",
            "alice:security:101",
            "--approval",
            "bob:product-owner:102",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_history_of_signed_merges_verifies() {
    let r = repo();
    approve_and_merge(&r);
    let out = audit(&r);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("2 commits from")
            && out.stdout.contains("1 verified, 0 failed, 1 genesis"),
        "{}",
        out.stdout
    );
    let json = bazaar(&[
        "audit",
        "--root",
        r.dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["commits"][0]["status"], "verified");
    assert_eq!(v["commits"][1]["status"], "genesis");
}

fn audit_fails(r: &Repo, want: &str) {
    let out = audit(r);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("FAIL") && out.stdout.contains(want),
        "wanted {want:?} in:\n{}",
        out.stdout
    );
}

fn git_accepts(r: &Repo, rev: &str) -> bool {
    let cfg = format!("gpg.ssh.allowedSignersFile={}", r.signers.display());
    std::process::Command::new("git")
        .args(["-c", &cfg, "verify-commit", rev])
        .current_dir(&r.dir)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn a_merge_changed_after_signing_is_caught_by_audit_and_git() {
    let r = repo();
    approve_and_merge(&r);
    forge_tip(&r.dir, "main", |raw| {
        raw.replace("Bazaar-Risk: medium", "Bazaar-Risk: low")
    });
    assert!(!git_accepts(&r, "main"));
    audit_fails(&r, "changed after signing");
}

#[test]
fn an_unsigned_catalog_change_is_caught() {
    let r = repo();
    edit(&r.dir.join(PSM), "version = \"", "version = \"9");
    commit_all(&r.dir, "quick fix straight on main");
    audit_fails(&r, "is not signed");
    // a commit that touches nothing governed is fine unsigned
    let r = repo();
    std::fs::write(r.dir.join("NOTES.md"), "x\n").unwrap();
    commit_all(&r.dir, "notes");
    assert_eq!(audit(&r).code, 0);
}

/// A signed commit on main changing `rel` with `change`, made with `key` as `email`.
fn signed_change(r: &Repo, key: &Path, email: &str, rel: &str, change: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(r.dir.join(rel)).unwrap();
    std::fs::write(r.dir.join(rel), change(text)).unwrap();
    git(&r.dir, &["add", "-A"]);
    let tree = git2::Oid::from_str(&git(&r.dir, &["write-tree"])).unwrap();
    let repo = git2::Repository::open(&r.dir).unwrap();
    let parent = repo.head().unwrap().peel_to_commit().unwrap();
    let who = git2::Signature::now("Someone", email).unwrap();
    let signer = bazaar::signing::Signer::from_file(key).unwrap();
    let id = bazaar::git::write::signed_commit(
        &repo,
        tree,
        &[parent.id()],
        &who,
        &who,
        "signed change\n",
        &signer,
    )
    .unwrap();
    bazaar::git::write::move_branch(&repo, "main", id, parent.id(), "test").unwrap();
    git(&r.dir, &["reset", "-q", "--hard"]);
}

#[test]
fn unknown_keys_self_authorized_keys_and_wrong_principals_are_caught() {
    let r = repo();
    let (stranger, stranger_pub) = keygen(r.dir.parent().unwrap(), "stranger");
    signed_change(&r, &stranger, "bazaar@acme.example", PSM, |t| {
        t.replace("version = \"", "version = \"9")
    });
    audit_fails(&r, "does not list");

    // a commit that adds its own key to allowed_signers is judged by its parent's list
    let r = repo();
    let (stranger, stranger_pub2) = keygen(r.dir.parent().unwrap(), "stranger");
    let _ = stranger_pub;
    signed_change(
        &r,
        &stranger,
        "mallory@acme.example",
        "policies/allowed_signers",
        |t| format!("{t}mallory@acme.example {stranger_pub2}\n"),
    );
    audit_fails(&r, "does not list");

    // Bazaar's key, but the committer is someone else
    let r = repo();
    signed_change(&r, &r.key.clone(), "eve@evil.example", PSM, |t| {
        t.replace("version = \"", "version = \"9")
    });
    audit_fails(&r, "not for eve@evil.example");
}

/// A merge of the submission signed with Bazaar's key whose record carries `approvals`, made
/// without `bazaar merge`'s checks (as a buggy or misused signer could).
fn crafted_merge(r: &Repo, approvals: Vec<bazaar::review::Approval>) {
    crafted_merge_recording(r, approvals, None)
}

/// [`crafted_merge`] whose record also states the required roles.
fn crafted_merge_recording(
    r: &Repo,
    approvals: Vec<bazaar::review::Approval>,
    required_roles: Option<Vec<String>>,
) {
    let repo = git2::Repository::open(&r.dir).unwrap();
    let base = repo
        .find_branch("main", git2::BranchType::Local)
        .unwrap()
        .get()
        .peel_to_commit()
        .unwrap();
    let head = repo
        .find_branch("submission", git2::BranchType::Local)
        .unwrap()
        .get()
        .peel_to_commit()
        .unwrap();
    let mut index = repo.merge_commits(&base, &head, None).unwrap();
    let tree = index.write_tree_to(&repo).unwrap();
    let record = bazaar::review::MergeRecord {
        required_roles,
        subject: "Merge".into(),
        author: Some("jane-doe".into()),
        head: head.id().to_string(),
        risk: "low".into(),
        approvals,
        ..Default::default()
    };
    let who = git2::Signature::now("Bazaar", "bazaar@acme.example").unwrap();
    let signer = bazaar::signing::Signer::from_file(&r.key).unwrap();
    let id = bazaar::git::write::signed_commit(
        &repo,
        tree,
        &[base.id(), head.id()],
        &who,
        &who,
        &record.message().unwrap(),
        &signer,
    )
    .unwrap();
    bazaar::git::write::move_branch(&repo, "main", id, base.id(), "test").unwrap();
}

fn approval(login: &str, role: &str, head: &str) -> bazaar::review::Approval {
    bazaar::review::Approval {
        login: login.into(),
        role: role.into(),
        review_id: 7,
        head: head.into(),
        at: chrono::Utc::now(),
        user_id: None,
        team: None,
    }
}

#[test]
fn under_approved_and_stale_merges_are_caught_even_when_signed() {
    let r = repo();
    let head = git(&r.dir, &["rev-parse", "submission"]);
    crafted_merge(&r, vec![approval("alice", "security", &head)]);
    assert!(git_accepts(&r, "main"), "the signature itself is fine");
    audit_fails(&r, "no valid approval in the product-owner role");

    let r = repo();
    let older = git(&r.dir, &["rev-parse", "submission~1"]);
    crafted_merge(
        &r,
        vec![
            approval("alice", "security", &older),
            approval("bob", "product-owner", &older),
        ],
    );
    audit_fails(&r, "was given on");
}

#[test]
fn recorded_roles_are_trusted_by_default_and_checked_with_recompute() {
    // the record states the right roles but an approval is missing: caught from the record alone
    let r = repo();
    let head = git(&r.dir, &["rev-parse", "submission"]);
    let roles = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect());
    crafted_merge_recording(
        &r,
        vec![approval("alice", "security", &head)],
        roles(&["product-owner", "security"]),
    );
    audit_fails(&r, "no valid approval in the product-owner role");

    // a signer that understated the roles: the signed record is trusted by default, and
    // --recompute re-derives the roles from the base's policies and catches it
    let r = repo();
    let head = git(&r.dir, &["rev-parse", "submission"]);
    crafted_merge_recording(
        &r,
        vec![approval("alice", "security", &head)],
        roles(&["security"]),
    );
    assert_eq!(audit(&r).code, 0);
    let deep = bazaar(&["audit", "--root", r.dir.to_str().unwrap(), "--recompute"]);
    assert_eq!(deep.code, 1, "{}", deep.stdout);
    assert!(deep.stdout.contains("the record says the change required security but the base's policies require product-owner, security"), "{}", deep.stdout);

    // and a correct history passes the deep audit too
    let r = repo();
    approve_and_merge(&r);
    let deep = bazaar(&["audit", "--root", r.dir.to_str().unwrap(), "--recompute"]);
    assert_eq!(deep.code, 0, "{}", deep.stdout);
}

#[test]
fn the_site_shows_each_apps_approval_trail_and_the_median_time_to_merge() {
    let r = repo();
    let out = merge(
        &r,
        &[
            "--approval",
            "alice:security:101",
            "--approval",
            "bob:product-owner:102",
            "--submission",
            "https://github.com/acme/app-catalog/pull/42",
            "--opened",
            "2020-01-01T00:00:00Z",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let b = bazaar(&["build", "--root", r.dir.to_str().unwrap(), "--rev", "main"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let page = std::fs::read_to_string(
        r.dir
            .join("public/apps/com.acme.security.password-strength-meter/index.html"),
    )
    .unwrap();
    assert!(
        page.contains("alice as security") && page.contains("bob as product-owner"),
        "{page}"
    );
    assert!(
        page.contains("signature verified") && page.replace("&#x2F;", "/").contains("pull/42"),
        "{page}"
    );
    let other = std::fs::read_to_string(
        r.dir
            .join("public/apps/com.acme.finance.expense-tracker/index.html"),
    )
    .unwrap();
    assert!(other.contains("No signed merge has changed this app yet."));
    let dash = std::fs::read_to_string(r.dir.join("public/dashboard/index.html")).unwrap();
    assert!(dash.contains("hours over 1 signed merges"), "{dash}");
    // a rebuild takes the verdicts kept by commit id and shows the same trail
    let kept = std::fs::read_dir(r.dir.join(".git/bazaar"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("audit-verdicts-")
        });
    assert!(kept, "the verdicts are kept");
    let b = bazaar(&["build", "--root", r.dir.to_str().unwrap(), "--rev", "main"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let again = std::fs::read_to_string(
        r.dir
            .join("public/apps/com.acme.security.password-strength-meter/index.html"),
    )
    .unwrap();
    assert_eq!(again, page, "the same page from the kept verdicts");
    // tampering shows on the trail too
    forge_tip(&r.dir, "main", |raw| {
        raw.replace("Bazaar-Risk: medium", "Bazaar-Risk: low")
    });
    assert_eq!(
        bazaar(&["build", "--root", r.dir.to_str().unwrap(), "--rev", "main"]).code,
        0
    );
    let page = std::fs::read_to_string(
        r.dir
            .join("public/apps/com.acme.security.password-strength-meter/index.html"),
    )
    .unwrap();
    assert!(page.contains("FAILED audit"), "{page}");
}
