//! A loaded catalog: settings, teams, apps and collections read from a [`Snapshot`], with every
//! finding of the files and of the checks across them.

mod checks;
mod diff;
mod facts;
mod history;

/// The source layer under the catalog (kept under its old name for callers).
pub use crate::source as snapshot;
mod output;
pub mod readme;
mod readme_links;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::diagnostics::{Finding, SourceFile};
use crate::manifest::{self, App, Collection, Config, MAX_MANIFEST_BYTES, Team};

pub use crate::source::{Kind, Origin, Snapshot, SnapshotError};
pub use checks::id_token;
pub use diff::{AppChange, Diff};
pub use facts::{AppFacts, FactsCache, endpoint_key};
pub use history::{AppChange as AppEvent, Change as HistoryChange, ChangeKind, app_changes};

/// Largest README read; larger ones are refused with a finding.
pub const MAX_README_BYTES: usize = 1024 * 1024;

/// Longest README text the site renders; the rest is cut, with a warning from `check`.
pub const MAX_RENDERED_README_CHARS: usize = 200_000;

/// Largest SBOM read.
pub const MAX_SBOM_BYTES: usize = 8 * 1024 * 1024;

/// An app with where it lives.
#[derive(Debug, Clone)]
pub struct AppEntry {
    /// Its folder, `catalog/<team>/<app>`.
    pub dir: String,
    /// The validated manifest.
    pub app: App,
}

impl AppEntry {
    /// Path of its manifest.
    pub fn manifest_path(&self) -> String {
        format!("{}/app.toml", self.dir)
    }
}

/// A catalog loaded from a snapshot.
#[derive(Debug, Default)]
pub struct Catalog {
    /// `bazaar.toml`, when valid.
    pub config: Option<Config>,
    /// Teams by folder name (valid ones).
    pub teams: BTreeMap<String, Team>,
    /// Valid apps read in full, sorted by folder (all of them unless the load was scoped).
    pub apps: Vec<AppEntry>,
    /// Every app folder (valid or not), sorted.
    pub app_dirs: Vec<String>,
    /// Collections by file stem (valid ones).
    pub collections: BTreeMap<String, Collection>,
    /// Every finding, each with the files it involves (a finding is about a change when any of
    /// them changed).
    pub findings: Vec<(Finding, Vec<String>)>,
    /// Facts of every app folder with a readable manifest (valid or not), by folder.
    pub facts: BTreeMap<String, AppFacts>,
    /// The text of every manifest read, for snippets.
    pub sources: BTreeMap<String, SourceFile>,
}

/// Team folder of an app folder path.
pub fn team_of(dir: &str) -> &str {
    dir.split('/').nth(1).unwrap_or_default()
}

impl Catalog {
    /// Reads and checks every file of the snapshot. Fails only when the snapshot cannot be read;
    /// problems with the files are findings.
    pub fn load(snap: &Snapshot) -> Result<Catalog, SnapshotError> {
        Self::load_scoped(snap, None)
    }

    /// Like [`Catalog::load`], but only the app folders in `scope` are read and checked in full;
    /// the others contribute the facts the checks across the catalog need (from the facts cache
    /// when the snapshot is a Git revision). Settings, teams and collections are always read.
    pub fn load_scoped(
        snap: &Snapshot,
        scope: Option<&BTreeSet<String>>,
    ) -> Result<Catalog, SnapshotError> {
        let mut cat = Catalog::default();
        let layout = checks::layout(snap);
        cat.findings.extend(layout.findings);
        // the facts cache serves the apps outside the scope; without such apps it is not opened
        let outside = |s: &BTreeSet<String>| {
            layout
                .apps
                .iter()
                .any(|m| !s.contains(m.trim_end_matches("/app.toml")))
        };
        let mut cache = match (scope, snap.git_dir()) {
            (Some(s), Some(_)) if outside(s) => {
                snap.cache_dir().map(|d| FactsCache::open(&d, "facts"))
            }
            _ => None,
        };

        let mut paths: Vec<&str> = vec!["bazaar.toml"];
        paths.extend(layout.teams.iter().map(String::as_str));
        paths.extend(layout.collections.iter().map(String::as_str));
        for manifest in &layout.apps {
            let dir = manifest.trim_end_matches("/app.toml");
            let in_scope = scope.is_none_or(|s| s.contains(dir));
            let cached = match (
                &cache,
                snap.entries.get(manifest).and_then(|e| e.oid.as_deref()),
            ) {
                (Some(c), Some(oid)) if !in_scope => c.get(oid),
                _ => None,
            };
            match cached {
                Some(f) => {
                    cat.facts.insert(dir.to_string(), f.clone());
                }
                None => paths.push(manifest),
            }
        }
        paths.retain(|p| snap.is_file(p));
        for (path, file, parsed) in parse_files(snap, &paths)? {
            if let (Some(c), Parsed::App(_, _, facts)) = (&mut cache, &parsed)
                && let Some(oid) = snap.entries.get(&path).and_then(|e| e.oid.clone())
            {
                c.insert(oid, facts.clone());
            }
            cat.add(path, file, parsed);
        }
        if let Some(c) = &mut cache {
            // a cache that cannot be written only costs time next run
            let _ = c.save();
        }
        cat.app_dirs = layout
            .apps
            .iter()
            .map(|m| m.trim_end_matches("/app.toml").to_string())
            .collect();
        cat.app_dirs.sort();
        cat.apps.sort_by(|a, b| a.dir.cmp(&b.dir));
        let placeholders = checks::placeholders(&cat);
        cat.findings.extend(
            placeholders
                .into_iter()
                .map(|f| (f, vec!["bazaar.toml".to_string()])),
        );
        checks::cross(&mut cat, snap, scope)?;
        Ok(cat)
    }

    fn add(&mut self, path: String, file: Option<SourceFile>, parsed: Parsed) {
        if let Some(file) = file {
            self.sources.insert(path.clone(), file);
        }
        let own = |fs: Vec<Finding>| {
            fs.into_iter()
                .map(|f| (f, vec![path.clone()]))
                .collect::<Vec<_>>()
        };
        match parsed {
            Parsed::Failed(fs) => self.findings.extend(own(fs)),
            Parsed::Config(v, fs) => {
                self.config = v.map(|c| *c);
                self.findings.extend(own(fs));
            }
            Parsed::Team(v, fs) => {
                if let Some(t) = v {
                    self.teams.insert(team_of(&path).to_string(), t);
                }
                self.findings.extend(own(fs));
            }
            Parsed::Collection(v, fs) => {
                if let Some(c) = v {
                    let stem = path
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches(".toml");
                    self.collections.insert(stem.to_string(), c);
                }
                self.findings.extend(own(fs));
            }
            Parsed::App(v, fs, facts) => {
                let dir = path.trim_end_matches("/app.toml").to_string();
                self.facts.insert(dir.clone(), facts);
                if let Some(app) = v {
                    let at = self.apps.partition_point(|a| a.dir < dir);
                    self.apps.insert(at, AppEntry { dir, app: *app });
                }
                self.findings.extend(own(fs));
            }
        }
    }

    /// Reads and parses app folders that were only known by their facts (for findings that must
    /// point into them).
    pub(crate) fn parse_more(
        &mut self,
        snap: &Snapshot,
        dirs: &[String],
    ) -> Result<(), SnapshotError> {
        let paths: Vec<String> = dirs
            .iter()
            .map(|d| format!("{d}/app.toml"))
            .filter(|p| !self.sources.contains_key(p) && snap.is_file(p))
            .collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        for (path, file, parsed) in parse_files(snap, &refs)? {
            // keep its findings out of the report: they are not about this change
            if let Parsed::App(v, _, _) = parsed {
                if let Some(file) = file {
                    self.sources.insert(path.clone(), file);
                }
                if let Some(app) = v {
                    let dir = path.trim_end_matches("/app.toml").to_string();
                    let at = self.apps.partition_point(|a| a.dir < dir);
                    self.apps.insert(at, AppEntry { dir, app: *app });
                }
            }
        }
        Ok(())
    }

    /// The app with this id.
    pub fn app(&self, id: &str) -> Option<&AppEntry> {
        self.apps.iter().find(|a| a.app.id == id)
    }

    /// The fully read app in a folder.
    pub fn app_in(&self, dir: &str) -> Option<&AppEntry> {
        self.apps
            .binary_search_by(|a| a.dir.as_str().cmp(dir))
            .ok()
            .map(|i| &self.apps[i])
    }

    /// Findings about the given changed paths only (all findings when `changed` is `None`).
    pub fn findings_for(&self, changed: Option<&BTreeSet<String>>) -> Vec<Finding> {
        self.findings
            .iter()
            .filter(|(_, files)| changed.is_none_or(|c| files.iter().any(|f| c.contains(f))))
            .map(|(f, _)| f.clone())
            .collect()
    }
}

/// Reads and parses files in parallel.
fn parse_files(
    snap: &Snapshot,
    paths: &[&str],
) -> Result<Vec<(String, Option<SourceFile>, Parsed)>, SnapshotError> {
    let blobs = snap.read_many(paths, MAX_MANIFEST_BYTES);
    paths
        .par_iter()
        .zip(blobs)
        .map(|(path, bytes)| -> Result<_, SnapshotError> {
            let file = match bytes? {
                Ok(b) => manifest::decode(path, &b, MAX_MANIFEST_BYTES),
                Err(size) => Err(Box::new(manifest::too_large(
                    path,
                    size,
                    MAX_MANIFEST_BYTES,
                ))),
            };
            let file = match file {
                Ok(f) => f,
                Err(finding) => {
                    let p = if path.ends_with("/app.toml")
                        && !path.starts_with("catalog/collections/")
                    {
                        Parsed::App(
                            None,
                            vec![*finding],
                            AppFacts {
                                id: None,
                                valid: false,
                                endpoint: None,
                                status: None,
                                replacement: None,
                                sbom: None,
                            },
                        )
                    } else {
                        Parsed::Failed(vec![*finding])
                    };
                    return Ok((path.to_string(), None, p));
                }
            };
            let p = if *path == "bazaar.toml" {
                let r = manifest::parse_config(&file);
                Parsed::Config(r.value.map(Box::new), r.findings)
            } else if path.ends_with("/team.toml") && path.matches('/').count() == 2 {
                let r = manifest::parse_team(&file);
                Parsed::Team(r.value, r.findings)
            } else if path.starts_with("catalog/collections/") {
                let r = manifest::parse_collection(&file);
                Parsed::Collection(r.value, r.findings)
            } else {
                let r = manifest::parse_app(&file);
                let facts = AppFacts::of(&r);
                Parsed::App(r.value.map(Box::new), r.findings, facts)
            };
            Ok((path.to_string(), Some(file), p))
        })
        .collect()
}

enum Parsed {
    Failed(Vec<Finding>),
    Config(Option<Box<Config>>, Vec<Finding>),
    Team(Option<Team>, Vec<Finding>),
    Collection(Option<Collection>, Vec<Finding>),
    App(Option<Box<App>>, Vec<Finding>, AppFacts),
}
