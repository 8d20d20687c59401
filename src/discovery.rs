//! What discovery adds to a check: likely duplicates of added apps (BZ0220) and problems in the
//! signals files (BZ0221–BZ0224), and the signals policies see. One call each from `check`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::{Catalog, Diff, Snapshot};
use crate::diagnostics::Finding;
use crate::manifest::Config;

/// Findings for a check: likely duplicates of the apps a submission adds, and the signals
/// files' problems (on a submission, only in the signals files it changed). None of them
/// blocks.
pub fn check_findings(
    head: &Snapshot,
    catalog: &Catalog,
    diff: Option<&Diff>,
    config: Option<&Config>,
) -> Vec<Finding> {
    let mut out = crate::similar::findings_for_added(head, catalog, diff, config);
    let signals = crate::signals::load(head, &crate::signals::known_ids(catalog));
    out.extend(signals.findings_for(diff.map(|d| &d.paths)));
    out
}

/// Each app's last complete month of signals, for the policies (`input.signals`). On a
/// submission pass the base: signals are not reviewed, so a submission cannot rewrite the
/// numbers its own apps are judged by.
pub fn policy_signals(
    snap: &Snapshot,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> BTreeMap<String, Value> {
    if !snap
        .entries
        .keys()
        .any(|p| p.starts_with(crate::signals::FOLDER))
    {
        return BTreeMap::new();
    }
    crate::signals::load(snap, &crate::signals::known_ids(catalog)).policy_input(today)
}
