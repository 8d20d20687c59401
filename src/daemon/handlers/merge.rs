//! Merging an approved pull request: the same function as `bazaar merge` (the merged tree judged
//! with the base's policies and roster, signed, trailers) on the mirror, then a push to the main
//! branch with a lease. When the main branch moved meanwhile, the merge is rebuilt on the new
//! tip and judged again (a bounded number of times): nothing is overwritten and no pair of base
//! and head is merged untested. No forge "merge" call: the commit is Bazaar's, and the forge
//! closes the pull request itself once its head is reachable from the main branch.

use crate::forge::{Forge, Pull};
use crate::merge::{MergeError, MergeOptions, merge};
use crate::review::Approval;

use super::super::Ctx;
use super::super::mirror::Pushed;
use super::JobError;

/// How a merge attempt ended.
#[derive(Debug)]
pub enum Merge {
    /// Pushed: the signed merge commit.
    Merged(String),
    /// The main branch already contains the head (merged earlier, or by another daemon).
    AlreadyMerged,
    /// The merge is refused as things stand (e.g. the new base requires another role), and why.
    Refused(Vec<String>),
}

/// The marker of the final comment, with the merge commit.
pub fn merged_marker(commit: &str) -> String {
    format!("<!-- bazaar:merged={commit} -->")
}

/// Merges `pull` (whose head the approvals were given on) into the main branch and pushes it.
pub async fn merge_pull<F: Forge>(
    ctx: &Ctx<F>,
    pull: &Pull,
    approvals: Vec<Approval>,
) -> Result<Merge, JobError> {
    let key = ctx
        .config
        .signing_key
        .clone()
        .ok_or_else(|| JobError::Merge("no signing key (BAZAAR_SIGNING_KEY)".into()))?;
    // One merge at a time in this daemon: the mirror's main branch is the merge's base.
    let _one = ctx.merging.lock().await;
    let branch = ctx.config.main_branch.clone();
    for attempt in 1..=ctx.config.merge_attempts {
        let token = ctx.git_token().await?;
        let mirror = ctx.mirror.clone();
        let (b, t) = (branch.clone(), token.clone());
        tokio::task::spawn_blocking(move || mirror.fetch_branch(&b, t.as_ref()))
            .await
            .map_err(|e| JobError::Panicked(e.to_string()))??;
        // the pull request as it is now: still open, not a draft, the approved head
        let now = ctx.forge.pull(pull.number).await?;
        if !now.open || now.draft || now.head_sha != pull.head_sha {
            return Ok(Merge::Refused(vec![format!(
                "the pull request changed before the merge (open: {}, draft: {}, head: {})",
                now.open, now.draft, now.head_sha
            )]));
        }
        let opts = MergeOptions {
            root: ctx.mirror.path().to_path_buf(),
            base: branch.clone(),
            head: pull.head_sha.clone(),
            key: key.clone(),
            granted: approvals.clone(),
            author: Some(pull.author.clone()).filter(|a| crate::manifest::is_login(a)),
            submission: Some(pull.html_url.clone()).filter(|u| u.starts_with("https://")),
            opened: pull.created_at,
            ..Default::default()
        };
        let judge = ctx.config.context.clone();
        let mirror = ctx.mirror.clone();
        let merged = tokio::task::spawn_blocking(move || {
            let _no_fetch = mirror.hold();
            merge(&judge, &opts)
        })
        .await
        .map_err(|e| JobError::Panicked(e.to_string()))?;
        let merged = match merged {
            Ok(m) => m,
            Err(MergeError::UpToDate(_)) => return Ok(Merge::AlreadyMerged),
            Err(MergeError::Refused { reasons, .. }) => return Ok(Merge::Refused(reasons)),
            Err(e) => return Err(JobError::Merge(e.to_string())),
        };
        let expected = merged.record.base.clone().unwrap_or_default();
        let mirror = ctx.mirror.clone();
        let (b, commit) = (branch.clone(), merged.commit.clone());
        let pushed = tokio::task::spawn_blocking(move || {
            mirror.push_with_lease(&b, &expected, &commit, token.as_ref())
        })
        .await
        .map_err(|e| JobError::Panicked(e.to_string()))??;
        match pushed {
            Pushed::Done => {
                tracing::info!(number = pull.number, commit = %merged.commit, attempt, "merged and pushed");
                return Ok(Merge::Merged(merged.commit));
            }
            Pushed::Moved(why) => {
                // Another push won: fetch the new tip and judge the merge on it again.
                tracing::info!(number = pull.number, attempt, why = %why, "main moved before the push; merging again on the new tip");
            }
        }
    }
    Err(JobError::Merge(format!(
        "{branch} kept moving: {} tries at merging #{} lost the race; left for the next reconcile",
        ctx.config.merge_attempts, pull.number
    )))
}
