//! The record of a merge, kept as git trailers (`Key: value` lines in the message's last
//! paragraph, as `git interpret-trailers` reads them):
//!
//! ```text
//! Merge submission #42: add com.acme.finance.budget-viewer
//!
//! Bazaar-Submission: https://github.com/acme/app-catalog/pull/42
//! Bazaar-Opened: 2026-11-20T09:12:00Z
//! Bazaar-Author: jane-doe
//! Bazaar-Base: 9a0b…
//! Bazaar-Head: 4f1c…
//! Bazaar-Risk: medium
//! Bazaar-Required-Roles: product-owner, security
//! Bazaar-Added: com.acme.finance.budget-viewer
//! Bazaar-Approval: alice role=security review=1234 head=4f1c… at=2026-11-24T16:03:11Z
//! ```

use chrono::{DateTime, Utc};

use super::Approval;

/// Everything a merge commit records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeRecord {
    /// First line of the message.
    pub subject: String,
    /// The submission's URL (https).
    pub submission: Option<String>,
    /// When the submission was opened.
    pub opened: Option<DateTime<Utc>>,
    /// The submission's author (forge login).
    pub author: Option<String>,
    /// The base tip the submission was judged against (the merge's first parent); `None` in
    /// records that predate this trailer.
    pub base: Option<String>,
    /// The head commit that was reviewed and merged.
    pub head: String,
    /// Risk class of the submission.
    pub risk: String,
    /// The roles the base policies required, as computed when merging (`None` in records that
    /// predate this trailer).
    pub required_roles: Option<Vec<String>>,
    /// Apps added, changed and removed (ids), and renamed (`from -> to` folders).
    pub added: Vec<String>,
    /// Changed app ids.
    pub changed: Vec<String>,
    /// Removed app folders.
    pub removed: Vec<String>,
    /// Renamed app folders, `from -> to`.
    pub renamed: Vec<String>,
    /// The approvals that allowed the merge.
    pub approvals: Vec<Approval>,
}

/// Checks that a submission URL is an absolute https URL that reads back unchanged (no spaces,
/// control characters or other text a trailer line could carry).
pub fn check_submission_url(s: &str) -> Result<(), String> {
    let shown: String = s
        .chars()
        .take(120)
        .collect::<String>()
        .escape_debug()
        .to_string();
    match url::Url::parse(s) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => {
            if u.as_str() != s && u.as_str() != format!("{s}/") {
                return Err(format!(
                    "submission URL \"{shown}\" is not in canonical form (it reads as {}); pass the pull request's URL as the forge shows it",
                    u.as_str()
                ));
            }
            if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "submission URL \"{shown}\" contains spaces or control characters"
                ));
            }
            Ok(())
        }
        Ok(_) => Err(format!(
            "submission URL \"{shown}\" must be an https:// URL (the pull request's page)"
        )),
        Err(e) => Err(format!("submission URL \"{shown}\" is not a URL: {e}")),
    }
}

/// A value that must be one token on one line: no whitespace, no control characters.
fn token(key: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "Bazaar-{key} {:?} must be one word without spaces or control characters",
            v.chars().take(120).collect::<String>()
        ));
    }
    Ok(())
}

/// A value that must fit on one line (spaces allowed, no control characters).
fn line(key: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() || v.trim() != v || v.chars().any(char::is_control) {
        return Err(format!(
            "Bazaar-{key} {:?} must be one line of text without control characters",
            v.chars().take(120).collect::<String>()
        ));
    }
    Ok(())
}

impl MergeRecord {
    /// The commit message. Every value is checked first, so the message cannot carry a line
    /// the reader would not read back as the same record: an error names the value.
    pub fn message(&self) -> Result<String, String> {
        let subject: String = self
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut m = format!("{}\n\n", subject.trim());
        let mut t = |k: &str, v: &str| m.push_str(&format!("Bazaar-{k}: {v}\n"));
        if let Some(s) = &self.submission {
            check_submission_url(s)?;
            t("Submission", s);
        }
        if let Some(o) = &self.opened {
            t(
                "Opened",
                &o.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
        if let Some(a) = &self.author {
            if !crate::manifest::is_login(a) {
                return Err(format!(
                    "author {:?} is not a forge login",
                    a.chars().take(60).collect::<String>()
                ));
            }
            t("Author", a);
        }
        if let Some(b) = &self.base {
            if !super::approvals::is_commit_id(b) {
                return Err(format!("base {b:?} is not a full commit id"));
            }
            t("Base", b);
        }
        if !super::approvals::is_commit_id(&self.head) {
            return Err(format!("head {:?} is not a full commit id", self.head));
        }
        t("Head", &self.head);
        token("Risk", &self.risk)?;
        t("Risk", &self.risk);
        if let Some(roles) = &self.required_roles {
            for r in roles {
                if !crate::manifest::is_slug(r) {
                    return Err(format!("required role {r:?} is not a role name"));
                }
            }
            t(
                "Required-Roles",
                &if roles.is_empty() {
                    "none".to_string()
                } else {
                    roles.join(", ")
                },
            );
        }
        for (key, list) in [
            ("Added", &self.added),
            ("Changed", &self.changed),
            ("Removed", &self.removed),
        ] {
            for v in list {
                token(key, v)?;
                t(key, v);
            }
        }
        for r in &self.renamed {
            line("Renamed", r)?;
            t("Renamed", r);
        }
        for a in &self.approvals {
            // the same checks as reading an approval from the command line or the forge
            let spec = format!(
                "{}:{}:{}@{}@{}",
                a.login,
                a.role,
                a.review_id,
                a.head,
                a.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            let again = Approval::parse(&spec, &a.head, a.at)?;
            if (
                &again.login,
                &again.role,
                again.review_id,
                &again.head,
                again.at.timestamp(),
            ) != (&a.login, &a.role, a.review_id, &a.head, a.at.timestamp())
            {
                return Err(format!("approval {spec:?} does not read back the same"));
            }
            let mut v = format!(
                "{} role={} review={} head={} at={}",
                a.login,
                a.role,
                a.review_id,
                a.head,
                a.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            if let Some(id) = a.user_id {
                v.push_str(&format!(" user={id}"));
            }
            if let Some(team) = &a.team {
                if !super::approvals::is_team(team) {
                    return Err(format!(
                        "approval team {:?} is not org/team",
                        team.chars().take(120).collect::<String>()
                    ));
                }
                v.push_str(&format!(" team={team}"));
            }
            t("Approval", &v);
        }
        Ok(m)
    }

    /// Reads a merge record from a commit message; `None` when it has no `Bazaar-Head` trailer
    /// (not made by Bazaar). Malformed or repeated values are errors.
    pub fn parse(message: &str) -> Result<Option<MergeRecord>, String> {
        let subject = message.lines().next().unwrap_or_default().to_string();
        let last = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
        let mut r = MergeRecord {
            subject,
            ..Default::default()
        };
        let mut seen: std::collections::BTreeSet<&str> = Default::default();
        let mut seen_head = false;
        for line in last.lines() {
            let Some((k, v)) = line.split_once(": ") else {
                continue;
            };
            let Some(k) = k.strip_prefix("Bazaar-") else {
                continue;
            };
            let single = matches!(
                k,
                "Submission" | "Opened" | "Author" | "Base" | "Head" | "Risk" | "Required-Roles"
            );
            if single && !seen.insert(k) {
                return Err(format!("Bazaar-{k} appears more than once"));
            }
            let v = v.trim().to_string();
            match k {
                "Submission" => r.submission = Some(v),
                "Opened" => {
                    r.opened = Some(
                        DateTime::parse_from_rfc3339(&v)
                            .map_err(|e| format!("Bazaar-Opened {v:?}: {e}"))?
                            .with_timezone(&Utc),
                    )
                }
                "Author" => r.author = Some(v),
                "Base" => r.base = Some(v),
                "Head" => {
                    r.head = v;
                    seen_head = true;
                }
                "Risk" => r.risk = v,
                "Required-Roles" => {
                    r.required_roles = Some(if v == "none" {
                        Vec::new()
                    } else {
                        v.split(',')
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                }
                "Added" => r.added.push(v),
                "Changed" => r.changed.push(v),
                "Removed" => r.removed.push(v),
                "Renamed" => r.renamed.push(v),
                "Approval" => r.approvals.push(parse_approval(&v)?),
                _ => {}
            }
        }
        Ok(seen_head.then_some(r))
    }
}

fn parse_approval(v: &str) -> Result<Approval, String> {
    let mut words = v.split_whitespace();
    let login = words.next().ok_or("empty Bazaar-Approval")?.to_string();
    if !crate::manifest::is_login(&login) {
        return Err(format!(
            "Bazaar-Approval {v:?}: {login:?} is not a forge login"
        ));
    }
    let (mut role, mut review, mut head, mut at) = (None, None, None, None);
    let (mut user, mut team) = (None, None);
    for w in words {
        let (slot, x) = match w.split_once('=') {
            Some(("role", x)) => (&mut role, x),
            Some(("review", x)) => (&mut review, x),
            Some(("head", x)) => (&mut head, x),
            Some(("at", x)) => (&mut at, x),
            Some(("user", x)) => (&mut user, x),
            Some(("team", x)) => (&mut team, x),
            _ => return Err(format!("Bazaar-Approval {v:?}: unexpected {w:?}")),
        };
        if slot.replace(x).is_some() {
            return Err(format!(
                "Bazaar-Approval {v:?}: {} is given more than once",
                w.split('=').next().unwrap_or_default()
            ));
        }
    }
    let (Some(role), Some(review), Some(head), Some(at)) = (role, review, head, at) else {
        return Err(format!(
            "Bazaar-Approval {v:?} must give role=, review=, head= and at="
        ));
    };
    if !crate::manifest::is_slug(role) {
        return Err(format!(
            "Bazaar-Approval {v:?}: role {role:?} is not a role name"
        ));
    }
    let review_id = super::approvals::parse_review_id(review)
        .ok_or_else(|| format!("Bazaar-Approval {v:?}: review {review:?} is not a review id"))?;
    if !super::approvals::is_commit_id(head) {
        return Err(format!(
            "Bazaar-Approval {v:?}: head {head:?} is not a full commit id"
        ));
    }
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|e| format!("Bazaar-Approval time {at:?}: {e}"))?
        .with_timezone(&Utc);
    let user_id = match user {
        None => None,
        Some(u) => Some(
            super::approvals::parse_review_id(u)
                .ok_or_else(|| format!("Bazaar-Approval {v:?}: user {u:?} is not a user id"))?,
        ),
    };
    if let Some(t) = team
        && !super::approvals::is_team(t)
    {
        return Err(format!("Bazaar-Approval {v:?}: team {t:?} is not org/team"));
    }
    Ok(Approval {
        login,
        role: role.to_string(),
        review_id,
        head: head.to_string(),
        at,
        user_id,
        team: team.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T16:03:11Z")
            .unwrap()
            .with_timezone(&Utc);
        let r = MergeRecord {
            subject: "Merge submission #42: add budget viewer".into(),
            submission: Some("https://github.com/acme/app-catalog/pull/42".into()),
            opened: Some(at),
            author: Some("jane-doe".into()),
            head: "ab".repeat(20),
            risk: "medium".into(),
            required_roles: Some(vec!["product-owner".into(), "security".into()]),
            added: vec!["com.acme.finance.budget-viewer".into()],
            approvals: vec![Approval {
                login: "alice".into(),
                role: "security".into(),
                review_id: 1234,
                head: "ab".repeat(20),
                at,
                user_id: Some(583231),
                team: Some("acme/security-team".into()),
            }],
            ..Default::default()
        };
        let msg = r.message().unwrap();
        assert!(msg.contains("\n\nBazaar-Submission: https://"));
        assert_eq!(MergeRecord::parse(&msg).unwrap(), Some(r));
        assert_eq!(
            MergeRecord::parse("Fix typo\n\nSigned-off-by: x").unwrap(),
            None
        );
        assert!(
            MergeRecord::parse("M\n\nBazaar-Head: ab\nBazaar-Approval: alice role=security")
                .is_err()
        );
    }
}
