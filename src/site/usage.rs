//! Signals on the pages: each app's last complete month (active users, teams using it, uptime,
//! actual against forecast cost) with a trend, and the catalog's reuse rate and actual cost per
//! cost center for the dashboard.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::model::{money, slug};
use crate::catalog::Catalog;
use crate::signals::{Signals, month_text};

/// Months of trend shown per app.
pub const TREND_MONTHS: usize = 12;

/// Reads the signals of a catalog (the findings are `check`'s to report).
pub fn load(snap: &crate::catalog::Snapshot, cat: &Catalog) -> Signals {
    crate::signals::load(snap, &crate::signals::known_ids(cat))
}

/// An app's usage for its page and card, or null without signals.
pub fn app_model(s: &Signals, id: &str, today: NaiveDate, forecast: Option<f64>) -> Value {
    let Some(r) = s.latest(id, today) else {
        return Value::Null;
    };
    let rows = &s.by_app[id];
    let upto = rows
        .iter()
        .position(|x| x.month == r.month)
        .map_or(0, |i| i + 1);
    let from = upto.saturating_sub(TREND_MONTHS);
    let over = match (r.cost_usd, forecast) {
        (Some(c), Some(f)) if f > 0.0 => Some(((c - f) / f * 100.0).round() as i64),
        _ => None,
    };
    let trend = &rows[from..upto];
    let chart = (trend.len() > 1).then(|| {
        let labels: Vec<String> = trend.iter().map(|x| month_text(x.month)).collect();
        super::charts::line_chart(
            "Active users by month",
            &labels,
            &[super::charts::Series {
                name: "active users".into(),
                values: trend
                    .iter()
                    .map(|x| x.active_users.map(|u| u as f64))
                    .collect(),
            }],
            "active users",
        )
    });
    json!({
        "chart": chart,
        "month": month_text(r.month), "active_users": r.active_users, "teams": r.teams,
        "requests": r.requests, "error_rate": r.error_rate, "uptime": r.uptime,
        "cost_usd": r.cost_usd, "cost": r.cost_usd.map(money), "over_forecast_pct": over,
        "reused": r.teams.is_some_and(|t| t > 1),
        "trend": rows[from..upto].iter().map(|x| json!({
            "month": month_text(x.month), "active_users": x.active_users, "teams": x.teams,
            "cost_usd": x.cost_usd, "cost": x.cost_usd.map(money),
        })).collect::<Vec<_>>(),
    })
}

/// Reuse rate (apps used by more than one team, of the apps with signals) and actual cost per
/// cost center, from the apps' models.
pub fn dashboard(apps: &[Value]) -> Value {
    let with: Vec<&Value> = apps.iter().filter(|a| !a["usage"].is_null()).collect();
    let reused = with.iter().filter(|a| a["usage"]["reused"] == true).count();
    let mut centers: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for a in &with {
        if let (Some(c), Some(actual)) =
            (a["cost_center"].as_str(), a["usage"]["cost_usd"].as_f64())
        {
            let e = centers.entry(c.to_string()).or_default();
            e.0 += actual;
            e.1 += a["monthly_usd"].as_f64().unwrap_or(0.0);
        }
    }
    json!({
        "apps": with.len(), "reused": reused,
        "rate_pct": if with.is_empty() { Value::Null } else { ((reused as f64 * 1000.0 / with.len() as f64).round() / 10.0).into() },
        "centers": centers.into_iter().map(|(c, (actual, forecast))| json!({
            "name": c, "url": format!("costs/{}/", slug(&c)), "actual": money(actual), "forecast": money(forecast),
            "actual_usd": actual, "forecast_usd": forecast,
        })).collect::<Vec<_>>(),
    })
}
