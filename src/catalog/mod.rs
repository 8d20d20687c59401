//! A loaded catalog: settings, teams, apps and collections read from a [`Snapshot`], with every
//! finding of the files and of the checks across them.

mod checks;
mod diff;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::diagnostics::{Code, Finding, SourceFile};
use crate::manifest::{self, App, Collection, Config, MAX_MANIFEST_BYTES, Team};

pub use diff::{AppChange, Diff};
pub use snapshot::{Kind, Origin, Snapshot, SnapshotError};

/// Largest README read; larger ones are refused with a finding.
pub const MAX_README_BYTES: usize = 1024 * 1024;

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
    /// Valid apps, sorted by folder.
    pub apps: Vec<AppEntry>,
    /// Every app folder (valid or not), sorted.
    pub app_dirs: Vec<String>,
    /// Collections by file stem (valid ones).
    pub collections: BTreeMap<String, Collection>,
    /// Every finding, each with the files it involves (a finding is about a change when any of
    /// them changed).
    pub findings: Vec<(Finding, Vec<String>)>,
    /// Ids declared by app manifests that have errors: references to them are not reported
    /// again (the manifest's own errors already block).
    pub broken_ids: std::collections::HashSet<String>,
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
        let mut cat = Catalog::default();
        let layout = checks::layout(snap);
        cat.findings.extend(layout.findings);

        // Read every manifest in parallel.
        let mut paths: Vec<&str> = Vec::new();
        paths.push("bazaar.toml");
        paths.extend(layout.teams.iter().map(String::as_str));
        paths.extend(layout.collections.iter().map(String::as_str));
        paths.extend(layout.apps.iter().map(String::as_str));
        let paths: Vec<&str> = paths.into_iter().filter(|p| snap.is_file(p)).collect();
        let blobs = snap.read_many(&paths, MAX_MANIFEST_BYTES);
        let parsed: Vec<_> = paths
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
                        return Ok((path.to_string(), None, Parsed::Failed(vec![*finding])));
                    }
                };
                let p = if *path == "bazaar.toml" {
                    let r = manifest::parse_config(&file);
                    Parsed::Config(r.value.map(Box::new), r.findings)
                } else if path.ends_with("/team.toml") {
                    let r = manifest::parse_team(&file);
                    Parsed::Team(r.value, r.findings)
                } else if path.starts_with("catalog/collections/") {
                    let r = manifest::parse_collection(&file);
                    Parsed::Collection(r.value, r.findings)
                } else {
                    let r = manifest::parse_app(&file);
                    Parsed::App(r.value.map(Box::new), r.findings, r.id)
                };
                Ok((path.to_string(), Some(file), p))
            })
            .collect::<Result<_, _>>()?;

        for (path, file, p) in parsed {
            if let Some(file) = file {
                cat.sources.insert(path.clone(), file);
            }
            let own = |fs: Vec<Finding>| {
                fs.into_iter()
                    .map(|f| (f, vec![path.clone()]))
                    .collect::<Vec<_>>()
            };
            match p {
                Parsed::Failed(fs) => cat.findings.extend(own(fs)),
                Parsed::Config(v, fs) => {
                    cat.config = v.map(|c| *c);
                    cat.findings.extend(own(fs));
                }
                Parsed::Team(v, fs) => {
                    if let Some(t) = v {
                        cat.teams.insert(team_of(&path).to_string(), t);
                    }
                    cat.findings.extend(own(fs));
                }
                Parsed::Collection(v, fs) => {
                    if let Some(c) = v {
                        let stem = path
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .trim_end_matches(".toml");
                        cat.collections.insert(stem.to_string(), c);
                    }
                    cat.findings.extend(own(fs));
                }
                Parsed::App(v, fs, id) => {
                    let dir = path.trim_end_matches("/app.toml").to_string();
                    cat.app_dirs.push(dir.clone());
                    match (v, id) {
                        (Some(app), _) => cat.apps.push(AppEntry { dir, app: *app }),
                        (None, Some(id)) => {
                            cat.broken_ids.insert(id);
                        }
                        (None, None) => {}
                    }
                    cat.findings.extend(own(fs));
                }
            }
        }
        if !snap.is_file("bazaar.toml")
            && !cat
                .findings
                .iter()
                .any(|(f, _)| f.code == Code::NOT_A_CATALOG)
        {
            cat.findings.push((
                Finding::new(Code::NOT_A_CATALOG, "bazaar.toml is missing")
                    .help("add bazaar.toml (see `bazaar schema config`) or run `bazaar init`"),
                vec!["bazaar.toml".into()],
            ));
        }
        cat.app_dirs.sort();
        cat.apps.sort_by(|a, b| a.dir.cmp(&b.dir));
        checks::cross(&mut cat, snap);
        Ok(cat)
    }

    /// The app with this id.
    pub fn app(&self, id: &str) -> Option<&AppEntry> {
        self.apps.iter().find(|a| a.app.id == id)
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

enum Parsed {
    Failed(Vec<Finding>),
    Config(Option<Box<Config>>, Vec<Finding>),
    Team(Option<Team>, Vec<Finding>),
    Collection(Option<Collection>, Vec<Finding>),
    App(Option<Box<App>>, Vec<Finding>, Option<String>),
}
