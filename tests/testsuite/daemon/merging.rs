//! The daemon's main loop end to end: approvals on the forge become a signed merge pushed to
//! `main`, and the site follows. Reviews only count from the base roster, on the current head,
//! after Bazaar saw it; the author, stale heads and dismissals do not. A race with another push
//! is re-judged; two daemons never merge twice.

use std::path::Path;

use super::stand_in::StandIn;
use super::{Daemon, Remote, SECRET, pull_request_payload, review_payload, until};
use crate::support::{self, edit, git, raise_data_class};

/// Starts a merging daemon (key and site folder) for `remote`.
pub(super) async fn merging_daemon(api: &StandIn, remote: &Remote, data: &Path) -> Daemon {
    merging_daemon_with(api, remote, data, &[]).await
}

/// [`merging_daemon`] with more settings.
async fn merging_daemon_with(
    api: &StandIn,
    remote: &Remote,
    data: &Path,
    extra: &[(&str, &str)],
) -> Daemon {
    let key = remote.key();
    let site = data.join("site");
    let mut env = vec![
        ("BAZAAR_SIGNING_KEY", key.to_str().unwrap()),
        ("BAZAAR_SITE_DIR", site.to_str().unwrap()),
        // the lifecycle sweep has its own tests; here main moves only by merges
        ("BAZAAR_SWEEP_EVERY", "off"),
    ];
    env.extend_from_slice(extra);
    Daemon::start(api, remote.bare.path(), data, &env).await
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
pub(super) fn merges_of(remote: &Remote, head: &str) -> Vec<String> {
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
pub(super) fn all_signed_since(remote: &Remote, since: &str) {
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

/// `bazaar audit --recompute` accepts a clone of the remote's main.
fn audit_passes(remote: &Remote) {
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
    // the site goes to a folder, a gh-pages branch and a bucket of a real S3 server
    let moto = crate::publish::Moto::start();
    moto.bucket("site");
    let endpoint = moto.endpoint();
    let d = merging_daemon_with(
        &api,
        &remote,
        &data.path().join("d"),
        &[
            ("BAZAAR_PUBLISH_BRANCH", "gh-pages"),
            ("BAZAAR_PUBLISH_BUCKET", "s3://site/catalog"),
            ("BAZAAR_S3_ENDPOINT", &endpoint),
            ("BAZAAR_S3_REGION", "us-east-1"),
            ("BAZAAR_S3_ACCESS_KEY_ID", "test"),
            ("BAZAAR_S3_SECRET_ACCESS_KEY", "test"),
        ],
    )
    .await;

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
    assert_eq!(merges_of(&remote, &h2), std::slice::from_ref(&merged));
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
    audit_passes(&remote);
    // the site follows main: the app page shows the new data class
    let page = data
        .path()
        .join("d/site/apps/com.acme.security.password-strength-meter/index.html");
    until("the site to show the merge", &d, || {
        std::fs::read_to_string(&page).is_ok_and(|p| p.contains("internal"))
    })
    .await;
    let published = data.path().join("d/published");
    until("every target to take the merge", &d, || {
        std::fs::read_to_string(&published).is_ok_and(|p| p.trim() == merged)
    })
    .await;
    let rel = "apps/com.acme.security.password-strength-meter/index.html";
    let on_branch = git(remote.bare.path(), &["show", &format!("gh-pages:{rel}")]);
    assert!(on_branch.contains("internal"), "gh-pages has the new page");
    let store = moto.store("site");
    let object = store
        .get(&object_store::path::Path::from(format!("catalog/{rel}")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&object).contains("internal"),
        "the bucket has the new page"
    );
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_team_grants_count_the_pull_requests_own_roster_does_not_and_policies_need_admin() {
    let api = StandIn::start().await;
    // the base roster grants security to a team as well
    let remote = Remote::signed(|w| {
        edit(
            &w.join("policies/reviewers.toml"),
            "security = [\"alice\"]",
            "security = [\"alice\", \"@acme/sec-team\"]",
        )
    });
    api.serve_git(remote.bare.path());
    api.team("acme/sec-team", &["frank"]);
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let d = merging_daemon(&api, &remote, &data.path().join("d")).await;

    // the submission makes mallory a product owner and raises a data class
    let h = remote.push_pull(2, &main, |w| {
        raise_data_class(w);
        edit(
            &w.join("policies/reviewers.toml"),
            "product-owner = [\"bob\"]",
            "product-owner = [\"bob\", \"mallory\"]",
        );
    });
    opened(&d, &api, 2, &h, &main).await;
    let (_, _, title) = run_state(&api, &h);
    assert_eq!(
        title,
        "Waiting for approval: admin, product-owner, security"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    approve(&d, &api, 2, &h, "mallory").await;
    let body = sticky(&api, 2);
    assert!(
        body.contains("@mallory: holds none of the required roles in the base branch's"),
        "the pull request's own roster grants nothing:\n{body}"
    );
    approve(&d, &api, 2, &h, "frank").await;
    approve(&d, &api, 2, &h, "bob").await;
    let body = sticky(&api, 2);
    assert!(
        body.contains("✅ **security**: approved by @frank (through @acme/sec-team)"),
        "{body}"
    );
    assert!(
        body.contains("⏳ **admin**: waiting; may approve: @erin"),
        "{body}"
    );
    assert_eq!(
        remote.main_sha(),
        main,
        "a policies/ change waits for admin"
    );
    approve(&d, &api, 2, &h, "erin").await;
    let merged = remote.main_sha();
    assert_eq!(
        merges_of(&remote, &h),
        std::slice::from_ref(&merged),
        "{}",
        d.log()
    );
    let t = trailers(&remote, &merged);
    let frank = t
        .lines()
        .find(|l| l.starts_with("Bazaar-Approval: frank role=security"))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(frank.ends_with("team=acme/sec-team"), "{frank}");
    assert!(t.contains("Bazaar-Approval: erin role=admin"), "{t}");
    assert!(!t.contains("mallory"), "{t}");
    audit_passes(&remote);
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}

/// A change to an app the submissions do not touch.
fn unrelated(w: &Path) {
    edit(
        &w.join(support::EXPENSE),
        "version = \"2.3.1\"",
        "version = \"2.3.9\"",
    );
}

/// A low-risk change: no role needs to approve.
pub(super) fn low_risk(w: &Path) {
    edit(
        &w.join("catalog/security/password-strength-meter/app.toml"),
        "classification = \"public\"",
        "classification = \"public\"\n# wording",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_rejudges_on_the_new_base_when_main_moves_before_the_push() {
    let api = StandIn::start().await;
    let remote = Remote::signed(|_| {});
    api.serve_git(remote.bare.path());
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let d = merging_daemon(&api, &remote, &data.path().join("d")).await;
    let h = remote.push_pull(3, &main, raise_data_class);
    opened(&d, &api, 3, &h, &main).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    approve(&d, &api, 3, &h, "alice").await;

    // the last approval: the merge's read of the pull request (the third read: check, "is it
    // still the head", merge) is held while someone else pushes to main
    api.world.lock().unwrap().hold_at_read = Some(3);
    api.review(3, "bob", "APPROVED", &h);
    let (s, _) = d
        .post(
            "pull_request_review",
            "race",
            &review_payload("submitted", 3, &h, "bob"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("the merge to be held", &d, || {
        api.world.lock().unwrap().held
    })
    .await;
    let other = remote.push_main(unrelated);
    api.release();
    d.settle().await;
    let merged = remote.main_sha();
    let parents = git(
        remote.bare.path(),
        &["rev-list", "--parents", "-n1", &merged],
    );
    assert_eq!(
        parents,
        format!("{merged} {other} {h}"),
        "merged on top of the other push, nothing overwritten:\n{}",
        d.log()
    );
    assert!(
        d.log().contains("main moved before the push"),
        "{}",
        d.log()
    );
    assert!(trailers(&remote, &merged).contains(&format!("Bazaar-Base: {other}")));
    remote.verify(&merged).unwrap();
    assert!(!api.is_open(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_two_daemons_on_one_repository_never_merge_twice() {
    let api = StandIn::start().await;
    let remote = Remote::signed(|_| {});
    api.serve_git(remote.bare.path());
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let a = merging_daemon(&api, &remote, &data.path().join("a")).await;
    let b = merging_daemon(&api, &remote, &data.path().join("b")).await;
    // low risk: ready as soon as the check passes, so both daemons race to merge it
    let h = remote.push_pull(4, &main, low_risk);
    api.set_pull(4, &h, &main);
    let body = pull_request_payload("opened", 4, &h, "jane-doe");
    let (ra, rb) = tokio::join!(
        a.post("pull_request", "two-a", &body, Some(SECRET)),
        b.post("pull_request", "two-b", &body, Some(SECRET)),
    );
    assert_eq!((ra.0, rb.0), (202, 202));
    a.settle().await;
    b.settle().await;
    let merges = merges_of(&remote, &h);
    assert_eq!(merges.len(), 1, "{}\n{}", a.log(), b.log());
    assert_eq!(
        git(
            remote.bare.path(),
            &["rev-list", "--count", &format!("{main}..main")]
        ),
        "2",
        "the merge and the head, nothing else"
    );
    all_signed_since(&remote, &main);
    assert!(!api.is_open(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_reconcile_catches_what_was_missed_while_it_was_down() {
    let api = StandIn::start().await;
    let remote = Remote::signed(|_| {});
    api.serve_git(remote.bare.path());
    let main = remote.main_sha();
    // a low-risk pull request opened while no daemon ran: no webhook ever reaches one
    let h = remote.push_pull(8, &main, low_risk);
    api.set_pull(8, &h, &main);
    let data = tempfile::tempdir().unwrap();
    let d = merging_daemon(&api, &remote, &data.path().join("d")).await;
    // the reconcile at start checks it, merges it (no role needed) and publishes the site
    until("the missed pull request to be merged", &d, || {
        merges_of(&remote, &h).len() == 1
    })
    .await;
    d.settle().await;
    let merged = remote.main_sha();
    remote.verify(&merged).unwrap();
    let published = data.path().join("d/published");
    until("the site of the merge", &d, || {
        std::fs::read_to_string(&published).is_ok_and(|p| p.trim() == merged)
    })
    .await;
    assert!(!api.is_open(8));
    assert!(api.violations().is_empty(), "{:?}", api.violations());
}
