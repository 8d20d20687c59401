//! `cargo bench --bench approval`: from the last required approval to the signed merge pushed,
//! with the release binary as a platform team runs it, on a 10,000-app catalog (issue 17: under
//! 1 s on 2 cores). A small GitHub stand-in on loopback serves the pull request, its check runs
//! and reviews; the remote is a bare repository. `BAZAAR_BENCH_APPS` changes the size.
//!
//! Each round: a one-app medium-risk pull request is opened (its check runs and waits for the
//! roles the policies require), then one reviewer per required role approves; the time is taken
//! from posting the last approval's webhook to the moment the remote's `main` holds the signed
//! merge (the push, seen by polling the bare repository).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, Uri};
use serde_json::{Value, json};

mod common;

use common::{Daemon, free_port, git};

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");
const SECRET: &str = "bench-secret";

#[derive(Default)]
struct Forge {
    heads: HashMap<u64, String>,
    /// Check runs: id → (head, started_at, status, title).
    runs: HashMap<u64, (String, String, String, String)>,
    reviews: HashMap<u64, Vec<Value>>,
    next: u64,
}

type Shared = Arc<Mutex<Forge>>;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn forge(State(f): State<Shared>, method: Method, uri: Uri, body: Bytes) -> String {
    let segs: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut f = f.lock().unwrap();
    let v = match (method.as_str(), segs.as_slice()) {
        ("GET", ["user"]) => json!({"login": "bench[bot]"}),
        ("GET", [_, _, _, "pulls", n]) => {
            let n: u64 = n.parse().unwrap();
            let head = f.heads.get(&n).cloned().unwrap_or_default();
            json!({"number": n, "state": "open", "draft": false,
                   "head": {"sha": head}, "base": {"ref": "main", "sha": "0".repeat(40)},
                   "user": {"login": "jane-doe"},
                   "html_url": format!("https://github.com/acme/catalog/pull/{n}"),
                   "created_at": "2026-11-30T09:00:00Z"})
        }
        ("GET", [_, _, _, "pulls", n, "reviews"]) => {
            let n: u64 = n.parse().unwrap();
            json!(f.reviews.get(&n).cloned().unwrap_or_default())
        }
        ("GET", [_, _, _, "commits", head, "check-runs"]) => {
            let runs: Vec<Value> = f
                .runs
                .iter()
                .filter(|(_, r)| r.0 == *head)
                .map(|(id, r)| json!({"id": id, "head_sha": r.0, "name": "Bazaar", "status": r.2, "started_at": r.1}))
                .collect();
            json!({"total_count": runs.len(), "check_runs": runs})
        }
        ("POST", [_, _, _, "check-runs"]) => {
            f.next += 1;
            let id = f.next;
            let head = body["head_sha"].as_str().unwrap_or_default().to_string();
            f.runs.insert(
                id,
                (head.clone(), now(), "in_progress".into(), String::new()),
            );
            json!({"id": id, "head_sha": head, "name": "Bazaar", "status": "in_progress", "started_at": now()})
        }
        ("PATCH", [_, _, _, "check-runs", id]) => {
            let id: u64 = id.parse().unwrap();
            let status = if body["conclusion"].is_string() {
                "completed"
            } else {
                "in_progress"
            };
            if let Some(r) = f.runs.get_mut(&id) {
                r.2 = status.into();
                r.3 = body["output"]["title"].as_str().unwrap_or_default().into();
            }
            json!({"id": id, "status": status})
        }
        ("GET", [_, _, _, "issues", _, "comments"]) => json!([]),
        ("POST", [_, _, _, "issues", _, "comments"]) => {
            json!({"id": 1, "user": {"login": "bench[bot]"}, "body": body["body"]})
        }
        ("GET", [_, _, _, "issues", _, "labels"]) => json!([]),
        ("POST", [_, _, _, "issues", _, "labels"]) => json!([]),
        ("GET", [_, _, _, "pulls"]) => json!([]),
        _ => json!({}),
    };
    v.to_string()
}

async fn post(http: &reqwest::Client, url: &str, event: &str, id: &str, body: Value) {
    let body = serde_json::to_vec(&body).unwrap();
    let r = http
        .post(format!("{url}/webhook"))
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .header(
            "x-hub-signature-256",
            bazaar::daemon::signature::sign(SECRET, &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(180), "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let apps: usize = std::env::var("BAZAAR_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let f: Shared = Arc::default();
        let app = axum::Router::new().fallback(forge).with_state(f.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let tmp = tempfile::tempdir().unwrap();
        let tmp = tmp.path();

        // the catalog, with allowed_signers trusting Bazaar's key
        let work = tmp.join("catalog");
        let ok = Command::new(BIN)
            .args(["init", "--sample", &apps.to_string(), work.to_str().unwrap()])
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "init --sample");
        let key = tmp.join("bazaar_key");
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen is needed")
            .success();
        assert!(ok);
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        std::fs::write(
            work.join("policies/allowed_signers"),
            format!("bazaar@acme.example namespaces=\"git\" {}\n", public.trim()),
        )
        .unwrap();
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-qm", "trust Bazaar's key"]);
        let bare = tmp.join("remote.git");
        git(tmp, &["clone", "-q", "--bare", work.to_str().unwrap(), bare.to_str().unwrap()]);
        let roster: toml::Table =
            toml::from_str(&std::fs::read_to_string(work.join("policies/reviewers.toml")).unwrap())
                .unwrap();
        let holder = |role: &str| -> String {
            roster["roles"][role][0].as_str().unwrap().to_string()
        };

        let port = free_port();
        let _d = Daemon(
            Command::new(BIN)
                .arg("daemon")
                .env("BAZAAR_LISTEN", format!("127.0.0.1:{port}"))
                .env("BAZAAR_WEBHOOK_SECRET", SECRET)
                .env("BAZAAR_REPOSITORY", "acme/catalog")
                .env("BAZAAR_REMOTE_URL", &bare)
                .env("BAZAAR_DATA_DIR", tmp.join("data"))
                .env("BAZAAR_GITHUB_API_URL", &api)
                .env("BAZAAR_GITHUB_TOKEN", "bench")
                .env("BAZAAR_SIGNING_KEY", &key)
                .env("BAZAAR_SWEEP_EVERY", "off")
                .env("BAZAAR_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(tmp.join("daemon.log")).unwrap())
                .spawn()
                .expect("spawn bazaar daemon"),
        );
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let t = Instant::now();
        while http.get(format!("{url}/healthz")).send().await.is_err() {
            assert!(t.elapsed() < Duration::from_secs(30), "the daemon did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "bazaar approval → merge benchmark: {} cores, {apps} apps",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        );

        let mut dirs: Vec<_> = std::fs::read_dir(work.join("catalog/finance"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("app.toml").exists())
            .collect();
        dirs.sort();
        let mut times = Vec::new();
        for (i, dir) in dirs.iter().take(6).enumerate() {
            let n = i as u64 + 1;
            // each pull request starts from the current main (the previous round's merge)
            let main = git(&bare, &["rev-parse", "main"]);
            git(&work, &["fetch", "-q", bare.to_str().unwrap(), "main"]);
            git(&work, &["checkout", "-q", "--detach", &main]);
            let manifest = dir.join("app.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            let raised = text
                .replace("classification = \"public\"", "classification = \"confidential\"")
                .replace("classification = \"internal\"", "classification = \"confidential\"");
            std::fs::write(&manifest, format!("{raised}# handled since round {n}\n")).unwrap();
            git(&work, &["commit", "-qam", "handle confidential data"]);
            let head = git(&work, &["rev-parse", "HEAD"]);
            git(&work, &["push", "-q", bare.to_str().unwrap(), &format!("HEAD:refs/pull/{n}/head")]);
            f.lock().unwrap().heads.insert(n, head.clone());
            let pr = json!({"action": "opened", "number": n, "pull_request": {"number": n},
                            "repository": {"full_name": "acme/catalog"}, "sender": {"login": "jane-doe"}});
            post(&http, &url, "pull_request", &format!("open-{n}"), pr).await;
            let title = || {
                f.lock()
                    .unwrap()
                    .runs
                    .values()
                    .find(|r| r.0 == head && r.3.starts_with("Waiting for approval: "))
                    .map(|r| r.3.clone())
            };
            until("the check to wait for approvals", || title().is_some()).await;
            let roles: Vec<String> = title()
                .unwrap()
                .trim_start_matches("Waiting for approval: ")
                .split(", ")
                .map(str::to_string)
                .collect();
            // one reviewer per role approves; the last one's webhook starts the clock
            let reviews: Vec<Value> = roles
                .iter()
                .enumerate()
                .map(|(k, role)| {
                    let login = holder(role);
                    json!({"id": n * 100 + k as u64 + 1, "user": {"login": login, "id": 5000 + k, "type": "User"},
                           "state": "APPROVED", "commit_id": head, "submitted_at": now()})
                })
                .collect();
            f.lock().unwrap().reviews.insert(n, reviews);
            let review = json!({"action": "submitted", "pull_request": {"number": n},
                                "review": {"state": "approved"},
                                "repository": {"full_name": "acme/catalog"}, "sender": {"login": holder(&roles[roles.len() - 1])}});
            let sent = Instant::now();
            post(&http, &url, "pull_request_review", &format!("review-{n}"), review).await;
            let merged = loop {
                let tip = git(&bare, &["rev-parse", "main"]);
                if tip != main {
                    break sent.elapsed();
                }
                assert!(
                    sent.elapsed() < Duration::from_secs(120),
                    "no merge:\n{}",
                    std::fs::read_to_string(tmp.join("daemon.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            let tip = git(&bare, &["rev-parse", "main"]);
            let parents = git(&bare, &["rev-list", "--parents", "-n1", &tip]);
            assert!(parents.ends_with(&head), "main holds the merge of the head");
            times.push(merged.as_secs_f64() * 1000.0);
            println!("  round {n}: roles {} → merged in {:.0} ms", roles.join("+"), times[times.len() - 1]);
        }
        let first = times.remove(0);
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{:<44} first {first:>6.0} ms  median {median:>6.0} ms  max {:>6.0} ms  goal < 1000 ms: {}",
            format!("last approval → signed merge pushed, {apps} apps"),
            times[times.len() - 1],
            if median < 1000.0 { "met" } else { "MISSED" }
        );
    });
}
