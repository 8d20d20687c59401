//! Publishing to a Git branch (gh-pages style): the built folder's files become one commit's
//! tree, written straight into the object database (no checkout, no index), with the branch's
//! previous tip as parent and `.nojekyll` added so GitHub Pages serves `_`-prefixed files. The
//! branch moves with a compare-and-swap; a push goes through only while the remote branch is
//! still where Bazaar saw it and our commit descends from it (never forced).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use git2::{FileMode, Oid, Repository};

use super::{PublishError, PublishTimings, Published, ms, site_files};
use crate::git::write::{WriteError, move_branch, push_with_lease, remote_tip};

/// Whether git accepts `name` as a branch name.
pub fn valid_branch(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && git2::Reference::is_valid_name(&format!("refs/heads/{name}"))
}

/// A folder of the tree being built: files by name, subfolders by name.
#[derive(Default)]
struct Dir {
    files: BTreeMap<String, Oid>,
    dirs: BTreeMap<String, Dir>,
}

fn write_tree(repo: &Repository, dir: &Dir) -> Result<Oid, git2::Error> {
    let mut tb = repo.treebuilder(None)?;
    for (name, sub) in &dir.dirs {
        let id = write_tree(repo, sub)?;
        tb.insert(name, id, FileMode::Tree.into())?;
    }
    for (name, id) in &dir.files {
        tb.insert(name, *id, FileMode::Blob.into())?;
    }
    tb.write()
}

/// Commits the site in `built` on `branch` of the repository at `repo` and, with `push`,
/// pushes it there with a lease. An unchanged tree makes no commit (but still completes a push
/// an earlier run could not make).
pub fn publish(
    built: &Path,
    repo: &Path,
    branch: &str,
    push: Option<&str>,
) -> Result<Published, PublishError> {
    let started = Instant::now();
    if !valid_branch(branch) {
        return Err(PublishError::BadTarget(format!(
            "git:{branch}: not a branch name git accepts"
        )));
    }
    let files = site_files(built)?;
    let scan = ms(started);
    let repo = Repository::open(repo)?;
    let t = Instant::now();
    let odb = repo.odb()?;
    let mut root = Dir::default();
    let mut uploaded_bytes = 0;
    let mut add = |rel: &str, bytes: &[u8]| -> Result<(), git2::Error> {
        let id = Oid::hash_object(git2::ObjectType::Blob, bytes)?;
        if !odb.exists(id) {
            odb.write(git2::ObjectType::Blob, bytes)?;
            uploaded_bytes += bytes.len() as u64;
        }
        let mut parts: Vec<&str> = rel.split('/').collect();
        let name = parts.pop().unwrap_or_default().to_string();
        let mut dir = &mut root;
        for p in parts {
            dir = dir.dirs.entry(p.to_string()).or_default();
        }
        dir.files.insert(name, id);
        Ok(())
    };
    for f in &files {
        let bytes = std::fs::read(&f.path).map_err(|source| PublishError::Io {
            path: f.path.clone(),
            source,
        })?;
        add(&f.rel, &bytes)?;
    }
    if !files.iter().any(|f| f.rel == ".nojekyll") {
        add(".nojekyll", b"")?;
    }
    let tree = write_tree(&repo, &root)?;
    let refname = format!("refs/heads/{branch}");
    let parent = repo.refname_to_id(&refname).ok();
    let unchanged = parent
        .and_then(|p| repo.find_commit(p).ok())
        .is_some_and(|c| c.tree_id() == tree);
    let mut commit = None;
    let tip = if unchanged {
        parent.expect("unchanged implies a parent")
    } else {
        let sig = repo
            .signature()
            .or_else(|_| git2::Signature::now("Bazaar", "bazaar@localhost"))?;
        let tree_obj = repo.find_tree(tree)?;
        let parents: Vec<git2::Commit<'_>> = parent
            .map(|p| repo.find_commit(p))
            .transpose()?
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let id = repo.commit(
            None,
            &sig,
            &sig,
            &format!("Publish the catalog site ({} files)", files.len()),
            &tree_obj,
            &refs,
        )?;
        commit = Some(id.to_string());
        id
    };
    let upload = ms(t);
    let mut pushed = false;
    if let Some(remote) = push {
        // the remote branch must be absent, or an ancestor of what we publish: anything else
        // is someone else's work and is never overwritten
        let seen = remote_tip(&repo, remote, branch)?;
        if seen != Some(tip) {
            if let Some(s) = seen {
                let ours = repo.find_commit(s).is_ok()
                    && (s == tip || repo.graph_descendant_of(tip, s)?);
                if !ours {
                    return Err(WriteError::Moved {
                        branch: format!("{remote}/{branch}"),
                        expected: parent.map_or("nowhere".into(), |p| p.to_string()),
                        actual: s.to_string(),
                    }
                    .into());
                }
            }
            push_with_lease(&repo, remote, branch, seen, tip)?;
            pushed = true;
        }
    }
    if !unchanged {
        match parent {
            Some(p) => move_branch(&repo, branch, tip, p, "bazaar publish")?,
            None => {
                // create only if nobody made it meanwhile
                repo.reference(&refname, tip, false, "bazaar publish")
                    .map_err(|e| {
                        if e.code() == git2::ErrorCode::Exists {
                            PublishError::Git(WriteError::Moved {
                                branch: branch.into(),
                                expected: "nowhere".into(),
                                actual: repo
                                    .refname_to_id(&refname)
                                    .map_or("unknown".into(), |o| o.to_string()),
                            })
                        } else {
                            e.into()
                        }
                    })?;
            }
        }
    }
    let n = files.len() + usize::from(!files.iter().any(|f| f.rel == ".nojekyll"));
    // what the new tree changes against the previous tip
    let (mut changed, mut deleted) = (n, 0);
    if let Some(p) = parent {
        let old = repo.find_commit(p)?.tree()?;
        let new = repo.find_tree(tree)?;
        let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), None)?;
        changed = 0;
        for d in diff.deltas() {
            match d.status() {
                git2::Delta::Deleted => deleted += 1,
                _ => changed += 1,
            }
        }
    }
    Ok(Published {
        target: format!("git:{branch}"),
        files: n,
        uploaded: changed,
        uploaded_bytes,
        deleted,
        kept: n - changed,
        commit,
        pushed,
        timings_ms: PublishTimings {
            scan,
            compare: 0,
            upload,
            delete: 0,
            total: ms(started),
        },
    })
}
