//! The lifecycle sweep: on a given day, which owners to remind before their app's review date
//! and which apps change state (an expired experiment or a deprecated app past its date is
//! retired; an app with an overdue warning, a stale SBOM or owners who left becomes
//! maintenance-required). The decisions are the catalog's own Rego (`policies/sweep.rego`,
//! package `bazaar.sweep`, thresholds in `bazaar.toml`); [`plan`] only gathers the evidence and
//! reads them back. [`apply`](apply::apply) writes the state changes as one signed commit whose
//! trailers name each change and its rule, which `bazaar audit` verifies.

pub mod apply;
pub mod members;
pub mod notice;
pub mod record;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::catalog::{Catalog, team_of};
use crate::check::CheckError;
use crate::context::Context;
use crate::diagnostics::Severity;
use crate::policy::{InputContext, PolicySet};

pub use members::{Members, Membership, OwnersLeft};
pub use notice::{Attention, reminder_key};
pub use record::{Change, SweepRecord};

/// What to sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// The catalog repository (its checked-out branch is swept).
    pub root: PathBuf,
    /// The revision to sweep instead of `HEAD` (a bare mirror's `refs/heads/main`).
    pub rev: Option<String>,
    /// Who is still a member on the forge, as the caller found out (the owners-left rule is
    /// skipped, with a note, when it is unknown).
    pub members: Members,
}

/// A reminder to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    /// The app.
    pub id: String,
    /// Its folder.
    pub dir: String,
    /// Who to remind: the owner and the backup owner.
    pub to: Vec<String>,
    /// The rule that decided it.
    pub rule: String,
    /// The threshold (days before the review date) it is for.
    pub threshold: Option<u32>,
    /// The date it is about (the review date, the attestation's last day).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Why.
    pub evidence: String,
}

/// Something the plan says but does not change: an app that names one this sweep retires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The file or app affected.
    pub what: String,
    /// Why.
    pub evidence: String,
}

/// The sweep's plan for one day.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The day it was made for.
    pub at: NaiveDate,
    /// The revision it was made on.
    pub commit: String,
    /// Apps considered.
    pub apps: usize,
    /// State changes to make, one per app.
    pub changes: Vec<Change>,
    /// Reminders to send.
    pub reminders: Vec<Reminder>,
    /// References to apps this sweep retires.
    pub flags: Vec<Flag>,
    /// What the sweep could not judge, and why.
    pub notes: Vec<String>,
    /// Apps whose owners must act after this sweep (the daemon opens one issue for each).
    pub attention: Vec<Attention>,
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The catalog could not be checked.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The policies do not load, so nothing can be decided.
    #[error("the policies do not load ({0}); fix them before sweeping")]
    Policies(String),
    /// A policy's sweep decision is malformed.
    #[error("policies/sweep.rego: {0}")]
    Decision(String),
}

/// The policies' rule that decides a sweep.
const SWEEP_RULE: &str = "data.bazaar.sweep.actions";

/// The rank of a target state: a sweep makes at most one change per app, the strongest.
fn rank(to: &str) -> u8 {
    match to {
        "retired" => 2,
        "maintenance-required" => 1,
        _ => 0,
    }
}

/// Plans the sweep of the checked-out revision on the context's day.
pub fn plan(ctx: &Context, opts: &SweepOptions) -> Result<Plan, SweepError> {
    let at = ctx.today();
    let rev = opts.rev.clone().unwrap_or_else(|| "HEAD".into());
    let head = crate::check::snapshot(&opts.root, Some(&rev))?;
    let commit = match &head.origin {
        crate::source::Origin::Rev { commit, .. } => commit.clone(),
        crate::source::Origin::Dir(_) => String::new(),
    };
    let catalog = Catalog::load(&head).map_err(CheckError::from)?;
    let catalog = &catalog;
    // the policies compile while the signals are read
    let (policies, signals) = rayon::join(
        || PolicySet::load(&head, false, ctx),
        || {
            crate::discovery::read_signals(&head, catalog)
                .map(|s| s.policy_input(at))
                .unwrap_or_default()
        },
    );
    let mut policies = policies.map_err(CheckError::from)?;
    if !policies.is_ok() {
        return Err(SweepError::Policies(policies.errors[0].message.clone()));
    }
    if policies.reads_catalog() {
        policies.set_catalog(catalog);
    }
    // the apps' input as a check builds it (signals included): one input per app gives both
    // its warnings (the overdue ones are what the sweep reads) and the sweep's decisions
    let input_ctx = InputContext::new(catalog.config.as_ref(), at).with_signals(signals);
    let owners_left = |entry: &crate::catalog::AppEntry| match &opts.members {
        Members::Unknown(_) => None,
        Members::Known(m) => match m.judge(&entry.app, catalog.teams.get(team_of(&entry.dir))) {
            OwnersLeft::Unknown => None,
            OwnersLeft::Present => Some(false),
            OwnersLeft::Left(_) => Some(true),
        },
    };
    let extend = |entry: &crate::catalog::AppEntry,
                  warnings: &[crate::diagnostics::Finding],
                  input: &serde_json::Value| {
        // warnings whose remediation deadline has passed
        let overdue: Vec<serde_json::Value> = warnings
            .iter()
            .filter(|f| f.severity == Severity::Warning && f.deadline.is_some_and(|d| d < at))
            .map(|f| {
                json!({
                    "code": f.code.as_str(),
                    "deadline": f.deadline.map(|d| d.to_string()),
                    "message": f.message,
                })
            })
            .collect();
        let sbom_age = input["sbom"]["document"]["metadata"]["timestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| (at - t.date_naive()).num_days());
        json!({
            "overdue_warnings": overdue,
            "sbom_age_days": sbom_age,
            "owners_left": owners_left(entry),
        })
    };
    let decided: Vec<Result<Vec<serde_json::Value>, SweepError>> = crate::policy::warnings_then(
        &policies, catalog, &head, &input_ctx, SWEEP_RULE, "sweep", extend,
    )
    .into_iter()
    .zip(&catalog.apps)
    .map(|(actions, entry)| {
        actions.map_err(|e| SweepError::Decision(format!("{}: {e}", entry.app.id)))
    })
    .collect();
    let mut changes = Vec::new();
    let mut reminders = Vec::new();
    let mut attention = Vec::new();
    for (entry, actions) in catalog.apps.iter().zip(decided) {
        let app = &entry.app;
        let actions = actions?;
        let first = reminders.len();
        let mut best: Option<Change> = None;
        for a in actions {
            let get = |k: &str| a[k].as_str().unwrap_or_default().to_string();
            match a["kind"].as_str() {
                Some("remind") => {
                    let mut to = vec![app.owner.primary.clone()];
                    to.extend(app.owner.backup.clone());
                    reminders.push(Reminder {
                        id: app.id.clone(),
                        dir: entry.dir.clone(),
                        to,
                        rule: get("rule"),
                        threshold: a["threshold"].as_u64().map(|t| t as u32),
                        date: a["date"].as_str().map(str::to_string),
                        evidence: get("evidence"),
                    });
                }
                Some("transition") => {
                    let to = get("to");
                    if rank(&to) == 0 {
                        return Err(SweepError::Decision(format!(
                            "{}: a transition to {to:?}; the sweep moves apps to retired or maintenance-required",
                            app.id
                        )));
                    }
                    let change = Change {
                        id: app.id.clone(),
                        dir: entry.dir.clone(),
                        from: app.lifecycle.status.as_str().to_string(),
                        to,
                        rule: get("rule"),
                        evidence: get("evidence"),
                    };
                    if best
                        .as_ref()
                        .is_none_or(|b| (rank(&change.to), &change.rule) > (rank(&b.to), &b.rule))
                    {
                        best = Some(change);
                    }
                }
                other => {
                    return Err(SweepError::Decision(format!(
                        "{}: an action of kind {other:?}; use \"remind\" or \"transition\"",
                        app.id
                    )));
                }
            }
        }
        let best = best.filter(|c| c.from != c.to);
        let left = match &opts.members {
            Members::Known(m) => match m.judge(app, catalog.teams.get(team_of(&entry.dir))) {
                OwnersLeft::Left(l) => l,
                _ => Vec::new(),
            },
            Members::Unknown(_) => Vec::new(),
        };
        let mine: Vec<&Reminder> = reminders[first..].iter().collect();
        let mut owners = vec![app.owner.primary.clone()];
        owners.extend(app.owner.backup.clone());
        attention.extend(notice::attention(
            &app.id,
            &entry.dir,
            owners,
            app.lifecycle.status.as_str(),
            best.as_ref(),
            &mine,
            left,
        ));
        changes.extend(best);
    }
    let flags = flags(catalog, &changes);
    let mut notes = Vec::new();
    match &opts.members {
        Members::Unknown(why) => notes.push(format!(
            "the owners-left rule was skipped: {why} (the daemon asks the forge; `bazaar sweep --members FILE` reads a file)"
        )),
        Members::Known(m) => {
            let unknown = catalog
                .apps
                .iter()
                .filter(|e| m.judge(&e.app, catalog.teams.get(team_of(&e.dir))) == OwnersLeft::Unknown)
                .count();
            if unknown > 0 {
                notes.push(format!(
                    "owners of {unknown} apps were not checked: the membership of their team or organization is not known"
                ));
            }
        }
    }
    reminders.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Plan {
        at,
        commit,
        apps: catalog.apps.len(),
        changes,
        reminders,
        flags,
        notes,
        attention,
    })
}

/// Collections and replacements that name an app this sweep retires.
fn flags(catalog: &Catalog, changes: &[Change]) -> Vec<Flag> {
    let retired: BTreeMap<&str, &Change> = changes
        .iter()
        .filter(|c| c.to == "retired")
        .map(|c| (c.id.as_str(), c))
        .collect();
    let mut out = Vec::new();
    for (file, c) in &catalog.collections {
        for id in &c.apps {
            if retired.contains_key(id.as_str()) {
                out.push(Flag {
                    what: format!("catalog/collections/{file}.toml"),
                    evidence: format!("lists {id}, which this sweep retires"),
                });
            }
        }
    }
    for e in &catalog.apps {
        if let Some(r) = &e.app.lifecycle.replacement
            && retired.contains_key(r.as_str())
        {
            out.push(Flag {
                what: e.app.id.clone(),
                evidence: format!("names {r} as its replacement, which this sweep retires"),
            });
        }
    }
    out
}
