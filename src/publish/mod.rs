//! Where a built site goes besides its folder (which [`crate::site::build`] already swaps in
//! atomically): a Git branch for static hosting (gh-pages style, [`branch`]) and an
//! S3-compatible bucket ([`bucket`]). Both publish only what changed and never leave a reader
//! with half a site: a branch moves in one compare-and-swap, a bucket gets the files that only
//! the new site names first and the files that name them last, with Bazaar's manifest written
//! after everything it lists.
//!
//! Nothing here reads the environment: the caller (CLI or daemon) passes credentials in.

pub mod branch;
pub mod bucket;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use bucket::{Bucket, Credentials};

/// Where to publish a built site.
#[derive(Debug, Clone)]
pub enum Target {
    /// A branch of a Git repository (a commit of the site's files, no checkout).
    Branch {
        /// The repository (work tree or bare).
        repo: PathBuf,
        /// The branch, e.g. `gh-pages`.
        branch: String,
        /// A remote (name or URL) to push the branch to, with a lease on its old value.
        push: Option<String>,
    },
    /// An S3-compatible bucket.
    Bucket(Bucket),
}

impl Target {
    /// Parses `git:BRANCH` or `s3://BUCKET[/PREFIX]`; the branch form publishes into `repo`.
    /// Bucket settings other than the URL start empty: fill them from the caller's settings.
    pub fn parse(to: &str, repo: &Path, push: Option<String>) -> Result<Target, PublishError> {
        if let Some(branch) = to.strip_prefix("git:") {
            if !branch::valid_branch(branch) {
                return Err(PublishError::BadTarget(format!(
                    "{to:?}: {branch:?} is not a branch name git accepts (try git:gh-pages)"
                )));
            }
            return Ok(Target::Branch {
                repo: repo.to_path_buf(),
                branch: branch.to_string(),
                push,
            });
        }
        if to.starts_with("s3://") {
            return Ok(Target::Bucket(Bucket::from_url(to)?));
        }
        Err(PublishError::BadTarget(format!(
            "{to:?} is neither git:BRANCH (e.g. git:gh-pages) nor s3://BUCKET/PREFIX (e.g. s3://acme-catalog/site)"
        )))
    }
}

/// What a publish did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Published {
    /// Where it went (`git:BRANCH` or `s3://BUCKET/PREFIX`).
    pub target: String,
    /// Files in the site.
    pub files: usize,
    /// Files written: objects uploaded, or files the new commit adds or changes.
    pub uploaded: usize,
    /// Bytes written (for a branch: of blobs the repository did not have).
    pub uploaded_bytes: u64,
    /// Files no longer in the site, removed from the target.
    pub deleted: usize,
    /// Files the target already held unchanged.
    pub kept: usize,
    /// The commit made on a branch (`None` for a bucket, or when nothing changed).
    pub commit: Option<String>,
    /// Whether the branch was pushed.
    pub pushed: bool,
    /// Where the time went.
    pub timings_ms: PublishTimings,
}

/// Where a publish spent its time, in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PublishTimings {
    /// Reading and hashing the built folder.
    pub scan: u128,
    /// Reading what the target holds (its manifest or tree).
    pub compare: u128,
    /// Writing the changed files (and the manifest or commit).
    pub upload: u128,
    /// Removing what the site no longer has.
    pub delete: u128,
    /// The whole publish.
    pub total: u128,
}

/// A step of a long publish, for progress reports (the library never prints).
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Files to write, after comparing with the target.
    Planned {
        /// Files to write.
        upload: usize,
        /// Files to remove at the end.
        delete: usize,
    },
    /// One more file written.
    Uploaded {
        /// Written so far.
        done: usize,
        /// Of this many.
        of: usize,
    },
}

/// Receives [`Progress`] steps; called from the uploading tasks.
pub type OnProgress<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// Why a publish failed; what the target served before still serves whole.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The `--to` value or a bucket URL is not one Bazaar understands.
    #[error("bad publish target {0}")]
    BadTarget(String),
    /// The built folder holds something Bazaar does not publish.
    #[error("{} {reason}", path.display())]
    Refused {
        /// The path.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Reading the built folder failed.
    #[error("cannot read {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the branch failed (a moved branch or remote is reported, never overwritten).
    #[error(transparent)]
    Git(#[from] crate::git::write::WriteError),
    /// The bucket refused or could not be reached.
    #[error("{what} ({detail}): {help}")]
    Store {
        /// What Bazaar was doing.
        what: String,
        /// What to do about it.
        help: String,
        /// The cause, in one line (the S3 error code, or the innermost network error).
        detail: String,
    },
}

impl From<git2::Error> for PublishError {
    fn from(e: git2::Error) -> Self {
        PublishError::Git(e.into())
    }
}

/// Publishes the site built in `built` (a [`crate::site::Built`]'s `dir`, or the folder a
/// `bazaar build --out` link points at) to `target`.
pub async fn publish(
    built: &Path,
    target: &Target,
    progress: Option<OnProgress<'_>>,
) -> Result<Published, PublishError> {
    let noop = |_: Progress| {};
    let progress: OnProgress<'_> = progress.unwrap_or(&noop);
    match target {
        Target::Branch { repo, branch, push } => {
            let (built, repo, branch, push) = (
                built.to_path_buf(),
                repo.clone(),
                branch.clone(),
                push.clone(),
            );
            tokio::task::spawn_blocking(move || {
                branch::publish(&built, &repo, &branch, push.as_deref())
            })
            .await
            .map_err(|e| PublishError::Io {
                path: PathBuf::from("(publish task)"),
                source: std::io::Error::other(e.to_string()),
            })?
        }
        Target::Bucket(b) => {
            let store = b.store()?;
            bucket::publish_to(store, &b.prefix, &b.url(), built, progress).await
        }
    }
}

/// One regular file of a built site.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// Its path relative to the site, with `/`.
    pub rel: String,
    /// Its full path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

/// Lists the regular files of a built site, sorted by path. A link or special file inside is
/// refused (its bytes may be anything on the machine); `site` itself may be Bazaar's output link.
pub fn site_files(site: &Path) -> Result<Vec<SiteFile>, PublishError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PublishError::Io { path, source }
    };
    let root = std::fs::canonicalize(site).map_err(io(site))?;
    if !root.is_dir() {
        return Err(PublishError::Refused {
            path: site.to_path_buf(),
            reason: "is not a folder: pass the folder `bazaar build --out` wrote".into(),
        });
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(&root).to_path_buf();
            PublishError::Io {
                path,
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("walk")),
            }
        })?;
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            return Err(PublishError::Refused {
                path: entry.path().to_path_buf(),
                reason: "is a symbolic link or special file; Bazaar publishes only regular files (a link's target may be anything on this machine): replace it with a copy of the file or remove it".into(),
            });
        }
        let rel = entry
            .path()
            .strip_prefix(&root)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if rel.split('/').any(|p| p == ".bazaar" || p == ".git") {
            continue;
        }
        let size = entry.metadata().map_err(|e| PublishError::Io {
            path: entry.path().to_path_buf(),
            source: e.into(),
        })?;
        files.push(SiteFile {
            rel,
            path: entry.path().to_path_buf(),
            size: size.len(),
        });
    }
    Ok(files)
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}
