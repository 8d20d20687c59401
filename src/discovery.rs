//! What discovery adds to a check: likely duplicates of added apps (BZ0220) and problems in the
//! signals files (BZ0221–BZ0224), and the signals policies see. One call each from `check`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::catalog::{Catalog, Diff, Snapshot};
use crate::diagnostics::Finding;
use crate::manifest::Config;

/// Findings for a check: likely duplicates of the apps a submission adds, and the problems of
/// the head's `signals` when the check reports them (the caller reads them for a full check and
/// for a submission that changes a signals file; on a submission only the changed files'
/// problems are kept). None of them blocks.
pub fn check_findings(
    head: &Snapshot,
    catalog: &Catalog,
    diff: Option<&Diff>,
    config: Option<&Config>,
    signals: Option<&crate::signals::Signals>,
) -> Vec<Finding> {
    let mut out = crate::similar::findings_for_added(head, catalog, diff, config);
    if let Some(s) = signals {
        out.extend(s.findings_for(diff.map(|d| &d.paths)));
    }
    out
}

/// True when a snapshot has a signals folder.
fn has_signals(snap: &Snapshot) -> bool {
    snap.entries
        .keys()
        .any(|p| p.starts_with(crate::signals::FOLDER))
}

/// The signals of a snapshot, when it has a signals folder (`None` otherwise: nothing to read).
pub fn read_signals(snap: &Snapshot, catalog: &Catalog) -> Option<crate::signals::Signals> {
    has_signals(snap).then(|| crate::signals::load(snap, &crate::signals::known_ids(catalog)))
}

/// Each app's last complete month of signals, for the policies (`input.signals`). On a
/// submission pass the base: signals are not reviewed, so a submission cannot rewrite the
/// numbers its own apps are judged by. `only` names the apps whose signals are wanted (the
/// submission's; `None` for all).
pub fn policy_signals(
    snap: &Snapshot,
    catalog: &Catalog,
    today: chrono::NaiveDate,
    only: Option<&BTreeSet<&str>>,
) -> BTreeMap<String, Value> {
    if !has_signals(snap) {
        return BTreeMap::new();
    }
    let known = crate::signals::known_ids(catalog);
    match only {
        Some(ids) => crate::signals::load_for(snap, &known, ids),
        None => crate::signals::load(snap, &known),
    }
    .policy_input(today)
}
