//! What changed between two snapshots: apps added, changed, removed and renamed, and changes
//! outside `catalog/` (policies, settings).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::manifest::{self, MAX_MANIFEST_BYTES};
use crate::source::Snapshot;

/// One app's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum AppChange {
    /// A new app folder.
    Added {
        /// Its folder.
        dir: String,
    },
    /// Files of an existing app changed.
    Changed {
        /// Its folder.
        dir: String,
    },
    /// The folder is gone.
    Removed {
        /// The old folder.
        dir: String,
    },
    /// The same app id moved to another folder.
    Renamed {
        /// The old folder.
        from: String,
        /// The new folder.
        to: String,
    },
}

/// The difference between a base and a head snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Changed apps, by folder.
    pub apps: Vec<AppChange>,
    /// Every changed path (added, modified or removed), sorted.
    pub paths: BTreeSet<String>,
    /// Changed paths outside app folders (`bazaar.toml`, `policies/…`, team files, collections).
    pub other: Vec<String>,
    /// Ids the base's versions of removed, changed and renamed apps declared: references to them
    /// (collections, replacements) are affected by this change.
    pub base_ids: BTreeSet<String>,
}

/// True for paths that govern the catalog: `bazaar.toml`, `policies/`, `site-templates/`.
pub fn is_governance(path: &str) -> bool {
    path == "bazaar.toml" || path.starts_with("policies/") || path.starts_with("site-templates/")
}

fn app_dir(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["catalog", "collections", ..] => None,
        ["catalog", team, app, _, ..] => Some(format!("catalog/{team}/{app}")),
        _ => None,
    }
}

impl Diff {
    /// Compares two snapshots by object id (Git) or content (folders). A removed and an added
    /// folder whose manifests declare the same id are a rename.
    pub fn between(base: &Snapshot, head: &Snapshot) -> Diff {
        let mut paths = BTreeSet::new();
        for (p, e) in &head.entries {
            match base.entries.get(p) {
                None => {
                    paths.insert(p.clone());
                }
                Some(b) if b.kind != e.kind => {
                    paths.insert(p.clone());
                }
                Some(b) => {
                    let same = match (&b.oid, &e.oid) {
                        (Some(x), Some(y)) => x == y,
                        _ => {
                            matches!((base.read(p, usize::MAX), head.read(p, usize::MAX)), (Ok(Ok(x)), Ok(Ok(y))) if x == y)
                        }
                    };
                    if !same {
                        paths.insert(p.clone());
                    }
                }
            }
        }
        paths.extend(
            base.entries
                .keys()
                .filter(|p| !head.entries.contains_key(*p))
                .cloned(),
        );
        Diff::from_paths(paths, base, head)
    }

    /// The change between two revisions of one repository, from the source layer's tree diff:
    /// only the changed paths are read, so a one-app change costs the same on a catalog of any
    /// size.
    pub fn between_revs(
        repo: &crate::git::Repo,
        base: &str,
        head: &str,
    ) -> Result<Diff, crate::source::SnapshotError> {
        let local = repo.local();
        let (_, base_tree) = crate::source::tree::tree_of(repo, &local, base)?;
        let (_, head_tree) = crate::source::tree::tree_of(repo, &local, head)?;
        let changes = crate::source::tree::diff(
            &local,
            Some(base_tree.id),
            Some(head_tree.id),
            crate::source::TRACKED_ROOTS,
            &|_| false,
        )?;
        let paths: BTreeSet<String> = changes
            .into_iter()
            .map(|c| c.path)
            .filter(|p| !p.split('/').any(|seg| seg.starts_with('.')))
            .collect();
        let mut roots: BTreeSet<String> = paths
            .iter()
            .map(|p| app_dir(p).unwrap_or_else(|| p.clone()))
            .collect();
        roots.insert("bazaar.toml".into());
        let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
        let b = Snapshot::from_repo_subset_in(repo, &local, base, &roots)?;
        let h = Snapshot::from_repo_subset_in(repo, &local, head, &roots)?;
        Ok(Diff::from_paths(paths, &b, &h))
    }

    /// The app folders a change touches (added, changed, removed or renamed, either side).
    pub fn app_dirs(&self) -> BTreeSet<String> {
        self.apps
            .iter()
            .flat_map(|c| match c {
                AppChange::Renamed { from, to } => vec![from.clone(), to.clone()],
                AppChange::Added { dir }
                | AppChange::Changed { dir }
                | AppChange::Removed { dir } => {
                    vec![dir.clone()]
                }
            })
            .collect()
    }

    /// Classifies changed paths into app changes (renames found by id) and other changes.
    fn from_paths(paths: BTreeSet<String>, base: &Snapshot, head: &Snapshot) -> Diff {
        let mut dirs: BTreeMap<String, (bool, bool)> = BTreeMap::new(); // dir -> (in base, in head)
        let mut other = Vec::new();
        for p in &paths {
            match app_dir(p) {
                Some(d) => {
                    let manifest = format!("{d}/app.toml");
                    dirs.insert(
                        d,
                        (
                            base.entries.contains_key(&manifest),
                            head.entries.contains_key(&manifest),
                        ),
                    );
                }
                None => other.push(p.clone()),
            }
        }
        let id_at = |snap: &Snapshot, dir: &str| -> Option<String> {
            let path = format!("{dir}/app.toml");
            let bytes = snap.read(&path, MAX_MANIFEST_BYTES).ok()?.ok()?;
            let file = manifest::decode(&path, &bytes, MAX_MANIFEST_BYTES).ok()?;
            manifest::parse_app(&file).value.map(|a| a.id)
        };
        let mut apps = Vec::new();
        let mut removed: Vec<(String, Option<String>)> = Vec::new();
        let mut added: Vec<(String, Option<String>)> = Vec::new();
        for (dir, (b, h)) in dirs {
            match (b, h) {
                (true, true) => apps.push(AppChange::Changed { dir }),
                (true, false) => {
                    let id = id_at(base, &dir);
                    removed.push((dir, id));
                }
                (false, true) => {
                    let id = id_at(head, &dir);
                    added.push((dir, id));
                }
                (false, false) => {}
            }
        }
        for (dir, id) in added {
            let pos = id
                .as_ref()
                .and_then(|id| removed.iter().position(|(_, rid)| rid.as_ref() == Some(id)));
            match pos {
                Some(k) => {
                    let (from, _) = removed.remove(k);
                    apps.push(AppChange::Renamed { from, to: dir });
                }
                None => apps.push(AppChange::Added { dir }),
            }
        }
        apps.extend(
            removed
                .into_iter()
                .map(|(dir, _)| AppChange::Removed { dir }),
        );
        apps.sort_by(|a, b| a.key().cmp(b.key()));
        let base_ids = apps
            .iter()
            .filter_map(|c| match c {
                AppChange::Changed { dir }
                | AppChange::Removed { dir }
                | AppChange::Renamed { from: dir, .. } => id_at(base, dir),
                AppChange::Added { .. } => None,
            })
            .collect();
        Diff {
            apps,
            paths,
            other,
            base_ids,
        }
    }

    /// The app folders of the head that this change added, changed or renamed into.
    pub fn head_dirs(&self) -> BTreeSet<String> {
        self.apps
            .iter()
            .filter_map(|c| match c {
                AppChange::Added { dir } | AppChange::Changed { dir } => Some(dir.clone()),
                AppChange::Renamed { to, .. } => Some(to.clone()),
                AppChange::Removed { .. } => None,
            })
            .collect()
    }

    /// The changed paths that govern the catalog rather than list apps: settings, policies
    /// (roster and signers included) and the site's templates (they shape what every reader sees
    /// and runs). Changing any of them needs the `admin` role.
    pub fn governance_paths(&self) -> Vec<&str> {
        self.other
            .iter()
            .map(String::as_str)
            .filter(|p| is_governance(p))
            .collect()
    }

    /// True when a governance path changed (see [`Diff::governance_paths`]).
    pub fn touches_governance(&self) -> bool {
        self.other.iter().any(|p| is_governance(p))
    }
}

impl AppChange {
    fn key(&self) -> &str {
        match self {
            AppChange::Added { dir } | AppChange::Changed { dir } | AppChange::Removed { dir } => {
                dir
            }
            AppChange::Renamed { to, .. } => to,
        }
    }
}
