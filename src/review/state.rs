//! The approval state of a submission from the forge's reviews: which required roles have an
//! approval that counts, and why every other review does not. Pure: the daemon fetches the
//! reviews and the members of the roster's teams, this decides.
//!
//! A review counts for a role when it is the reviewer's latest deciding review (approve,
//! request changes; a dismissal turns that review into a dismissed one), it approves, it was
//! given on the current head *after* Bazaar first saw that head (GitHub can move an old review
//! to a new head after a force-push, and a review submitted seconds after a push can name a head
//! its author never saw), the reviewer is neither the author nor a bot, and the base roster
//! grants the role to the reviewer's login or to a team the forge says the reviewer is in.
//! Each required role needs its own person.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::{Approval, Roster};

/// A review's state as the forge reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// Approved.
    Approved,
    /// Changes requested.
    ChangesRequested,
    /// A comment only: changes nothing.
    Commented,
    /// Dismissed by a maintainer.
    Dismissed,
    /// Not submitted yet.
    Pending,
}

impl ReviewState {
    /// From GitHub's `state` field.
    pub fn parse(s: &str) -> ReviewState {
        match s {
            "APPROVED" => ReviewState::Approved,
            "CHANGES_REQUESTED" => ReviewState::ChangesRequested,
            "DISMISSED" => ReviewState::Dismissed,
            "PENDING" => ReviewState::Pending,
            _ => ReviewState::Commented,
        }
    }
}

/// One review on the forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The review's id.
    pub id: u64,
    /// The reviewer's login.
    pub login: String,
    /// The reviewer's numeric user id.
    pub user_id: u64,
    /// The reviewer is a bot account.
    pub bot: bool,
    /// Its state.
    pub state: ReviewState,
    /// The head it was given on.
    pub commit_id: String,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// Members of the roster's teams (`org/team`, lower case → logins, lower case), or why the
/// forge could not say.
pub type Teams = BTreeMap<String, Result<BTreeSet<String>, String>>;

/// Why a review does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// Given on another head.
    StaleHead(String),
    /// Submitted before Bazaar first saw the head (or before it saw it at all).
    BeforeSeen(Option<DateTime<Utc>>),
    /// The author's own.
    Author,
    /// A bot's.
    Bot,
    /// The reviewer holds none of the required roles in the base roster.
    NotInRoster,
    /// Dismissed.
    Dismissed,
    /// The reviewer's latest review requests changes.
    ChangesRequested,
}

impl std::fmt::Display for Ignored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ignored::StaleHead(h) => write!(
                f,
                "given on `{}`, not on the current head",
                &h[..h.len().min(7)]
            ),
            Ignored::BeforeSeen(Some(t)) => write!(
                f,
                "submitted before Bazaar checked this head ({}); approve again",
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Ignored::BeforeSeen(None) => {
                write!(
                    f,
                    "submitted before Bazaar checked this head; approve again"
                )
            }
            Ignored::Author => write!(f, "the author cannot approve their own submission"),
            Ignored::Bot => write!(f, "a bot's review does not count"),
            Ignored::NotInRoster => write!(
                f,
                "holds none of the required roles in the base branch's policies/reviewers.toml"
            ),
            Ignored::Dismissed => write!(f, "dismissed"),
            Ignored::ChangesRequested => write!(f, "changes requested"),
        }
    }
}

/// One required role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    /// The role.
    pub role: String,
    /// Who may approve: the roster's logins and `@org/team` entries.
    pub may: Vec<String>,
    /// The approval that counts for it.
    pub approval: Option<Approval>,
}

/// A submission's approvals, as the forge's reviews give them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApprovalState {
    /// Each required role, in name order.
    pub roles: Vec<RoleState>,
    /// Reviews that do not count: reviewer, review id, why.
    pub ignored: Vec<(String, u64, Ignored)>,
    /// Teams the forge could not list (their members' approvals could not count).
    pub unresolved_teams: Vec<(String, String)>,
}

impl ApprovalState {
    /// Every required role has an approval that counts.
    pub fn ready(&self) -> bool {
        self.roles.iter().all(|r| r.approval.is_some())
    }

    /// The approvals that count.
    pub fn approvals(&self) -> Vec<Approval> {
        self.roles
            .iter()
            .filter_map(|r| r.approval.clone())
            .collect()
    }

    /// Roles still waiting.
    pub fn missing(&self) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|r| r.approval.is_none())
            .map(|r| r.role.as_str())
            .collect()
    }
}

/// What the submission looks like to the reviews.
#[derive(Debug, Clone, Copy)]
pub struct Submission<'a> {
    /// The author's login.
    pub author: &'a str,
    /// The current head.
    pub head: &'a str,
    /// When Bazaar first saw the head (its first check run on it).
    pub first_seen: Option<DateTime<Utc>>,
}

/// The team through which the roster grants `role` to `login`, `Some(None)` for a direct grant.
fn grant(roster: &Roster, teams: &Teams, login: &str, role: &str) -> Option<Option<String>> {
    if roster.holds(login, role) {
        return Some(None);
    }
    let lower = login.to_lowercase();
    roster.roles.get(role)?.iter().find_map(|m| {
        let team = m.strip_prefix('@')?.to_lowercase();
        match teams.get(&team) {
            Some(Ok(members)) if members.contains(&lower) => Some(Some(team)),
            _ => None,
        }
    })
}

/// A review that may fill roles: the roles it may fill, each with the team that grants it
/// (`None`: granted to the login).
type Candidate<'a> = (&'a Review, Vec<(String, Option<String>)>);

/// Decides the approval state of `sub` from its reviews under the base roster.
pub fn approval_state(
    reviews: &[Review],
    required: &BTreeSet<String>,
    roster: &Roster,
    teams: &Teams,
    sub: Submission<'_>,
) -> ApprovalState {
    let mut state = ApprovalState {
        unresolved_teams: teams
            .iter()
            .filter_map(|(t, r)| r.as_ref().err().map(|e| (t.clone(), e.clone())))
            .collect(),
        ..Default::default()
    };
    // each reviewer's latest deciding review
    let mut ordered: Vec<&Review> = reviews
        .iter()
        .filter(|r| !matches!(r.state, ReviewState::Commented | ReviewState::Pending))
        .collect();
    ordered.sort_by_key(|r| (r.submitted_at, r.id));
    let mut latest: BTreeMap<String, &Review> = BTreeMap::new();
    for r in ordered {
        latest.insert(r.login.to_lowercase(), r);
    }
    // who may fill which role, with the team that grants it
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    for r in latest.values() {
        let why = match r.state {
            ReviewState::Dismissed => Some(Ignored::Dismissed),
            ReviewState::ChangesRequested => Some(Ignored::ChangesRequested),
            _ if r.bot || r.login.ends_with("[bot]") => Some(Ignored::Bot),
            _ if r.login.eq_ignore_ascii_case(sub.author) => Some(Ignored::Author),
            _ if r.commit_id != sub.head => Some(Ignored::StaleHead(r.commit_id.clone())),
            // the forge keeps both times to the second: a review in the same second as the
            // first check run counts (a head moved under a reviewer shows a later second)
            _ => match (r.submitted_at, sub.first_seen) {
                (Some(at), Some(seen)) if at >= seen => None,
                _ => Some(Ignored::BeforeSeen(sub.first_seen)),
            },
        };
        if let Some(why) = why {
            state.ignored.push((r.login.clone(), r.id, why));
            continue;
        }
        let roles: Vec<(String, Option<String>)> = required
            .iter()
            .filter_map(|role| grant(roster, teams, &r.login, role).map(|t| (role.clone(), t)))
            .collect();
        if roles.is_empty() {
            state
                .ignored
                .push((r.login.clone(), r.id, Ignored::NotInRoster));
        } else {
            candidates.push((r, roles));
        }
    }
    // each role its own person: a maximum matching (roles are few), so one reviewer who holds
    // two roles does not leave the other role empty when someone else could fill the first
    let roles: Vec<&String> = required.iter().collect();
    let mut holder: Vec<Option<usize>> = vec![None; roles.len()];
    for c in 0..candidates.len() {
        let mut seen = vec![false; roles.len()];
        assign(c, &candidates, &roles, &mut holder, &mut seen);
    }
    for (i, role) in roles.iter().enumerate() {
        let approval = holder[i].map(|c| {
            let (r, grants) = &candidates[c];
            let team = grants
                .iter()
                .find(|(g, _)| g == *role)
                .and_then(|(_, t)| t.clone());
            Approval {
                login: r.login.clone(),
                role: (*role).clone(),
                review_id: r.id,
                head: r.commit_id.clone(),
                at: r.submitted_at.unwrap_or_default(),
                user_id: Some(r.user_id),
                team,
            }
        });
        state.roles.push(RoleState {
            role: (*role).clone(),
            may: roster.roles.get(*role).cloned().unwrap_or_default(),
            approval,
        });
    }
    state
}

/// Kuhn's augmenting path: gives candidate `c` a role, moving others when they have another.
fn assign(
    c: usize,
    candidates: &[Candidate<'_>],
    roles: &[&String],
    holder: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for (role, _) in &candidates[c].1 {
        let Some(i) = roles.iter().position(|r| *r == role) else {
            continue;
        };
        if seen[i] {
            continue;
        }
        seen[i] = true;
        if holder[i].is_none_or(|other| assign(other, candidates, roles, holder, seen)) {
            holder[i] = Some(c);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "1111111111111111111111111111111111111111";
    const OLD: &str = "2222222222222222222222222222222222222222";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn review(id: u64, login: &str, state: ReviewState, head: &str, at: &str) -> Review {
        Review {
            id,
            login: login.into(),
            user_id: id * 10,
            bot: false,
            state,
            commit_id: head.into(),
            submitted_at: Some(t(at)),
        }
    }

    fn roster() -> Roster {
        let mut roles = BTreeMap::new();
        roles.insert(
            "security".to_string(),
            vec!["alice".to_string(), "@acme/sec".to_string()],
        );
        roles.insert(
            "product-owner".to_string(),
            vec!["bob".to_string(), "alice".to_string()],
        );
        Roster { roles }
    }

    fn required() -> BTreeSet<String> {
        ["security", "product-owner"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn sub() -> Submission<'static> {
        Submission {
            author: "jane",
            head: HEAD,
            first_seen: Some(t("2026-11-30T10:00:00Z")),
        }
    }

    #[test]
    fn each_reason_is_named_and_only_counting_reviews_fill_roles() {
        use ReviewState::*;
        let mut teams = Teams::new();
        teams.insert("acme/sec".into(), Ok(["carol".to_string()].into()));
        let reviews = vec![
            review(1, "jane", Approved, HEAD, "2026-11-30T10:01:00Z"),
            review(2, "bob", Approved, OLD, "2026-11-30T10:01:00Z"),
            review(3, "dave", Approved, HEAD, "2026-11-30T10:01:00Z"),
            review(4, "Carol", Approved, HEAD, "2026-11-30T09:59:00Z"),
            review(5, "carol", Commented, HEAD, "2026-11-30T10:05:00Z"),
        ];
        let s = approval_state(&reviews, &required(), &roster(), &teams, sub());
        assert!(!s.ready());
        let why: Vec<(&str, &Ignored)> =
            s.ignored.iter().map(|(l, _, w)| (l.as_str(), w)).collect();
        assert!(why.contains(&("jane", &Ignored::Author)), "{why:?}");
        assert!(why.contains(&("bob", &Ignored::StaleHead(OLD.into()))));
        assert!(why.contains(&("dave", &Ignored::NotInRoster)));
        // the comment after carol's early approval does not refresh it
        assert!(why.contains(&("Carol", &Ignored::BeforeSeen(sub().first_seen))));

        // carol approves again after the head was seen: security through the team
        let mut more = reviews.clone();
        more.push(review(6, "carol", Approved, HEAD, "2026-11-30T10:06:00Z"));
        let s = approval_state(&more, &required(), &roster(), &teams, sub());
        let sec = s.roles.iter().find(|r| r.role == "security").unwrap();
        let a = sec.approval.as_ref().unwrap();
        assert_eq!(
            (a.login.as_str(), a.team.as_deref()),
            ("carol", Some("acme/sec"))
        );
        assert_eq!((a.review_id, a.user_id), (6, Some(60)));
        assert_eq!(s.missing(), ["product-owner"]);
    }

    #[test]
    fn one_person_per_role_and_a_matching_that_fills_both() {
        use ReviewState::*;
        // alice holds both roles, carol only security (via the team): alice must take
        // product-owner so that both roles are filled, whatever the order
        let mut teams = Teams::new();
        teams.insert("acme/sec".into(), Ok(["carol".to_string()].into()));
        let reviews = vec![
            review(1, "alice", Approved, HEAD, "2026-11-30T10:01:00Z"),
            review(2, "carol", Approved, HEAD, "2026-11-30T10:02:00Z"),
        ];
        let s = approval_state(&reviews, &required(), &roster(), &teams, sub());
        assert!(s.ready(), "{s:?}");
        let by: BTreeMap<&str, &str> = s
            .roles
            .iter()
            .map(|r| (r.role.as_str(), r.approval.as_ref().unwrap().login.as_str()))
            .collect();
        assert_eq!(by["product-owner"], "alice");
        assert_eq!(by["security"], "carol");
        // alice alone fills one role only
        let s = approval_state(&reviews[..1], &required(), &roster(), &teams, sub());
        assert_eq!(s.approvals().len(), 1);
        assert!(!s.ready());
    }

    #[test]
    fn dismissal_and_changes_requested_replace_an_approval() {
        use ReviewState::*;
        let teams = Teams::new();
        let reviews = vec![
            review(1, "alice", Dismissed, HEAD, "2026-11-30T10:01:00Z"),
            review(2, "bob", Approved, HEAD, "2026-11-30T10:01:00Z"),
            review(3, "bob", ChangesRequested, HEAD, "2026-11-30T10:03:00Z"),
        ];
        let s = approval_state(&reviews, &required(), &roster(), &teams, sub());
        assert!(s.approvals().is_empty());
        assert!(
            s.ignored
                .iter()
                .any(|(l, _, w)| l == "alice" && *w == Ignored::Dismissed)
        );
        assert!(
            s.ignored
                .iter()
                .any(|(l, _, w)| l == "bob" && *w == Ignored::ChangesRequested)
        );
        // GitHub keeps both times to the second: an approval in the second of the first
        // check run counts (it was read as "before Bazaar saw the head" until the benchmark
        // caught it), one a second earlier does not
        let at_seen = review(5, "bob", Approved, HEAD, "2026-11-30T10:00:00Z");
        let s = approval_state(&[at_seen], &required(), &roster(), &teams, sub());
        assert_eq!(s.approvals().len(), 1, "{s:?}");
        let before = review(6, "bob", Approved, HEAD, "2026-11-30T09:59:59Z");
        let s = approval_state(&[before], &required(), &roster(), &teams, sub());
        assert!(s.approvals().is_empty());
        // a team the forge could not list grants nothing, and says so
        let mut teams = Teams::new();
        teams.insert("acme/sec".into(), Err("403".into()));
        let s = approval_state(
            &[review(4, "carol", Approved, HEAD, "2026-11-30T10:04:00Z")],
            &required(),
            &roster(),
            &teams,
            sub(),
        );
        assert_eq!(s.unresolved_teams.len(), 1);
        assert!(s.approvals().is_empty());
        // no roles required: ready with no reviews
        let s = approval_state(&[], &BTreeSet::new(), &roster(), &teams, sub());
        assert!(s.ready());
    }
}
