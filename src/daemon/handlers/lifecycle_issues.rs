//! The lifecycle sweep's notices: one issue per app that needs its owners' attention, found
//! again by a hidden marker in its body among the issues the bot opened, updated (never
//! duplicated), assigned to the owners, labelled `lifecycle:<state>`, and closed when the app no
//! longer needs attention. The issue is the record: its body lists the reminders already sent,
//! so a restart or a second daemon never sends one twice. A run spends at most a given number
//! of writes; the rest wait for the next run.

use std::collections::{BTreeMap, BTreeSet};

use crate::forge::{Forge, ForgeError, Issue, IssueEdit, NewIssue};
use crate::lifecycle::Attention;

/// Bodies stay well under GitHub's 65,536 characters.
const MAX_BODY: usize = 60_000;

/// What one run did on the forge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notified {
    /// Issues opened.
    pub created: usize,
    /// Issues edited (text, labels, assignees, reopened).
    pub updated: usize,
    /// Reminders posted as comments on an existing issue.
    pub commented: usize,
    /// Issues closed because their app no longer needs attention.
    pub closed: usize,
    /// Apps left for the next run because the write budget was spent.
    pub deferred: usize,
}

/// One write to the forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Open an issue.
    Create(NewIssue, String),
    /// Edit an issue.
    Edit(u64, IssueEdit),
    /// Comment on an issue (a reminder), with the marker that finds it after a lost answer.
    Comment(u64, String, String),
}

/// The hidden marker that finds an app's issue again.
pub fn marker(id: &str) -> String {
    format!("<!-- bazaar:lifecycle app={id} -->")
}

/// The app an issue body is about, from its marker.
fn app_of(body: &str) -> Option<&str> {
    let rest = body.split("<!-- bazaar:lifecycle app=").nth(1)?;
    let id = rest.split(" -->").next()?;
    (!id.is_empty() && !id.contains(char::is_whitespace)).then_some(id)
}

/// The reminders an issue body says were sent.
fn sent(body: &str) -> BTreeSet<String> {
    body.lines()
        .find_map(|l| l.strip_prefix("<!-- bazaar:sent "))
        .map(|l| {
            l.trim_end_matches("-->")
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn label(state: &str) -> String {
    format!("lifecycle:{state}")
}

fn mention(logins: &[String]) -> String {
    logins
        .iter()
        .map(|l| format!("@{l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cap(mut s: String) -> String {
    if s.len() > MAX_BODY {
        let mut end = MAX_BODY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n\n(cut short)\n");
    }
    s
}

/// One line of text from the catalog, made inert in Markdown: no line breaks (a reason cannot
/// start a fake record line), no HTML or comments, no @mentions that would ping someone.
fn inert(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
        .replace('<', "&lt;")
        .replace('@', "@\u{200b}")
}

fn title(a: &Attention) -> String {
    format!("Lifecycle: {} needs its owners' attention", a.id)
}

/// The issue's text for an app, recording `sent` reminders.
pub fn body(a: &Attention, sent: &BTreeSet<String>) -> String {
    let mut b = format!(
        "{}\n<!-- bazaar:sent {} -->\n### `{}` is **{}**\n\n",
        marker(&a.id),
        sent.iter().cloned().collect::<Vec<_>>().join(" "),
        a.id,
        a.state
    );
    for r in &a.reasons {
        b.push_str(&format!("- {}\n", inert(r)));
    }
    let present: Vec<String> = a
        .owners
        .iter()
        .filter(|o| !a.left.contains(o))
        .cloned()
        .collect();
    b.push_str(&format!("\nOwners: {}", mention(&present)));
    if !a.left.is_empty() {
        b.push_str(&format!(" (no longer members: {})", a.left.join(", ")));
    }
    b.push_str(&format!(
        "\n\nTo resolve it, open a pull request that updates `{}/app.toml` (renew the dates, fix the findings, or name new owners).\n\n_Kept by Bazaar's lifecycle sweep: updated, never duplicated, and closed when the app no longer needs attention._\n",
        a.dir
    ));
    cap(b)
}

fn resolved_body(old: &str) -> String {
    let keep: Vec<&str> = old
        .lines()
        .filter(|l| l.starts_with("<!-- bazaar:"))
        .collect();
    format!(
        "{}\nResolved: the app no longer needs its owners' attention.\n",
        keep.join("\n")
    )
}

/// What to write for one app: `issue` is its issue, if any; `a` what it needs now (`None`:
/// nothing, so an open issue is closed).
pub fn decide(issue: Option<&Issue>, a: Option<&Attention>) -> Vec<Write> {
    let Some(a) = a else {
        return match issue {
            Some(i) if i.open => vec![Write::Edit(
                i.number,
                IssueEdit {
                    body: Some(resolved_body(&i.body)),
                    open: Some(false),
                    ..Default::default()
                },
            )],
            _ => Vec::new(),
        };
    };
    let assign: Vec<String> = a
        .owners
        .iter()
        .filter(|o| !a.left.contains(o))
        .cloned()
        .collect();
    let Some(i) = issue else {
        let all: BTreeSet<String> = a.reminders.iter().cloned().collect();
        return vec![Write::Create(
            NewIssue {
                title: title(a),
                body: body(a, &all),
                labels: vec![label(&a.state)],
                assignees: assign,
            },
            marker(&a.id),
        )];
    };
    let had = sent(&i.body);
    let new: Vec<&String> = a.reminders.iter().filter(|k| !had.contains(*k)).collect();
    let want_label = label(&a.state);
    let mut edit = IssueEdit::default();
    if !i.labels.contains(&want_label)
        || i.labels
            .iter()
            .any(|l| l.starts_with("lifecycle:") && *l != want_label)
    {
        let mut labels: Vec<String> = i
            .labels
            .iter()
            .filter(|l| !l.starts_with("lifecycle:"))
            .cloned()
            .collect();
        labels.push(want_label.clone());
        edit.labels = Some(labels);
    }
    let have: BTreeSet<String> = i.assignees.iter().map(|l| l.to_ascii_lowercase()).collect();
    if assign
        .iter()
        .any(|o| !have.contains(&o.to_ascii_lowercase()))
    {
        let mut all = i.assignees.clone();
        all.extend(
            assign
                .iter()
                .filter(|o| !have.contains(&o.to_ascii_lowercase()))
                .cloned(),
        );
        edit.assignees = Some(all);
    }
    if !i.open {
        edit.open = Some(true);
    }
    if !new.is_empty() || edit.labels.is_some() || edit.open.is_some() {
        let mut all = had.clone();
        all.extend(a.reminders.iter().cloned());
        edit.body = Some(body(a, &all));
    }
    let mut out = Vec::new();
    if edit != IssueEdit::default() {
        out.push(Write::Edit(i.number, edit));
    }
    if !new.is_empty() {
        let keys: Vec<&str> = new.iter().map(|k| k.as_str()).collect();
        let m = format!("<!-- bazaar:reminder app={} {} -->", a.id, keys.join(" "));
        let lines: Vec<String> = a
            .reasons
            .iter()
            .filter(|r| {
                keys.iter()
                    .any(|k| r.ends_with(&format!("[{}]", k.split('@').next().unwrap_or_default())))
            })
            .map(|r| format!("- {}", inert(r)))
            .collect();
        out.push(Write::Comment(
            i.number,
            format!(
                "{m}\nReminder for {}:\n\n{}\n",
                mention(&assign),
                lines.join("\n")
            ),
            m,
        ));
    }
    out
}

/// Brings the bot's lifecycle issues in line with `attention`, spending at most `budget`
/// writes; apps whose writes do not fit are counted as deferred, in id order, so the next run
/// starts where this one stopped.
pub async fn notify<F: Forge>(
    forge: &F,
    bot: &str,
    attention: &[Attention],
    budget: usize,
) -> Result<Notified, ForgeError> {
    let mut by_app: BTreeMap<String, Issue> = BTreeMap::new();
    for i in forge.issues_by(bot).await? {
        let Some(id) = app_of(&i.body).map(str::to_string) else {
            continue;
        };
        // one issue per app: an open one before a closed one, then the oldest
        let better = by_app
            .get(&id)
            .is_none_or(|b| (!i.open, i.number) < (!b.open, b.number));
        if better {
            by_app.insert(id, i);
        }
    }
    let wanted: BTreeMap<&str, &Attention> = attention.iter().map(|a| (a.id.as_str(), a)).collect();
    let apps: BTreeSet<&str> = wanted
        .keys()
        .copied()
        .chain(by_app.keys().map(String::as_str))
        .collect();
    let mut done = Notified::default();
    let mut left = budget;
    for app in apps {
        let writes = decide(by_app.get(app), wanted.get(app).copied());
        if writes.is_empty() {
            continue;
        }
        if writes.len() > left {
            done.deferred += 1;
            continue;
        }
        left -= writes.len();
        for w in writes {
            match w {
                Write::Create(new, m) => {
                    forge.create_issue(&new, &m).await?;
                    done.created += 1;
                }
                Write::Edit(n, e) => {
                    forge.edit_issue(n, &e).await?;
                    if e.open == Some(false) {
                        done.closed += 1;
                    } else {
                        done.updated += 1;
                    }
                }
                Write::Comment(n, text, m) => {
                    forge.create_comment(n, &text, &m).await?;
                    done.commented += 1;
                }
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(state: &str, reminders: &[&str]) -> Attention {
        Attention {
            id: "com.acme.finance.x".into(),
            dir: "catalog/finance/x".into(),
            owners: vec!["jane".into(), "tom".into()],
            left: vec![],
            state: state.into(),
            reasons: vec![
                "review due on 2026-12-18 (the 90-day reminder) [review-reminder]".into(),
            ],
            reminders: reminders.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn made(a: &Attention) -> Issue {
        let Write::Create(n, _) = &decide(None, Some(a))[0] else {
            panic!()
        };
        Issue {
            number: 7,
            title: n.title.clone(),
            body: n.body.clone(),
            open: true,
            labels: n.labels.clone(),
            assignees: n.assignees.clone(),
            author: "bot".into(),
        }
    }

    #[test]
    fn lifecycle_issue_once_then_only_what_changed() {
        let a = need("review-due", &["review-reminder@2026-12-18/90"]);
        let w = decide(None, Some(&a));
        assert!(
            matches!(&w[..], [Write::Create(n, _)] if n.labels == ["lifecycle:review-due"] && n.assignees == ["jane", "tom"])
        );
        let issue = made(&a);
        assert_eq!(app_of(&issue.body), Some("com.acme.finance.x"));
        // the same day again, or the next day: nothing
        assert!(decide(Some(&issue), Some(&a)).is_empty());
        // the 60-day reminder: the record is edited, then one comment
        let b = need("review-due", &["review-reminder@2026-12-18/60"]);
        let w = decide(Some(&issue), Some(&b));
        assert_eq!(w.len(), 2, "{w:?}");
        let Write::Edit(_, e) = &w[0] else { panic!() };
        let recorded = sent(e.body.as_deref().unwrap());
        assert!(
            recorded.contains("review-reminder@2026-12-18/90")
                && recorded.contains("review-reminder@2026-12-18/60")
        );
        assert!(matches!(&w[1], Write::Comment(7, t, _) if t.contains("@jane")));
        // resolved: closed once; a closed issue stays closed
        let w = decide(Some(&issue), None);
        assert!(matches!(&w[..], [Write::Edit(7, e)] if e.open == Some(false)));
        let closed = Issue {
            open: false,
            ..issue.clone()
        };
        assert!(decide(Some(&closed), None).is_empty());
        // needed again: reopened with the new label, the old record kept
        let m = need("maintenance-required", &[]);
        let w = decide(Some(&closed), Some(&m));
        let [Write::Edit(7, e)] = &w[..] else {
            panic!("{w:?}")
        };
        assert_eq!(e.open, Some(true));
        assert_eq!(
            e.labels.as_deref(),
            Some(&["lifecycle:maintenance-required".to_string()][..])
        );
        assert!(sent(e.body.as_deref().unwrap()).contains("review-reminder@2026-12-18/90"));
    }

    #[test]
    fn lifecycle_reasons_cannot_forge_the_record_or_ping() {
        let mut a = need("maintenance-required", &[]);
        a.reasons = vec!["bad\n<!-- bazaar:sent review-reminder@2026-12-18/30 --> @ceo".into()];
        let b = body(&a, &BTreeSet::new());
        assert!(sent(&b).is_empty(), "{b}");
        assert!(
            !b.contains("@ceo") && !b.contains("<!-- bazaar:sent review"),
            "{b}"
        );
    }

    #[test]
    fn lifecycle_owners_who_left_are_not_assigned() {
        let mut a = need("maintenance-required", &[]);
        a.left = vec!["jane".into(), "tom".into()];
        let w = decide(None, Some(&a));
        let [Write::Create(n, _)] = &w[..] else {
            panic!()
        };
        assert!(n.assignees.is_empty());
        assert!(n.body.contains("no longer members: jane, tom"));
    }
}
