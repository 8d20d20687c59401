//! Which apps need their owners' attention after a sweep, and why, in words that stay the same
//! from one day to the next (so a daily notifier only writes when something changed). The
//! daemon turns each into one issue; reminders carry a key so each is sent once.

use serde::Serialize;

use super::{Change, Reminder};

/// An app whose owners must act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attention {
    /// The app.
    pub id: String,
    /// Its folder.
    pub dir: String,
    /// Its owner and backup owner.
    pub owners: Vec<String>,
    /// Owners known to have left (not assigned, named in the text).
    pub left: Vec<String>,
    /// `maintenance-required`, `retired` (by this sweep) or `review-due`.
    pub state: String,
    /// Why, one stable line each.
    pub reasons: Vec<String>,
    /// The reminders due, by key (`rule@date/threshold`): each is sent once.
    pub reminders: Vec<String>,
}

/// The key a reminder is recorded under: the same reminder on another day has the same key.
pub fn reminder_key(r: &Reminder) -> String {
    let mut k = format!("{}@{}", r.rule, r.date.as_deref().unwrap_or("-"));
    if let Some(t) = r.threshold {
        k.push_str(&format!("/{t}"));
    }
    k
}

fn reminder_line(r: &Reminder) -> String {
    let date = r.date.as_deref().unwrap_or("an unknown day");
    match (r.rule.as_str(), r.threshold) {
        ("review-reminder", Some(t)) => {
            format!("review due on {date} (the {t}-day reminder) [review-reminder]")
        }
        ("attestation-lapsed", _) => {
            format!(
                "the owners' attestation ended on {date}: confirm the manifest is still true [attestation-lapsed]"
            )
        }
        (rule, _) => format!("{date}: {} [{rule}]", r.evidence),
    }
}

/// What one app's owners must hear about after the sweep, if anything.
pub fn attention(
    id: &str,
    dir: &str,
    owners: Vec<String>,
    status: &str,
    change: Option<&Change>,
    reminders: &[&Reminder],
    left: Vec<String>,
) -> Option<Attention> {
    let after = change.map_or(status, |c| c.to.as_str());
    let mut reasons = Vec::new();
    if let Some(c) = change {
        reasons.push(format!("{} [{}]", c.evidence, c.rule));
    } else if after == "maintenance-required" {
        reasons.push("the manifest's lifecycle.status is maintenance-required".to_string());
    }
    reasons.extend(reminders.iter().map(|r| reminder_line(r)));
    let state = if change.is_some_and(|c| c.to == "retired") {
        "retired"
    } else if after == "maintenance-required" {
        "maintenance-required"
    } else if !reminders.is_empty() && after != "retired" {
        "review-due"
    } else {
        return None;
    };
    let mut keys: Vec<String> = reminders.iter().map(|r| reminder_key(r)).collect();
    keys.sort();
    keys.dedup();
    Some(Attention {
        id: id.to_string(),
        dir: dir.to_string(),
        owners,
        left,
        state: state.to_string(),
        reasons,
        reminders: keys,
    })
}
