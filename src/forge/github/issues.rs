//! The lifecycle sweep's GitHub endpoints: issues (listed by their author, created, edited in
//! one PATCH) and membership (an organization's member check, a team's members). Lists are read
//! whole or not at all: a list cut short would make found issues or members look missing.

use reqwest::Method;
use serde_json::{Value, json};

use super::super::{ForgeError, ForgeResult, Issue, IssueEdit, NewIssue};
use super::GitHub;

/// The most pages of 100 a list may have before the read is refused as too long.
const MAX_PAGES: usize = 200;

fn issue_of(v: &Value) -> Option<Issue> {
    let logins = |k: &str| -> Vec<String> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["login"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(Issue {
        number: v["number"].as_u64()?,
        title: v["title"].as_str().unwrap_or_default().to_string(),
        body: v["body"].as_str().unwrap_or_default().to_string(),
        open: v["state"].as_str()? == "open",
        labels: v["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l["name"].as_str().or(l.as_str()).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        assignees: logins("assignees"),
        author: v["user"]["login"].as_str().unwrap_or_default().to_string(),
    })
}

fn decode_issue(what: &str, v: &Value) -> ForgeResult<Issue> {
    issue_of(v).ok_or_else(|| ForgeError::Decode {
        what: what.into(),
        error: "an issue without its documented number or state".into(),
    })
}

impl GitHub {
    /// Every page of a list, or an error when there are more than [`MAX_PAGES`].
    async fn whole_list(&self, url: &str, what: &str) -> ForgeResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = next.take() {
            if pages == MAX_PAGES {
                return Err(ForgeError::Decode {
                    what: what.into(),
                    error: format!("more than {MAX_PAGES} pages; refusing a partial list"),
                });
            }
            let a = self.get(&u, what).await?;
            match a.body {
                Value::Array(items) => out.extend(items),
                other => {
                    return Err(ForgeError::Decode {
                        what: what.into(),
                        error: format!("expected a list, got {}", super::short(&other)),
                    });
                }
            }
            pages += 1;
            next = a.next;
        }
        Ok(out)
    }

    pub(super) async fn list_issues_by(&self, creator: &str) -> ForgeResult<Vec<Issue>> {
        let what = format!("list the issues opened by {creator}");
        let mut url = url::Url::parse(&self.repo_url(&["issues"])).expect("valid URL");
        url.query_pairs_mut()
            .append_pair("creator", creator)
            .append_pair("state", "all")
            .append_pair("per_page", "100");
        let items = self.whole_list(url.as_str(), &what).await?;
        items
            .iter()
            .filter(|v| v.get("pull_request").is_none_or(Value::is_null))
            .map(|v| decode_issue(&what, v))
            .collect()
    }

    pub(super) async fn open_issue(&self, issue: &NewIssue, marker: &str) -> ForgeResult<Issue> {
        let what = format!("open the issue {:?}", issue.title);
        let body = json!({
            "title": issue.title,
            "body": issue.body,
            "labels": issue.labels,
            "assignees": issue.assignees,
        });
        match self
            .write(
                Method::POST,
                &self.repo_url(&["issues"]),
                Some(&body),
                &what,
            )
            .await
        {
            Ok(a) => decode_issue(&what, &a.body),
            Err(e) if e.outcome_unknown() => {
                tracing::warn!(error = %e, "opening an issue: answer lost, reading back");
                let me = super::super::Forge::bot_login(self).await?;
                let found = self
                    .list_issues_by(&me)
                    .await?
                    .into_iter()
                    .find(|i| i.body.contains(marker));
                found.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    pub(super) async fn change_issue(&self, number: u64, edit: &IssueEdit) -> ForgeResult<Issue> {
        let what = format!("edit issue #{number}");
        let mut body = serde_json::Map::new();
        if let Some(b) = &edit.body {
            body.insert("body".into(), json!(b));
        }
        if let Some(open) = edit.open {
            body.insert("state".into(), json!(if open { "open" } else { "closed" }));
            if !open {
                body.insert("state_reason".into(), json!("completed"));
            }
        }
        if let Some(l) = &edit.labels {
            body.insert("labels".into(), json!(l));
        }
        if let Some(a) = &edit.assignees {
            body.insert("assignees".into(), json!(a));
        }
        let url = self.repo_url(&["issues", &number.to_string()]);
        let a = self
            .write(Method::PATCH, &url, Some(&Value::Object(body)), &what)
            .await?;
        decode_issue(&what, &a.body)
    }

    pub(super) async fn is_org_member(&self, org: &str, login: &str) -> ForgeResult<bool> {
        let what = format!("ask whether {login} is a member of {org}");
        match self
            .get(&self.url(&["orgs", org, "members", login]), &what)
            .await
        {
            Ok(a) => Ok(a.status == 204 || a.status == 200),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn members_of_team(
        &self,
        org: &str,
        slug: &str,
    ) -> ForgeResult<Option<Vec<String>>> {
        let what = format!("list the members of {org}/{slug}");
        let mut url = url::Url::parse(&self.url(&["orgs", org, "teams", slug, "members"]))
            .expect("valid URL");
        url.query_pairs_mut().append_pair("per_page", "100");
        match self.whole_list(url.as_str(), &what).await {
            Ok(items) => Ok(Some(
                items
                    .iter()
                    .filter_map(|m| m["login"].as_str().map(str::to_string))
                    .collect(),
            )),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
