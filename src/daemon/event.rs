//! A verified delivery turned into a typed event: what happened, to which pull request, and
//! who did it. Handlers see only these values, never HTTP.

use serde_json::Value;

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
    /// Nothing for part 1 to do (another event, another repository, an action that changes
    /// nothing Bazaar reports).
    Ignored(String),
}

/// Why a pull request is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// New commits (or the first): nothing to do when the head was already reported.
    Push,
    /// Reopened, ready for review, base changed, or a re-run asked for: always a fresh check.
    Recheck,
}

/// Who sent a delivery, when the payload says.
pub fn sender(payload: &Value) -> Option<&str> {
    payload["sender"]["login"].as_str()
}

/// Classifies a delivery of `event` about `repository` (`owner/name`, compared
/// case-insensitively) whose sender is not `bot`.
pub fn classify(event: &str, payload: &Value, repository: &str, bot: Option<&str>) -> Event {
    let action = payload["action"].as_str().unwrap_or("");
    let repo = payload["repository"]["full_name"].as_str().unwrap_or("");
    if !repo.eq_ignore_ascii_case(repository) {
        return Event::Ignored(format!("{event} about another repository ({repo:?})"));
    }
    if let (Some(bot), Some(s)) = (bot, sender(payload))
        && s.eq_ignore_ascii_case(bot)
    {
        return Event::Ignored(format!("{event}.{action} sent by Bazaar itself"));
    }
    match event {
        "pull_request" => {
            let Some(number) = payload["pull_request"]["number"]
                .as_u64()
                .or_else(|| payload["number"].as_u64())
            else {
                return Event::Ignored("pull_request without a number".into());
            };
            let trigger = match action {
                "opened" | "synchronize" => Trigger::Push,
                "reopened" | "ready_for_review" => Trigger::Recheck,
                "edited" if payload["changes"]["base"].is_object() => Trigger::Recheck,
                _ => return Event::Ignored(format!("pull_request.{action}")),
            };
            Event::CheckPull { number, trigger }
        }
        "check_suite" | "check_run" if action == "rerequested" => {
            let pulls = if event == "check_suite" {
                &payload["check_suite"]["pull_requests"]
            } else {
                &payload["check_run"]["pull_requests"]
            };
            match pulls
                .as_array()
                .and_then(|p| p.first())
                .and_then(|p| p["number"].as_u64())
            {
                Some(number) => Event::CheckPull {
                    number,
                    trigger: Trigger::Recheck,
                },
                None => Event::Ignored(format!("{event}.rerequested without a pull request")),
            }
        }
        _ => Event::Ignored(format!("{event}.{action}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
