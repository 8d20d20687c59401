//! Git trees as the source layer sees them: the listing of a revision's paths under some roots,
//! and the one tree diff everything above uses (the catalog's diff of two revisions, the audit's
//! governed paths per commit, the site's app history). The diff compares trees entry by entry and
//! descends only into subtrees whose ids differ, so an unchanged folder costs one id comparison.

use std::collections::{BTreeMap, BTreeSet};

use gix::bstr::ByteSlice;

use super::{Entry, Kind};
use crate::git::{GitError, Repo};

fn read_err(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Read {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

fn kind(mode: gix::object::tree::EntryMode) -> Kind {
    if mode.is_link() {
        Kind::Symlink
    } else if mode.is_commit() {
        Kind::Submodule
    } else {
        Kind::File
    }
}

/// A revision's listing: the id of what was named (commit, or a tree itself), its root tree's
/// id, and every path under the roots.
pub struct Listing {
    /// The commit (or tree) the revision named.
    pub id: String,
    /// The root tree.
    pub tree: String,
    /// Every file, link and submodule under the roots, with its object id.
    pub entries: BTreeMap<String, Entry>,
}

/// The tree a revision names (a commit's tree, or a tree itself, e.g. a merge result that was
/// never committed) and the id of what was named.
pub fn tree_of<'r>(
    repo: &Repo,
    local: &'r gix::Repository,
    rev: &str,
) -> Result<(String, gix::Tree<'r>), GitError> {
    let bad = |detail: String| GitError::BadRev {
        rev: rev.into(),
        path: repo.path.clone(),
        detail,
    };
    let id = local
        .rev_parse_single(rev)
        .map_err(|e| bad(e.to_string()))?;
    let object = id.object().map_err(|e| bad(e.to_string()))?;
    if object.kind == gix::object::Kind::Tree {
        return Ok((id.to_string(), object.into_tree()));
    }
    let commit = object.peel_to_commit().map_err(|e| bad(e.to_string()))?;
    let tree = commit
        .tree()
        .map_err(|e| read_err(&format!("tree of {rev}"), e))?;
    Ok((commit.id.to_string(), tree))
}

/// Lists every path under `roots` (top-level names or deeper paths such as
/// `catalog/finance/expense-tracker`) at `rev`: files, links and submodules with their ids.
pub fn list(
    repo: &Repo,
    local: &gix::Repository,
    rev: &str,
    roots: &[&str],
) -> Result<Listing, GitError> {
    let (id, tree) = tree_of(repo, local, rev)?;
    let read = |e: &dyn std::fmt::Display| read_err(&format!("tree of {rev}"), e);
    let mut out = BTreeMap::new();
    for root in roots {
        let Some(entry) = tree.lookup_entry_by_path(root).map_err(|e| read(&e))? else {
            continue;
        };
        let mode = entry.mode();
        if mode.is_tree() {
            let sub = local.find_tree(entry.oid()).map_err(|e| read(&e))?;
            let mut rec = gix::traverse::tree::Recorder::default();
            sub.traverse()
                .breadthfirst(&mut rec)
                .map_err(|e| read(&e))?;
            for r in rec.records {
                if r.mode.is_tree() {
                    continue;
                }
                out.insert(
                    format!("{root}/{}", r.filepath.to_str_lossy()),
                    Entry {
                        kind: kind(r.mode),
                        oid: Some(r.oid.to_string()),
                    },
                );
            }
        } else {
            out.insert(
                root.to_string(),
                Entry {
                    kind: kind(mode),
                    oid: Some(entry.oid().to_string()),
                },
            );
        }
    }
    Ok(Listing {
        id,
        tree: tree.id.to_string(),
        entries: out,
    })
}

/// What happened to a path between two trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in the new tree.
    Added,
    /// In both, with different content (or kind).
    Modified,
    /// Only in the old tree.
    Removed,
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChange {
    /// The path (`/`-separated).
    pub path: String,
    /// What happened.
    pub change: Change,
    /// True when the path is a folder reported whole (see [`diff`]'s `stop`).
    pub is_tree: bool,
    /// Its object in the new tree.
    pub new: Option<gix::ObjectId>,
    /// Its mode in the new tree (Git's octal value, e.g. 0o100644).
    pub mode: Option<u32>,
}

/// The entries of a tree (name → (id, is a tree, mode)); an absent tree is empty.
fn entries(
    repo: &gix::Repository,
    tree: Option<gix::ObjectId>,
) -> Result<BTreeMap<String, (gix::ObjectId, bool, u32)>, GitError> {
    let mut out = BTreeMap::new();
    let Some(id) = tree else { return Ok(out) };
    let t = repo.find_tree(id).map_err(|e| read_err("tree", e))?;
    for e in t.iter() {
        let e = e.map_err(|e| read_err("tree entry", e))?;
        out.insert(
            e.filename().to_str_lossy().into_owned(),
            (
                e.oid().to_owned(),
                e.mode().is_tree(),
                u32::from(e.mode().value()),
            ),
        );
    }
    Ok(out)
}

/// The paths that differ between two trees, limited to the top-level `roots` (all of them when
/// `roots` is empty). Folders whose
/// path `stop` accepts are reported whole (not descended into); other folders are descended
/// into, and only their differing files are reported. Equal subtrees are skipped unread.
pub fn diff(
    repo: &gix::Repository,
    old: Option<gix::ObjectId>,
    new: Option<gix::ObjectId>,
    roots: &[&str],
    stop: &dyn Fn(&str) -> bool,
) -> Result<Vec<PathChange>, GitError> {
    let mut out = Vec::new();
    walk(repo, old, new, "", roots, stop, &mut out)?;
    Ok(out)
}

fn walk(
    repo: &gix::Repository,
    old: Option<gix::ObjectId>,
    new: Option<gix::ObjectId>,
    prefix: &str,
    roots: &[&str],
    stop: &dyn Fn(&str) -> bool,
    out: &mut Vec<PathChange>,
) -> Result<(), GitError> {
    if old == new {
        return Ok(());
    }
    let (o, n) = (entries(repo, old)?, entries(repo, new)?);
    let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for name in names {
        if prefix.is_empty() && !roots.is_empty() && !roots.contains(&name.as_str()) {
            continue;
        }
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let (x, y) = (o.get(name), n.get(name));
        if x.map(|e| e.0) == y.map(|e| e.0) {
            continue;
        }
        let both_trees = x.is_none_or(|e| e.1) && y.is_none_or(|e| e.1);
        if both_trees && !stop(&path) {
            walk(
                repo,
                x.map(|e| e.0),
                y.map(|e| e.0),
                &path,
                roots,
                stop,
                out,
            )?;
            continue;
        }
        let push = |out: &mut Vec<PathChange>, change, e: Option<&(gix::ObjectId, bool, u32)>| {
            let kept = change != Change::Removed;
            out.push(PathChange {
                path: path.clone(),
                change,
                is_tree: e.is_some_and(|e| e.1),
                new: kept.then(|| e.map(|e| e.0)).flatten(),
                mode: kept.then(|| e.map(|e| e.2)).flatten(),
            })
        };
        match (x, y) {
            (Some(a), Some(b)) if a.1 == b.1 => push(out, Change::Modified, Some(b)),
            // a file became a folder or the reverse: the old one went, the new one came
            (Some(a), Some(b)) => {
                if a.1 {
                    walk(repo, Some(a.0), None, &path, roots, stop, out)?;
                } else {
                    push(out, Change::Removed, Some(a));
                }
                if b.1 {
                    walk(repo, None, Some(b.0), &path, roots, stop, out)?;
                } else {
                    push(out, Change::Added, Some(b));
                }
            }
            (None, Some(b)) => push(out, Change::Added, Some(b)),
            (Some(a), None) => push(out, Change::Removed, Some(a)),
            (None, None) => {}
        }
    }
    Ok(())
}
