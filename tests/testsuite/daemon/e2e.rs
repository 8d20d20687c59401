//! The daemon's loop on loopback: a pull request's check run, annotations, sticky comment and
//! labels; fixes, out-of-order and duplicated deliveries; crash, drain, full queue, limits.

use std::time::Duration;

use super::stand_in::{BOT, StandIn};
use super::{Daemon, Remote, SECRET, pull_request_payload, until};
use crate::support::{EXPENSE, edit};

fn broken(w: &std::path::Path) {
    edit(
        &w.join(EXPENSE),
        "runtime = \"web-component\"",
        "runtime = \"docker\"",
    );
}

fn fixed(w: &std::path::Path) {
    edit(
        &w.join(EXPENSE),
        "runtime = \"docker\"",
        "runtime = \"web-component\"",
    );
    edit(
        &w.join(EXPENSE),
        "version = \"2.3.1\"",
        "version = \"2.3.2\"",
    );
}

fn completed(api: &StandIn, head: &str) -> bool {
    api.runs(head).iter().any(|r| r.status == "completed")
}

fn labels(api: &StandIn, n: u64) -> Vec<String> {
    api.labels(n).into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_reports_on_a_pull_request_and_follows_its_newest_head() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let d = Daemon::start(&api, remote.bare.path(), &data.path().join("d"), &[]).await;

    // A broken manifest: a failing check run with the annotation on the right line.
    let h1 = remote.push_pull(1, &main, broken);
    api.set_pull(1, &h1, &main);
    let (s, t) = d
        .post(
            "pull_request",
            "d1",
            &pull_request_payload("opened", 1, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202, "{t}");
    until("the first check run", &d, || completed(&api, &h1)).await;
    let run = &api.runs(&h1)[0];
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:?}");
    let ann = run
        .annotations
        .iter()
        .find(|a| a["path"] == EXPENSE && a["title"].as_str().unwrap().starts_with("BZ0104"))
        .unwrap_or_else(|| panic!("no runtime annotation: {:?}", run.annotations));
    assert_eq!(
        (ann["start_line"].as_u64(), ann["end_line"].as_u64()),
        (Some(10), Some(10))
    );
    assert_eq!(ann["start_column"].as_u64(), Some(11));
    assert_eq!(ann["annotation_level"], "failure");
    let comments = api.comments(1);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let first_id = comments[0].id;
    assert_eq!(comments[0].author, BOT);
    let body = &comments[0].body;
    for want in [
        "<!-- bazaar:sticky -->",
        &format!("<!-- bazaar:head={h1} -->"),
        "BZ0104",
        "app.toml:10:11",
        "<code>bazaar explain BZ0104</code>",
    ] {
        assert!(body.contains(want), "the comment lacks {want:?}:\n{body}");
    }
    // The manifest does not parse, so policies have no app to judge: low risk, no roles.
    assert_eq!(labels(&api, 1), ["risk:low"]);

    // The fix: the check flips to success, the same comment is edited.
    let h2 = remote.push_pull(1, &h1, fixed);
    api.set_pull(1, &h2, &main);
    let (s, _) = d
        .post(
            "pull_request",
            "d2",
            &pull_request_payload("synchronize", 1, &h2, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("the second check run", &d, || completed(&api, &h2)).await;
    assert_eq!(api.runs(&h2)[0].conclusion.as_deref(), Some("success"));
    assert!(api.runs(&h2)[0].annotations.is_empty());
    let comments = api.comments(1);
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].id, first_id, "edited in place");
    let body = &comments[0].body;
    assert!(body.contains(&format!("bazaar:head={h2}")));
    assert!(!body.contains("BZ0104"));
    // Now the policies judge it: confidential data and write scopes make it medium risk.
    for want in [
        "**medium**",
        "| Tier | vetted |",
        "⏳ **security**: waiting; may approve: @alice",
        "⏳ **product-owner**: waiting; may approve: @bob",
    ] {
        assert!(body.contains(want), "the comment lacks {want:?}:\n{body}");
    }
    assert_eq!(
        labels(&api, 1),
        [
            "needs:product-owner",
            "needs:security",
            "risk:medium",
            "tier:vetted"
        ],
        "risk:low went, the new ones came"
    );

    // Out of order and duplicated: h3 (broken) then h4 (fixed) pushed; h4's delivery arrives
    // first, h3's after, each twice. Everything ends in h4's state.
    let h3 = remote.push_pull(1, &h2, |w| {
        edit(
            &w.join(EXPENSE),
            "runtime = \"web-component\"",
            "runtime = \"docker\"",
        )
    });
    let h4 = remote.push_pull(1, &h3, |w| {
        edit(
            &w.join(EXPENSE),
            "runtime = \"docker\"",
            "runtime = \"iframe\"",
        )
    });
    api.set_pull(1, &h4, &main);
    for (id, head) in [("d4", &h4), ("d3", &h3), ("d4", &h4), ("d3", &h3)] {
        let (s, t) = d
            .post(
                "pull_request",
                id,
                &pull_request_payload("synchronize", 1, head, "jane-doe"),
                Some(SECRET),
            )
            .await;
        assert!(s == 202 || (s == 200 && t.contains("duplicate")), "{s} {t}");
    }
    d.settle().await;
    assert_eq!(api.runs(&h4).len(), 1, "one check run for the newest head");
    assert_eq!(api.runs(&h4)[0].conclusion.as_deref(), Some("success"));
    assert!(
        api.runs(&h3).is_empty(),
        "the older head was never the pull request's head when read"
    );
    let comments = api.comments(1);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains(&format!("bazaar:head={h4}")));
    // Re-reads of an unchanged pull request are conditional (ETag) and answered 304.
    assert!(api.calls("304 /repos/{owner}/{repo}/pulls/{pull_number}") > 0);

    // Duplicates of the sticky comment by the bot go (oldest kept); a user's copy of the marker
    // is not Bazaar's and stays. The check is re-requested from GitHub's UI.
    let dup = api.add_comment(1, BOT, "<!-- bazaar:sticky -->\nold duplicate");
    let users = api.add_comment(1, "mallory", "<!-- bazaar:sticky -->\nnot the bot");
    let mut rerun = super::webhooks::example("check_run", "rerequested");
    rerun["check_run"]["pull_requests"] = serde_json::json!([{"number": 1, "id": 1, "url": "https://api.github.com/repos/acme/catalog/pulls/1",
        "head": {"ref": "x", "sha": h4, "repo": rerun["repository"].clone()}, "base": {"ref": "main", "sha": main, "repo": rerun["repository"].clone()}}]);
    rerun["repository"]["full_name"] = serde_json::json!("acme/catalog");
    rerun["sender"]["login"] = serde_json::json!("jane-doe");
    let (s, _) = d
        .post(
            "check_run",
            "d5",
            &serde_json::to_vec(&rerun).unwrap(),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("the re-run", &d, || {
        api.runs(&h4).len() == 2 && api.runs(&h4).iter().all(|r| r.status == "completed")
    })
    .await;
    d.settle().await;
    let ids: Vec<u64> = api.comments(1).iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        vec![first_id, users],
        "bot duplicate {dup} removed, user's kept"
    );

    // Bazaar's own events are ignored.
    let (s, t) = d
        .post(
            "pull_request",
            "d6",
            &pull_request_payload("opened", 1, &h4, BOT),
            Some(SECRET),
        )
        .await;
    assert_eq!((s, t.starts_with("ignored")), (200, true), "{t}");

    let (_, m) = d.get("/metrics").await;
    assert!(
        m.contains("bazaar_deliveries_total{event=\"pull_request\",outcome=\"accepted\"} 4"),
        "{m}"
    );
    assert!(
        m.contains("bazaar_forge_calls_total{status=\"201\"}"),
        "{m}"
    );
    let (s, t) = d.get("/readyz").await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        api.violations(),
        Vec::<String>::new(),
        "requests GitHub would refuse"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_sigkill_after_202_works_the_delivery_exactly_once() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("d");
    let h1 = remote.push_pull(7, &main, broken);
    api.set_pull(7, &h1, &main);

    // held before the start: the reconcile at start reads the pull request too
    api.hold();
    let mut d = Daemon::start(&api, remote.bare.path(), &dir, &[]).await;
    let (s, _) = d
        .post(
            "pull_request",
            "k1",
            &pull_request_payload("opened", 7, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    d.kill();
    api.release();
    assert!(api.runs(&h1).is_empty(), "killed before it could report");

    let d = Daemon::start(&api, remote.bare.path(), &dir, &[]).await;
    until("the journaled delivery to be worked", &d, || {
        completed(&api, &h1)
    })
    .await;
    d.settle().await;
    // The same id again is a duplicate, even across the restart.
    let (s, t) = d
        .post(
            "pull_request",
            "k1",
            &pull_request_payload("opened", 7, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!((s, t.contains("duplicate")), (200, true), "{t}");
    drop(d);

    let pulls_read = api.calls("GET /repos/{owner}/{repo}/pulls/{pull_number}");
    let d = Daemon::start(&api, remote.bare.path(), &dir, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.settle().await;
    // done work is not redone: the only read is the reconcile at start finding the head
    // already reported
    assert_eq!(
        api.calls("GET /repos/{owner}/{repo}/pulls/{pull_number}"),
        pulls_read + 1,
        "done work is not redone"
    );
    assert!(d.log().contains("already reported"), "{}", d.log());
    assert_eq!(api.runs(&h1).len(), 1);
    assert_eq!(api.calls("POST /repos/{owner}/{repo}/check-runs"), 1);
    assert_eq!(api.comments(7).len(), 1);
    drop(d);

    // `bazaar daemon replay` works one journaled delivery again, for debugging.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bazaar"))
        .args(["daemon", "replay", "k1"])
        .env("BAZAAR_WEBHOOK_SECRET", SECRET)
        .env("BAZAAR_REPOSITORY", "acme/catalog")
        .env("BAZAAR_REMOTE_URL", remote.bare.path())
        .env("BAZAAR_DATA_DIR", &dir)
        .env("BAZAAR_GITHUB_API_URL", &api.url)
        .env("BAZAAR_GITHUB_TOKEN", super::stand_in::TOKEN)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("k1: skipped:head"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_limits_rotation_full_queue_and_sigterm_drain() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let mut d = Daemon::start(
        &api,
        remote.bare.path(),
        &data.path().join("d"),
        &[
            ("BAZAAR_WEBHOOK_SECRET", "old-secret,new-secret"),
            ("BAZAAR_QUEUE_CAPACITY", "2"),
            ("BAZAAR_MAX_BODY", "65536"),
        ],
    )
    .await;

    // Oversize: 413, whatever the signature.
    let big = vec![b' '; 70_000];
    let (s, _) = d
        .post("pull_request", "big", &big, Some("new-secret"))
        .await;
    assert_eq!(s, 413);

    // Rotation: both secrets verify, others do not.
    let other = super::webhooks::example("issues", "opened");
    let body = serde_json::to_vec(&other).unwrap();
    assert_eq!(
        d.post("issues", "r1", &body, Some("old-secret")).await.0,
        200
    );
    assert_eq!(
        d.post("issues", "r2", &body, Some("new-secret")).await.0,
        200
    );
    assert_eq!(d.post("issues", "r3", &body, Some(SECRET)).await.0, 401);

    // A full queue refuses without accepting anything.
    let h1 = remote.push_pull(1, &main, broken);
    let h2 = remote.push_pull(2, &main, fixed_from_main);
    api.set_pull(1, &h1, &main);
    api.set_pull(2, &h2, &main);
    api.hold();
    assert_eq!(
        d.post(
            "pull_request",
            "q1",
            &pull_request_payload("opened", 1, &h1, "jane-doe"),
            Some("new-secret")
        )
        .await
        .0,
        202
    );
    assert_eq!(
        d.post(
            "pull_request",
            "q2",
            &pull_request_payload("opened", 2, &h2, "jane-doe"),
            Some("old-secret")
        )
        .await
        .0,
        202
    );
    let p3 = pull_request_payload("reopened", 2, &h2, "jane-doe");
    let (s, _) = d.post("pull_request", "q3", &p3, Some("new-secret")).await;
    assert_eq!(s, 503);
    let (_, m) = d.get("/metrics").await;
    assert!(m.contains("outcome=\"queue_full\"} 1"), "{m}");

    // SIGTERM drains: the daemon stops accepting, waits for the held work, finishes it and
    // exits cleanly.
    d.term();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        d.alive(),
        "the daemon exited without draining:\n{}",
        d.log()
    );
    api.release();
    let status = d.exited().await;
    assert!(status.success(), "{status:?}\n{}", d.log());
    assert!(
        completed(&api, &h1) && completed(&api, &h2),
        "exited before its work was done"
    );
    assert_eq!(api.runs(&h1)[0].conclusion.as_deref(), Some("failure"));
    assert_eq!(api.runs(&h2)[0].conclusion.as_deref(), Some("success"));
    assert_eq!(api.violations(), Vec::<String>::new());
}

fn fixed_from_main(w: &std::path::Path) {
    edit(
        &w.join(EXPENSE),
        "version = \"2.3.1\"",
        "version = \"2.3.2\"",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_lives_through_an_unreachable_remote_and_catches_up_after() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("d");
    let gone = data.path().join("no-such-remote.git");
    let d = Daemon::start(&api, &gone, &dir, &[("BAZAAR_ATTEMPTS", "2")]).await;
    let (s, t) = d.get("/readyz").await;
    assert_eq!(s, 503, "{t}");
    assert!(t.contains("remote"), "{t}");
    let h1 = remote.push_pull(3, &main, broken);
    api.set_pull(3, &h1, &main);
    let (s, _) = d
        .post(
            "pull_request",
            "u1",
            &pull_request_payload("opened", 3, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    d.settle().await;
    assert_eq!(d.get("/healthz").await.0, 200, "alive");
    assert!(!completed(&api, &h1));
    drop(d);
    // With the remote back, the next start works what was left undone.
    let d = Daemon::start(&api, remote.bare.path(), &dir, &[]).await;
    until("the delivery left undone", &d, || completed(&api, &h1)).await;
    assert_eq!(
        api.runs(&h1).len(),
        1,
        "the interrupted check run was carried on, not doubled"
    );
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_as_a_github_app_waits_out_rate_limits_and_never_doubles_a_create() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    // The App's key, as GitHub hands it out (PKCS#1 PEM).
    let key = data.path().join("app.pem");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (openssh-client; .ci/run installs it)");
    assert!(out.status.success());
    let public = std::process::Command::new("ssh-keygen")
        .args(["-e", "-m", "PEM", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    {
        let mut w = api.world.lock().unwrap();
        w.app_public_key = Some(String::from_utf8(public.stdout).unwrap());
        // While the daemon was away: "missed" failed twice, "recovered" failed then succeeded.
        w.hook_deliveries = vec![
            super::stand_in::hook_delivery(11, "missed", 502),
            super::stand_in::hook_delivery(12, "recovered", 503),
            super::stand_in::hook_delivery(13, "missed", 502),
            super::stand_in::hook_delivery(14, "recovered", 202),
        ];
        w.rate_limit_once = Some("POST /repos/{owner}/{repo}/check-runs".into());
        w.lose_answer_once =
            Some("POST /repos/{owner}/{repo}/issues/{issue_number}/comments".into());
    }
    let key = key.to_str().unwrap().to_string();
    let d = Daemon::start(
        &api,
        remote.bare.path(),
        &data.path().join("d"),
        &[
            ("BAZAAR_GITHUB_TOKEN", ""),
            ("BAZAAR_GITHUB_APP_ID", "42"),
            ("BAZAAR_GITHUB_APP_KEY_FILE", &key),
        ],
    )
    .await;
    let h1 = remote.push_pull(5, &main, broken);
    api.set_pull(5, &h1, &main);
    let (s, _) = d
        .post(
            "pull_request",
            "a1",
            &pull_request_payload("opened", 5, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("the check run", &d, || completed(&api, &h1)).await;
    d.settle().await;
    // The rate-limited create waited (retry-after) and was made once; the create whose answer
    // was lost was read back, not repeated.
    assert_eq!(api.runs(&h1).len(), 1);
    assert_eq!(api.calls("POST /repos/{owner}/{repo}/check-runs"), 2);
    assert_eq!(api.comments(5).len(), 1, "{:?}", api.comments(5));
    assert_eq!(
        api.calls("POST /repos/{owner}/{repo}/issues/{issue_number}/comments"),
        1
    );
    // One installation token for all of it; Bazaar knows itself as the App's bot.
    assert_eq!(
        api.calls("POST /app/installations/{installation_id}/access_tokens"),
        1
    );
    assert_eq!(api.comments(5)[0].author, BOT);
    // Missed deliveries were asked again, once, by their newest failed attempt.
    assert_eq!(api.world.lock().unwrap().redelivered, vec![13]);
    let (_, m) = d.get("/metrics").await;
    assert!(
        m.contains("bazaar_forge_calls_total{status=\"403\"} 1"),
        "{m}"
    );
    assert!(m.contains("bazaar_forge_rate_limit_remaining 4999"), "{m}");
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_an_older_head_never_overwrites_a_newer_one() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let d = Daemon::start(&api, remote.bare.path(), &data.path().join("d"), &[]).await;
    let h1 = remote.push_pull(9, &main, broken);
    let h2 = remote.push_pull(9, &h1, fixed);
    // h1 is the head when its check starts; h2 is pushed while h1 is being judged.
    api.set_pull(9, &h1, &main);
    api.world
        .lock()
        .unwrap()
        .head_script
        .insert(9, [h1.clone(), h2.clone()].into());
    let (s, _) = d
        .post(
            "pull_request",
            "o1",
            &pull_request_payload("opened", 9, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("h1's check run", &d, || completed(&api, &h1)).await;
    d.settle().await;
    assert_eq!(
        api.runs(&h1)[0].conclusion.as_deref(),
        Some("failure"),
        "h1's own check run is still right"
    );
    assert!(
        api.comments(9).is_empty(),
        "h1's verdict must not reach the pull request's comment"
    );
    assert!(api.labels(9).is_empty(), "nor its labels");
    let (s, _) = d
        .post(
            "pull_request",
            "o2",
            &pull_request_payload("synchronize", 9, &h2, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("h2's check run", &d, || completed(&api, &h2)).await;
    d.settle().await;
    let comments = api.comments(9);
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.contains(&format!("bazaar:head={h2}")));
    assert!(api.labels(9).contains("risk:medium"));
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_many_findings_go_in_batches_of_fifty() {
    let api = StandIn::start().await;
    let remote = Remote::demo();
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let d = Daemon::start(&api, remote.bare.path(), &data.path().join("d"), &[]).await;
    // 120 unknown keys: 120 findings, each on its own line.
    let h1 = remote.push_pull(4, &main, |w| {
        let path = w.join(EXPENSE);
        let mut text = std::fs::read_to_string(&path).unwrap();
        let extra: String = (0..120)
            .map(|i| format!("unknown_key_{i} = {i}\n"))
            .collect();
        text = text.replacen(
            "tier = \"vetted\"\n",
            &format!("tier = \"vetted\"\n{extra}"),
            1,
        );
        std::fs::write(&path, text).unwrap();
    });
    api.set_pull(4, &h1, &main);
    let (s, _) = d
        .post(
            "pull_request",
            "m1",
            &pull_request_payload("opened", 4, &h1, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    until("the check run", &d, || completed(&api, &h1)).await;
    d.settle().await;
    let run = &api.runs(&h1)[0];
    assert!(run.annotations.len() >= 120, "{}", run.annotations.len());
    assert!(
        api.calls("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}") >= 3,
        "batches of at most 50"
    );
    let lines: std::collections::BTreeSet<u64> = run
        .annotations
        .iter()
        .filter_map(|a| a["start_line"].as_u64())
        .collect();
    assert!(
        lines.contains(&12) && lines.contains(&131),
        "one per unknown key's line: {lines:?}"
    );
    let body = &api.comments(4)[0].body;
    assert!(
        body.contains("…and "),
        "the comment's list is cut with a count:\n{body}"
    );
    assert!(body.chars().count() < 65_536);
    // The labels were created with Bazaar's colours and descriptions, not GitHub's defaults.
    let w = api.world.lock().unwrap();
    assert_eq!(
        w.repo_labels.get("risk:low").map(|l| l.0.as_str()),
        Some("0e8a16")
    );
    drop(w);
    assert_eq!(api.violations(), Vec::<String>::new());
}
