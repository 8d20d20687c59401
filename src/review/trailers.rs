//! The record of a merge, kept as git trailers (`Key: value` lines in the message's last
//! paragraph, as `git interpret-trailers` reads them):
//!
//! ```text
//! Merge submission #42: add com.acme.finance.budget-viewer
//!
//! Bazaar-Submission: https://github.com/acme/app-catalog/pull/42
//! Bazaar-Opened: 2026-11-20T09:12:00Z
//! Bazaar-Author: jane-doe
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
    /// The submission's URL.
    pub submission: Option<String>,
    /// When the submission was opened.
    pub opened: Option<DateTime<Utc>>,
    /// The submission's author (forge login).
    pub author: Option<String>,
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

fn clean(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

impl MergeRecord {
    /// The commit message.
    pub fn message(&self) -> String {
        let mut m = format!("{}\n\n", clean(&self.subject));
        let mut t = |k: &str, v: &str| m.push_str(&format!("Bazaar-{k}: {}\n", clean(v)));
        if let Some(s) = &self.submission {
            t("Submission", s);
        }
        if let Some(o) = &self.opened {
            t(
                "Opened",
                &o.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
        if let Some(a) = &self.author {
            t("Author", a);
        }
        t("Head", &self.head);
        t("Risk", &self.risk);
        if let Some(roles) = &self.required_roles {
            t(
                "Required-Roles",
                &if roles.is_empty() {
                    "none".to_string()
                } else {
                    roles.join(", ")
                },
            );
        }
        for id in &self.added {
            t("Added", id);
        }
        for id in &self.changed {
            t("Changed", id);
        }
        for d in &self.removed {
            t("Removed", d);
        }
        for r in &self.renamed {
            t("Renamed", r);
        }
        for a in &self.approvals {
            t(
                "Approval",
                &format!(
                    "{} role={} review={} head={} at={}",
                    a.login,
                    a.role,
                    a.review_id,
                    a.head,
                    a.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            );
        }
        m
    }

    /// Reads a merge record from a commit message; `None` when it has no `Bazaar-Head` trailer
    /// (not made by Bazaar). Malformed approvals are errors.
    pub fn parse(message: &str) -> Result<Option<MergeRecord>, String> {
        let subject = message.lines().next().unwrap_or_default().to_string();
        let last = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
        let mut r = MergeRecord {
            subject,
            ..Default::default()
        };
        let mut seen_head = false;
        for line in last.lines() {
            let Some((k, v)) = line.split_once(": ") else {
                continue;
            };
            let Some(k) = k.strip_prefix("Bazaar-") else {
                continue;
            };
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
    let (mut role, mut review, mut head, mut at) = (None, None, None, None);
    for w in words {
        match w.split_once('=') {
            Some(("role", x)) => role = Some(x.to_string()),
            Some(("review", x)) => review = Some(x.to_string()),
            Some(("head", x)) => head = Some(x.to_string()),
            Some(("at", x)) => {
                at = Some(
                    DateTime::parse_from_rfc3339(x)
                        .map_err(|e| format!("Bazaar-Approval time {x:?}: {e}"))?
                        .with_timezone(&Utc),
                )
            }
            _ => return Err(format!("Bazaar-Approval {v:?}: unexpected {w:?}")),
        }
    }
    match (role, review, head, at) {
        (Some(role), Some(review_id), Some(head), Some(at)) => Ok(Approval {
            login,
            role,
            review_id,
            head,
            at,
        }),
        _ => Err(format!(
            "Bazaar-Approval {v:?} must give role=, review=, head= and at="
        )),
    }
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
                review_id: "1234".into(),
                head: "ab".repeat(20),
                at,
            }],
            ..Default::default()
        };
        let msg = r.message();
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
