//! Membership facts the sweep's owners-left rule is judged on. The library never asks the forge:
//! the caller supplies them (the daemon asks the forge, `bazaar sweep --members FILE` reads a
//! file), or says why it cannot, and the rule is then skipped with a note, never guessed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::manifest::{App, Team};

/// Who belongs where on the forge, as far as the caller found out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// Members of each organization, by organization login.
    #[serde(default)]
    pub orgs: BTreeMap<String, BTreeSet<String>>,
    /// Members of each forge team, by `org/team-slug` (a team's `forge_team`).
    #[serde(default)]
    pub teams: BTreeMap<String, BTreeSet<String>>,
}

/// What the sweep knows about membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// Nothing: the owners-left rule is skipped, and the plan says why.
    Unknown(String),
    /// The facts the caller found.
    Known(Membership),
}

impl Default for Members {
    fn default() -> Members {
        Members::Unknown("no membership facts were given".into())
    }
}

/// The owners-left verdict on one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnersLeft {
    /// Not judged: neither the organization nor the team's members are known.
    Unknown,
    /// At least one owner is still a member.
    Present,
    /// Both the owner and the backup owner (or the only owner) left; the logins.
    Left(Vec<String>),
}

impl Membership {
    /// Whether the app's owner and backup owner both left its team's organization or its
    /// forge team. A login compares without case (GitHub logins are case-insensitive).
    pub fn judge(&self, app: &App, team: Option<&Team>) -> OwnersLeft {
        let Some(team) = team else {
            return OwnersLeft::Unknown;
        };
        let org = team.forge_team.split('/').next().unwrap_or_default();
        let org_members = self.orgs.get(org);
        let team_members = self.teams.get(&team.forge_team);
        if org_members.is_none() && team_members.is_none() {
            return OwnersLeft::Unknown;
        }
        // no copies: a membership set is compared in place, without case
        let has = |m: Option<&BTreeSet<String>>, l: &str| {
            m.is_none_or(|m| m.contains(l) || m.iter().any(|x| x.eq_ignore_ascii_case(l)))
        };
        let present = |login: &str| has(org_members, login) && has(team_members, login);
        let mut owners = vec![app.owner.primary.clone()];
        owners.extend(app.owner.backup.clone());
        if owners.iter().any(|o| present(o)) {
            OwnersLeft::Present
        } else {
            OwnersLeft::Left(owners)
        }
    }
}

/// The forge teams (`org/team-slug`) the catalog's teams name at `rev` of the repository at
/// `root`: the teams whose members a caller looks up for [`Membership::teams`].
pub fn forge_teams(root: &std::path::Path, rev: &str) -> Result<BTreeSet<String>, String> {
    let snap = crate::source::Snapshot::from_rev_subset(root, rev, &["catalog"])
        .map_err(|e| e.to_string())?;
    let mut out = BTreeSet::new();
    for path in snap.entries.keys() {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() != 3 || parts[2] != "team.toml" {
            continue;
        }
        let Ok(Ok(bytes)) = snap.read(path, crate::manifest::MAX_MANIFEST_BYTES) else {
            continue;
        };
        if let Some(team) =
            crate::manifest::decode(path, &bytes, crate::manifest::MAX_MANIFEST_BYTES)
                .ok()
                .and_then(|f| crate::manifest::parse_team(&f).value)
        {
            out.insert(team.forge_team);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(primary: &str, backup: Option<&str>) -> App {
        let mut a: App = crate::manifest::parse_app(
            &crate::manifest::decode(
                "catalog/finance/expense-tracker/app.toml",
                &std::fs::read(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("catalog/finance/expense-tracker/app.toml"),
                )
                .unwrap(),
                1 << 20,
            )
            .unwrap(),
        )
        .value
        .unwrap();
        a.owner.primary = primary.into();
        a.owner.backup = backup.map(str::to_string);
        a
    }

    fn team() -> Team {
        Team {
            schema_version: 1,
            name: "Finance".into(),
            description: None,
            forge_team: "acme/finance-eng".into(),
            subdomain: "finance".into(),
            cost_centers: vec!["CC-4100".into()],
            channel: None,
            spans: Default::default(),
        }
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn lifecycle_owners_left_needs_both_gone_and_known_facts() {
        let t = team();
        let mut m = Membership::default();
        assert_eq!(
            m.judge(&app("jane", Some("tom")), Some(&t)),
            OwnersLeft::Unknown
        );
        assert_eq!(
            m.judge(&app("jane", Some("tom")), None),
            OwnersLeft::Unknown
        );
        m.orgs.insert("acme".into(), set(&["Jane", "tom"]));
        assert_eq!(
            m.judge(&app("jane", Some("tom")), Some(&t)),
            OwnersLeft::Present
        );
        // in the org but no longer in the team: left the team
        m.teams.insert("acme/finance-eng".into(), set(&["tom"]));
        assert_eq!(
            m.judge(&app("jane", Some("tom")), Some(&t)),
            OwnersLeft::Present
        );
        m.teams.insert("acme/finance-eng".into(), set(&["someone"]));
        assert_eq!(
            m.judge(&app("jane", Some("tom")), Some(&t)),
            OwnersLeft::Left(vec!["jane".into(), "tom".into()])
        );
        // a sole owner who left
        m.teams.remove("acme/finance-eng");
        assert_eq!(
            m.judge(&app("gone", None), Some(&t)),
            OwnersLeft::Left(vec!["gone".into()])
        );
    }
}
