//! The lifecycle sweep on a schedule: fetch main into the mirror, ask the forge who is still a
//! member, plan, write the state changes as one signed commit on the mirror's main, push it with
//! a lease (a main that moved meanwhile is swept again on its new head, a few times at most),
//! then tell the owners through issues. A forge that cannot say who is a member judges nobody
//! on it: that rule is skipped with a warning.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::forge::{Forge, ForgeError};
use crate::lifecycle::{self, Members, Membership, Plan, SweepOptions};

use super::super::Ctx;
use super::super::mirror::{MirrorError, Pushed};
use super::lifecycle_issues::{Notified, notify};

/// Sweeps of a main that keeps moving before the run gives up until the next one.
const TRIES: usize = 3;

/// What one run did.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// The day swept.
    pub at: chrono::NaiveDate,
    /// Main after the run (the commit to publish).
    pub main: String,
    /// The sweep commit pushed, when there were state changes.
    pub commit: Option<String>,
    /// State changes made.
    pub changes: usize,
    /// Apps whose owners were told.
    pub attention: usize,
    /// What was written on the forge.
    pub notified: Notified,
    /// What the sweep could not judge.
    pub notes: Vec<String>,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SweepRunError {
    /// No signing key is configured.
    #[error("BAZAAR_SIGNING_KEY is not set: the sweep writes signed commits")]
    NoKey,
    /// The mirror could not fetch or push.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// The forge failed (after the commit was pushed: the next run tells the owners).
    #[error(transparent)]
    Forge(#[from] ForgeError),
    /// The sweep could not plan or write.
    #[error("{0}")]
    Sweep(String),
    /// Main kept moving.
    #[error("main moved under each of {0} sweeps; the next run tries again")]
    Raced(usize),
}

/// Runs the sweep now and then every `sweep_every`, until the task is dropped.
pub async fn schedule<F: Forge>(ctx: Arc<Ctx<F>>) {
    let Some(every) = ctx.config.sweep_every else {
        tracing::info!("the lifecycle sweep is off (BAZAAR_SWEEP_EVERY=off)");
        return;
    };
    if ctx.config.signing_key.is_none() {
        tracing::warn!(
            "the lifecycle sweep does not run: set BAZAAR_SIGNING_KEY to Bazaar's signing key"
        );
        return;
    }
    // Let the mirror fill and the edge come up first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    loop {
        match sweep_once(&ctx).await {
            Ok(r) => tracing::info!(
                at = %r.at,
                main = %r.main,
                commit = %r.commit.as_deref().unwrap_or("none"),
                changes = r.changes,
                attention = r.attention,
                created = r.notified.created,
                updated = r.notified.updated,
                commented = r.notified.commented,
                closed = r.notified.closed,
                deferred = r.notified.deferred,
                notes = %r.notes.join("; "),
                "lifecycle sweep done"
            ),
            Err(e) => {
                tracing::error!(error = %e, "lifecycle sweep failed; the next run tries again")
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// Who is still a member of each forge team the catalog names, or why that is unknown.
async fn membership<F: Forge>(forge: &F, teams: &[String]) -> Members {
    let mut m = Membership::default();
    for t in teams {
        let Some((org, slug)) = t.split_once('/') else {
            continue;
        };
        match forge.team_members(org, slug).await {
            Ok(Some(logins)) => {
                m.teams.insert(t.clone(), logins.into_iter().collect());
            }
            Ok(None) => {
                tracing::warn!(team = %t, "the forge has no such team; its apps' owners are not judged")
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read team membership; the owners-left rule is skipped");
                return Members::Unknown(format!("the forge did not say who is a member ({e})"));
            }
        }
    }
    Members::Known(m)
}

/// One sweep: plan, commit, push with a lease, notify.
pub async fn sweep_once<F: Forge>(ctx: &Ctx<F>) -> Result<SweepRun, SweepRunError> {
    let key = ctx.config.signing_key.clone().ok_or(SweepRunError::NoKey)?;
    let blocking =
        |e: tokio::task::JoinError| SweepRunError::Sweep(format!("the sweep stopped: {e}"));
    let branch = ctx.config.main_branch.clone();
    for _ in 0..TRIES {
        // merges and sweeps take turns: each builds on the mirror's main
        let turn = ctx.merging.lock().await;
        let token = ctx.git_token().await?;
        let mirror = ctx.mirror.clone();
        let (t, b) = (token.clone(), branch.clone());
        tokio::task::spawn_blocking(move || mirror.fetch_branch(&b, t.as_ref()))
            .await
            .map_err(blocking)??;
        let root = ctx.mirror.path().to_path_buf();
        let rev = format!("refs/heads/{branch}");
        let teams = {
            let (root, rev) = (root.clone(), rev.clone());
            tokio::task::spawn_blocking(move || lifecycle::members::forge_teams(&root, &rev))
                .await
                .map_err(blocking)?
                .map_err(SweepRunError::Sweep)?
        };
        let members = membership(&ctx.forge, &teams.into_iter().collect::<Vec<_>>()).await;
        let sweep_ctx = ctx.config.context.clone();
        let key = key.clone();
        let b = branch.clone();
        let mirror = ctx.mirror.clone();
        let (plan, applied) = tokio::task::spawn_blocking(move || {
            let _no_fetch = mirror.hold();
            let plan = lifecycle::plan(
                &sweep_ctx,
                &SweepOptions {
                    root: root.clone(),
                    rev: Some(rev),
                    members,
                },
            )
            .map_err(|e| SweepRunError::Sweep(e.to_string()))?;
            let applied = lifecycle::apply::apply_to_branch(&sweep_ctx, &root, &b, &plan, &key)
                .map_err(|e| SweepRunError::Sweep(e.to_string()))?;
            Ok::<_, SweepRunError>((plan, applied))
        })
        .await
        .map_err(blocking)??;
        let commit = applied.map(|a| a.commit);
        if let Some(c) = &commit {
            let mirror = ctx.mirror.clone();
            let (c, old, t) = (c.clone(), plan.commit.clone(), token.clone());
            let branch = branch.clone();
            let pushed = tokio::task::spawn_blocking(move || {
                mirror.push_with_lease(&branch, &old, &c, t.as_ref())
            })
            .await
            .map_err(blocking)??;
            if pushed != Pushed::Done {
                tracing::info!(from = %plan.commit, "main moved while sweeping; sweeping its new head");
                continue;
            }
        }
        drop(turn);
        if commit.is_some() {
            ctx.publish.request();
        }
        return finish(ctx, plan, commit).await;
    }
    Err(SweepRunError::Raced(TRIES))
}

async fn finish<F: Forge>(
    ctx: &Ctx<F>,
    plan: Plan,
    commit: Option<String>,
) -> Result<SweepRun, SweepRunError> {
    let bot = ctx.bot_login().await?;
    let notified = notify(&ctx.forge, &bot, &plan.attention, ctx.config.sweep_writes).await?;
    if notified.deferred > 0 {
        tracing::info!(
            deferred = notified.deferred,
            budget = ctx.config.sweep_writes,
            "the write budget is spent; the other apps' owners are told on the next run"
        );
    }
    let by_state: BTreeMap<&str, usize> =
        plan.attention.iter().fold(BTreeMap::new(), |mut m, a| {
            *m.entry(a.state.as_str()).or_default() += 1;
            m
        });
    tracing::debug!(?by_state, "apps needing attention");
    Ok(SweepRun {
        at: plan.at,
        main: commit.clone().unwrap_or_else(|| plan.commit.clone()),
        commit,
        changes: plan.changes.len(),
        attention: plan.attention.len(),
        notified,
        notes: plan.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::mirror::Mirror;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn lifecycle_push_is_refused_when_main_moved_and_done_when_not() {
        const BRANCH: &str = "main";
        let tmp = tempfile::tempdir().unwrap();
        let (work, remote) = (tmp.path().join("work"), tmp.path().join("remote.git"));
        std::fs::create_dir_all(&work).unwrap();
        git(
            tmp.path(),
            &["init", "-q", "--bare", remote.to_str().unwrap()],
        );
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["commit", "-q", "--allow-empty", "-m", "a"]);
        git(&work, &["push", "-q", remote.to_str().unwrap(), "main"]);
        let a = git(&work, &["rev-parse", "HEAD"]);
        let mirror =
            Mirror::open(&tmp.path().join("mirror.git"), remote.to_str().unwrap()).unwrap();
        mirror.fetch_branch(BRANCH, None).unwrap();
        // the sweep's commit on top of a, made in the mirror
        let tree = mirror
            .git(&["rev-parse", "main^{tree}"], None, "tree")
            .unwrap();
        let tree = String::from_utf8_lossy(&tree.stdout).trim().to_string();
        let ours = mirror
            .git(
                &[
                    "-c",
                    "user.name=b",
                    "-c",
                    "user.email=b@example.com",
                    "commit-tree",
                    &tree,
                    "-p",
                    &a,
                    "-m",
                    "sweep",
                ],
                None,
                "commit-tree",
            )
            .unwrap();
        let ours = String::from_utf8_lossy(&ours.stdout).trim().to_string();
        // a merge lands first: the lease fails, nothing is overwritten
        git(&work, &["commit", "-q", "--allow-empty", "-m", "merge"]);
        git(&work, &["push", "-q", remote.to_str().unwrap(), "main"]);
        let moved = git(&work, &["rev-parse", "HEAD"]);
        let pushed = mirror.push_with_lease(BRANCH, &a, &ours, None);
        assert!(matches!(pushed, Ok(Pushed::Moved(_))), "{pushed:?}");
        assert_eq!(git(&remote, &["rev-parse", "main"]), moved);
        // on the new head it goes through
        mirror.fetch_branch(BRANCH, None).unwrap();
        let again = mirror
            .git(
                &[
                    "-c",
                    "user.name=b",
                    "-c",
                    "user.email=b@example.com",
                    "commit-tree",
                    &tree,
                    "-p",
                    &moved,
                    "-m",
                    "sweep",
                ],
                None,
                "commit-tree",
            )
            .unwrap();
        let again = String::from_utf8_lossy(&again.stdout).trim().to_string();
        assert_eq!(
            mirror
                .push_with_lease(BRANCH, &moved, &again, None)
                .unwrap(),
            Pushed::Done
        );
        assert_eq!(git(&remote, &["rev-parse", "main"]), again);
    }
}
