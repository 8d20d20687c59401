//! Git access. Reads (trees, blobs, revisions) go through gix, straight from the object
//! database without a checkout; writes (signed commits, branch moves with a compare-and-swap)
//! go through git2, in [`write`].

pub mod write;

use std::path::Path;

/// A Git failure, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Not a repository.
    #[error("{path} is not inside a Git repository ({detail})")]
    NotARepo {
        /// The folder.
        path: String,
        /// gix's message.
        detail: String,
    },
    /// The revision does not resolve.
    #[error(
        "revision {rev:?} does not exist in {path} ({detail}); check the name with `git log --oneline` or fetch it first"
    )]
    BadRev {
        /// The revision.
        rev: String,
        /// The repository.
        path: String,
        /// gix's message.
        detail: String,
    },
    /// The object database could not be read.
    #[error("cannot read Git object {what}: {detail}")]
    Read {
        /// What was being read.
        what: String,
        /// gix's message.
        detail: String,
    },
}

/// An open repository, shareable across threads.
#[derive(Clone)]
pub struct Repo {
    repo: gix::ThreadSafeRepository,
    pub(crate) path: String,
    git_dir: std::path::PathBuf,
    /// Handles made for earlier reads, reused: making one costs file-system lookups.
    pool: std::sync::Arc<std::sync::Mutex<Vec<gix::Repository>>>,
}

impl Repo {
    /// Opens the repository at `root` (the work tree or a bare repository).
    pub fn open(root: &Path) -> Result<Repo, GitError> {
        let repo = gix::open(root).map_err(|e| GitError::NotARepo {
            path: root.display().to_string(),
            detail: e.to_string(),
        })?;
        let git_dir = repo.git_dir().to_path_buf();
        Ok(Repo {
            repo: repo.into_sync(),
            path: root.display().to_string(),
            git_dir,
            pool: Default::default(),
        })
    }

    /// Resolves a revision to a commit id (hex).
    pub fn resolve(&self, rev: &str) -> Result<String, GitError> {
        self.with(|repo| self.resolve_in(repo, rev))
    }

    fn resolve_in(&self, repo: &gix::Repository, rev: &str) -> Result<String, GitError> {
        Ok(self.commit_in(repo, rev)?.id.to_string())
    }

    /// The commit a revision names.
    pub(crate) fn commit_in<'r>(
        &self,
        repo: &'r gix::Repository,
        rev: &str,
    ) -> Result<gix::Commit<'r>, GitError> {
        let bad = |detail: String| GitError::BadRev {
            rev: rev.into(),
            path: self.path.clone(),
            detail,
        };
        let id = repo.rev_parse_single(rev).map_err(|e| bad(e.to_string()))?;
        id.object()
            .map_err(|e| bad(e.to_string()))?
            .peel_to_commit()
            .map_err(|e| bad(e.to_string()))
    }

    /// The repository's Git folder (`.git`, or the repository itself when bare).
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The size of a blob, from its header.
    pub fn blob_size(&self, oid: &str) -> Result<u64, GitError> {
        let err = |e: &dyn std::fmt::Display| GitError::Read {
            what: oid.into(),
            detail: e.to_string(),
        };
        let id = gix::ObjectId::from_hex(oid.as_bytes()).map_err(|e| err(&e))?;
        Ok(self
            .with(|r| r.find_header(id))
            .map_err(|e| err(&e))?
            .size())
    }

    /// A handle for the current thread (cheap to keep, costly to make per read).
    pub fn local(&self) -> gix::Repository {
        let mut r = self.repo.to_thread_local();
        // trees and small blobs are often read more than once (audit, diffs)
        r.object_cache_size_if_unset(8 * 1024 * 1024);
        r
    }

    /// Runs `f` with a pooled handle (made once, reused by later calls on any thread).
    pub fn with<T>(&self, f: impl FnOnce(&gix::Repository) -> T) -> T {
        let r = self
            .pool
            .lock()
            .expect("pool")
            .pop()
            .unwrap_or_else(|| self.local());
        let out = f(&r);
        self.pool.lock().expect("pool").push(r);
        out
    }

    /// Reads a blob; `Ok(Err(size))` when it is larger than `max` (checked from the header first).
    pub fn read_blob(&self, oid: &str, max: usize) -> Result<Result<Vec<u8>, u64>, GitError> {
        self.with(|r| read_blob(r, oid, max))
    }
}

/// Reads a blob with a thread's handle; `Ok(Err(size))` when it is larger than `max`.
pub fn read_blob(
    repo: &gix::Repository,
    oid: &str,
    max: usize,
) -> Result<Result<Vec<u8>, u64>, GitError> {
    {
        let err = |e: &dyn std::fmt::Display| GitError::Read {
            what: oid.into(),
            detail: e.to_string(),
        };
        let id = gix::ObjectId::from_hex(oid.as_bytes()).map_err(|e| err(&e))?;
        let header = repo.find_header(id).map_err(|e| err(&e))?;
        if header.size() > max as u64 {
            return Ok(Err(header.size()));
        }
        let mut blob = repo.find_blob(id).map_err(|e| err(&e))?;
        Ok(Ok(blob.take_data()))
    }
}
