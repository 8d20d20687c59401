//! A pull request's approval state: its reviews from the forge, the members of the base
//! roster's teams that could grant a required role, decided by
//! [`approval_state`](crate::review::state::approval_state).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::forge::{Forge, Pull};
use crate::review::Roster;
use crate::review::state::{ApprovalState, ReviewState, Submission, Teams, approval_state};

use super::super::Ctx;
use super::JobError;

/// The approval state of `pull`'s current head, first seen by Bazaar at `first_seen`.
pub async fn state<F: Forge>(
    ctx: &Ctx<F>,
    pull: &Pull,
    required: &BTreeSet<String>,
    roster: &Roster,
    first_seen: Option<DateTime<Utc>>,
) -> Result<ApprovalState, JobError> {
    let reviews = if required.is_empty() {
        Vec::new()
    } else {
        ctx.forge.reviews(pull.number).await?
    };
    // teams are asked only when someone approved the head (each is one more forge read)
    let mut teams = Teams::new();
    let approved = reviews
        .iter()
        .any(|r| r.state == ReviewState::Approved && r.commit_id == pull.head_sha);
    if approved {
        for role in required {
            for m in roster.roles.get(role).into_iter().flatten() {
                let Some(team) = m.strip_prefix('@') else {
                    continue;
                };
                let key = team.to_lowercase();
                if teams.contains_key(&key) {
                    continue;
                }
                let Some((org, slug)) = team.split_once('/') else {
                    continue;
                };
                let members = match ctx.forge.team_members(org, slug).await {
                    Ok(Some(m)) => Ok(m.iter().map(|l| l.to_lowercase()).collect()),
                    Ok(None) => Err("the forge has no such team".to_string()),
                    // a team the App cannot see (or that does not exist) grants nothing; said
                    // in the comment so the platform team can fix the App's permissions
                    Err(e) if matches!(e.status(), Some(403 | 404)) => Err(e.to_string()),
                    Err(e) => return Err(e.into()),
                };
                teams.insert(key, members);
            }
        }
    }
    Ok(approval_state(
        &reviews,
        required,
        roster,
        &teams,
        Submission {
            author: &pull.author,
            head: &pull.head_sha,
            first_seen,
        },
    ))
}
