//! Approvals: who approved a submission, in which role, on which head commit. An approval counts
//! only if the login holds the role in the base roster, is not the submission's author, and was
//! given on the exact head being merged; each required role needs its own person.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::Roster;

/// One approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Forge login of the reviewer.
    pub login: String,
    /// The role the approval is given in.
    pub role: String,
    /// The forge's review id.
    pub review_id: u64,
    /// The head commit the approval was given on (full 40-hex id, lowercase).
    pub head: String,
    /// When it was given.
    pub at: DateTime<Utc>,
    /// The reviewer's numeric forge user id (logins can be renamed; the id cannot).
    pub user_id: Option<u64>,
    /// The `org/team` through which the reviewer holds the role, when the roster grants it to a
    /// team rather than to the login: the membership the merge saw, so the audit stays offline.
    pub team: Option<String>,
}

/// True for an `org/team-slug` as the forge names teams.
pub fn is_team(s: &str) -> bool {
    s.split_once('/').is_some_and(|(org, team)| {
        crate::manifest::is_login(org)
            && !team.is_empty()
            && team.len() <= 100
            && team
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    })
}

/// True for a full, lowercase 40-hex commit id.
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses a forge review id: decimal digits, no sign, no leading zero, within 64 bits.
pub fn parse_review_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

impl Approval {
    /// Parses `LOGIN:ROLE:REVIEW_ID[@HEAD[@TIME]]`; without `@HEAD` the approval is taken as given
    /// on `default_head`, without `@TIME` at `now`. Every part is checked: a forge login, a role
    /// name, a numeric review id, a full 40-hex head and an RFC 3339 time; anything else
    /// (spaces, extra `key=value` words, short heads, newlines) is refused, so nothing but these
    /// facts can reach the signed record.
    pub fn parse(spec: &str, default_head: &str, now: DateTime<Utc>) -> Result<Approval, String> {
        let shown: String = spec
            .chars()
            .take(120)
            .collect::<String>()
            .escape_debug()
            .to_string();
        let usage = "use LOGIN:ROLE:REVIEW_ID[@HEAD[@TIME]], e.g. alice:security:1234@<40-hex head>@2026-11-24T16:03:11Z";
        let mut parts = spec.split('@');
        let main = parts.next().unwrap_or_default();
        let (head, time) = (parts.next(), parts.next());
        if parts.next().is_some() {
            return Err(format!(
                "approval \"{shown}\" has more than two '@'; {usage}"
            ));
        }
        let fields: Vec<&str> = main.split(':').collect();
        let [login, role, review] = fields.as_slice() else {
            return Err(format!(
                "approval \"{shown}\" is not LOGIN:ROLE:REVIEW_ID; {usage}"
            ));
        };
        if !crate::manifest::is_login(login) {
            return Err(format!(
                "approval \"{shown}\": {:?} is not a forge login (letters, digits and single hyphens, at most 39)",
                login.escape_debug().to_string()
            ));
        }
        if !crate::manifest::is_slug(role) {
            return Err(format!(
                "approval \"{shown}\": {:?} is not a role name (a lowercase slug from policies/reviewers.toml)",
                role.escape_debug().to_string()
            ));
        }
        let Some(review_id) = parse_review_id(review) else {
            return Err(format!(
                "approval \"{shown}\": review id {:?} is not the forge's numeric review id",
                review.escape_debug().to_string()
            ));
        };
        let head = head.unwrap_or(default_head).to_string();
        if !is_commit_id(&head) {
            return Err(format!(
                "approval \"{shown}\": head {:?} is not a full 40-hex commit id; give the exact commit the review was given on",
                head.escape_debug().to_string()
            ));
        }
        let at = match time {
            None => now,
            Some(t) => DateTime::parse_from_rfc3339(t)
                .map_err(|e| {
                    format!(
                        "approval \"{shown}\": time {:?} is not RFC 3339 ({e})",
                        t.escape_debug().to_string()
                    )
                })?
                .with_timezone(&Utc),
        };
        Ok(Approval {
            login: login.to_string(),
            role: role.to_string(),
            review_id,
            head,
            at,
            user_id: None,
            team: None,
        })
    }
}

/// Why approvals do not allow a merge; each says what is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalProblem {
    /// The role is not in the roster.
    UnknownRole { login: String, role: String },
    /// The login does not hold the role.
    NotInRole { login: String, role: String },
    /// The author approved their own submission.
    SelfApproval { login: String },
    /// Given on another head.
    Stale {
        login: String,
        role: String,
        head: String,
    },
    /// One person for two roles.
    TwoRoles { login: String, roles: Vec<String> },
    /// Nobody approved in a required role.
    Missing { role: String },
}

impl std::fmt::Display for ApprovalProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApprovalProblem::UnknownRole { login, role } => write!(
                f,
                "{login}'s approval is in role {role:?}, which policies/reviewers.toml (base) does not define"
            ),
            ApprovalProblem::NotInRole { login, role } => write!(
                f,
                "{login} does not hold the {role} role in the base branch's policies/reviewers.toml"
            ),
            ApprovalProblem::SelfApproval { login } => {
                write!(f, "{login} authored the submission and cannot approve it")
            }
            ApprovalProblem::Stale { login, role, head } => write!(
                f,
                "{login}'s {role} approval was given on {head}, not on the head being merged; ask for a new review"
            ),
            ApprovalProblem::TwoRoles { login, roles } => write!(
                f,
                "{login} approved as {}; each required role needs its own reviewer",
                roles.join(" and ")
            ),
            ApprovalProblem::Missing { role } => write!(f, "no valid approval in the {role} role"),
        }
    }
}

/// The approvals that count, by role, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Valid approvals by role.
    pub by_role: BTreeMap<String, Approval>,
    /// Problems (invalid approvals and missing roles).
    pub problems: Vec<ApprovalProblem>,
}

impl Coverage {
    /// True when every required role has a valid approval.
    pub fn complete(&self) -> bool {
        !self
            .problems
            .iter()
            .any(|p| matches!(p, ApprovalProblem::Missing { .. }))
    }
}

impl Roster {
    /// True when `login` holds `role` directly (forge teams need the forge to resolve).
    pub fn holds(&self, login: &str, role: &str) -> bool {
        self.roles
            .get(role)
            .is_some_and(|m| m.iter().any(|x| x.eq_ignore_ascii_case(login)))
    }

    /// True when `team` (`org/slug`) holds `role`.
    pub fn holds_team(&self, team: &str, role: &str) -> bool {
        self.roles.get(role).is_some_and(|m| {
            m.iter().any(|x| {
                x.strip_prefix('@')
                    .is_some_and(|t| t.eq_ignore_ascii_case(team))
            })
        })
    }

    /// True when the approval's reviewer holds its role: directly, or through the team the
    /// approval records (membership as the forge reported it when merging).
    pub fn grants(&self, a: &Approval) -> bool {
        match &a.team {
            Some(t) => self.holds_team(t, &a.role),
            None => self.holds(&a.login, &a.role),
        }
    }
}

/// Judges approvals against the base roster, the author and the head being merged.
pub fn coverage(
    approvals: &[Approval],
    required: &BTreeSet<String>,
    roster: &Roster,
    author: Option<&str>,
    head: &str,
) -> Coverage {
    let mut cov = Coverage::default();
    let mut roles_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in approvals {
        let problem = if !roster.roles.contains_key(&a.role) {
            Some(ApprovalProblem::UnknownRole {
                login: a.login.clone(),
                role: a.role.clone(),
            })
        } else if author.is_some_and(|au| au.eq_ignore_ascii_case(&a.login)) {
            Some(ApprovalProblem::SelfApproval {
                login: a.login.clone(),
            })
        } else if !roster.grants(a) {
            Some(ApprovalProblem::NotInRole {
                login: a.login.clone(),
                role: a.role.clone(),
            })
        } else if a.head != head {
            Some(ApprovalProblem::Stale {
                login: a.login.clone(),
                role: a.role.clone(),
                head: a.head.clone(),
            })
        } else {
            None
        };
        match problem {
            Some(p) => cov.problems.push(p),
            None => {
                roles_of
                    .entry(a.login.to_lowercase())
                    .or_default()
                    .push(a.role.clone());
                cov.by_role
                    .entry(a.role.clone())
                    .or_insert_with(|| a.clone());
            }
        }
    }
    for (login, roles) in roles_of {
        let mut roles: Vec<String> = roles.into_iter().filter(|r| required.contains(r)).collect();
        roles.sort();
        roles.dedup();
        if roles.len() > 1 {
            for r in &roles[1..] {
                cov.by_role.remove(r);
            }
            cov.problems
                .push(ApprovalProblem::TwoRoles { login, roles });
        }
    }
    for role in required {
        if !cov.by_role.contains_key(role) {
            cov.problems
                .push(ApprovalProblem::Missing { role: role.clone() });
        }
    }
    cov
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Roster {
        let mut roles = BTreeMap::new();
        for (r, m) in [
            ("security", "alice"),
            ("product-owner", "bob"),
            ("legal", "carol"),
            ("admin", "erin"),
        ] {
            roles.insert(r.to_string(), vec![m.to_string()]);
        }
        roles.get_mut("security").unwrap().push("bob".into());
        Roster { roles }
    }

    const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";

    fn a(spec: &str) -> Approval {
        Approval::parse(spec, HEAD, DateTime::from_timestamp(0, 0).unwrap()).unwrap()
    }

    fn required(r: &[&str]) -> BTreeSet<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn complete_when_each_role_has_its_own_valid_reviewer() {
        let c = coverage(
            &[a("alice:security:1"), a("bob:product-owner:2")],
            &required(&["security", "product-owner"]),
            &roster(),
            Some("jane"),
            HEAD,
        );
        assert!(c.complete() && c.problems.is_empty(), "{:?}", c.problems);
    }

    #[test]
    fn refuses_stale_self_wrong_role_and_double_duty() {
        let r = roster();
        let req = required(&["security", "product-owner"]);
        let stale = a(&format!("alice:security:1@{}", "f".repeat(40)));
        let c = coverage(&[stale, a("bob:product-owner:2")], &req, &r, None, HEAD);
        assert!(matches!(c.problems[0], ApprovalProblem::Stale { .. }) && !c.complete());
        let c = coverage(
            &[a("alice:security:1"), a("bob:product-owner:2")],
            &req,
            &r,
            Some("Alice"),
            HEAD,
        );
        assert!(
            c.problems.contains(&ApprovalProblem::SelfApproval {
                login: "alice".into()
            }) && !c.complete()
        );
        let c = coverage(
            &[a("carol:security:1"), a("bob:product-owner:2")],
            &req,
            &r,
            None,
            HEAD,
        );
        assert!(matches!(c.problems[0], ApprovalProblem::NotInRole { .. }) && !c.complete());
        let c = coverage(
            &[a("bob:security:1"), a("bob:product-owner:2")],
            &req,
            &r,
            None,
            HEAD,
        );
        assert!(
            c.problems
                .iter()
                .any(|p| matches!(p, ApprovalProblem::TwoRoles { .. }))
                && !c.complete()
        );
        let c = coverage(&[a("alice:wizard:1")], &required(&[]), &r, None, HEAD);
        assert!(matches!(c.problems[0], ApprovalProblem::UnknownRole { .. }));
        assert!(Approval::parse("alice", HEAD, DateTime::from_timestamp(0, 0).unwrap()).is_err());
        for bad in [
            "alice:security:1@zzz",
            "alice:security:1 role=admin",
            "alice:security:x",
            "alice:security:01",
            "alice:security:1@0123456",
            "alice:security:1\nBazaar-Approval: mallory role=admin",
            "al ice:security:1",
            "alice:Security:1",
        ] {
            assert!(
                Approval::parse(bad, HEAD, DateTime::from_timestamp(0, 0).unwrap()).is_err(),
                "{bad:?} was accepted"
            );
        }
    }
}
