//! The tree a submission would produce: merging its head into the base tip. A submission is
//! judged on that tree, and `merge` commits exactly that tree, so what is signed is what was
//! checked. The merge is computed in the object database (git2, no checkout, nothing moved); its
//! tree objects are written so that readers (gix) can list the result like any revision.

use std::path::Path;

use git2::{Oid, Repository};

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
    submission_in(&repo, base, head)
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

/// [`submission`] with an open repository.
pub fn submission_in(
    repo: &Repository,
    base: &str,
    head: &str,
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
        Some(_) => {
            let (b, h) = (repo.find_commit(base_id)?, repo.find_commit(head_id)?);
            let mut index = repo.merge_commits(&b, &h, None)?;
            if index.has_conflicts() {
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
                Outcome::Conflict { paths }
            } else {
                Outcome::Clean {
                    tree: index.write_tree_to(repo)?.to_string(),
                }
            }
        }
    };
    Ok(Submission {
        base: base_id.to_string(),
        head: head_id.to_string(),
        merge_base: merge_base.map(|m| m.to_string()),
        outcome,
    })
}
