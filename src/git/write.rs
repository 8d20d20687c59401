//! Writing to a repository with git2: commits signed with Bazaar's SSH key, and branch moves
//! that succeed only when the branch is still where the caller saw it.

use std::path::Path;

use git2::{Oid, Repository, Signature};

use crate::signing::{KeyError, Signer};

/// A write that failed, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// git2 failed.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    /// Signing failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Someone else moved the branch first: nothing was overwritten.
    #[error(
        "branch {branch} moved to {actual} while Bazaar worked from {expected}; nothing was overwritten, retry on the new tip"
    )]
    Moved {
        /// The branch.
        branch: String,
        /// Where the caller saw it.
        expected: String,
        /// Where it is now.
        actual: String,
    },
}

/// Opens a repository for writing.
pub fn open(root: &Path) -> Result<Repository, WriteError> {
    Ok(Repository::open(root)?)
}

/// Creates a commit signed by `signer` (the `gpgsig` header git uses for SSH signatures) without
/// moving any branch; returns its id.
pub fn signed_commit(
    repo: &Repository,
    tree: Oid,
    parents: &[Oid],
    author: &Signature<'_>,
    committer: &Signature<'_>,
    message: &str,
    signer: &Signer,
) -> Result<Oid, WriteError> {
    let tree = repo.find_tree(tree)?;
    let parents: Vec<git2::Commit<'_>> = parents
        .iter()
        .map(|p| repo.find_commit(*p))
        .collect::<Result<_, _>>()?;
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let buffer = repo.commit_create_buffer(author, committer, message, &tree, &parent_refs)?;
    let payload = buffer
        .as_str()
        .map_err(|_| git2::Error::from_str("commit buffer is not UTF-8"))?;
    let signature = signer.sign(payload.as_bytes())?;
    Ok(repo.commit_signed(payload, &signature, Some("gpgsig"))?)
}

/// Tracked files of the working tree with uncommitted changes (at most `max`, for a message):
/// a commit that updates the checked-out branch must not overwrite them.
pub fn uncommitted(repo: &Repository, max: usize) -> Result<Vec<String>, git2::Error> {
    let mut so = git2::StatusOptions::new();
    so.include_untracked(false).include_ignored(false);
    Ok(repo
        .statuses(Some(&mut so))?
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_string))
        .take(max)
        .collect())
}

/// Moves `refs/heads/<branch>` to `new` only if it still points at `expected`.
pub fn move_branch(
    repo: &Repository,
    branch: &str,
    new: Oid,
    expected: Oid,
    reason: &str,
) -> Result<(), WriteError> {
    let name = format!("refs/heads/{branch}");
    match repo.reference_matching(&name, new, true, expected, reason) {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::Modified | git2::ErrorCode::Locked
            ) || e.class() == git2::ErrorClass::Reference =>
        {
            let actual = repo
                .refname_to_id(&name)
                .map(|o| o.to_string())
                .unwrap_or_else(|_| "nowhere".into());
            if actual == expected.to_string() {
                return Err(WriteError::Git(e));
            }
            Err(WriteError::Moved {
                branch: branch.to_string(),
                expected: expected.to_string(),
                actual,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The signature of a commit and the payload it signs (the commit without its `gpgsig`
/// header), as git hands them to the verifier; `None` when unsigned.
pub fn commit_signature(
    repo: &Repository,
    commit: Oid,
) -> Result<Option<(String, Vec<u8>)>, WriteError> {
    match repo.extract_signature(&commit, Some("gpgsig")) {
        Ok((sig, data)) => Ok(Some((
            String::from_utf8_lossy(&sig).into_owned(),
            data.to_vec(),
        ))),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Where `branch` is on `remote` (a name or URL) now; `None` when the remote has no such branch.
pub fn remote_tip(
    repo: &Repository,
    remote: &str,
    branch: &str,
) -> Result<Option<Oid>, WriteError> {
    let mut r = repo
        .find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))?;
    let refname = format!("refs/heads/{branch}");
    r.connect(git2::Direction::Fetch)?;
    let current = r
        .list()?
        .iter()
        .find(|h| h.name() == refname)
        .map(|h| h.oid());
    r.disconnect()?;
    Ok(current)
}

/// Pushes `new` to `branch` on `remote` only if the remote branch is still at `expected`
/// (`None`: it must not exist yet); never forces. A remote that moved is reported and nothing
/// is overwritten.
pub fn push_with_lease(
    repo: &Repository,
    remote: &str,
    branch: &str,
    expected: Option<Oid>,
    new: Oid,
) -> Result<(), WriteError> {
    let refname = format!("refs/heads/{branch}");
    let current = remote_tip(repo, remote, branch)?;
    let shown = |o: Option<Oid>| o.map_or("nowhere".to_string(), |o| o.to_string());
    if current != expected {
        return Err(WriteError::Moved {
            branch: format!("{remote}/{branch}"),
            expected: shown(expected),
            actual: shown(current),
        });
    }
    let mut r = repo
        .find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))?;
    let mut rejected: Option<String> = None;
    let mut cb = git2::RemoteCallbacks::new();
    cb.push_update_reference(|_, status| {
        if let Some(s) = status {
            rejected = Some(s.to_string());
        }
        Ok(())
    });
    let mut po = git2::PushOptions::new();
    po.remote_callbacks(cb);
    // not forced (no leading +): the remote refuses anything but a fast-forward from `expected`
    // push the new commit through a temporary ref, so the local branch moves only after the
    // remote accepted it
    let tmp = format!("refs/bazaar/push-{new}");
    repo.reference(&tmp, new, true, "bazaar: push")?;
    let pushed = r.push(&[format!("{tmp}:{refname}")], Some(&mut po));
    drop(po);
    if let Ok(mut t) = repo.find_reference(&tmp) {
        let _ = t.delete();
    }
    match (pushed, rejected) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(why)) | (Err(_), Some(why)) => Err(WriteError::Moved {
            branch: format!("{remote}/{branch}"),
            expected: shown(expected),
            actual: format!("unknown ({why})"),
        }),
        (Err(e), None) if e.code() == git2::ErrorCode::NotFastForward => Err(WriteError::Moved {
            branch: format!("{remote}/{branch}"),
            expected: shown(expected),
            actual: "a newer commit".into(),
        }),
        (Err(e), None) => Err(e.into()),
    }
}
