//! What Git says about the catalog, for the pages: each app's approval trail (from the signed
//! merge records, with the audit's verdict), its version history, the catalog's recent changes
//! (index and Atom feed), and how long submissions took to merge (dashboard). The audit's
//! verdicts are kept by commit id, so a rebuild verifies only the commits that are new.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::BuildOptions;
use crate::cache::DiskCache;
use crate::catalog::ChangeKind;
use crate::review::MergeRecord;

/// How many first-parent commits the version history and feed look back.
pub const HISTORY_COMMITS: usize = 2000;
/// Versions listed per app page.
pub const VERSIONS_PER_APP: usize = 10;
/// Changes in the feed and the index's "recently changed" list.
pub const RECENT_CHANGES: usize = 50;

/// The history the pages show.
#[derive(Default)]
pub struct History {
    /// Approval trail per app id, newest first.
    pub trails: BTreeMap<String, Vec<Value>>,
    /// Version history per app folder, newest first.
    pub versions: BTreeMap<String, Vec<Value>>,
    /// The newest app changes, newest first: `{ dir, kind, version, date, time, subject, commit }`.
    pub recent: Vec<Value>,
    /// Hours from a submission's opening to its merge.
    pub lead_hours: Vec<f64>,
    /// The same by month of the merge (`YYYY-MM`, hours), for the dashboard's chart.
    pub lead_by_month: Vec<(String, f64)>,
    /// Lifecycle changes per app id from verified sweep commits, newest first:
    /// `{ date, time, from, to, rule, commit }`.
    pub lifecycle: BTreeMap<String, Vec<Value>>,
    /// Every app change with its commit time, newest first (the dashboard's charts over time).
    pub changes: Vec<(chrono::DateTime<chrono::Utc>, crate::catalog::AppEvent)>,
}

fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}

/// Reads the history of the catalog's Git repository (empty when the catalog is a plain folder).
pub fn read(opts: &BuildOptions) -> History {
    let mut h = History::default();
    let Ok(repo) = crate::git::Repo::open(&opts.root) else {
        return h;
    };
    let rev = opts.rev.clone().unwrap_or_else(|| "HEAD".into());
    if let Ok(changes) = crate::catalog::app_changes(&repo, &rev, HISTORY_COMMITS) {
        for c in changes {
            let date = c.time.map(|t| t.format("%Y-%m-%d").to_string());
            if let Some(t) = c.time {
                h.changes.extend(c.apps.iter().map(|a| (t, a.clone())));
            }
            for a in &c.apps {
                let entry = json!({
                    "dir": a.dir, "kind": a.kind, "version": a.version, "date": date,
                    "time": c.time.map(|t| t.to_rfc3339()), "subject": c.subject,
                    "author": c.author, "commit": short(&c.commit), "full_commit": c.commit,
                });
                if h.recent.len() < RECENT_CHANGES {
                    h.recent.push(entry.clone());
                }
                let list = h.versions.entry(a.dir.clone()).or_default();
                if list.len() < VERSIONS_PER_APP && a.kind != ChangeKind::Removed {
                    list.push(entry);
                }
            }
        }
    }
    let Ok(report) = audit(&repo, opts) else {
        return h;
    };
    let mut news: std::collections::HashMap<&str, String> = Default::default();
    for c in &report.commits {
        if let (Some(sweep), crate::audit::Status::Verified) = (&c.sweep, &c.status) {
            for ch in &sweep.changes {
                h.lifecycle.entry(ch.id.clone()).or_default().push(json!({
                    "date": sweep.at.to_string(), "time": c.time.map(|t| t.to_rfc3339()),
                    "from": ch.from, "to": ch.to, "rule": ch.rule, "commit": c.commit,
                }));
            }
        }
        let Some(r) = &c.record else { continue };
        // Only a merge the audit verified is shown as a record: one that fails it (or was never
        // signed) may be a forgery, so its links and claimed approvals are not shown at all.
        let verified = c.status == crate::audit::Status::Verified;
        news.insert(
            c.commit.as_str(),
            super::news::line(r, c.status == crate::audit::Status::Verified),
        );
        let status = match c.status {
            crate::audit::Status::Verified => "signature verified",
            crate::audit::Status::Failed => "unverified: FAILED audit",
            crate::audit::Status::Genesis => "unverified: before signing began",
            crate::audit::Status::NotGoverned => "unverified: not governed",
        };
        if verified && let (Some(opened), Some(merged)) = (r.opened, c.time) {
            let hours = (merged - opened).num_minutes() as f64 / 60.0;
            h.lead_hours.push(hours);
            h.lead_by_month
                .push((merged.format("%Y-%m").to_string(), hours));
        }
        let approvals: Vec<Value> = if verified {
            r.approvals.iter().map(|a| json!({ "login": a.login, "role": a.role, "at": a.at.format("%Y-%m-%d %H:%M UTC").to_string() })).collect()
        } else {
            Vec::new()
        };
        let entry = json!({
            "commit": short(&c.commit),
            "date": c.time.map(|t| t.format("%Y-%m-%d").to_string()),
            "subject": c.subject, "status": status, "verified": verified, "head": short(&r.head),
            "submission": r.submission.as_deref().filter(|_| verified).and_then(super::model::web_link),
            "approvals": approvals,
        });
        for id in r.added.iter().chain(&r.changed) {
            h.trails.entry(id.clone()).or_default().push(entry.clone());
        }
    }
    for e in &mut h.recent {
        if let Some(n) = e["full_commit"].as_str().and_then(|c| news.get(c)) {
            e["news"] = n.clone().into();
        }
    }
    h
}

/// A commit's verdict as kept: the audit and, for a merge, its record's message (the record
/// itself is not kept in the audit's own form).
type Kept = (crate::audit::CommitAudit, Option<String>);

/// The audit of the history, with the verdicts of commits seen by an earlier build taken from
/// `.git/bazaar/` by commit id: only new commits are verified again.
fn audit(
    repo: &crate::git::Repo,
    opts: &BuildOptions,
) -> Result<crate::audit::AuditReport, crate::audit::AuditError> {
    let mut cache: DiskCache<Kept> =
        DiskCache::open(&repo.git_dir().join("bazaar"), "audit-verdicts");
    let known = |id: &str| {
        let (mut c, message) = cache.get(id)?.clone();
        if let Some(m) = message {
            c.record = Some(MergeRecord::parse(&m).ok()??);
        }
        Some(c)
    };
    let report = crate::audit::audit_with(
        &opts.ctx,
        &crate::audit::AuditOptions {
            root: opts.root.clone(),
            rev: opts.rev.clone(),
            recompute: false,
        },
        &known,
    )?;
    for c in &report.commits {
        if cache.get(&c.commit).is_some() {
            continue;
        }
        let message = match &c.record {
            // kept only when its message reads back as the same record
            Some(r) => match r.message() {
                Ok(m) if MergeRecord::parse(&m).ok().flatten().as_ref() == Some(r) => Some(m),
                _ => continue,
            },
            None => None,
        };
        cache.insert(c.commit.clone(), (c.clone(), message));
    }
    // a cache that cannot be written only costs time next run
    let _ = cache.save();
    Ok(report)
}

/// The middle value.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}
