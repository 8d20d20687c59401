//! Writing a sweep's state changes: each app's `lifecycle.status` value is replaced in place
//! (the rest of the file is kept byte for byte), and all of them become one commit on the
//! checked-out branch, signed exactly as `bazaar merge` signs, moved with a compare-and-swap
//! from the revision the plan was made on.

use std::path::Path;

use git2::{Oid, Repository};

use super::{Plan, SweepRecord};
use crate::context::Context;
use crate::git::write::{WriteError, move_branch, signed_commit};
use crate::manifest::{self, MAX_MANIFEST_BYTES};
use crate::signing::{KeyError, Signer};

/// The commit a sweep wrote.
#[derive(Debug)]
pub struct Applied {
    /// The signed commit.
    pub commit: String,
    /// What it records.
    pub record: SweepRecord,
    /// True when the working tree was updated to it.
    pub worktree_updated: bool,
}

/// Why the sweep's changes were not written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The branch or working tree is not where the plan was made, or a change cannot be made.
    #[error("{0}")]
    Refused(String),
    /// The key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Writing failed (including a branch that moved: nothing was overwritten).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Git failed.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// The manifest with its `lifecycle.status` value replaced, checked by parsing it back.
fn with_status(path: &str, text: &str, to: &str) -> Result<String, ApplyError> {
    let file = manifest::decode(path, text.as_bytes(), MAX_MANIFEST_BYTES)
        .map_err(|f| ApplyError::Refused(format!("{path}: {}", f.message)))?;
    let parsed = manifest::parse_app(&file);
    let span = parsed
        .value
        .as_ref()
        .and_then(|a| a.spans.get("lifecycle.status"))
        .ok_or_else(|| {
            ApplyError::Refused(format!(
                "{path} has no readable lifecycle.status; fix the manifest (`bazaar check`) first"
            ))
        })?;
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..span.start]);
    out.push_str(&format!("\"{to}\""));
    out.push_str(&text[span.end..]);
    let again = manifest::decode(path, out.as_bytes(), MAX_MANIFEST_BYTES)
        .ok()
        .and_then(|f| manifest::parse_app(&f).value);
    match again {
        Some(a) if a.lifecycle.status.as_str() == to => Ok(out),
        _ => Err(ApplyError::Refused(format!(
            "{path}: setting lifecycle.status to {to:?} does not give a valid manifest"
        ))),
    }
}

/// Writes the plan's state changes as one signed commit on the checked-out branch of `root`.
/// Nothing is written when the plan changes nothing.
pub fn apply(
    ctx: &Context,
    root: &Path,
    plan: &Plan,
    key: &Path,
) -> Result<Option<Applied>, ApplyError> {
    if plan.changes.is_empty() {
        return Ok(None);
    }
    let repo = Repository::open(root)?;
    let head = repo.head()?;
    let branch = head
        .shorthand()
        .ok()
        .filter(|_| head.is_branch())
        .ok_or_else(|| {
            ApplyError::Refused(
                "HEAD is not a branch; check out the catalog's main branch to sweep it".into(),
            )
        })?
        .to_string();
    drop(head);
    apply_to_branch(ctx, root, &branch, plan, key)
}

/// Writes the plan's state changes as one signed commit on `branch` of `root`, which may be a
/// bare repository (the daemon's mirror); a working tree is updated only when `branch` is the
/// one checked out. Nothing is written when the plan changes nothing.
pub fn apply_to_branch(
    ctx: &Context,
    root: &Path,
    branch: &str,
    plan: &Plan,
    key: &Path,
) -> Result<Option<Applied>, ApplyError> {
    if plan.changes.is_empty() {
        return Ok(None);
    }
    let repo = Repository::open(root)?;
    let refname = format!("refs/heads/{branch}");
    let tip = repo
        .find_reference(&refname)
        .map_err(|_| ApplyError::Refused(format!("there is no branch {branch} to sweep")))?
        .peel_to_commit()?;
    if tip.id().to_string() != plan.commit {
        return Err(ApplyError::Refused(format!(
            "{branch} moved from {} to {} since the plan was made; sweep again",
            plan.commit,
            tip.id()
        )));
    }
    let follows = !repo.is_bare()
        && repo
            .head()
            .ok()
            .and_then(|h| h.name().ok().map(|n| n == refname))
            .unwrap_or(false);
    if follows {
        let dirty = crate::git::write::uncommitted(&repo, 5)?;
        if !dirty.is_empty() {
            return Err(ApplyError::Refused(format!(
                "{branch} has uncommitted changes ({}); commit or stash them first",
                dirty.join(", ")
            )));
        }
    }
    let signer = Signer::from_file(key)?;
    let snap = crate::source::Snapshot::from_rev(root, &plan.commit)
        .map_err(|e| ApplyError::Refused(e.to_string()))?;
    let config = snap
        .read("bazaar.toml", MAX_MANIFEST_BYTES)
        .ok()
        .and_then(Result::ok)
        .and_then(|b| manifest::decode("bazaar.toml", &b, MAX_MANIFEST_BYTES).ok())
        .and_then(|f| manifest::parse_config(&f).value)
        .and_then(|c| c.signing);
    let now = git2::Time::new(ctx.now().timestamp(), 0);
    let who = match &config {
        Some(s) => git2::Signature::new(&s.name, &s.email, &now)?,
        None => repo.signature().map_err(|_| {
            ApplyError::Refused("no committer identity: set [signing] name and email in bazaar.toml (or git's user.name and user.email)".into())
        })?,
    };
    crate::signing::trusted_by(&snap, &signer, who.email().unwrap_or_default(), ctx.now())
        .map_err(|e| ApplyError::Refused(e.to_string()))?;

    let mut index = git2::Index::new()?;
    index.read_tree(&tip.tree()?)?;
    for c in &plan.changes {
        let path = format!("{}/app.toml", c.dir);
        let mut entry = index
            .get_path(Path::new(&path), 0)
            .ok_or_else(|| ApplyError::Refused(format!("{path} is not in {}", plan.commit)))?;
        let blob = repo.find_blob(entry.id)?;
        let text = std::str::from_utf8(blob.content())
            .map_err(|_| ApplyError::Refused(format!("{path} is not UTF-8")))?;
        let new = with_status(&path, text, &c.to)?;
        entry.id = repo.blob(new.as_bytes())?;
        entry.file_size = new.len() as u32;
        index.add(&entry)?;
    }
    let tree = index.write_tree_to(&repo)?;
    let record = SweepRecord {
        at: plan.at,
        changes: plan.changes.clone(),
    };
    let message = record.message().map_err(ApplyError::Refused)?;
    let commit: Oid = signed_commit(&repo, tree, &[tip.id()], &who, &who, &message, &signer)?;
    move_branch(&repo, branch, commit, tip.id(), "bazaar sweep")?;
    if follows {
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    }
    Ok(Some(Applied {
        commit: commit.to_string(),
        record,
        worktree_updated: follows,
    }))
}
