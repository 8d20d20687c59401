//! SSH-signed commits: what Bazaar signs, stock `git verify-commit` accepts; tampering, unknown
//! keys and wrong principals are caught by both; keys are refused when they should be.

use std::path::{Path, PathBuf};
use std::process::Command;

use bazaar::git::write::{WriteError, commit_signature, move_branch, signed_commit};
use bazaar::signing::{AllowedSigners, KeyError, Signer, VerifyError, verify};

use crate::support::*;

const EMAIL: &str = "bazaar@acme.example";

struct Fixture {
    _tmp: tempfile::TempDir,
    repo: PathBuf,
    signers_file: PathBuf,
    key: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join("README.md"), "catalog\n").unwrap();
    git_init_commit(&repo);
    let (key, public) = keygen(tmp.path(), "bazaar_key");
    let signers_file = tmp.path().join("allowed_signers");
    std::fs::write(
        &signers_file,
        format!("{EMAIL} namespaces=\"git\" {public}\n"),
    )
    .unwrap();
    Fixture {
        _tmp: tmp,
        repo,
        signers_file,
        key,
    }
}

/// Makes a signed commit on top of HEAD with Bazaar's code and moves main to it.
fn sign_on_head(f: &Fixture, key: &Path, message: &str) -> git2::Oid {
    let repo = git2::Repository::open(&f.repo).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let who = git2::Signature::now("Bazaar", EMAIL).unwrap();
    let signer = Signer::from_file(key).unwrap();
    let id = signed_commit(
        &repo,
        head.tree_id(),
        &[head.id()],
        &who,
        &who,
        message,
        &signer,
    )
    .unwrap();
    move_branch(&repo, "main", id, head.id(), "test").unwrap();
    id
}

fn git_verify(f: &Fixture, rev: &str) -> (bool, String) {
    let out = Command::new("git")
        .args([
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", f.signers_file.display()),
            "verify-commit",
            "--raw",
            rev,
        ])
        .current_dir(&f.repo)
        .output()
        .expect("git");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn bazaar_verify(f: &Fixture, id: git2::Oid) -> Result<bazaar::signing::Verified, VerifyError> {
    let repo = git2::Repository::open(&f.repo).unwrap();
    let commit = repo.find_commit(id).unwrap();
    let when = chrono::DateTime::from_timestamp(commit.committer().when().seconds(), 0)
        .unwrap()
        .fixed_offset();
    let email = commit.committer().email().unwrap().to_string();
    let signers = AllowedSigners::parse(
        "allowed_signers",
        &std::fs::read_to_string(&f.signers_file).unwrap(),
    )
    .unwrap();
    let Some((sig, payload)) = commit_signature(&repo, id).unwrap() else {
        return Err(VerifyError::Unsigned);
    };
    verify(&sig, &payload, &signers, &email, when)
}

#[test]
fn stock_git_verifies_what_bazaar_signs() {
    let f = fixture();
    let id = sign_on_head(&f, &f.key, "Merge submission\n\nBazaar-Risk: low\n");
    let (ok, out) = git_verify(&f, "HEAD");
    assert!(ok, "git verify-commit: {out}");
    assert!(
        out.contains(&format!("Good \"git\" signature for {EMAIL}")),
        "{out}"
    );
    let log = Command::new("git")
        .args([
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", f.signers_file.display()),
            "log",
            "--show-signature",
            "-1",
        ])
        .current_dir(&f.repo)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("Good \"git\" signature"),
        "{}",
        String::from_utf8_lossy(&log.stdout)
    );
    let v = bazaar_verify(&f, id).unwrap();
    assert_eq!(v.line, 1);
    // the unsigned first commit is unsigned to both
    assert!(!git_verify(&f, "HEAD~1").0);
    let first = git2::Repository::open(&f.repo)
        .unwrap()
        .revparse_single("HEAD~1")
        .unwrap()
        .id();
    assert_eq!(bazaar_verify(&f, first), Err(VerifyError::Unsigned));
}

/// Rewrites main's commit with `edit` (signature kept) and points main at the result.
fn tamper(f: &Fixture, edit: impl Fn(String) -> String) -> git2::Oid {
    git2::Oid::from_str(&forge_tip(&f.repo, "main", edit)).unwrap()
}

#[test]
fn a_changed_message_or_tree_is_caught_by_git_and_by_bazaar() {
    let f = fixture();
    sign_on_head(&f, &f.key, "Merge submission\n\nBazaar-Risk: low\n");
    let id = tamper(&f, |raw| {
        raw.replace("Bazaar-Risk: low", "Bazaar-Risk: high")
    });
    assert!(
        !git_verify(&f, "HEAD").0,
        "git must reject the edited message"
    );
    assert_eq!(bazaar_verify(&f, id), Err(VerifyError::BadSignature));

    let f = fixture();
    sign_on_head(&f, &f.key, "Merge\n");
    let other_tree = git(&f.repo, &["mktree"]);
    let id = tamper(&f, |raw| {
        let old = raw.lines().next().unwrap().to_string();
        raw.replacen(&old, &format!("tree {other_tree}"), 1)
    });
    assert!(
        !git_verify(&f, "HEAD").0,
        "git must reject the swapped tree"
    );
    assert_eq!(bazaar_verify(&f, id), Err(VerifyError::BadSignature));
}

#[test]
fn unknown_keys_and_wrong_principals_are_refused() {
    let f = fixture();
    let (stranger, _) = keygen(f.repo.parent().unwrap(), "stranger");
    let id = sign_on_head(&f, &stranger, "Merge\n");
    assert!(!git_verify(&f, "HEAD").0);
    assert!(matches!(
        bazaar_verify(&f, id),
        Err(VerifyError::UnknownKey(_))
    ));

    // the right key, but allowed only for another principal
    let f = fixture();
    let text = std::fs::read_to_string(&f.signers_file)
        .unwrap()
        .replace(EMAIL, "someone-else@acme.example");
    std::fs::write(&f.signers_file, text).unwrap();
    let id = sign_on_head(&f, &f.key, "Merge\n");
    // git calls this good (it does not compare the principal with the committer) but names the
    // other principal; Bazaar's audit requires the committer's own
    let (ok, out) = git_verify(&f, "HEAD");
    assert!(
        ok && out.contains("signature for someone-else@acme.example"),
        "{out}"
    );
    assert!(matches!(
        bazaar_verify(&f, id),
        Err(VerifyError::NotAllowed { .. })
    ));

    // the right key, but expired before the commit was made
    let f = fixture();
    let text = std::fs::read_to_string(&f.signers_file).unwrap().replace(
        "namespaces=\"git\"",
        "namespaces=\"git\",valid-before=\"20200101Z\"",
    );
    std::fs::write(&f.signers_file, text).unwrap();
    let id = sign_on_head(&f, &f.key, "Merge\n");
    assert!(!git_verify(&f, "HEAD").0);
    assert!(matches!(
        bazaar_verify(&f, id),
        Err(VerifyError::NotAllowed { .. })
    ));
}

#[test]
fn keys_readable_by_others_encrypted_or_not_ed25519_are_refused_without_printing_them() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    std::fs::set_permissions(&f.key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Signer::from_file(&f.key).unwrap_err();
    assert!(
        matches!(e, KeyError::Permissions { mode: 0o644, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("chmod 600"));

    let dir = f.repo.parent().unwrap();
    let enc = dir.join("enc");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "secret-pass", "-f"])
        .arg(&enc)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(matches!(
        Signer::from_file(&enc).unwrap_err(),
        KeyError::Encrypted { .. }
    ));

    let ecdsa = dir.join("ecdsa");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ecdsa", "-N", "", "-f"])
        .arg(&ecdsa)
        .output()
        .unwrap();
    assert!(out.status.success());
    let e = Signer::from_file(&ecdsa).unwrap_err();
    assert!(
        matches!(e, KeyError::Algorithm { .. }) || matches!(e, KeyError::Format { .. }),
        "{e}"
    );

    std::fs::write(dir.join("junk"), "not a key").unwrap();
    std::fs::set_permissions(dir.join("junk"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let e = Signer::from_file(&dir.join("junk")).unwrap_err();
    assert!(matches!(e, KeyError::Format { .. }), "{e}");
    // no key material in any message or debug output
    let private = std::fs::read_to_string(&f.key).unwrap();
    let body: String = private.lines().nth(1).unwrap().chars().take(20).collect();
    std::fs::set_permissions(&f.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let signer = Signer::from_file(&f.key).unwrap();
    assert!(!format!("{signer:?}").contains(&body));
}

#[test]
fn a_branch_that_moved_is_never_overwritten() {
    let f = fixture();
    let repo = git2::Repository::open(&f.repo).unwrap();
    let seen = repo.head().unwrap().peel_to_commit().unwrap();
    let who = git2::Signature::now("Bazaar", EMAIL).unwrap();
    let signer = Signer::from_file(&f.key).unwrap();
    let ours = signed_commit(
        &repo,
        seen.tree_id(),
        &[seen.id()],
        &who,
        &who,
        "ours\n",
        &signer,
    )
    .unwrap();
    // someone else pushes first
    std::fs::write(f.repo.join("other.txt"), "x").unwrap();
    commit_all(&f.repo, "theirs");
    let theirs = repo.refname_to_id("refs/heads/main").unwrap();
    let e = move_branch(&repo, "main", ours, seen.id(), "test").unwrap_err();
    assert!(
        matches!(&e, WriteError::Moved { actual, .. } if *actual == theirs.to_string()),
        "{e}"
    );
    assert!(e.to_string().contains("retry"));
    assert_eq!(
        repo.refname_to_id("refs/heads/main").unwrap(),
        theirs,
        "nothing overwritten"
    );
}
