//! The policy part of a check, on snapshots already read: what `check` does after loading, and
//! what `audit` does again for each signed merge.

use std::collections::{BTreeMap, BTreeSet};

use super::{AppResult, Verdict, parse_manifest};
use crate::catalog::{AppChange, Catalog, Diff, Snapshot};
use crate::context::Context;
use crate::diagnostics::{Finding, Severity};
use crate::manifest::{self, App, Config};
use crate::policy::{self, InputContext, PolicySet, Risk};

/// What [`judge`] needs: the snapshots, their diff and loaded catalog, and the base's policies
/// and settings.
pub struct Judged<'a> {
    /// The revision under review.
    pub head: &'a Snapshot,
    /// The base, on a submission.
    pub base: Option<&'a Snapshot>,
    /// Their difference.
    pub diff: Option<&'a Diff>,
    /// The head's catalog (scoped to the changed apps on a submission).
    pub catalog: &'a Catalog,
    /// The policies (the base's on a submission).
    pub policies: &'a PolicySet,
    /// The settings (the base's on a submission).
    pub config: Option<&'a Config>,
    /// The signals of the snapshot the policies read, when the caller has read them (a full
    /// check reads the head's once for its findings too); `None` reads what is needed.
    pub signals: Option<&'a crate::signals::Signals>,
    /// The engine, limits, caches and day of the run.
    pub ctx: &'a Context,
}

/// The policy part of a check: each changed (or every) app's risk, roles and findings, the
/// submission's risk (highest) and roles (union, plus `admin` for a governance change). The
/// audit calls it with small snapshots of one merge.
pub fn judge(j: &Judged<'_>) -> (Verdict, Vec<(Finding, Vec<String>)>) {
    let policies = if j.policies.reads_catalog() {
        let mut p = j.policies.clone();
        p.set_catalog(j.catalog);
        std::borrow::Cow::Owned(p)
    } else {
        std::borrow::Cow::Borrowed(j.policies)
    };
    let today = j.ctx.today();
    let signals = match j.signals {
        Some(read) => read.policy_input(today),
        None => {
            // a submission's policies see its own apps' signals only: the rest are not read
            let only: Option<BTreeSet<&str>> = j.diff.map(|d| {
                d.head_dirs()
                    .iter()
                    .filter_map(|dir| j.catalog.app_in(dir))
                    .map(|e| e.app.id.as_str())
                    .collect()
            });
            crate::discovery::policy_signals(
                j.base.unwrap_or(j.head),
                j.catalog,
                today,
                only.as_ref(),
            )
        }
    };
    let ctx = InputContext::new(j.config, today).with_signals(signals);
    let mut base_apps: BTreeMap<String, App> = BTreeMap::new();
    if let (Some(b), Some(d)) = (j.base, j.diff) {
        for c in &d.apps {
            let (old, new) = match c {
                AppChange::Changed { dir } => (dir, dir),
                AppChange::Renamed { from, to } => (from, to),
                _ => continue,
            };
            if let Some(app) = parse_manifest(b, &format!("{old}/app.toml"), manifest::parse_app) {
                base_apps.insert(new.clone(), app);
            }
        }
    }
    let scope = j.diff.map(Diff::head_dirs);
    let dirs: Vec<&str> = match &scope {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => j.catalog.apps.iter().map(|a| a.dir.as_str()).collect(),
    };
    let mut verdict = Verdict::default();
    let mut findings: Vec<(Finding, Vec<String>)> = Vec::new();
    if policies.is_ok() {
        for (dir, v) in policy::evaluate_apps(
            &policies,
            j.catalog,
            j.head,
            &dirs,
            &base_apps,
            &ctx,
            j.ctx.caches,
        ) {
            let path = format!("{dir}/app.toml");
            let id = j
                .catalog
                .app_in(&dir)
                .map(|a| a.app.id.clone())
                .unwrap_or_default();
            verdict.risk = verdict.risk.max(v.risk);
            verdict
                .required_roles
                .extend(v.required_roles.iter().cloned());
            verdict.apps.push(AppResult {
                id,
                dir: dir.clone(),
                risk: v.risk,
                required_roles: v.required_roles,
                errors: v
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count(),
                warnings: v
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Warning)
                    .count(),
            });
            findings.extend(v.findings.into_iter().map(|f| (f, vec![path.clone()])));
        }
    } else {
        // A broken policy blocks everything, whatever changed.
        verdict.risk = Risk::High;
    }
    if j.diff.is_some_and(|d| !d.governance_paths().is_empty()) {
        verdict.required_roles.insert("admin".into());
    }
    verdict.apps.sort_by(|a, b| a.dir.cmp(&b.dir));
    (verdict, findings)
}
