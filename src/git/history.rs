//! Which apps each commit changed: the first-parent history compared tree by tree under
//! `catalog/`, descending only into subtrees whose ids differ, so an unchanged team or app costs
//! one id comparison. The site's version history, "recently changed" list and Atom feed read it.

use std::collections::BTreeMap;

use gix::bstr::ByteSlice;
use rayon::prelude::*;

use super::{GitError, Repo};

/// What a commit did to an app folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The folder appeared.
    Added,
    /// Something in it changed.
    Changed,
    /// The folder went away.
    Removed,
}

/// One app folder changed by one commit.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AppChange {
    /// `catalog/<team>/<app>`.
    pub dir: String,
    /// What happened.
    pub kind: ChangeKind,
    /// The manifest's `version` after the commit (none when removed or unreadable).
    pub version: Option<String>,
}

/// A first-parent commit that changed apps.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Change {
    /// The commit id.
    pub commit: String,
    /// When it was committed.
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    /// The subject line.
    pub subject: String,
    /// The author's name.
    pub author: String,
    /// The app folders it changed.
    pub apps: Vec<AppChange>,
}

fn read_err(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Read {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

/// The entries of a tree (name → (id, is a tree)); an absent tree is empty.
fn entries(
    repo: &gix::Repository,
    tree: Option<gix::ObjectId>,
) -> Result<BTreeMap<String, (gix::ObjectId, bool)>, GitError> {
    let mut out = BTreeMap::new();
    let Some(id) = tree else { return Ok(out) };
    let t = repo.find_tree(id).map_err(|e| read_err("tree", e))?;
    for e in t.iter() {
        let e = e.map_err(|e| read_err("tree entry", e))?;
        out.insert(
            e.filename().to_str_lossy().into_owned(),
            (e.oid().to_owned(), e.mode().is_tree()),
        );
    }
    Ok(out)
}

/// The id of the `catalog` tree of a commit.
fn catalog_tree(
    repo: &gix::Repository,
    commit: gix::ObjectId,
) -> Result<Option<gix::ObjectId>, GitError> {
    let c = repo
        .find_commit(commit)
        .map_err(|e| read_err("commit", e))?;
    let tree = c.tree().map_err(|e| read_err("tree", e))?;
    Ok(tree
        .lookup_entry_by_path("catalog")
        .map_err(|e| read_err("tree", e))?
        .filter(|e| e.mode().is_tree())
        .map(|e| e.oid().to_owned()))
}

/// The app folders that differ between two `catalog` trees.
fn changed_dirs(
    repo: &gix::Repository,
    new: Option<gix::ObjectId>,
    old: Option<gix::ObjectId>,
) -> Result<Vec<(String, ChangeKind, Option<gix::ObjectId>)>, GitError> {
    let mut out = Vec::new();
    if new == old {
        return Ok(out);
    }
    let (n, o) = (entries(repo, new)?, entries(repo, old)?);
    let teams: std::collections::BTreeSet<&String> = n.keys().chain(o.keys()).collect();
    for team in teams {
        let (nt, ot) = (n.get(team), o.get(team));
        if nt.map(|x| x.0) == ot.map(|x| x.0) {
            continue;
        }
        let sub = |x: Option<&(gix::ObjectId, bool)>| x.filter(|x| x.1).map(|x| x.0);
        let (na, oa) = (entries(repo, sub(nt))?, entries(repo, sub(ot))?);
        let apps: std::collections::BTreeSet<&String> = na.keys().chain(oa.keys()).collect();
        for app in apps {
            let (x, y) = (na.get(app).filter(|e| e.1), oa.get(app).filter(|e| e.1));
            let kind = match (x, y) {
                (Some(a), Some(b)) if a.0 == b.0 => continue,
                (Some(_), Some(_)) => ChangeKind::Changed,
                (Some(_), None) => ChangeKind::Added,
                (None, Some(_)) => ChangeKind::Removed,
                (None, None) => continue,
            };
            out.push((format!("catalog/{team}/{app}"), kind, x.map(|e| e.0)));
        }
    }
    Ok(out)
}

/// The manifest's version in an app folder's tree, read without a full parse.
fn version_in(repo: &gix::Repository, dir_tree: gix::ObjectId) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        version: String,
    }
    let t = repo.find_tree(dir_tree).ok()?;
    let e = t.find_entry("app.toml")?;
    let blob = repo.find_blob(e.oid()).ok()?;
    let text = std::str::from_utf8(&blob.data).ok()?;
    toml::from_str::<Head>(text).ok().map(|h| h.version)
}

impl Repo {
    /// The app changes of the newest `limit` first-parent commits from `rev`, newest first.
    /// Commits that changed no app are left out. What a commit changed never changes, so it is
    /// remembered in `.git/bazaar/` by commit id.
    pub fn app_changes(&self, rev: &str, limit: usize) -> Result<Vec<Change>, GitError> {
        let tip = self.resolve(rev)?;
        let local = self.local();
        let mut chain = Vec::new();
        let mut next =
            Some(gix::ObjectId::from_hex(tip.as_bytes()).map_err(|e| read_err("tip", e))?);
        while let Some(id) = next {
            if chain.len() == limit {
                break;
            }
            let c = local.find_commit(id).map_err(|e| read_err("commit", e))?;
            next = c.parent_ids().next().map(|p| p.detach());
            chain.push((id, next));
        }
        let mut cache: crate::cache::DiskCache<Option<Change>> =
            crate::cache::DiskCache::open(&self.git_dir().join("bazaar"), "app-changes");
        let changes = chain
            .par_iter()
            .map(|(id, parent)| {
                if let Some(known) = cache.get(&id.to_string()) {
                    return Ok((*id, known.clone(), false));
                }
                self.with(|repo| -> Result<Option<Change>, GitError> {
                    let new = catalog_tree(repo, *id)?;
                    let old = match parent {
                        Some(p) => catalog_tree(repo, *p)?,
                        None => None,
                    };
                    let dirs = changed_dirs(repo, new, old)?;
                    if dirs.is_empty() {
                        return Ok(None);
                    }
                    let c = repo.find_commit(*id).map_err(|e| read_err("commit", e))?;
                    let message = c.message_raw_sloppy().to_str_lossy().into_owned();
                    let author = c
                        .author()
                        .map(|a| a.name.to_str_lossy().into_owned())
                        .unwrap_or_default();
                    Ok(Some(Change {
                        commit: id.to_string(),
                        time: c
                            .committer()
                            .ok()
                            .and_then(|s| s.time().ok())
                            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)),
                        subject: message.lines().next().unwrap_or_default().to_string(),
                        author,
                        apps: dirs
                            .into_iter()
                            .map(|(dir, kind, tree)| AppChange {
                                dir,
                                kind,
                                version: tree.and_then(|t| version_in(repo, t)),
                            })
                            .collect(),
                    }))
                })
                .map(|c| (*id, c, true))
            })
            .collect::<Result<Vec<_>, GitError>>()?;
        let mut out = Vec::new();
        for (id, change, fresh) in changes {
            if fresh {
                cache.insert(id.to_string(), change.clone());
            }
            out.extend(change);
        }
        // a cache that cannot be written only costs time next run
        let _ = cache.save();
        Ok(out)
    }
}
