//! A verified delivery turned into a typed event: what happened, to which pull request, and
//! who did it. Handlers see only these values, never HTTP.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;

/// What a delivery asks of Bazaar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A pull request's check is due: opened, pushed to, reopened, rebased onto another base,
    /// ready for review, or its check was re-requested.
    CheckPull {
        /// The pull request.
        number: u64,
        /// Why (the event and action, for logs and for "already reported" decisions).
        trigger: Trigger,
    },
    /// A branch was pushed to (`refs/heads/…`): the site follows the main branch.
    Pushed {
        /// The branch.
        branch: String,
    },
    /// Nothing to do (another event, another repository, an action that changes nothing
    /// Bazaar reports).
    Ignored(String),
}

/// Why a pull request is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// New commits (or the first): nothing to do when the head was already reported.
    Push,
    /// Reopened, ready for review, base changed, or a re-run asked for: always a fresh check.
    Recheck,
    /// A review was submitted, edited or dismissed: the approvals are read again.
    Review,
    /// The periodic reconcile: nothing to do when the head's run completed.
    Reconcile,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Login<'a> {
    #[serde(borrow)]
    login: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Repository<'a> {
    #[serde(borrow)]
    full_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Numbered {
    number: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Changes {
    base: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Check {
    pull_requests: Vec<Numbered>,
}

/// The few fields of a payload Bazaar reads; the rest is skipped without being built.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Envelope<'a> {
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    number: Option<u64>,
    pull_request: Option<Numbered>,
    #[serde(borrow)]
    repository: Option<Repository<'a>>,
    #[serde(borrow)]
    sender: Option<Login<'a>>,
    changes: Option<Changes>,
    check_suite: Option<Check>,
    check_run: Option<Check>,
    #[serde(borrow, rename = "ref")]
    git_ref: Option<Cow<'a, str>>,
}

/// Classifies a delivery of `event` about `repository` (`owner/name`, compared
/// case-insensitively) whose sender is not `bot`. A body that is not a JSON object is an error.
pub fn classify(
    event: &str,
    body: &[u8],
    repository: &str,
    bot: Option<&str>,
) -> Result<Event, serde_json::Error> {
    let p: Envelope<'_> = serde_json::from_slice(body)?;
    let action = p.action.as_deref().unwrap_or("");
    let repo = p
        .repository
        .as_ref()
        .and_then(|r| r.full_name.as_deref())
        .unwrap_or("");
    if !repo.eq_ignore_ascii_case(repository) {
        return Ok(Event::Ignored(format!(
            "{event} about another repository ({repo:?})"
        )));
    }
    let sender = p.sender.as_ref().and_then(|s| s.login.as_deref());
    if let (Some(bot), Some(s)) = (bot, sender)
        && s.eq_ignore_ascii_case(bot)
    {
        return Ok(Event::Ignored(format!(
            "{event}.{action} sent by Bazaar itself"
        )));
    }
    Ok(match event {
        "pull_request" => {
            let Some(number) = p.pull_request.and_then(|pr| pr.number).or(p.number) else {
                return Ok(Event::Ignored("pull_request without a number".into()));
            };
            let trigger = match action {
                "opened" | "synchronize" => Trigger::Push,
                "reopened" | "ready_for_review" => Trigger::Recheck,
                "edited" if p.changes.is_some_and(|c| c.base.is_some()) => Trigger::Recheck,
                _ => return Ok(Event::Ignored(format!("pull_request.{action}"))),
            };
            Event::CheckPull { number, trigger }
        }
        "pull_request_review" => {
            let Some(number) = p.pull_request.and_then(|pr| pr.number) else {
                return Ok(Event::Ignored(
                    "pull_request_review without a number".into(),
                ));
            };
            match action {
                "submitted" | "edited" | "dismissed" => Event::CheckPull {
                    number,
                    trigger: Trigger::Review,
                },
                _ => Event::Ignored(format!("pull_request_review.{action}")),
            }
        }
        "push" => match p
            .git_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/heads/"))
        {
            Some(branch) => Event::Pushed {
                branch: branch.to_string(),
            },
            None => Event::Ignored("push of a tag".into()),
        },
        "check_suite" | "check_run" if action == "rerequested" => {
            let check = if event == "check_suite" {
                p.check_suite
            } else {
                p.check_run
            };
            match check.and_then(|c| c.pull_requests.first().and_then(|p| p.number)) {
                Some(number) => Event::CheckPull {
                    number,
                    trigger: Trigger::Recheck,
                },
                None => Event::Ignored(format!("{event}.rerequested without a pull request")),
            }
        }
        _ => Event::Ignored(format!("{event}.{action}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn classify(event: &str, payload: &Value, repo: &str, bot: Option<&str>) -> Event {
        super::classify(event, &serde_json::to_vec(payload).unwrap(), repo, bot).unwrap()
    }

    fn pr(action: &str, extra: Value) -> Value {
        let mut v = json!({
            "action": action,
            "number": 7,
            "pull_request": {"number": 7},
            "repository": {"full_name": "Acme/Catalog"},
            "sender": {"login": "jane"},
        });
        if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
            m.extend(e);
        }
        v
    }

    #[test]
    fn pull_request_actions() {
        let c = |a, e| {
            classify(
                "pull_request",
                &pr(a, e),
                "acme/catalog",
                Some("bazaar[bot]"),
            )
        };
        assert_eq!(
            c("opened", json!({})),
            Event::CheckPull {
                number: 7,
                trigger: Trigger::Push
            }
        );
        assert_eq!(
            c("ready_for_review", json!({})),
            Event::CheckPull {
                number: 7,
                trigger: Trigger::Recheck
            }
        );
        assert!(matches!(
            c("edited", json!({"changes": {"title": {}}})),
            Event::Ignored(_)
        ));
        assert_eq!(
            c(
                "edited",
                json!({"changes": {"base": {"ref": {"from": "dev"}}}})
            ),
            Event::CheckPull {
                number: 7,
                trigger: Trigger::Recheck
            }
        );
        assert!(matches!(c("labeled", json!({})), Event::Ignored(_)));
    }

    #[test]
    fn own_events_and_other_repositories_are_ignored() {
        let mut p = pr("opened", json!({}));
        p["sender"]["login"] = json!("Bazaar[bot]");
        assert!(matches!(
            classify("pull_request", &p, "acme/catalog", Some("bazaar[bot]")),
            Event::Ignored(_)
        ));
        assert!(matches!(
            classify("pull_request", &pr("opened", json!({})), "acme/other", None),
            Event::Ignored(_)
        ));
    }

    #[test]
    fn reviews_and_pushes() {
        let mut p = pr("submitted", json!({}));
        p["review"] = json!({"state": "approved"});
        assert_eq!(
            classify("pull_request_review", &p, "acme/catalog", None),
            Event::CheckPull {
                number: 7,
                trigger: Trigger::Review
            }
        );
        let p = json!({
            "ref": "refs/heads/main",
            "repository": {"full_name": "acme/catalog"},
            "sender": {"login": "jane"},
        });
        assert_eq!(
            classify("push", &p, "acme/catalog", None),
            Event::Pushed {
                branch: "main".into()
            }
        );
        let mut t = p.clone();
        t["ref"] = json!("refs/tags/v1");
        assert!(matches!(
            classify("push", &t, "acme/catalog", None),
            Event::Ignored(_)
        ));
    }

    #[test]
    fn rerequested_checks() {
        let p = json!({
            "action": "rerequested",
            "check_run": {"pull_requests": [{"number": 3}]},
            "repository": {"full_name": "acme/catalog"},
            "sender": {"login": "jane"},
        });
        assert_eq!(
            classify("check_run", &p, "acme/catalog", None),
            Event::CheckPull {
                number: 3,
                trigger: Trigger::Recheck
            }
        );
    }
}
