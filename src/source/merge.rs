//! The tree a submission would produce: merging its head into the base tip. A submission is
//! judged on that tree, and `merge` commits exactly that tree, so what is signed is what was
//! checked. The merge is computed in the object database (no checkout, nothing moved) and its
//! tree objects are written, so that readers can list the result like any revision. When the
//! two sides changed disjoint paths since their merge base (the usual case: a one-app
//! submission while main moved elsewhere), the result is the base's tree with the head's changes
//! applied, which only rewrites the trees along those paths; otherwise git2's full three-way
//! merge decides, conflicts included.

use std::path::Path;

use std::collections::BTreeSet;

use git2::{Oid, Repository};
use gix::object::tree::EntryKind;

use crate::git::Repo;

/// What merging a head into a base gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The merge is clean; `tree` is its result (hex id).
    Clean {
        /// The merged tree.
        tree: String,
    },
    /// The same paths changed on both sides in ways Git cannot reconcile.
    Conflict {
        /// The paths in conflict.
        paths: Vec<String>,
    },
    /// The base already contains the head: nothing to merge.
    UpToDate,
    /// The two have no common history.
    Unrelated,
}

/// A submission's base tip, head, their merge base and the merge's outcome (all hex ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The base branch's tip the submission is judged against.
    pub base: String,
    /// The submission's head commit.
    pub head: String,
    /// Where the head's history left the base's (`None` for unrelated histories).
    pub merge_base: Option<String>,
    /// The result of merging the head into the base tip.
    pub outcome: Outcome,
}

/// Why the merge could not even be computed.
#[derive(Debug, thiserror::Error)]
pub enum MergeTreeError {
    /// A revision does not name a commit.
    #[error(
        "{which} {rev:?} is not a commit in {repo} ({detail}); check the name with `git log --oneline` or fetch it first"
    )]
    BadRev {
        /// `base` or `head`.
        which: &'static str,
        /// What was asked for.
        rev: String,
        /// The repository.
        repo: String,
        /// git2's message.
        detail: String,
    },
    /// git2 failed.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

/// Resolves `base` and `head` and merges the head into the base in the object database.
pub fn submission(root: &Path, base: &str, head: &str) -> Result<Submission, MergeTreeError> {
    let repo = Repository::open(root)?;
    let reader = Repo::open(root).ok();
    let fast = |m: &str, b: &str, h: &str| reader.as_ref().and_then(|r| disjoint_merge(r, m, b, h));
    submission_with(&repo, base, head, Some(&fast))
}

fn resolve(repo: &Repository, which: &'static str, rev: &str) -> Result<Oid, MergeTreeError> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id())
        .map_err(|e| MergeTreeError::BadRev {
            which,
            rev: rev.to_string(),
            repo: repo.path().display().to_string(),
            detail: e.message().to_string(),
        })
}

/// [`submission`] with an open repository (git2 only: always the full three-way merge).
pub fn submission_in(
    repo: &Repository,
    base: &str,
    head: &str,
) -> Result<Submission, MergeTreeError> {
    submission_with(repo, base, head, None)
}

type Disjoint<'a> = &'a dyn Fn(&str, &str, &str) -> Option<String>;

fn submission_with(
    repo: &Repository,
    base: &str,
    head: &str,
    disjoint: Option<Disjoint<'_>>,
) -> Result<Submission, MergeTreeError> {
    let base_id = resolve(repo, "base", base)?;
    let head_id = resolve(repo, "head", head)?;
    let merge_base = match repo.merge_base(base_id, head_id) {
        Ok(m) => Some(m),
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let outcome = match merge_base {
        None => Outcome::Unrelated,
        Some(m) if m == head_id => Outcome::UpToDate,
        Some(m) if m == base_id => Outcome::Clean {
            // the head already contains the base: merging gives the head's tree
            tree: repo.find_commit(head_id)?.tree_id().to_string(),
        },
        Some(m) if disjoint.is_some() => match disjoint
            .and_then(|d| d(&m.to_string(), &base_id.to_string(), &head_id.to_string()))
        {
            Some(tree) => Outcome::Clean { tree },
            None => three_way(repo, base_id, head_id)?,
        },
        Some(_) => three_way(repo, base_id, head_id)?,
    };
    Ok(Submission {
        base: base_id.to_string(),
        head: head_id.to_string(),
        merge_base: merge_base.map(|m| m.to_string()),
        outcome,
    })
}

/// git2's full three-way merge of two commits: a clean tree, or the conflicting paths.
fn three_way(repo: &Repository, base_id: Oid, head_id: Oid) -> Result<Outcome, MergeTreeError> {
    let (b, h) = (repo.find_commit(base_id)?, repo.find_commit(head_id)?);
    let mut index = repo.merge_commits(&b, &h, None)?;
    if !index.has_conflicts() {
        return Ok(Outcome::Clean {
            tree: index.write_tree_to(repo)?.to_string(),
        });
    }
    let mut paths: Vec<String> = index
        .conflicts()?
        .filter_map(Result::ok)
        .filter_map(|c| {
            c.our
                .or(c.their)
                .or(c.ancestor)
                .map(|e| String::from_utf8_lossy(&e.path).into_owned())
        })
        .collect();
    paths.sort();
    paths.dedup();
    Ok(Outcome::Conflict { paths })
}

/// The merge when the two sides changed disjoint paths since `merge_base`: the base's tree with
/// the head's changes applied (`None` when a path, or a folder above it, changed on both sides,
/// or anything cannot be read: the full merge then decides).
pub fn disjoint_merge(repo: &Repo, merge_base: &str, base: &str, head: &str) -> Option<String> {
    let local = repo.local();
    let tree = |rev: &str| {
        super::tree::tree_of(repo, &local, rev)
            .ok()
            .map(|(_, t)| t.id)
    };
    let (m, b, h) = (tree(merge_base)?, tree(base)?, tree(head)?);
    let ours = super::tree::diff(&local, Some(m), Some(b), &[], &|_| false).ok()?;
    let theirs = super::tree::diff(&local, Some(m), Some(h), &[], &|_| false).ok()?;
    let changed: BTreeSet<&str> = ours.iter().map(|c| c.path.as_str()).collect();
    let touches = |p: &str| {
        changed.contains(p)
            || p.match_indices('/').any(|(i, _)| changed.contains(&p[..i]))
            || changed
                .range(format!("{p}/").as_str()..)
                .next()
                .is_some_and(|q| q.starts_with(&format!("{p}/")))
    };
    if theirs.iter().any(|c| touches(&c.path)) {
        return None;
    }
    let mut editor = local.edit_tree(b).ok()?;
    for c in &theirs {
        match (c.change, c.new, c.mode) {
            (super::tree::Change::Removed, _, _) => {
                editor.remove(c.path.as_str()).ok()?;
            }
            (_, Some(id), Some(mode)) => {
                let kind = match mode {
                    0o100755 => EntryKind::BlobExecutable,
                    0o120000 => EntryKind::Link,
                    0o160000 => EntryKind::Commit,
                    0o040000 => EntryKind::Tree,
                    _ => EntryKind::Blob,
                };
                editor.upsert(c.path.as_str(), kind, id).ok()?;
            }
            _ => return None,
        }
    }
    Some(editor.write().ok()?.to_string())
}
