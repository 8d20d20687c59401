//! The dashboard's charts over time: from the signals (active users, reuse rate, actual cost
//! per cost center by month) and from the signed history (median time from submission to merge
//! and signed merges by month).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use super::charts::{Series, model};
use super::history::{History, median};
use super::model::money;
use crate::catalog::Catalog;
use crate::signals::{Signals, last_complete_month, month_text};

/// Months the charts look back.
pub const MONTHS: usize = 12;
/// Cost centers drawn (the most expensive); the table of costs lists all of them.
pub const CENTERS: usize = 5;

fn whole(x: f64) -> String {
    format!("{}", x.round() as i64)
}
fn pct(x: f64) -> String {
    format!("{x:.1}%")
}
fn hours(x: f64) -> String {
    format!("{x:.1} h")
}

/// The charts, in the order the dashboard shows them.
pub fn charts(cat: &Catalog, signals: &Signals, history: &History, today: NaiveDate) -> Vec<Value> {
    let mut out = Vec::new();
    let last = last_complete_month(today);
    let mut months: Vec<NaiveDate> = signals
        .by_app
        .values()
        .flatten()
        .map(|r| r.month)
        .filter(|m| *m <= last)
        .collect();
    months.sort();
    months.dedup();
    let months: Vec<NaiveDate> = months.into_iter().rev().take(MONTHS).rev().collect();
    let labels: Vec<String> = months.iter().map(|m| month_text(*m)).collect();
    if !months.is_empty() {
        let at = |m: NaiveDate| months.binary_search(&m).ok();
        let mut users = vec![0.0; months.len()];
        let mut with = vec![0usize; months.len()];
        let mut reused = vec![0usize; months.len()];
        let center_of: BTreeMap<&str, &str> = cat
            .apps
            .iter()
            .filter_map(|e| Some((e.app.id.as_str(), e.app.cost.as_ref()?.center.as_deref()?)))
            .collect();
        let mut cost: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
        for (id, rows) in &signals.by_app {
            for r in rows {
                let Some(i) = at(r.month) else { continue };
                users[i] += r.active_users.unwrap_or(0) as f64;
                with[i] += 1;
                reused[i] += usize::from(r.teams.is_some_and(|t| t > 1));
                if let (Some(c), Some(usd)) = (center_of.get(id.as_str()), r.cost_usd) {
                    let v = cost.entry(c).or_insert_with(|| vec![None; months.len()]);
                    v[i] = Some(v[i].unwrap_or(0.0) + usd);
                }
            }
        }
        let n = months.len() - 1;
        out.push(model(
            "users",
            "Active users by month",
            format!(
                "{} active users across all apps in {}, {} in {}.",
                whole(users[n]),
                labels[n],
                whole(users[0]),
                labels[0]
            ),
            &labels,
            vec![Series {
                name: "active users".into(),
                values: users.iter().map(|u| Some(*u)).collect(),
            }],
            "active users",
            whole,
        ));
        let rate: Vec<Option<f64>> = (0..months.len())
            .map(|i| {
                (with[i] > 0).then(|| (reused[i] as f64 * 1000.0 / with[i] as f64).round() / 10.0)
            })
            .collect();
        out.push(model(
            "reuse",
            "Reuse rate by month (apps used by more than one team)",
            format!(
                "In {}, {} of {} apps with usage data were used by more than one team ({}).",
                labels[n],
                reused[n],
                with[n],
                rate[n].map(pct).unwrap_or_default()
            ),
            &labels,
            vec![Series {
                name: "reuse rate".into(),
                values: rate,
            }],
            "percent of apps",
            pct,
        ));
        let mut centers: Vec<(&str, Vec<Option<f64>>)> = cost.into_iter().collect();
        let total = |v: &Vec<Option<f64>>| v.iter().flatten().sum::<f64>();
        centers.sort_by(|a, b| total(&b.1).total_cmp(&total(&a.1)).then(a.0.cmp(b.0)));
        let top: Vec<Series> = centers
            .iter()
            .take(CENTERS)
            .map(|(c, v)| Series {
                name: (*c).to_string(),
                values: v.clone(),
            })
            .collect();
        if !top.is_empty() {
            out.push(model(
                "cost",
                "Actual cost per cost center by month",
                format!(
                    "The {} most expensive cost centers; {} spent the most in {} ({}).",
                    top.len(),
                    top[0].name,
                    labels[n],
                    top[0].values[n].map(money).unwrap_or_else(|| "—".into())
                ),
                &labels,
                top,
                "US dollars",
                money,
            ));
        }
    }
    // submission to merge, from the signed merge records
    let mut by_month: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (m, h) in &history.lead_by_month {
        by_month.entry(m.as_str()).or_default().push(*h);
    }
    let recent: Vec<(&str, Vec<f64>)> = by_month.into_iter().rev().take(MONTHS).rev().collect();
    if !recent.is_empty() {
        let labels: Vec<String> = recent.iter().map(|(m, _)| m.to_string()).collect();
        let medians: Vec<Option<f64>> = recent
            .iter()
            .map(|(_, v)| median(v.clone()).map(|x| (x * 10.0).round() / 10.0))
            .collect();
        let counts: Vec<Option<f64>> = recent.iter().map(|(_, v)| Some(v.len() as f64)).collect();
        let n = labels.len() - 1;
        out.push(model(
            "lead",
            "Median time from submission to merge by month",
            format!(
                "In {}, half of the {} signed merges took {} or less from submission to merge.",
                labels[n],
                recent[n].1.len(),
                medians[n].map(hours).unwrap_or_default()
            ),
            &labels,
            vec![Series {
                name: "median hours".into(),
                values: medians,
            }],
            "hours",
            hours,
        ));
        out.push(model(
            "merges",
            "Signed merges by month",
            format!("{} signed merges in {}.", recent[n].1.len(), labels[n]),
            &labels,
            vec![Series {
                name: "signed merges".into(),
                values: counts,
            }],
            "merges",
            whole,
        ));
    }
    out
}
