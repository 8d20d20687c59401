//! Which apps each commit changed: the first-parent history compared with the source layer's
//! tree diff under `catalog/`, down to app folders, with each app's version, tier, status and
//! SBOM after the change. The site's version history, "recently changed" list, Atom feed and
//! the dashboard's charts over time read it.

use gix::bstr::ByteSlice;
use rayon::prelude::*;

use crate::git::{GitError, Repo};
use crate::source::tree;

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
    /// Its tier after the commit (none when removed or unreadable).
    #[serde(default)]
    pub tier: Option<String>,
    /// Its lifecycle status after the commit (none when removed or unreadable).
    #[serde(default)]
    pub status: Option<String>,
    /// Whether it names an SBOM (`[security] sbom`) or keeps `sbom.cdx.json` after the commit.
    #[serde(default)]
    pub sbom: bool,
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

/// The root tree of a commit.
fn root_tree(repo: &gix::Repository, commit: gix::ObjectId) -> Result<gix::ObjectId, GitError> {
    let c = repo
        .find_commit(commit)
        .map_err(|e| read_err("commit", e))?;
    Ok(c.tree_id().map_err(|e| read_err("tree", e))?.detach())
}

/// The app folders (`catalog/<team>/<app>`) that differ between two commits' trees.
fn changed_dirs(
    repo: &gix::Repository,
    new: gix::ObjectId,
    old: Option<gix::ObjectId>,
) -> Result<Vec<(String, ChangeKind, Option<gix::ObjectId>)>, GitError> {
    let old = match old {
        Some(o) => Some(root_tree(repo, o)?),
        None => None,
    };
    let app_level = |p: &str| p.split('/').count() == 3;
    Ok(tree::diff(
        repo,
        old,
        Some(root_tree(repo, new)?),
        &["catalog"],
        &app_level,
    )?
    .into_iter()
    .filter(|c| c.is_tree && !c.path.starts_with("catalog/collections/"))
    .map(|c| {
        let kind = match c.change {
            tree::Change::Added => ChangeKind::Added,
            tree::Change::Modified => ChangeKind::Changed,
            tree::Change::Removed => ChangeKind::Removed,
        };
        (c.path, kind, c.new)
    })
    .collect())
}

/// The facts the dashboard follows over time, read from an app folder's tree without a full
/// parse: (version, tier, lifecycle status, has an SBOM).
type Facts = (Option<String>, Option<String>, Option<String>, bool);

fn facts_in(repo: &gix::Repository, dir_tree: gix::ObjectId) -> Facts {
    #[derive(serde::Deserialize)]
    struct Head {
        version: Option<String>,
        tier: Option<String>,
        lifecycle: Option<Life>,
        security: Option<Sec>,
    }
    #[derive(serde::Deserialize)]
    struct Life {
        status: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Sec {
        sbom: Option<String>,
    }
    let Some(t) = repo.find_tree(dir_tree).ok() else {
        return (None, None, None, false);
    };
    let sbom_file = t.find_entry("sbom.cdx.json").is_some();
    let head = t
        .find_entry("app.toml")
        .and_then(|e| repo.find_blob(e.oid()).ok())
        .and_then(|b| toml::from_str::<Head>(std::str::from_utf8(&b.data).ok()?).ok());
    match head {
        Some(h) => (
            h.version,
            h.tier,
            h.lifecycle.and_then(|l| l.status).or(Some("active".into())),
            sbom_file || h.security.is_some_and(|s| s.sbom.is_some()),
        ),
        None => (None, None, None, sbom_file),
    }
}

/// The app changes of the newest `limit` first-parent commits from `rev`, newest first.
/// Commits that changed no app are left out. What a commit changed never changes, so it is
/// remembered in `.git/bazaar/` by commit id.
pub fn app_changes(this: &Repo, rev: &str, limit: usize) -> Result<Vec<Change>, GitError> {
    let tip = this.resolve(rev)?;
    let local = this.local();
    let mut chain = Vec::new();
    let mut next = Some(gix::ObjectId::from_hex(tip.as_bytes()).map_err(|e| read_err("tip", e))?);
    while let Some(id) = next {
        if chain.len() == limit {
            break;
        }
        let c = local.find_commit(id).map_err(|e| read_err("commit", e))?;
        next = c.parent_ids().next().map(|p| p.detach());
        chain.push((id, next));
    }
    let mut cache: crate::cache::DiskCache<Option<Change>> =
        crate::cache::DiskCache::open(&this.git_dir().join("bazaar"), "app-changes-2");
    let changes = chain
        .par_iter()
        .map(|(id, parent)| {
            if let Some(known) = cache.get(&id.to_string()) {
                return Ok((*id, known.clone(), false));
            }
            this.with(|repo| -> Result<Option<Change>, GitError> {
                let dirs = changed_dirs(repo, *id, *parent)?;
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
                        .map(|(dir, kind, tree)| {
                            let (version, tier, status, sbom) =
                                tree.map_or((None, None, None, false), |t| facts_in(repo, t));
                            AppChange {
                                dir,
                                kind,
                                version,
                                tier,
                                status,
                                sbom,
                            }
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
