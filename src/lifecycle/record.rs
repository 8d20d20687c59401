//! The record of a sweep, kept as git trailers like a merge's (`git interpret-trailers` reads
//! them):
//!
//! ```text
//! Lifecycle sweep 2026-11-30: retire 1 app, flag 1 maintenance-required
//!
//! Bazaar-Sweep: 2026-11-30
//! Bazaar-Lifecycle: com.acme.sales.territory-planner from=active to=retired rule=discover-expired
//! ```

use chrono::NaiveDate;
use serde::Serialize;

/// One state change: an app moved from one lifecycle status to another by a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The app.
    pub id: String,
    /// Its folder.
    pub dir: String,
    /// The status before.
    pub from: String,
    /// The status after.
    pub to: String,
    /// The rule that decided it.
    pub rule: String,
    /// Why (not recorded in the trailer, which stays one line of facts).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub evidence: String,
}

/// What a sweep commit records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRecord {
    /// The day swept.
    pub at: NaiveDate,
    /// The changes (no evidence).
    pub changes: Vec<Change>,
}

fn word(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

impl SweepRecord {
    /// The commit message; every value is one plain word, checked first.
    pub fn message(&self) -> Result<String, String> {
        let retired = self.changes.iter().filter(|c| c.to == "retired").count();
        let flagged = self.changes.len() - retired;
        let mut m = format!(
            "Lifecycle sweep {}: retire {retired} app{}, flag {flagged} maintenance-required\n\nBazaar-Sweep: {}\n",
            self.at,
            if retired == 1 { "" } else { "s" },
            self.at
        );
        for c in &self.changes {
            for v in [&c.id, &c.from, &c.to, &c.rule] {
                if !word(v) {
                    return Err(format!("sweep record value {v:?} is not one plain word"));
                }
            }
            m.push_str(&format!(
                "Bazaar-Lifecycle: {} from={} to={} rule={}\n",
                c.id, c.from, c.to, c.rule
            ));
        }
        Ok(m)
    }

    /// Reads a sweep record; `None` when the message has no `Bazaar-Sweep` trailer.
    pub fn parse(message: &str) -> Result<Option<SweepRecord>, String> {
        let last = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
        let mut at = None;
        let mut changes = Vec::new();
        for line in last.lines() {
            if let Some(v) = line.strip_prefix("Bazaar-Sweep: ") {
                if at.is_some() {
                    return Err("Bazaar-Sweep appears more than once".into());
                }
                at = Some(
                    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                        .map_err(|e| format!("Bazaar-Sweep {v:?}: {e}"))?,
                );
            } else if let Some(v) = line.strip_prefix("Bazaar-Lifecycle: ") {
                let mut words = v.split_whitespace();
                let id = words.next().unwrap_or_default().to_string();
                let (mut from, mut to, mut rule) = (None, None, None);
                for w in words {
                    let slot = match w.split_once('=') {
                        Some(("from", x)) => (&mut from, x),
                        Some(("to", x)) => (&mut to, x),
                        Some(("rule", x)) => (&mut rule, x),
                        _ => return Err(format!("Bazaar-Lifecycle {v:?}: unexpected {w:?}")),
                    };
                    if slot.0.replace(slot.1.to_string()).is_some() {
                        return Err(format!("Bazaar-Lifecycle {v:?}: a key is repeated"));
                    }
                }
                let (Some(from), Some(to), Some(rule)) = (from, to, rule) else {
                    return Err(format!(
                        "Bazaar-Lifecycle {v:?} must give from=, to= and rule="
                    ));
                };
                if !word(&id) {
                    return Err(format!("Bazaar-Lifecycle {v:?}: {id:?} is not an app id"));
                }
                changes.push(Change {
                    id,
                    dir: String::new(),
                    from,
                    to,
                    rule,
                    evidence: String::new(),
                });
            }
        }
        Ok(at.map(|at| SweepRecord { at, changes }))
    }
}
