//! `bazaar check`: load the catalog at a revision (or the working tree), optionally compare with
//! a base revision, and gather the findings to report. The daemon calls the same function.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, Diff, Snapshot, SnapshotError, id_token};
use crate::diagnostics::Report;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The catalog repository's root.
    pub root: PathBuf,
    /// Revision to check; the working tree when `None`.
    pub rev: Option<String>,
    /// Base revision: only apps changed since it get per-app findings.
    pub base: Option<String>,
}

/// Why a check could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The root folder does not exist.
    #[error("{0} does not exist; pass --root with the catalog repository's folder")]
    NoRoot(PathBuf),
    /// Not a catalog.
    #[error(
        "{0} is not a Bazaar catalog (no bazaar.toml); run Bazaar at the catalog repository's root, pass --root DIR, or create one with `bazaar init DIR`"
    )]
    NotACatalog(String),
    /// Reading failed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// The result of a check.
#[derive(Debug)]
pub struct Checked {
    /// Findings ready to render.
    pub report: Report,
    /// The catalog that was checked.
    pub catalog: Catalog,
    /// The change against the base, when a base was given.
    pub diff: Option<Diff>,
}

/// Takes a snapshot of the working tree (`rev` = `None`) or a revision.
pub fn snapshot(root: &Path, rev: Option<&str>) -> Result<Snapshot, CheckError> {
    if !root.exists() {
        return Err(CheckError::NoRoot(root.to_path_buf()));
    }
    let snap = match rev {
        None => Snapshot::from_dir(root)?,
        Some(rev) => Snapshot::from_rev(root, rev)?,
    };
    if !snap.entries.contains_key("bazaar.toml") {
        let what = match rev {
            None => root.display().to_string(),
            Some(rev) => format!("{} at {rev}", root.display()),
        };
        return Err(CheckError::NotACatalog(what));
    }
    Ok(snap)
}

/// Runs a check.
pub fn check(opts: &CheckOptions) -> Result<Checked, CheckError> {
    let head = snapshot(&opts.root, opts.rev.as_deref())?;
    let diff = match &opts.base {
        None => None,
        Some(base) => Some(Diff::between(&snapshot(&opts.root, Some(base))?, &head)),
    };
    let scope = diff.as_ref().map(Diff::head_dirs);
    let catalog = Catalog::load_scoped(&head, scope.as_ref())?;
    let changed: Option<BTreeSet<String>> = diff.as_ref().map(|d| {
        d.paths
            .iter()
            .cloned()
            .chain(d.base_ids.iter().map(|id| id_token(id)))
            .collect()
    });
    let findings = catalog.findings_for(changed.as_ref());
    let apps_checked = match &diff {
        None => catalog.app_dirs.len(),
        Some(d) => d.apps.len(),
    };
    let mut report = Report {
        findings,
        sources: Default::default(),
        apps_checked,
        apps_total: catalog.app_dirs.len(),
        context: Default::default(),
    };
    if let Some(d) = &diff {
        report.context.insert(
            "changes".into(),
            serde_json::to_value(d).expect("diff serializes"),
        );
    }
    report.sort();
    for f in &report.findings {
        if let Some(file) = f.file()
            && let Some(src) = catalog.sources.get(file)
        {
            report.sources.insert(file.to_string(), src.clone());
        }
    }
    Ok(Checked {
        report,
        catalog,
        diff,
    })
}
