//! Atomic publishing with two build folders beside the output (blue/green): `out` is a symbolic
//! link to one of `.<out>.build-a` and `.<out>.build-b`; a build updates the other one, which no
//! reader is sent to, and then replaces the link in one `rename`. Readers see the old site or the
//! new one, never a half-written one; a build that fails or is killed leaves the old site
//! serving. The folder left behind is kept for the next build, which only rewrites what changed
//! (see `pages`), so a one-app edit costs a few file writes instead of a whole new tree.
//!
//! **Only what Bazaar made.** The output may sit in a work tree that a submission's checkout
//! writes into, so nothing found beside or inside it is trusted for what it says. Bazaar keeps
//! its own [`Ledger`] of each output in the repository's Git folder (`.git/bazaar/outputs/`,
//! which no checkout writes; `.bazaar-state/` at the root of a folder that is not a Git work
//! tree): the identity (device and inode) of each build folder it created, the fingerprints of
//! the pages in it and the files of its search bundle, and the build lock. A link, folder or
//! state file that the ledger does not vouch for is refused with an error, never followed,
//! reused or removed; links and special files that appear inside Bazaar's own folders are
//! removed (never followed) before a build writes there, and only regular files are published.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

fn name(out: &Path) -> String {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into())
}

/// The two build folders of `out`.
pub fn slots(out: &Path) -> [PathBuf; 2] {
    let n = name(out);
    [
        out.with_file_name(format!(".{n}.build-a")),
        out.with_file_name(format!(".{n}.build-b")),
    ]
}

/// Why Bazaar will not touch a path.
#[derive(Debug)]
pub struct Refused {
    /// The path.
    pub path: PathBuf,
    /// What is wrong and what to do.
    pub reason: String,
}

/// A relative path read from a state file that stays inside the folder it names: no `..`, no
/// root, no prefix, nothing empty.
pub fn safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.contains('\\')
        && !p.contains('\0')
        && Path::new(p)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// 64-bit FNV-1a: a stable name for an output's ledger (the same on every platform and Rust).
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Bazaar's own record of one output: which build folders it created (by device and inode),
/// the state of each (page fingerprints, search bundle files) and the build lock. Kept where a
/// checkout cannot write: the repository's Git folder.
#[derive(Debug, Clone)]
pub struct Ledger {
    dir: PathBuf,
}

impl Ledger {
    /// The ledger of `out` for the catalog at `root`.
    pub fn of(root: &Path, out: &Path) -> Ledger {
        let base = match gix::discover(root) {
            Ok(repo) => repo.git_dir().join("bazaar"),
            Err(_) => root.join(".bazaar-state"),
        };
        let abs = absolute(out);
        let key = format!(
            "{:016x}-{}",
            fnv(abs.to_string_lossy().as_bytes()),
            name(out)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .take(40)
                .collect::<String>()
        );
        Ledger {
            dir: base.join("outputs").join(key),
        }
    }

    /// The ledger's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, slot: &Path, what: &str) -> PathBuf {
        self.dir.join(format!("{}.{what}", name(slot)))
    }

    /// The file that lists the search bundle of `slot`.
    pub fn search_list(&self, slot: &Path) -> PathBuf {
        self.file(slot, "search.txt")
    }

    /// The file that holds the page fingerprints of `slot`.
    pub fn pages_state(&self, slot: &Path) -> PathBuf {
        self.file(slot, "pages.tsv")
    }

    /// Whether `slot` is the folder Bazaar created there (same device and inode as recorded,
    /// a real folder, not a link). `Ok(false)` when nothing is there.
    pub fn owns(&self, slot: &Path) -> Result<bool, Refused> {
        let meta = match std::fs::symlink_metadata(slot) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => {
                return Err(Refused {
                    path: slot.to_path_buf(),
                    reason: format!("cannot be read ({e})"),
                });
            }
        };
        let recorded = std::fs::read_to_string(self.file(slot, "id")).ok();
        if meta.is_dir() && recorded.as_deref().map(str::trim) == Some(identity(&meta).as_str()) {
            return Ok(true);
        }
        Err(Refused {
            path: slot.to_path_buf(),
            reason: format!(
                "was not made by Bazaar (its record of the build folders it made, in {}, does not list it); Bazaar never reuses, follows or removes what it did not make: move it away (or delete it yourself if you know it is an old build) and build again",
                self.dir.display()
            ),
        })
    }

    /// Creates `slot` (which must not exist) and records it as Bazaar's.
    pub fn create(&self, slot: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        std::fs::create_dir(slot)?;
        let meta = std::fs::symlink_metadata(slot)?;
        write_atomic(&self.file(slot, "id"), identity(&meta).as_bytes())
    }

    /// Removes `slot` (Bazaar's) and everything the ledger says about it.
    pub fn remove(&self, slot: &Path) -> std::io::Result<()> {
        for what in ["pages.tsv", "search.txt"] {
            let _ = std::fs::remove_file(self.file(slot, what));
        }
        if slot.exists() {
            std::fs::remove_dir_all(slot)?;
        }
        let _ = std::fs::remove_file(self.file(slot, "id"));
        Ok(())
    }

    /// Holds the build lock of the output until dropped: two builds of one site never write
    /// the same folder at once (the second waits).
    pub fn lock(&self) -> std::io::Result<std::fs::File> {
        std::fs::create_dir_all(&self.dir)?;
        // outside Git's folder, the ledger keeps itself out of commits
        if let Some(state) = self.state_folder() {
            let ignore = state.join(".gitignore");
            if !ignore.exists() {
                std::fs::write(ignore, "# Bazaar's record of its build folders\n*\n")?;
            }
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("lock"))?;
        f.lock()?;
        Ok(f)
    }

    /// Forgets the output entirely (its folders must be gone already).
    pub fn forget(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // the outputs/ folder and `.bazaar-state/` when nothing else is left in them
        if let Some(outputs) = self.dir.parent() {
            let _ = std::fs::remove_dir(outputs);
        }
        if let Some(state) = self.state_folder()
            && std::fs::read_dir(&state)
                .is_ok_and(|entries| entries.flatten().all(|e| e.file_name() == ".gitignore"))
        {
            let _ = std::fs::remove_file(state.join(".gitignore"));
            let _ = std::fs::remove_dir(state);
        }
    }

    /// `.bazaar-state/`, when the ledger lives there (the root is not in a Git work tree).
    fn state_folder(&self) -> Option<PathBuf> {
        self.dir
            .parent()
            .and_then(Path::parent)
            .filter(|p| p.ends_with(".bazaar-state"))
            .map(Path::to_path_buf)
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!("{} {}", meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> String {
    format!("{:?}", meta.created().ok())
}

/// `path` made absolute without resolving its last component (which may be a link).
fn absolute(path: &Path) -> PathBuf {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let parent = parent
        .and_then(|p| std::fs::canonicalize(p).ok())
        .or_else(|| std::path::absolute(parent.unwrap_or(Path::new("."))).ok())
        .unwrap_or_default();
    parent.join(name(path))
}

/// Writes a file by renaming a temporary one over it (never writing through what is there).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}

/// The folder `out` publishes now, after checking that everything there is Bazaar's: `out` is
/// absent or a link to one of its build folders, and every build folder that exists is one the
/// ledger records. Anything else is refused (and left as it is).
pub fn verify(out: &Path, ledger: &Ledger) -> Result<Option<PathBuf>, Refused> {
    let [a, b] = slots(out);
    for slot in [&a, &b] {
        ledger.owns(slot)?;
    }
    let meta = match std::fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Refused {
                path: out.to_path_buf(),
                reason: format!("cannot be read ({e})"),
            });
        }
    };
    if !meta.file_type().is_symlink() {
        return Err(Refused {
            path: out.to_path_buf(),
            reason: "exists and is not a link to a build folder of Bazaar (Bazaar publishes by replacing such a link): move it away or pass another --out".into(),
        });
    }
    let target = std::fs::read_link(out).unwrap_or_default();
    for slot in [a, b] {
        if slot.file_name().map(Path::new) == Some(target.as_path()) {
            return Ok(ledger.owns(&slot)?.then_some(slot));
        }
    }
    Err(Refused {
        path: out.to_path_buf(),
        reason: format!(
            "is a link to {} that was not made by Bazaar; Bazaar never follows or removes it: move it away or pass another --out",
            target.display()
        ),
    })
}

/// The folder to build into: the slot `live` is not.
pub fn next_slot(out: &Path, live: Option<&Path>) -> PathBuf {
    let [a, b] = slots(out);
    if live == Some(a.as_path()) { b } else { a }
}

/// Removes every entry of `dir` (Bazaar's own folder) that is neither a folder nor a regular
/// file: links (never followed, the link itself goes), pipes, sockets, devices.
pub fn remove_non_files(dir: &Path) -> std::io::Result<()> {
    for e in walkdir::WalkDir::new(dir).min_depth(1).follow_links(false) {
        let e = e.map_err(std::io::Error::other)?;
        let t = e.file_type();
        if !t.is_dir() && !t.is_file() {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Leaves in `dir` only the regular files of `keep` (paths relative to `dir`) and folders:
/// links, special files and files this build did not produce are removed, so nothing else is
/// ever published.
pub fn keep_only(dir: &Path, keep: &HashSet<PathBuf>) -> std::io::Result<()> {
    let mut empty_dirs = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .contents_first(true)
    {
        let e = e.map_err(std::io::Error::other)?;
        let t = e.file_type();
        if t.is_dir() {
            empty_dirs.push(e.path().to_path_buf());
            continue;
        }
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        if !t.is_file() || !keep.contains(rel) {
            std::fs::remove_file(e.path())?;
        }
    }
    for d in empty_dirs {
        let _ = std::fs::remove_dir(d); // only when empty
    }
    Ok(())
}

/// Points `out` at `built` atomically. Refuses to replace anything but a link.
pub fn swap_in(out: &Path, built: &Path) -> std::io::Result<()> {
    if let Ok(m) = std::fs::symlink_metadata(out)
        && !m.file_type().is_symlink()
    {
        return Err(std::io::Error::other(format!(
            "{} exists and is not a link Bazaar made; move it away (Bazaar publishes by replacing a link)",
            out.display()
        )));
    }
    let target = built
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| built.to_path_buf());
    let link = out.with_file_name(format!(".{}.link-{}", name(out), std::process::id()));
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link)?;
    std::fs::rename(&link, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_state_files_stay_inside() {
        for ok in [
            "a",
            "apps/x/index.html",
            "pagefind/fragment/en_1.pf_fragment",
        ] {
            assert!(safe_relative(ok), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "./a",
            "a//b/../c",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(!safe_relative(bad), "{bad}");
        }
    }
}
