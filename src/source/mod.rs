//! The source layer: a catalog's files as they are in a folder or at a Git revision (a commit,
//! or a tree such as a submission's merge result), one listing of paths with their kind and
//! (for Git) object id, on-demand reads, and tree diffs ([`tree`]). Everything above this layer
//! is the same for both sources, so both give the same catalog. It knows nothing of the
//! catalog's layout besides which top-level paths a catalog is made of.

pub mod merge;
pub mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::git;

/// The top-level paths a catalog is made of; everything else in the repository is ignored.
pub const TRACKED_ROOTS: &[&str] = &[
    "bazaar.toml",
    "catalog",
    "policies",
    "signals",
    "site-templates",
];

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A symbolic link (refused, never followed).
    Symlink,
    /// A Git submodule or nested repository (refused).
    Submodule,
    /// A named pipe, socket or device (refused: reading could block or never end).
    Special,
}

/// One path of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// File, link or submodule.
    pub kind: Kind,
    /// Git object id (hex) when read from Git; lets a diff skip unchanged files unread.
    pub oid: Option<String>,
}

/// Where a snapshot came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A working tree folder.
    Dir(PathBuf),
    /// A commit of a repository.
    Rev {
        /// What the user asked for (`HEAD`, `main`, `abc123`).
        rev: String,
        /// The commit it resolved to (hex).
        commit: String,
    },
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Git could not give the revision.
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// The catalog's files at one point in time.
pub struct Snapshot {
    /// Where the files came from.
    pub origin: Origin,
    /// Every tracked path (`/`-separated, relative to the root), sorted.
    pub entries: BTreeMap<String, Entry>,
    /// The root tree's id, for a Git snapshot.
    pub tree: Option<String>,
    source: Source,
}

enum Source {
    Dir(PathBuf),
    Git(Box<git::Repo>),
    /// Files handed over whole (an isolated policy worker gets the policies this way).
    Memory(std::sync::Arc<BTreeMap<String, Vec<u8>>>),
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("origin", &self.origin)
            .field("entries", &self.entries.len())
            .finish()
    }
}

fn hidden(name: &str) -> bool {
    name.starts_with('.')
}

impl Snapshot {
    /// Lists a working tree. Links and nested repositories are listed, not followed; hidden
    /// files (`.name`) are skipped.
    pub fn from_dir(root: &Path) -> Result<Snapshot, SnapshotError> {
        let mut entries = BTreeMap::new();
        for top in TRACKED_ROOTS {
            let start = root.join(top);
            let meta = match std::fs::symlink_metadata(&start) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(SnapshotError::Io {
                        path: start,
                        source: e,
                    });
                }
            };
            if !meta.is_dir() {
                let kind = if meta.file_type().is_symlink() {
                    Kind::Symlink
                } else {
                    Kind::File
                };
                entries.insert((*top).to_string(), Entry { kind, oid: None });
                continue;
            }
            let mut it = walkdir::WalkDir::new(&start)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter();
            while let Some(item) = it.next() {
                let item = item.map_err(|e| SnapshotError::Io {
                    path: e
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| start.clone()),
                    source: e.into(),
                })?;
                let rel = item.path().strip_prefix(root).expect("under root");
                let Some(rel) = rel.to_str() else {
                    return Err(SnapshotError::Io {
                        path: item.path().to_path_buf(),
                        source: std::io::Error::other("file name is not UTF-8; rename it"),
                    });
                };
                let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
                let name = item.file_name().to_str().unwrap_or_default();
                let ft = item.file_type();
                if ft.is_dir() {
                    if item.depth() > 0 && item.path().join(".git").exists() {
                        entries.insert(
                            rel,
                            Entry {
                                kind: Kind::Submodule,
                                oid: None,
                            },
                        );
                        it.skip_current_dir();
                    } else if item.depth() > 0 && hidden(name) {
                        it.skip_current_dir();
                    }
                    continue;
                }
                if hidden(name) {
                    continue;
                }
                let kind = if ft.is_symlink() {
                    Kind::Symlink
                } else if ft.is_file() {
                    Kind::File
                } else {
                    Kind::Special
                };
                entries.insert(rel, Entry { kind, oid: None });
            }
        }
        Ok(Snapshot {
            origin: Origin::Dir(root.to_path_buf()),
            entries,
            tree: None,
            source: Source::Dir(root.to_path_buf()),
        })
    }

    /// Lists the tree of a revision straight from the object database (no checkout).
    pub fn from_rev(root: &Path, rev: &str) -> Result<Snapshot, SnapshotError> {
        Self::from_rev_subset(root, rev, TRACKED_ROOTS)
    }

    /// Lists only some paths of a revision (top-level names or deeper folders and files), for
    /// work that needs a few apps of a large catalog (the audit of one merge).
    pub fn from_rev_subset(
        root: &Path,
        rev: &str,
        paths: &[&str],
    ) -> Result<Snapshot, SnapshotError> {
        Self::from_repo_subset(&git::Repo::open(root)?, rev, paths)
    }

    /// [`Snapshot::from_rev_subset`] with an already open repository.
    pub fn from_repo_subset(
        repo: &git::Repo,
        rev: &str,
        paths: &[&str],
    ) -> Result<Snapshot, SnapshotError> {
        repo.with(|local| Self::from_repo_subset_in(repo, local, rev, paths))
    }

    /// [`Snapshot::from_repo_subset`] listing with the caller's gix handle.
    pub fn from_repo_subset_in(
        repo: &git::Repo,
        local: &gix::Repository,
        rev: &str,
        paths: &[&str],
    ) -> Result<Snapshot, SnapshotError> {
        let listing = tree::list(repo, local, rev, paths)?;
        let entries = listing
            .entries
            .into_iter()
            .filter(|(path, _)| !path.split('/').any(hidden))
            .collect();
        Ok(Snapshot {
            origin: Origin::Rev {
                rev: rev.to_string(),
                commit: listing.id,
            },
            entries,
            tree: Some(listing.tree),
            source: Source::Git(Box::new(repo.clone())),
        })
    }

    /// A snapshot of files held in memory (path → bytes).
    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Snapshot {
        Snapshot {
            origin: Origin::Dir(PathBuf::new()),
            entries: files
                .keys()
                .map(|p| {
                    (
                        p.clone(),
                        Entry {
                            kind: Kind::File,
                            oid: None,
                        },
                    )
                })
                .collect(),
            tree: None,
            source: Source::Memory(std::sync::Arc::new(files)),
        }
    }

    /// The repository a Git snapshot reads from.
    pub fn repo(&self) -> Option<&git::Repo> {
        match &self.source {
            Source::Git(r) => Some(r),
            Source::Dir(_) | Source::Memory(_) => None,
        }
    }

    /// Reads a file's bytes, refusing anything larger than `max` before reading it whole.
    /// `Ok(Err(size))` means the file is too large.
    pub fn read(&self, path: &str, max: usize) -> Result<Result<Vec<u8>, u64>, SnapshotError> {
        match &self.source {
            Source::Dir(root) => {
                let full = root.join(path);
                let io = |e| SnapshotError::Io {
                    path: full.clone(),
                    source: e,
                };
                let meta = std::fs::symlink_metadata(&full).map_err(io)?;
                if !meta.is_file() {
                    return Err(io(std::io::Error::other(
                        "not a regular file; refusing to read it",
                    )));
                }
                let size = meta.len();
                if size > max as u64 {
                    return Ok(Err(size));
                }
                let mut buf = Vec::with_capacity(size as usize);
                use std::io::Read;
                std::fs::File::open(&full)
                    .map_err(io)?
                    .take((max as u64).saturating_add(1))
                    .read_to_end(&mut buf)
                    .map_err(io)?;
                if buf.len() > max {
                    return Ok(Err(buf.len() as u64));
                }
                Ok(Ok(buf))
            }
            Source::Memory(files) => match files.get(path) {
                Some(b) if b.len() > max => Ok(Err(b.len() as u64)),
                Some(b) => Ok(Ok(b.clone())),
                None => Err(SnapshotError::Io {
                    path: path.into(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not in the snapshot",
                    ),
                }),
            },
            Source::Git(repo) => {
                let oid = self
                    .entries
                    .get(path)
                    .and_then(|e| e.oid.as_deref())
                    .ok_or_else(|| SnapshotError::Io {
                        path: path.into(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "not in the revision",
                        ),
                    })?;
                Ok(repo.read_blob(oid, max)?)
            }
        }
    }

    /// Reads many files in parallel, in the order given; each as [`Snapshot::read`].
    pub fn read_many(
        &self,
        paths: &[&str],
        max: usize,
    ) -> Vec<Result<Result<Vec<u8>, u64>, SnapshotError>> {
        use rayon::prelude::*;
        if paths.len() < 64 {
            // a few reads are cheaper on one thread with a pooled handle
            return paths.iter().map(|p| self.read(p, max)).collect();
        }
        match &self.source {
            Source::Dir(_) | Source::Memory(_) => {
                paths.par_iter().map(|p| self.read(p, max)).collect()
            }
            Source::Git(repo) => paths
                .par_iter()
                .map_init(
                    || repo.local(),
                    |local, p| {
                        let oid = self
                            .entries
                            .get(*p)
                            .and_then(|e| e.oid.as_deref())
                            .ok_or_else(|| SnapshotError::Io {
                                path: (*p).into(),
                                source: std::io::Error::new(
                                    std::io::ErrorKind::NotFound,
                                    "not in the revision",
                                ),
                            })?;
                        Ok(git::read_blob(local, oid, max)?)
                    },
                )
                .collect(),
        }
    }

    /// The size of a file in bytes, without reading it (`None` when it is not listed).
    pub fn size(&self, path: &str) -> Result<Option<u64>, SnapshotError> {
        let Some(entry) = self.entries.get(path) else {
            return Ok(None);
        };
        match &self.source {
            Source::Dir(root) => {
                let full = root.join(path);
                std::fs::symlink_metadata(&full)
                    .map(|m| Some(m.len()))
                    .map_err(|e| SnapshotError::Io {
                        path: full,
                        source: e,
                    })
            }
            Source::Git(repo) => match &entry.oid {
                Some(oid) => Ok(Some(repo.blob_size(oid)?)),
                None => Ok(None),
            },
            Source::Memory(files) => Ok(files.get(path).map(|b| b.len() as u64)),
        }
    }

    /// The Git folder of the repository a revision was read from.
    pub fn git_dir(&self) -> Option<&Path> {
        match &self.source {
            Source::Git(repo) => Some(repo.git_dir()),
            Source::Dir(_) | Source::Memory(_) => None,
        }
    }

    /// Where Bazaar keeps its caches for this snapshot: `bazaar/` in the repository's Git folder
    /// (for a working tree, when it is a Git work tree with a `.git` folder).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        match &self.source {
            Source::Git(repo) => Some(repo.git_dir().join("bazaar")),
            Source::Dir(root) => {
                let git = root.join(".git");
                git.is_dir().then(|| git.join("bazaar"))
            }
            Source::Memory(_) => None,
        }
    }

    /// True when the path is a regular file of the snapshot.
    pub fn is_file(&self, path: &str) -> bool {
        self.entries.get(path).is_some_and(|e| e.kind == Kind::File)
    }
}
