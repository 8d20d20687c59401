//! `bazaar daemon` end to end on loopback: the real binary, a real bare Git repository as the
//! remote, and a stand-in for GitHub's REST API validated against GitHub's OpenAPI description.

mod crashes;
mod e2e;
mod merging;
mod openapi;
mod stand_in;
mod stand_in_issues;
mod stand_in_reviews;
mod sweep;
mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{self, git};
use stand_in::{OWNER, REPO, StandIn, TOKEN};

pub const SECRET: &str = "test-webhook-secret";

/// The HMAC header for a body.
pub fn sign(secret: &str, body: &[u8]) -> String {
    bazaar::daemon::signature::sign(secret, body)
}

/// A running `bazaar daemon`.
pub struct Daemon {
    child: Option<Child>,
    pub url: String,
    log: PathBuf,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Daemon {
    /// Starts the daemon against the stand-in and `remote`, with extra settings.
    pub async fn start(
        api: &StandIn,
        remote: &Path,
        data: &Path,
        extra: &[(&str, &str)],
    ) -> Daemon {
        let port = free_port();
        let log = data.with_extension(format!("{port}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bazaar"));
        cmd.arg("daemon")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", data)
            .env("BAZAAR_LISTEN", format!("127.0.0.1:{port}"))
            .env("BAZAAR_WEBHOOK_SECRET", SECRET)
            .env("BAZAAR_REPOSITORY", format!("{OWNER}/{REPO}"))
            .env("BAZAAR_REMOTE_URL", remote)
            .env("BAZAAR_DATA_DIR", data)
            .env("BAZAAR_GITHUB_API_URL", &api.url)
            .env("BAZAAR_GITHUB_TOKEN", TOKEN)
            .env("BAZAAR_TODAY", support::TODAY)
            .env("BAZAAR_LOG", "info,bazaar=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in extra {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let child = cmd.spawn().unwrap();
        let d = Daemon {
            child: Some(child),
            url: format!("http://127.0.0.1:{port}"),
            log,
            http: reqwest::Client::new(),
        };
        let t = Instant::now();
        loop {
            if let Ok(r) = d.http.get(format!("{}/healthz", d.url)).send().await
                && r.status() == 200
            {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the daemon did not start:\n{}",
                d.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        d
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Posts a delivery signed with `secret` (none: unsigned).
    pub async fn post(
        &self,
        event: &str,
        id: &str,
        body: &[u8],
        secret: Option<&str>,
    ) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("{}/webhook", self.url))
            .header("x-github-event", event)
            .header("x-github-delivery", id)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(s) = secret {
            req = req.header("x-hub-signature-256", sign(s, body));
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM.
    pub fn term(&self) {
        let pid = self.child.as_ref().unwrap().id() as i32;
        // SAFETY: a signal to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }

    /// Waits for the process to exit and returns its status.
    pub async fn exited(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        let t = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the daemon did not stop:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Waits until the queue is empty (from /metrics).
    pub async fn settle(&self) {
        let t = Instant::now();
        loop {
            let (_, m) = self.get("/metrics").await;
            if m.lines().any(|l| l == "bazaar_queue_depth 0") {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "the queue did not empty:\n{m}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The catalog repository: a work tree that commits, and a bare repository the daemon fetches.
pub struct Remote {
    pub work: tempfile::TempDir,
    pub bare: tempfile::TempDir,
    /// Bazaar's signing key and the catalog's `allowed_signers` that trusts it.
    pub keys: Option<tempfile::TempDir>,
}

impl Remote {
    /// The demo catalog on `main`.
    pub fn demo() -> Remote {
        let work = support::demo_copy();
        support::git_init_commit(work.path());
        let bare = tempfile::tempdir().unwrap();
        git(bare.path(), &["init", "-q", "--bare"]);
        let r = Remote {
            work,
            bare,
            keys: None,
        };
        git(
            r.work.path(),
            &["push", "-q", r.bare.path().to_str().unwrap(), "main:main"],
        );
        r
    }

    /// The demo catalog on `main` with an `allowed_signers` trusting Bazaar's key, after
    /// `prepare` changed the work tree (e.g. the roster).
    pub fn signed(prepare: impl FnOnce(&Path)) -> Remote {
        let work = support::demo_copy();
        let keys = tempfile::tempdir().unwrap();
        let (_, public) = support::keygen(keys.path(), "bazaar_key");
        std::fs::write(
            work.path().join("policies/allowed_signers"),
            format!("bazaar@acme.example namespaces=\"git\" {public}\n"),
        )
        .unwrap();
        prepare(work.path());
        support::git_init_commit(work.path());
        let bare = tempfile::tempdir().unwrap();
        git(bare.path(), &["init", "-q", "--bare"]);
        let r = Remote {
            work,
            bare,
            keys: Some(keys),
        };
        git(
            r.work.path(),
            &["push", "-q", r.bare.path().to_str().unwrap(), "main:main"],
        );
        r
    }

    /// Bazaar's private key (of [`Remote::signed`]).
    pub fn key(&self) -> PathBuf {
        self.keys.as_ref().unwrap().path().join("bazaar_key")
    }

    /// Stock `git verify-commit` of `rev` in the bare repository with the catalog's signers.
    pub fn verify(&self, rev: &str) -> Result<String, String> {
        let signers = self.keys.as_ref().unwrap().path().join("allowed_signers");
        let text = git(
            self.bare.path(),
            &["show", &format!("{rev}:policies/allowed_signers")],
        );
        std::fs::write(&signers, format!("{text}\n")).unwrap();
        let cfg = format!("gpg.ssh.allowedSignersFile={}", signers.display());
        let out = Command::new("git")
            .args(["-c", &cfg, "verify-commit", rev])
            .current_dir(self.bare.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        if out.status.success() {
            Ok(err)
        } else {
            Err(err)
        }
    }

    /// A commit on `main` of the remote (as another person's push would make).
    pub fn push_main(&self, edit: impl FnOnce(&Path)) -> String {
        let w = self.work.path();
        let main = self.main_sha();
        git(w, &["checkout", "-q", "--detach", &main]);
        edit(w);
        support::commit_all(w, "a change straight on main");
        git(
            w,
            &[
                "push",
                "-q",
                self.bare.path().to_str().unwrap(),
                "HEAD:refs/heads/main",
            ],
        );
        git(w, &["rev-parse", "HEAD"])
    }

    pub fn main_sha(&self) -> String {
        git(self.bare.path(), &["rev-parse", "main"])
    }

    /// Commits `edit` on top of `from` and publishes it as pull request `n`'s head.
    pub fn push_pull(&self, n: u64, from: &str, edit: impl FnOnce(&Path)) -> String {
        let w = self.work.path();
        git(w, &["checkout", "-q", "--detach", from]);
        edit(w);
        support::commit_all(w, &format!("change for #{n}"));
        let sha = git(w, &["rev-parse", "HEAD"]);
        git(
            w,
            &[
                "push",
                "-q",
                "-f",
                self.bare.path().to_str().unwrap(),
                &format!("HEAD:refs/pull/{n}/head"),
            ],
        );
        sha
    }
}

/// A real `pull_request` payload from @octokit/webhooks-examples, made to describe pull request
/// `n` of the test repository at `head`.
pub fn pull_request_payload(action: &str, n: u64, head: &str, sender: &str) -> Vec<u8> {
    let mut v = webhooks::example("pull_request", action);
    v["number"] = json!(n);
    v["pull_request"]["number"] = json!(n);
    v["pull_request"]["head"]["sha"] = json!(head);
    v["repository"]["full_name"] = json!(format!("{OWNER}/{REPO}"));
    v["repository"]["name"] = json!(REPO);
    v["sender"]["login"] = json!(sender);
    serde_json::to_vec(&v).unwrap()
}

/// A real `pull_request_review` payload from @octokit/webhooks-examples about pull request `n`.
pub fn review_payload(action: &str, n: u64, head: &str, reviewer: &str) -> Vec<u8> {
    let mut v = webhooks::example("pull_request_review", action);
    v["pull_request"]["number"] = json!(n);
    v["pull_request"]["head"]["sha"] = json!(head);
    v["review"]["commit_id"] = json!(head);
    v["review"]["user"]["login"] = json!(reviewer);
    v["repository"]["full_name"] = json!(format!("{OWNER}/{REPO}"));
    v["repository"]["name"] = json!(REPO);
    v["sender"]["login"] = json!(reviewer);
    serde_json::to_vec(&v).unwrap()
}

/// Waits until `cond` holds (polling), or panics with `what`.
pub async fn until(what: &str, d: &Daemon, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}\n{}",
            d.log()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
