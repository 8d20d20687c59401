//! Reviewer roles: the roster (`policies/reviewers.toml`) that maps roles to forge users and
//! teams. Always read from the base revision of a submission.

mod approvals;
pub mod state;
mod trailers;

use std::collections::{BTreeMap, BTreeSet};

pub use approvals::{
    Approval, ApprovalProblem, Coverage, coverage, is_commit_id, is_team, parse_review_id,
};
pub use trailers::{MergeRecord, check_submission_url};

use serde::Deserialize;

use crate::diagnostics::{Code, Finding, SourceFile};

/// Where the roster lives in a catalog.
pub const ROSTER_PATH: &str = "policies/reviewers.toml";

/// Roles and who holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    /// Role name → forge logins and `@org/team` entries.
    pub roles: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoster {
    roles: BTreeMap<String, Vec<String>>,
}

impl Roster {
    /// Parses `reviewers.toml`. Problems are findings pointing into the file.
    pub fn parse(file: &SourceFile) -> Result<Roster, Vec<Finding>> {
        let raw: RawRoster = toml::from_str(&file.text).map_err(|e| {
            vec![
                Finding::new(Code::ROSTER, format!("{} is not a valid roster: {}", file.path, e.message()))
                    .help("write `[roles]` with one line per role: security = [\"alice\", \"@acme/security-team\"]")
                    .at(file, e.span().unwrap_or(0..0)),
            ]
        })?;
        let mut findings = Vec::new();
        for (role, members) in &raw.roles {
            let span = file
                .text
                .find(&format!("{role} ="))
                .map(|i| i..i + role.len())
                .unwrap_or(0..0);
            if !crate::manifest::is_slug(role) {
                findings.push(
                    Finding::new(
                        Code::ROSTER,
                        format!("role name {role:?} is not a lowercase slug"),
                    )
                    .at(file, span.clone()),
                );
            }
            for m in members {
                let ok = match m.strip_prefix('@') {
                    Some(team) => team
                        .split_once('/')
                        .is_some_and(|(o, t)| !o.is_empty() && !t.is_empty() && !t.contains('/')),
                    None => crate::manifest::is_login(m),
                };
                if !ok {
                    findings.push(
                        Finding::new(
                            Code::ROSTER,
                            format!("{m:?} in role {role} is neither a forge login nor @org/team"),
                        )
                        .at(file, span.clone()),
                    );
                }
            }
        }
        if findings.is_empty() {
            Ok(Roster { roles: raw.roles })
        } else {
            Err(findings)
        }
    }

    /// The role names.
    pub fn role_names(&self) -> BTreeSet<String> {
        self.roles.keys().cloned().collect()
    }
}
