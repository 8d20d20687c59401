//! The daemon's bare Git mirror of the catalog repository, under the data dir. It fetches the
//! base branch and `refs/pull/N/head` before each check, with the stock `git` client (which
//! speaks every transport, proxies and credentials as the platform team configured them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use base64::Engine;

use crate::forge::Secret;

/// Why the mirror could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// `git` could not be run.
    #[error("cannot run git: {0}")]
    Spawn(#[from] std::io::Error),
    /// `git` failed (an unreachable remote, a missing ref).
    #[error("git {what} failed: {stderr}")]
    Git {
        /// What was run.
        what: String,
        /// Its error output.
        stderr: String,
    },
    /// The head commit is not in the mirror even after a fetch.
    #[error("commit {0} is not in the pull request's fetched head")]
    Missing(String),
}

/// A bare mirror.
#[derive(Debug)]
pub struct Mirror {
    dir: PathBuf,
    remote: String,
    /// One fetch at a time: concurrent fetches into one repository fight over ref locks. Also
    /// held by [`Mirror::hold`] while a merge or sweep writes the mirror's branches.
    fetching: Mutex<()>,
}

impl Mirror {
    /// Opens the mirror in `dir`, creating a bare repository there when there is none.
    pub fn open(dir: &Path, remote: &str) -> Result<Mirror, MirrorError> {
        let m = Mirror {
            dir: dir.to_path_buf(),
            remote: remote.to_string(),
            fetching: Mutex::new(()),
        };
        if !dir.join("HEAD").exists() {
            std::fs::create_dir_all(dir)?;
            m.git(&["init", "--bare", "--quiet"], None, "init --bare")?;
        }
        Ok(m)
    }

    /// The bare repository's folder (the check reads revisions from it).
    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn git(
        &self,
        args: &[&str],
        token: Option<&Secret>,
        what: &str,
    ) -> Result<Output, MirrorError> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.dir)
            .args([
                "-c",
                "http.lowSpeedLimit=1000",
                "-c",
                "http.lowSpeedTime=30",
            ])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR");
        if let Some(t) = token {
            // Passed through the environment, not the command line other users can read.
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("x-access-token:{}", t.expose()));
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env(
                    "GIT_CONFIG_VALUE_0",
                    format!("Authorization: Basic {basic}"),
                );
        }
        let out = cmd.output()?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(MirrorError::Git {
                what: what.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// Fetches the base branch and the pull request's head, then makes sure `head_sha` is there.
    pub fn fetch(
        &self,
        base_ref: &str,
        pull: u64,
        head_sha: &str,
        token: Option<&Secret>,
    ) -> Result<(), MirrorError> {
        let _one = self.fetching.lock().expect("lock");
        let base = format!("+refs/heads/{base_ref}:refs/heads/{base_ref}");
        let head = format!("+refs/pull/{pull}/head:refs/pull/{pull}/head");
        self.git(
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--",
                &self.remote,
                &base,
                &head,
            ],
            token,
            &format!("fetch of {base_ref} and pull request #{pull}"),
        )?;
        if !self.has_commit(head_sha) {
            return Err(MirrorError::Missing(head_sha.to_string()));
        }
        Ok(())
    }

    /// Fetches every branch (on start, so the first pull request does not wait for the whole
    /// repository to arrive).
    pub fn prefetch(&self, token: Option<&Secret>) -> Result<(), MirrorError> {
        let _one = self.fetching.lock().expect("lock");
        self.git(
            &[
                "fetch",
                "--quiet",
                "--no-tags",
                "--",
                &self.remote,
                "+refs/heads/*:refs/heads/*",
            ],
            token,
            "fetch of the branches",
        )
        .map(|_| ())
    }

    /// The commit a ref of the mirror points at.
    pub fn resolve(&self, refname: &str) -> Result<String, MirrorError> {
        let spec = format!("{refname}^{{commit}}");
        let out = self.git(
            &["rev-parse", "--verify", "--quiet", &spec],
            None,
            &format!("rev-parse {refname}"),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Whether the mirror holds a commit.
    pub fn has_commit(&self, sha: &str) -> bool {
        let spec = format!("{sha}^{{commit}}");
        self.git(&["cat-file", "-e", &spec], None, "cat-file")
            .is_ok()
    }

    /// Whether the remote answers (for `/readyz`).
    pub fn probe(&self, token: Option<&Secret>) -> Result<(), MirrorError> {
        self.git(
            &["ls-remote", "--quiet", "--heads", "--", &self.remote],
            token,
            "ls-remote",
        )
        .map(|_| ())
    }

    /// Keeps every fetch out while the guard lives: a merge or sweep that judges the mirror's
    /// main and moves it (with a compare-and-swap) must not see a fetch move it meanwhile.
    pub fn hold(&self) -> std::sync::MutexGuard<'_, ()> {
        self.fetching.lock().expect("lock")
    }

    /// Fetches one branch.
    pub fn fetch_branch(&self, branch: &str, token: Option<&Secret>) -> Result<(), MirrorError> {
        let _one = self.fetching.lock().expect("lock");
        let spec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        self.git(
            &["fetch", "--quiet", "--no-tags", "--", &self.remote, &spec],
            token,
            &format!("fetch of {branch}"),
        )
        .map(|_| ())
    }

    /// Brings local `branch` level with the remote's (deleting it when the remote has none) and
    /// returns its commit: the lease for the next push of that branch.
    pub fn sync_branch(
        &self,
        branch: &str,
        token: Option<&Secret>,
    ) -> Result<Option<String>, MirrorError> {
        let refname = format!("refs/heads/{branch}");
        let out = self.git(
            &["ls-remote", "--heads", "--", &self.remote, &refname],
            token,
            &format!("ls-remote {branch}"),
        )?;
        let remote = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .map(str::to_string);
        match &remote {
            Some(_) => self.fetch_branch(branch, token)?,
            None => {
                let _ = self.git(&["update-ref", "-d", &refname], None, "update-ref -d");
            }
        }
        Ok(remote)
    }

    /// Pushes commit `new` to `branch` on the remote only if the remote branch is still at
    /// `expected` (a lease: the remote checks the old value under its ref lock, so of two
    /// daemons pushing onto the same tip one wins and the other is told). Never forced. The
    /// stock client, not [`crate::git::write::push_with_lease`] (libgit2, for `bazaar merge
    /// --push`): it carries the App's token over HTTPS like the mirror's fetches.
    pub fn push_with_lease(
        &self,
        branch: &str,
        expected: &str,
        new: &str,
        token: Option<&Secret>,
    ) -> Result<Pushed, MirrorError> {
        let lease = format!("--force-with-lease=refs/heads/{branch}:{expected}");
        let spec = format!("{new}:refs/heads/{branch}");
        match self.git(
            // (not --quiet or --porcelain: the rejection is read from the error output)
            &["push", &lease, "--", &self.remote, &spec],
            token,
            &format!("push to {branch}"),
        ) {
            Ok(_) => Ok(Pushed::Done),
            Err(MirrorError::Git { stderr, .. })
                if ["stale info", "rejected", "fetch first", "non-fast-forward"]
                    .iter()
                    .any(|w| stderr.contains(w)) =>
            {
                Ok(Pushed::Moved(stderr))
            }
            Err(e) => Err(e),
        }
    }

    /// The merge commit on `branch`'s first-parent line (its newest `depth` commits) whose
    /// second parent is `head`: how a restarted daemon finds a merge it pushed but did not
    /// report.
    pub fn merge_of(&self, branch: &str, head: &str, depth: usize) -> Option<String> {
        let n = format!("-n{depth}");
        let tip = format!("refs/heads/{branch}");
        let out = self
            .git(
                &["rev-list", "--first-parent", "--parents", &n, &tip, "--"],
                None,
                "rev-list",
            )
            .ok()?;
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            let ids: Vec<&str> = l.split_whitespace().collect();
            (ids.len() == 3 && ids[2] == head).then(|| ids[0].to_string())
        })
    }
}

/// How a push with a lease ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote branch now points at the new commit.
    Done,
    /// The remote branch had moved: nothing was written (git's message).
    Moved(String),
}
