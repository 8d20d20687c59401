//! The input documents policies see: one per app, plus catalog-wide facts added once as data.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::catalog::{AppEntry, Catalog, team_of};
use crate::manifest::{App, Config, Team};

/// What every app's input shares.
#[derive(Debug, Clone)]
pub struct InputContext {
    /// `bazaar.toml`'s domains and governance settings (from the base on a submission).
    pub config: Value,
    /// Today, for date arithmetic.
    pub today: NaiveDate,
    /// Each app's last complete month of signals, by id (`input.signals`).
    pub signals: std::sync::Arc<std::collections::BTreeMap<String, Value>>,
}

impl InputContext {
    /// From the settings (absent settings give empty lists and defaults).
    pub fn new(config: Option<&Config>, today: NaiveDate) -> InputContext {
        let config = match config {
            Some(c) => json!({ "domains": c.domains, "governance": c.governance }),
            None => {
                json!({ "domains": { "apps": "", "environments": [] }, "governance": crate::manifest::Governance::default() })
            }
        };
        InputContext {
            config,
            today,
            signals: Default::default(),
        }
    }

    /// With the apps' signals (see `discovery::policy_signals`).
    pub fn with_signals(mut self, signals: std::collections::BTreeMap<String, Value>) -> Self {
        self.signals = std::sync::Arc::new(signals);
        self
    }
}

fn days(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Value {
    match (from, to) {
        (Some(a), Some(b)) => (b - a).num_days().into(),
        _ => Value::Null,
    }
}

/// The input of one app.
pub fn app_input(
    entry: &AppEntry,
    team: Option<&Team>,
    base: Option<&App>,
    sbom: Value,
    ctx: &InputContext,
) -> Value {
    let app = &entry.app;
    let lc = &app.lifecycle;
    let today = Some(ctx.today);
    let team = team.map(|t| {
        let mut v = serde_json::to_value(t).expect("team serializes");
        v["slug"] = team_of(&entry.dir).into();
        v
    });
    json!({
        "app": app,
        "base": base,
        "path": entry.dir,
        "folder": entry.dir.rsplit('/').next().unwrap_or_default(),
        "team": team,
        "config": ctx.config,
        "sbom": sbom,
        "signals": ctx.signals.get(&app.id),
        "dates": {
            "today": ctx.today.to_string(),
            "days_since_last_review": days(lc.last_reviewed, today),
            "days_until_review_by": days(today, lc.review_by),
            "days_from_last_review_to_expires": days(lc.last_reviewed, lc.expires),
            "days_until_expires": days(today, lc.expires),
            "days_until_retire_on": days(today, lc.retire_on),
            "days_until_attested_until": days(today, lc.attested_until),
        },
    })
}

/// `data.catalog`: every app's id, endpoint, team and status, and every team's subdomain.
pub fn catalog_data(cat: &Catalog) -> Value {
    let apps: serde_json::Map<String, Value> = cat
        .facts
        .iter()
        .filter(|(_, f)| f.valid)
        .filter_map(|(dir, f)| {
            let id = f.id.clone()?;
            Some((
                id,
                json!({ "endpoint": f.endpoint, "team": team_of(dir), "status": f.status }),
            ))
        })
        .collect();
    let teams: serde_json::Map<String, Value> = cat
        .teams
        .iter()
        .map(|(slug, t)| (slug.clone(), json!({ "subdomain": t.subdomain })))
        .collect();
    json!({ "catalog": { "apps": apps, "teams": teams } })
}
