//! The daemon's main loop end to end: approvals on the forge become a signed merge pushed to
//! `main`, and the site follows. Reviews only count from the base roster, on the current head,
//! after Bazaar saw it; the author, stale heads and dismissals do not. A race with another push
//! is re-judged; two daemons never merge twice.

use std::path::Path;

use super::stand_in::StandIn;
use super::{Daemon, Remote, SECRET, pull_request_payload, review_payload, until};
use crate::support::{self, edit, git, raise_data_class};

/// Starts a merging daemon (key and site folder) for `remote`.
async fn merging_daemon(api: &StandIn, remote: &Remote, data: &Path) -> Daemon {
    let key = remote.key();
    let site = data.join("site");
    Daemon::start(
        api,
        remote.bare.path(),
        data,
        &[
            ("BAZAAR_SIGNING_KEY", key.to_str().unwrap()),
            ("BAZAAR_SITE_DIR", site.to_str().unwrap()),
        ],
    )
    .await
}

async fn opened(d: &Daemon, api: &StandIn, n: u64, head: &str, base: &str) {
    api.set_pull(n, head, base);
    let (s, t) = d
        .post(
            "pull_request",
            &format!("open-{n}-{head}"),
            &pull_request_payload("opened", n, head, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202, "{t}");
    d.settle().await;
}

/// A review by `who` on `head`, and its webhook.
async fn approve(d: &Daemon, api: &StandIn, n: u64, head: &str, who: &str) -> u64 {
    let id = api.review(n, who, "APPROVED", head);
    let (s, t) = d
        .post(
            "pull_request_review",
            &format!("review-{id}"),
            &review_payload("submitted", n, head, who),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202, "{t}");
    d.settle().await;
    id
}

fn sticky(api: &StandIn, n: u64) -> String {
    api.comments(n)
        .into_iter()
        .find(|c| c.body.contains("<!-- bazaar:sticky -->"))
        .map(|c| c.body)
        .unwrap_or_default()
}

fn run_state(api: &StandIn, head: &str) -> (String, Option<String>, String) {
    let r = api.runs(head).last().cloned().expect("a check run");
    (r.status, r.conclusion, r.title.unwrap_or_default())
}

/// Merge commits on main's first-parent line whose second parent is `head`.
fn merges_of(remote: &Remote, head: &str) -> Vec<String> {
    git(
        remote.bare.path(),
        &["rev-list", "--first-parent", "--parents", "main"],
    )
    .lines()
    .filter(|l| l.split_whitespace().nth(2) == Some(head))
    .map(|l| l.split_whitespace().next().unwrap().to_string())
    .collect()
}

/// Every commit on main after `since` is signed by Bazaar's key (stock git verifies it).
fn all_signed_since(remote: &Remote, since: &str) {
    for c in git(
        remote.bare.path(),
        &["rev-list", "--first-parent", &format!("{since}..main")],
    )
    .lines()
    {
        if let Err(e) = remote.verify(c) {
            panic!("commit {c} on main is not signed by Bazaar: {e}");
        }
    }
}

fn trailers(remote: &Remote, commit: &str) -> String {
    git(
        remote.bare.path(),
        &["log", "-1", "--format=%(trailers)", commit],
    )
}

/// A second change to the same app, still medium risk.
fn reword(w: &Path) {
    edit(
        &w.join("catalog/security/password-strength-meter/app.toml"),
        "classification = \"internal\"",
        "classification = \"internal\"\n# reviewed wording",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_merges_when_every_required_role_approved_the_current_head() {
    let api = StandIn::start().await;
    let remote = Remote::signed(|_| {});
    api.serve_git(remote.bare.path());
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let d = merging_daemon(&api, &remote, &data.path().join("d")).await;

    // a medium-risk change: security and product-owner must approve
    let h1 = remote.push_pull(1, &main, raise_data_class);
    opened(&d, &api, 1, &h1, &main).await;
    let (status, _, title) = run_state(&api, &h1);
    assert_eq!(status, "in_progress", "pending until approved: {title}");
    assert_eq!(title, "Waiting for approval: product-owner, security");

    // the author's approval is ignored, and the comment says why
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    approve(&d, &api, 1, &h1, "jane-doe").await;
    let body = sticky(&api, 1);
    assert!(
        body.contains("@jane-doe: the author cannot approve"),
        "{body}"
    );
    // security approves: still waiting, the comment names product-owner and who can give it
    approve(&d, &api, 1, &h1, "alice").await;
    let body = sticky(&api, 1);
    for want in [
        "✅ **security**: approved by @alice",
        "⏳ **product-owner**: waiting; may approve: @bob",
    ] {
        assert!(body.contains(want), "the comment lacks {want:?}:\n{body}");
    }
    let labels: Vec<String> = api.labels(1).into_iter().collect();
    assert!(
        labels.contains(&"needs:product-owner".to_string()),
        "{labels:?}"
    );
    assert!(
        !labels.contains(&"needs:security".to_string()),
        "{labels:?}"
    );
    assert_eq!(remote.main_sha(), main, "nothing merged yet");

    // a new push: alice's approval was given on the old head and no longer counts
    let h2 = remote.push_pull(1, &h1, reword);
    api.set_pull(1, &h2, &main);
    let (s, _) = d
        .post(
            "pull_request",
            "sync-2",
            &pull_request_payload("synchronize", 1, &h2, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    d.settle().await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // bob approves, but his review is dismissed before anything counts it
    let bobs = api.review(1, "bob", "APPROVED", &h2);
    api.dismiss(1, bobs);
    let (s, _) = d
        .post(
            "pull_request_review",
            "dismissed-1",
            &review_payload("dismissed", 1, &h2, "bob"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    d.settle().await;
    let body = sticky(&api, 1);
    assert!(body.contains("@alice: given on"), "{body}");
    assert!(body.contains("@bob: dismissed"), "{body}");
    assert_eq!(
        remote.main_sha(),
        main,
        "a stale and a dismissed approval merge nothing"
    );

    // both approve the current head: merged
    approve(&d, &api, 1, &h2, "alice").await;
    assert_eq!(remote.main_sha(), main);
    approve(&d, &api, 1, &h2, "bob").await;
    let merged = remote.main_sha();
    assert_ne!(merged, main, "merged:\n{}", d.log());
    assert_eq!(merges_of(&remote, &h2), [merged.clone()]);
    let good = remote.verify(&merged).unwrap();
    assert!(
        good.contains("Good \"git\" signature for bazaar@acme.example"),
        "{good}"
    );
    let t = trailers(&remote, &merged);
    assert!(t.contains(&format!("Bazaar-Head: {h2}")), "{t}");
    assert!(t.contains(&format!("Bazaar-Base: {main}")), "{t}");
    assert!(
        t.contains("Bazaar-Submission: https://github.com/acme/catalog/pull/1"),
        "{t}"
    );
    for (who, role) in [("alice", "security"), ("bob", "product-owner")] {
        let line = t
            .lines()
            .find(|l| l.starts_with(&format!("Bazaar-Approval: {who} role={role}")))
            .unwrap_or_else(|| panic!("no approval of {who}:\n{t}"));
        assert!(line.contains(&format!("head={h2}")), "{line}");
        let id = super::stand_in_reviews::user_id(who);
        assert!(line.contains(&format!("user={id}")), "{line}");
    }
    assert!(!t.contains("jane-doe role="), "{t}");
    // GitHub closes the pull request itself; the run completes; one final comment links it
    assert!(!api.is_open(1));
    let (status, conclusion, title) = run_state(&api, &h2);
    assert_eq!(
        (status.as_str(), conclusion.as_deref()),
        ("completed", Some("success"))
    );
    assert!(title.starts_with("Merged as "), "{title}");
    let finals: Vec<_> = api
        .comments(1)
        .into_iter()
        .filter(|c| c.body.contains(&format!("<!-- bazaar:merged={merged} -->")))
        .collect();
    assert_eq!(finals.len(), 1);
    // stock git and `bazaar audit` accept main
    let clone = tempfile::tempdir().unwrap();
    git(
        clone.path(),
        &["clone", "-q", remote.bare.path().to_str().unwrap(), "c"],
    );
    let audit = support::bazaar(&[
        "audit",
        "--root",
        clone.path().join("c").to_str().unwrap(),
        "--recompute",
    ]);
    assert_eq!(audit.code, 0, "{}\n{}", audit.stdout, audit.stderr);
    // the site follows main: the app page shows the new data class
    let page = data
        .path()
        .join("d/site/apps/com.acme.security.password-strength-meter/index.html");
    until("the site to show the merge", &d, || {
        std::fs::read_to_string(&page).is_ok_and(|p| p.contains("internal"))
    })
    .await;
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}
