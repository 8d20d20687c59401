//! The [`Forge`] operations on GitHub's REST endpoints: pull requests, check runs (annotations
//! in batches of 50), issue comments and labels. Creates whose answer is lost are read back.

use std::time::SystemTime;

use reqwest::Method;
use serde_json::{Value, json};

use super::super::auth::{Auth, Secret};
use super::super::{
    CheckOutput, CheckRun, Comment, Conclusion, Forge, ForgeError, ForgeResult, HookDelivery,
    Issue, IssueEdit, LabelSpec, NewIssue, Pull,
};
use super::GitHub;

/// GitHub takes at most 50 annotations per request.
const ANNOTATIONS_PER_REQUEST: usize = 50;

fn decode<T>(what: &str, v: Option<T>) -> ForgeResult<T> {
    v.ok_or_else(|| ForgeError::Decode {
        what: what.into(),
        error: "a documented field is missing".into(),
    })
}

fn check_run_of(v: &Value) -> Option<CheckRun> {
    Some(CheckRun {
        id: v["id"].as_u64()?,
        head_sha: v["head_sha"].as_str()?.to_string(),
        name: v["name"].as_str()?.to_string(),
        completed: v["status"].as_str()? == "completed",
        conclusion: v["conclusion"].as_str().map(str::to_string),
        started_at: v["started_at"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
    })
}

fn comment_of(v: &Value) -> Option<Comment> {
    Some(Comment {
        id: v["id"].as_u64()?,
        author: v["user"]["login"].as_str().unwrap_or_default().to_string(),
        body: v["body"].as_str().unwrap_or_default().to_string(),
    })
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Forge for GitHub {
    async fn bot_login(&self) -> ForgeResult<String> {
        if let Some(b) = &self.bot_override {
            return Ok(b.clone());
        }
        match &self.auth {
            Auth::App(app) => {
                let jwt = Secret::new(app.jwt(SystemTime::now()).map_err(ForgeError::Auth)?);
                let a = self
                    .raw(
                        Method::GET,
                        &self.url(&["app"]),
                        &jwt,
                        None,
                        None,
                        "read the App",
                    )
                    .await?;
                let slug = decode("read the App", a.body["slug"].as_str())?;
                Ok(format!("{slug}[bot]"))
            }
            Auth::Token(_) => {
                let a = self
                    .get(&self.url(&["user"]), "read the token's user")
                    .await?;
                Ok(decode("read the token's user", a.body["login"].as_str())?.to_string())
            }
        }
    }

    async fn git_token(&self) -> ForgeResult<Option<Secret>> {
        self.token().await.map(Some)
    }

    async fn ping(&self) -> ForgeResult<()> {
        self.get(&self.repo_url(&[]), "read the repository").await?;
        Ok(())
    }

    async fn pull(&self, number: u64) -> ForgeResult<Pull> {
        let what = format!("read pull request #{number}");
        let a = self
            .get(&self.repo_url(&["pulls", &number.to_string()]), &what)
            .await?;
        let v = &a.body;
        let s = |x: &Value| x.as_str().map(str::to_string);
        decode(
            &what,
            (|| {
                Some(Pull {
                    number,
                    head_sha: s(&v["head"]["sha"])?,
                    base_ref: s(&v["base"]["ref"])?,
                    base_sha: s(&v["base"]["sha"])?,
                    open: v["state"].as_str()? == "open",
                    draft: v["draft"].as_bool().unwrap_or(false),
                    author: s(&v["user"]["login"]).unwrap_or_default(),
                    html_url: s(&v["html_url"]).unwrap_or_default(),
                    created_at: v["created_at"]
                        .as_str()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&chrono::Utc)),
                })
            })(),
        )
    }

    async fn find_check_run(&self, head_sha: &str, name: &str) -> ForgeResult<Option<CheckRun>> {
        let what = format!("list check runs of {head_sha}");
        let mut url = url::Url::parse(&self.repo_url(&["commits", head_sha, "check-runs"]))
            .expect("valid URL");
        // every run of this name on the head: the newest is the one to update, the oldest
        // says when Bazaar first saw the head (a re-run must not make approvals stale)
        url.query_pairs_mut()
            .append_pair("check_name", name)
            .append_pair("filter", "all")
            .append_pair("per_page", "100");
        let a = self.get(url.as_str(), &what).await?;
        let runs = decode(&what, a.body["check_runs"].as_array())?;
        let ours: Vec<CheckRun> = runs
            .iter()
            .filter_map(check_run_of)
            .filter(|r| r.name == name && r.head_sha == head_sha)
            .collect();
        let first = ours.iter().filter_map(|r| r.started_at).min();
        Ok(ours.into_iter().max_by_key(|r| r.id).map(|mut r| {
            r.started_at = first.or(r.started_at);
            r
        }))
    }

    async fn start_check_run(&self, head_sha: &str, name: &str) -> ForgeResult<CheckRun> {
        let what = format!("create the check run on {head_sha}");
        let body = json!({
            "name": name,
            "head_sha": head_sha,
            "status": "in_progress",
            "started_at": now_rfc3339(),
        });
        match self
            .write(
                Method::POST,
                &self.repo_url(&["check-runs"]),
                Some(&body),
                &what,
            )
            .await
        {
            Ok(a) => decode(&what, check_run_of(&a.body)),
            Err(e) if e.outcome_unknown() => {
                // The answer was lost: read back whether the run exists before anything else.
                tracing::warn!(error = %e, "creating a check run: answer lost, reading back");
                match self.find_check_run(head_sha, name).await? {
                    Some(run) if !run.completed => Ok(run),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn complete_check_run(
        &self,
        id: u64,
        conclusion: Conclusion,
        output: &CheckOutput,
    ) -> ForgeResult<()> {
        let url = self.repo_url(&["check-runs", &id.to_string()]);
        let what = format!("complete check run {id}");
        let batches: Vec<_> = output.annotations.chunks(ANNOTATIONS_PER_REQUEST).collect();
        let n = batches.len().max(1);
        for i in 0..n {
            let annotations = batches.get(i).map(|b| b.to_vec()).unwrap_or_default();
            let mut body = json!({
                "output": {
                    "title": output.title,
                    "summary": output.summary,
                    "annotations": annotations,
                }
            });
            if i + 1 == n {
                body["status"] = json!("completed");
                body["conclusion"] = json!(conclusion);
                body["completed_at"] = json!(now_rfc3339());
            }
            self.write(Method::PATCH, &url, Some(&body), &what).await?;
        }
        Ok(())
    }

    async fn comments(&self, number: u64) -> ForgeResult<Vec<Comment>> {
        let what = format!("list the comments of #{number}");
        let mut url = url::Url::parse(&self.repo_url(&["issues", &number.to_string(), "comments"]))
            .expect("valid URL");
        url.query_pairs_mut().append_pair("per_page", "100");
        let items = self.get_all(url.as_str(), &what).await?;
        let mut out: Vec<Comment> = items.iter().filter_map(comment_of).collect();
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    async fn create_comment(&self, number: u64, body: &str, marker: &str) -> ForgeResult<Comment> {
        let what = format!("comment on #{number}");
        let url = self.repo_url(&["issues", &number.to_string(), "comments"]);
        match self
            .write(Method::POST, &url, Some(&json!({ "body": body })), &what)
            .await
        {
            Ok(a) => decode(&what, comment_of(&a.body)),
            Err(e) if e.outcome_unknown() => {
                tracing::warn!(error = %e, "creating a comment: answer lost, reading back");
                let found = self
                    .comments(number)
                    .await?
                    .into_iter()
                    .find(|c| c.body.contains(marker));
                found.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn edit_comment(&self, id: u64, body: &str) -> ForgeResult<()> {
        let url = self.repo_url(&["issues", "comments", &id.to_string()]);
        self.write(
            Method::PATCH,
            &url,
            Some(&json!({ "body": body })),
            &format!("edit comment {id}"),
        )
        .await
        .map(|_| ())
    }

    async fn delete_comment(&self, id: u64) -> ForgeResult<()> {
        let url = self.repo_url(&["issues", "comments", &id.to_string()]);
        match self
            .write(Method::DELETE, &url, None, &format!("delete comment {id}"))
            .await
        {
            Err(e) if e.status() == Some(404) => Ok(()),
            r => r.map(|_| ()),
        }
    }

    async fn labels(&self, number: u64) -> ForgeResult<Vec<String>> {
        let what = format!("list the labels of #{number}");
        let mut url = url::Url::parse(&self.repo_url(&["issues", &number.to_string(), "labels"]))
            .expect("valid URL");
        url.query_pairs_mut().append_pair("per_page", "100");
        let items = self.get_all(url.as_str(), &what).await?;
        Ok(items
            .iter()
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect())
    }

    async fn ensure_label(&self, label: &LabelSpec) -> ForgeResult<()> {
        let what = format!("read label {}", label.name);
        match self
            .get(&self.repo_url(&["labels", &label.name]), &what)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(e),
        }
        let body = json!({
            "name": label.name,
            "color": label.color,
            "description": label.description,
        });
        match self
            .write(
                Method::POST,
                &self.repo_url(&["labels"]),
                Some(&body),
                &format!("create label {}", label.name),
            )
            .await
        {
            // 422: it exists already (made meanwhile).
            Err(e) if e.status() == Some(422) => Ok(()),
            r => r.map(|_| ()),
        }
    }

    async fn add_labels(&self, number: u64, names: &[String]) -> ForgeResult<()> {
        if names.is_empty() {
            return Ok(());
        }
        let url = self.repo_url(&["issues", &number.to_string(), "labels"]);
        self.write(
            Method::POST,
            &url,
            Some(&json!({ "labels": names })),
            &format!("label #{number}"),
        )
        .await
        .map(|_| ())
    }

    async fn remove_label(&self, number: u64, name: &str) -> ForgeResult<()> {
        let url = self.repo_url(&["issues", &number.to_string(), "labels", name]);
        match self
            .write(
                Method::DELETE,
                &url,
                None,
                &format!("remove label {name} from #{number}"),
            )
            .await
        {
            Err(e) if e.status() == Some(404) => Ok(()),
            r => r.map(|_| ()),
        }
    }

    async fn recent_deliveries(&self) -> ForgeResult<Vec<HookDelivery>> {
        let Auth::App(app) = &self.auth else {
            return Ok(Vec::new());
        };
        let jwt = Secret::new(app.jwt(SystemTime::now()).map_err(ForgeError::Auth)?);
        let mut url =
            url::Url::parse(&self.url(&["app", "hook", "deliveries"])).expect("valid URL");
        url.query_pairs_mut().append_pair("per_page", "100");
        let what = "list the App's webhook deliveries";
        let a = self
            .raw(Method::GET, url.as_str(), &jwt, None, None, what)
            .await?;
        let items = decode(what, a.body.as_array())?;
        Ok(items
            .iter()
            .filter_map(|d| {
                Some(HookDelivery {
                    id: d["id"].as_u64()?,
                    guid: d["guid"].as_str()?.to_string(),
                    ok: d["status_code"]
                        .as_u64()
                        .is_some_and(|c| (200..300).contains(&c)),
                })
            })
            .collect())
    }

    async fn redeliver(&self, attempt: u64) -> ForgeResult<()> {
        let Auth::App(app) = &self.auth else {
            return Ok(());
        };
        let jwt = Secret::new(app.jwt(SystemTime::now()).map_err(ForgeError::Auth)?);
        let url = self.url(&[
            "app",
            "hook",
            "deliveries",
            &attempt.to_string(),
            "attempts",
        ]);
        let _one = self.writes.lock().await;
        self.raw(Method::POST, &url, &jwt, None, None, "ask for a redelivery")
            .await
            .map(|_| ())
    }

    async fn reviews(&self, number: u64) -> ForgeResult<Vec<crate::review::state::Review>> {
        self.list_reviews(number).await
    }

    async fn open_pulls(&self, base: &str) -> ForgeResult<Vec<u64>> {
        self.list_open_pulls(base).await
    }

    async fn pending_check_run(&self, id: u64, output: &CheckOutput) -> ForgeResult<()> {
        self.set_pending(id, output).await
    }

    // The lifecycle sweep's endpoints live in issues.rs.
    async fn issues_by(&self, creator: &str) -> ForgeResult<Vec<Issue>> {
        self.list_issues_by(creator).await
    }

    async fn create_issue(&self, issue: &NewIssue, marker: &str) -> ForgeResult<Issue> {
        self.open_issue(issue, marker).await
    }

    async fn edit_issue(&self, number: u64, edit: &IssueEdit) -> ForgeResult<Issue> {
        self.change_issue(number, edit).await
    }

    async fn org_member(&self, org: &str, login: &str) -> ForgeResult<bool> {
        self.is_org_member(org, login).await
    }

    async fn team_members(&self, org: &str, team_slug: &str) -> ForgeResult<Option<Vec<String>>> {
        self.members_of_team(org, team_slug).await
    }
}
