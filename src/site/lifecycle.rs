//! The site's lifecycle facts, all read from the catalog revision (manifests and the verified
//! sweep commits' trailers), so the site stays a pure function of it: each app's state with its
//! reason and date, where a retired app's users should go (the replacement chain, followed
//! safely: a loop is reported, never followed forever), and the dashboard's per-team view of
//! apps due for review, apps needing maintenance and owners who left.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::history::History;
use super::model::app_url;
use crate::catalog::Catalog;
use crate::manifest::App;

/// Days before `review_by` from which the per-team view counts an app as due.
pub const DUE_WITHIN_DAYS: i64 = 30;

fn reason_of(rule: &str, app: &App) -> String {
    let lc = &app.lifecycle;
    let day = |d: Option<NaiveDate>| d.map_or("its date".to_string(), |d| d.to_string());
    match rule {
        "discover-expired" => format!(
            "the experiment expired on {} without a renewal",
            day(lc.expires)
        ),
        "deprecation-ended" => format!(
            "it was deprecated{} and its retirement date ({}) passed",
            lc.deprecation_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            day(lc.retire_on)
        ),
        "owners-left" => {
            "its owner and backup owner are no longer members of the organization or team".into()
        }
        "warning-overdue" => "a warning passed its remediation deadline".into(),
        "sbom-stale" => "its SBOM is older than the catalog allows".into(),
        other => format!("the lifecycle rule {other}"),
    }
}

/// Where an app's replacements lead: each step, the live app at the end (if any), and whether
/// the chain loops. Every app is visited at most once, so a loop ends the walk.
fn chain(cat: &Catalog, app: &App) -> (Vec<Value>, Option<Value>, bool) {
    let mut seen = BTreeSet::from([app.id.clone()]);
    let mut steps = Vec::new();
    let mut next = app.lifecycle.replacement.clone();
    let mut looped = false;
    while let Some(id) = next.take() {
        if !seen.insert(id.clone()) {
            looped = true;
            steps.push(json!({ "id": id, "loop": true }));
            break;
        }
        let Some(e) = cat.app(&id) else {
            steps.push(json!({ "id": id, "missing": true }));
            break;
        };
        let status = e.app.lifecycle.status.as_str();
        steps.push(json!({ "id": id, "name": e.app.name, "url": app_url(&id), "status": status }));
        if matches!(status, "retired" | "deprecated") {
            next = e.app.lifecycle.replacement.clone();
        }
    }
    let live = steps
        .last()
        .filter(|s| s["url"].is_string() && !matches!(s["status"].as_str(), Some("retired")))
        .cloned();
    (steps, live, looped)
}

/// One app's lifecycle for its page: state, reason, date (of the sweep that made it so, or the
/// manifest's own date), the rule, its history of sweeps, and the replacement chain.
pub fn app_state(cat: &Catalog, app: &App, history: &History) -> Value {
    let status = app.lifecycle.status.as_str();
    let events = history.lifecycle.get(&app.id).cloned().unwrap_or_default();
    let last = events.iter().find(|e| e["to"] == status);
    let lc = &app.lifecycle;
    let (reason, date, rule) = match (status, last) {
        (_, Some(e)) => {
            let rule = e["rule"].as_str().unwrap_or_default();
            (
                Some(reason_of(rule, app)),
                e["date"].as_str().map(str::to_string),
                Some(rule.to_string()),
            )
        }
        ("deprecated", None) => (
            lc.deprecation_reason.clone(),
            lc.retire_on.map(|d| d.to_string()),
            None,
        ),
        ("retired", None) => (
            lc.deprecation_reason.clone(),
            lc.retire_on.or(lc.expires).map(|d| d.to_string()),
            None,
        ),
        _ => (None, lc.review_by.map(|d| d.to_string()), None),
    };
    let (steps, live, looped) = chain(cat, app);
    json!({
        "state": status, "reason": reason, "date": date, "rule": rule, "events": events,
        "chain": steps, "replacement": live, "loop": looped,
    })
}

/// One team's row: its name, apps due, apps needing maintenance, owners who left.
type TeamView = (String, Vec<Value>, Vec<Value>, BTreeSet<String>);

/// The dashboard's view by team: apps due for review (review date within
/// [`DUE_WITHIN_DAYS`] or past, or an attestation that ended), apps needing maintenance, and
/// the owners who left (from the sweep that flagged their apps), plus replacement loops.
pub fn teams(apps: &[Value], today: NaiveDate) -> Value {
    let date = |v: &Value| {
        v.as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let mut by: BTreeMap<String, TeamView> = BTreeMap::new();
    let mut loops = Vec::new();
    for a in apps {
        let status = a["status"].as_str().unwrap_or_default();
        if a["lifecycle"]["loop"] == true {
            loops.push(json!({ "name": a["name"], "url": a["url"] }));
        }
        if status == "retired" {
            continue;
        }
        let team = a["team"].as_str().unwrap_or_default().to_string();
        let entry = by.entry(team).or_insert_with(|| {
            (
                a["team_name"].as_str().unwrap_or_default().to_string(),
                vec![],
                vec![],
                BTreeSet::new(),
            )
        });
        let review = date(&a["review_by"]).map(|d| (d - today).num_days());
        let attested = date(&a["attested_until"]).map(|d| (d - today).num_days());
        let why = match (review, attested) {
            (_, Some(d)) if d < 0 => Some(format!(
                "attestation ended {}",
                a["attested_until"].as_str().unwrap_or_default()
            )),
            (Some(d), _) if d < 0 => Some(format!(
                "review overdue since {}",
                a["review_by"].as_str().unwrap_or_default()
            )),
            (Some(d), _) if d <= DUE_WITHIN_DAYS => Some(format!(
                "review by {}",
                a["review_by"].as_str().unwrap_or_default()
            )),
            _ => None,
        };
        if let Some(why) = why {
            entry
                .1
                .push(json!({ "name": a["name"], "url": a["url"], "why": why }));
        }
        if status == "maintenance-required" {
            entry.2.push(
                json!({ "name": a["name"], "url": a["url"], "reason": a["lifecycle"]["reason"] }),
            );
            if a["lifecycle"]["rule"] == "owners-left" {
                for k in ["owner", "backup"] {
                    if let Some(l) = a[k].as_str() {
                        entry.3.insert(l.to_string());
                    }
                }
            }
        }
    }
    let teams: Vec<Value> = by
        .into_iter()
        .filter(|(_, t)| !t.1.is_empty() || !t.2.is_empty())
        .map(|(slug, (name, due, maint, left))| {
            json!({ "slug": slug, "name": name, "due": due, "maintenance": maint, "owners_left": left })
        })
        .collect();
    json!({ "teams": teams, "loops": loops })
}
