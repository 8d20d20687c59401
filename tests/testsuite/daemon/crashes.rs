//! The daemon killed (SIGKILL) at the points where a merge could be lost or doubled: during the
//! check, after the signed commit while its push is under way (refused, or landing after the
//! kill), and during the site build. After the restart every pull request ends in its right
//! state: merged once, reported once, no unsigned commit on `main`, the site whole.

use std::path::Path;

use super::merging::{all_signed_since, low_risk, merges_of, merging_daemon};
use super::stand_in::StandIn;
use super::{Remote, SECRET, pull_request_payload, until};

/// A pre-receive hook on the remote that holds a push to `main` until the test says how it ends
/// (other pushes, such as the test's own pull request heads, pass).
fn hold_pushes(remote: &Remote, gate: &Path) {
    let hook = remote.bare.path().join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ngrep -q ' refs/heads/main$' || exit 0\ntouch '{g}/entered'\nwhile [ ! -e '{g}/go' ]; do sleep 0.05; done\n[ -e '{g}/allow' ] || exit 1\n",
            g = gate.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_sigkill_around_the_push_merges_once_and_reports_once() {
    for push_lands in [false, true] {
        let api = StandIn::start().await;
        let remote = Remote::signed(|_| {});
        api.serve_git(remote.bare.path());
        let main = remote.main_sha();
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("d");
        let gate = data.path().join("gate");
        std::fs::create_dir(&gate).unwrap();
        hold_pushes(&remote, &gate);
        let mut d = merging_daemon(&api, &remote, &dir).await;
        let h = remote.push_pull(5, &main, low_risk);
        api.set_pull(5, &h, &main);
        let (s, _) = d
            .post(
                "pull_request",
                "crash",
                &pull_request_payload("opened", 5, &h, "jane-doe"),
                Some(SECRET),
            )
            .await;
        assert_eq!(s, 202);
        // the signed commit is made and its push has reached the remote: kill the daemon
        until("the push to reach the remote", &d, || {
            gate.join("entered").exists()
        })
        .await;
        d.kill();
        if push_lands {
            std::fs::write(gate.join("allow"), "").unwrap();
        }
        std::fs::write(gate.join("go"), "").unwrap();
        // the orphaned push ends either way; then the hook goes
        let t = std::time::Instant::now();
        while push_lands && merges_of(&remote, &h).is_empty() {
            assert!(t.elapsed() < std::time::Duration::from_secs(20));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        std::fs::remove_file(remote.bare.path().join("hooks/pre-receive")).unwrap();
        assert_eq!(merges_of(&remote, &h).len(), usize::from(push_lands));

        // after the restart the journaled delivery is worked again
        let d = merging_daemon(&api, &remote, &dir).await;
        until("the pull request to be merged and reported", &d, || {
            api.runs(&h).iter().any(|r| {
                r.title
                    .as_deref()
                    .is_some_and(|t| t.starts_with("Merged as"))
            })
        })
        .await;
        d.settle().await;
        let merges = merges_of(&remote, &h);
        assert_eq!(merges.len(), 1, "push landed: {push_lands}\n{}", d.log());
        all_signed_since(&remote, &main);
        let finals = api
            .comments(5)
            .iter()
            .filter(|c| c.body.contains("<!-- bazaar:merged="))
            .count();
        assert_eq!(finals, 1, "push landed: {push_lands}");
        assert!(!api.is_open(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_sigkill_during_the_check_and_the_site_build_leaves_everything_whole() {
    let api = StandIn::start().await;
    let remote = Remote::signed(|_| {});
    api.serve_git(remote.bare.path());
    let main = remote.main_sha();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("d");
    let site = dir.join("site");
    // killed during the check: the pull request reads are held, then the daemon dies
    api.hold();
    let mut d = merging_daemon(&api, &remote, &dir).await;
    let h = remote.push_pull(6, &main, low_risk);
    api.set_pull(6, &h, &main);
    let (s, _) = d
        .post(
            "pull_request",
            "during-check",
            &pull_request_payload("opened", 6, &h, "jane-doe"),
            Some(SECRET),
        )
        .await;
    assert_eq!(s, 202);
    d.kill();
    api.release();
    assert_eq!(remote.main_sha(), main);

    // restarted: merged; killed again as soon as the site build of the merge starts
    let mut d = merging_daemon(&api, &remote, &dir).await;
    until("the merge", &d, || merges_of(&remote, &h).len() == 1).await;
    let merged = remote.main_sha();
    let building = format!("building the site rev={merged}");
    until("the site build to start", &d, || {
        d.log().contains(&building)
    })
    .await;
    d.kill();
    assert_ne!(
        std::fs::read_to_string(dir.join("published"))
            .unwrap_or_default()
            .trim(),
        merged,
        "killed before the build of the merge was published"
    );
    // the published link, if any, points at a whole site
    if site.exists() {
        assert!(site.join("index.html").exists());
    }
    // restarted: the reconcile rebuilds what was not published
    let d = merging_daemon(&api, &remote, &dir).await;
    let published = dir.join("published");
    until("the site to be published", &d, || {
        std::fs::read_to_string(&published).is_ok_and(|p| p.trim() == remote.main_sha())
    })
    .await;
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    // every page the index links to is there
    let mut checked = 0;
    for part in index.split("href=\"").skip(1) {
        let link = part.split('"').next().unwrap();
        if link.starts_with("http") || link.starts_with('#') || link.starts_with("mailto:") {
            continue;
        }
        let rel = link
            .trim_start_matches('/')
            .split(['#', '?'])
            .next()
            .unwrap();
        let path = if rel.is_empty() || rel.ends_with('/') {
            site.join(rel).join("index.html")
        } else {
            site.join(rel)
        };
        assert!(path.exists(), "the index links to {link}, which is missing");
        checked += 1;
    }
    assert!(checked > 10, "{checked} links checked");
    assert_eq!(merges_of(&remote, &h).len(), 1);
    all_signed_since(&remote, &main);
}
