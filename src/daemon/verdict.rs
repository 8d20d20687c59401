//! The one place the daemon calls the core's check: the same verdict as
//! `bazaar check --base BASE --rev HEAD`, read from the bare mirror, plus the base's roster (who
//! may approve which role). When the core's check API changes, only this file changes.

use std::collections::BTreeSet;
use std::path::Path;

use crate::catalog::Snapshot;
use crate::check::{CheckError, CheckOptions, Checked, check};
use crate::context::Context;
use crate::diagnostics::SourceFile;
use crate::review::{ROSTER_PATH, Roster};

/// A judged head.
#[derive(Debug)]
pub struct Evaluation {
    /// The check's result: findings, verdict, catalog.
    pub checked: Checked,
    /// The base's roster, or why it could not be read.
    pub roster: Result<Roster, String>,
    /// Tiers of the apps the submission changes.
    pub tiers: BTreeSet<String>,
}

/// Judges `head` against `base`, both commits of the bare repository `repo`.
pub fn evaluate(
    repo: &Path,
    head: &str,
    base: &str,
    run: &Context,
) -> Result<Evaluation, CheckError> {
    let checked = check(
        run,
        &CheckOptions {
            root: repo.to_path_buf(),
            rev: Some(head.to_string()),
            base: Some(base.to_string()),
        },
    )?;
    let tiers = checked
        .verdict
        .apps
        .iter()
        .filter_map(|a| checked.catalog.app_in(&a.dir))
        .map(|e| e.app.tier.as_str().to_string())
        .collect();
    Ok(Evaluation {
        roster: roster(repo, base),
        checked,
        tiers,
    })
}

/// The roster of a revision.
fn roster(repo: &Path, rev: &str) -> Result<Roster, String> {
    let snap = Snapshot::from_rev_subset(repo, rev, &["policies"]).map_err(|e| e.to_string())?;
    let bytes = match snap.read(ROSTER_PATH, 1 << 20) {
        Ok(Ok(b)) => b,
        Ok(Err(size)) => return Err(format!("{ROSTER_PATH} is too large ({size} bytes)")),
        Err(e) => return Err(e.to_string()),
    };
    let text = String::from_utf8(bytes).map_err(|_| format!("{ROSTER_PATH} is not UTF-8"))?;
    Roster::parse(&SourceFile::new(ROSTER_PATH, text)).map_err(|findings| {
        findings
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_default()
    })
}
