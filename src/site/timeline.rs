//! The dashboard's charts of the catalog's state over time, replayed from Git history: apps per
//! tier and per lifecycle status at the end of each month, SBOM coverage of the reviewed tiers
//! (vetted and enterprise), and open and overdue warnings.
//!
//! Each app's state at a month's end is what its last change up to then left (read from the
//! commit's tree); an app the window shows only later was absent if that change added it, and
//! otherwise had the state the change shows; an app the window never touches had its current
//! state throughout. A warning counts from the month its manifest last changed (the change that
//! brought it), and is overdue in the months that end after its deadline.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::Value;

use super::charts::{Series, model};
use crate::catalog::{AppEvent, Catalog, ChangeKind};

/// One app's state.
#[derive(Clone, Debug, PartialEq)]
struct State {
    tier: String,
    status: String,
    sbom: bool,
}

/// The first day of the month after `m`'s.
fn next_month(m: NaiveDate) -> NaiveDate {
    let (y, mo) = if m.month() == 12 {
        (m.year() + 1, 1)
    } else {
        (m.year(), m.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, mo, 1).unwrap_or(m)
}

fn first_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn whole(x: f64) -> String {
    format!("{}", x.round() as i64)
}
fn warnings_text(x: f64) -> String {
    match x.round() as i64 {
        1 => "1 warning".into(),
        n => format!("{n} warnings"),
    }
}
fn pct(x: f64) -> String {
    format!("{x:.1}%")
}

/// The charts over `months` months ending with `today`'s. `changes` are the app changes of the
/// history, newest first; `warnings` the current warnings as (app id, deadline).
pub fn charts(
    cat: &Catalog,
    changes: &[(DateTime<Utc>, AppEvent)],
    warnings: &[(&str, Option<NaiveDate>)],
    today: NaiveDate,
    months: usize,
) -> Vec<Value> {
    if changes.is_empty() || months == 0 {
        return Vec::new();
    }
    // month starts, oldest first, not before the oldest change's month
    let oldest = first_of(
        changes
            .iter()
            .map(|c| c.0.date_naive())
            .min()
            .unwrap_or(today),
    );
    let mut starts = vec![first_of(today)];
    while starts.len() < months {
        let prev = first_of(starts[starts.len() - 1] - chrono::Duration::days(1));
        if prev < oldest {
            break;
        }
        starts.push(prev);
    }
    starts.reverse();
    let labels: Vec<String> = starts
        .iter()
        .map(|m| m.format("%Y-%m").to_string())
        .collect();
    // each folder's changes, oldest first
    let mut by_dir: HashMap<&str, Vec<(NaiveDate, &AppEvent)>> = HashMap::new();
    for (t, e) in changes.iter().rev() {
        by_dir
            .entry(e.dir.as_str())
            .or_default()
            .push((t.date_naive(), e));
    }
    let state_of = |e: &AppEvent| -> Option<State> {
        (e.kind != ChangeKind::Removed).then(|| State {
            tier: e.tier.clone().unwrap_or_else(|| "unknown".into()),
            status: e.status.clone().unwrap_or_else(|| "unknown".into()),
            sbom: e.sbom,
        })
    };
    let current: HashMap<&str, State> = cat
        .apps
        .iter()
        .map(|e| {
            let sec = e.app.security.as_ref();
            let state = State {
                tier: e.app.tier.as_str().to_string(),
                status: e.app.lifecycle.status.as_str().to_string(),
                sbom: sec.is_some_and(|s| s.sbom.is_some()),
            };
            (e.dir.as_str(), state)
        })
        .collect();
    let last_change: HashMap<&str, NaiveDate> = by_dir
        .iter()
        .filter_map(|(d, v)| Some((*d, v.last()?.0)))
        .collect();
    let dir_of: HashMap<&str, &str> = cat
        .apps
        .iter()
        .map(|e| (e.app.id.as_str(), e.dir.as_str()))
        .collect();
    let mut tiers: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let mut statuses: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let mut coverage = vec![None; starts.len()];
    let (mut open, mut overdue) = (vec![None; starts.len()], vec![None; starts.len()]);
    for (i, start) in starts.iter().enumerate() {
        let end = next_month(*start); // states as of the end of the month
        let mut counted: Vec<State> = Vec::new();
        for (dir, list) in &by_dir {
            let upto = list.iter().rev().find(|(d, _)| *d < end);
            let state = match upto {
                Some((_, e)) => state_of(e),
                None => match list.first() {
                    Some((_, e)) if e.kind == ChangeKind::Added => None,
                    Some((_, e)) => state_of(e).or_else(|| current.get(dir).cloned()),
                    None => None,
                },
            };
            counted.extend(state);
        }
        counted.extend(
            current
                .iter()
                .filter(|(d, _)| !by_dir.contains_key(*d))
                .map(|(_, s)| s.clone()),
        );
        for s in &counted {
            let t = tiers
                .entry(s.tier.clone())
                .or_insert_with(|| vec![Some(0.0); starts.len()]);
            t[i] = Some(t[i].unwrap_or(0.0) + 1.0);
            let t = statuses
                .entry(s.status.clone())
                .or_insert_with(|| vec![Some(0.0); starts.len()]);
            t[i] = Some(t[i].unwrap_or(0.0) + 1.0);
        }
        let reviewed: Vec<&State> = counted.iter().filter(|s| s.tier != "discover").collect();
        if !reviewed.is_empty() {
            let with = reviewed.iter().filter(|s| s.sbom).count();
            coverage[i] = Some((with as f64 * 1000.0 / reviewed.len() as f64).round() / 10.0);
        }
        let (mut o, mut d) = (0.0, 0.0);
        for (app, deadline) in warnings {
            let Some(dir) = dir_of.get(app) else { continue };
            if last_change.get(dir).is_some_and(|c| *c >= end) {
                continue; // brought by a later change
            }
            if deadline.is_some_and(|dl| dl < end) {
                d += 1.0;
            } else {
                o += 1.0;
            }
        }
        open[i] = Some(o);
        overdue[i] = Some(d);
    }
    let n = labels.len() - 1;
    let mut out = Vec::new();
    let order = |m: BTreeMap<String, Vec<Option<f64>>>, known: &[&str]| -> Vec<Series> {
        let mut v: Vec<(String, Vec<Option<f64>>)> = m.into_iter().collect();
        v.sort_by_key(|(k, _)| known.iter().position(|x| x == k).unwrap_or(known.len()));
        v.into_iter()
            .map(|(name, values)| Series { name, values })
            .collect()
    };
    let tiers = order(tiers, &["discover", "vetted", "enterprise"]);
    let list = |s: &[Series]| {
        s.iter()
            .map(|x| format!("{} {}", whole(x.values[n].unwrap_or(0.0)), x.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = format!("At the end of {}: {}.", labels[n], list(&tiers));
    out.push(model(
        "tiers",
        "Apps per tier by month",
        summary,
        &labels,
        tiers,
        "apps",
        whole,
    ));
    let statuses = order(
        statuses,
        &["active", "maintenance-required", "deprecated", "retired"],
    );
    let summary = format!("At the end of {}: {}.", labels[n], list(&statuses));
    out.push(model(
        "lifecycle",
        "Apps per lifecycle status by month",
        summary,
        &labels,
        statuses,
        "apps",
        whole,
    ));
    if coverage.iter().any(Option::is_some) {
        out.push(model(
            "sbom",
            "SBOM coverage of vetted and enterprise apps by month",
            format!(
                "At the end of {}, {} of vetted and enterprise apps named an SBOM.",
                labels[n],
                coverage[n].map(pct).unwrap_or_else(|| "—".into())
            ),
            &labels,
            vec![Series {
                name: "with an SBOM".into(),
                values: coverage,
            }],
            "percent of apps",
            pct,
        ));
    }
    out.push(model(
        "warnings",
        "Open and overdue warnings by month",
        format!(
            "At the end of {}: {} within their deadline, {} overdue.",
            labels[n],
            warnings_text(open[n].unwrap_or(0.0)),
            whole(overdue[n].unwrap_or(0.0))
        ),
        &labels,
        vec![
            Series {
                name: "open".into(),
                values: open,
            },
            Series {
                name: "overdue".into(),
                values: overdue,
            },
        ],
        "warnings",
        whole,
    ));
    out
}
