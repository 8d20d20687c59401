//! Reviews, team membership, open pull requests and the pending check run: what the daemon
//! reads to decide whether a submission is approved, on GitHub's REST endpoints.

use reqwest::Method;
use serde_json::{Value, json};

use super::super::{CheckOutput, ForgeError, ForgeResult};
use super::GitHub;
use crate::review::state::{Review, ReviewState};

fn time(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn review_of(v: &Value) -> Option<Review> {
    Some(Review {
        id: v["id"].as_u64()?,
        login: v["user"]["login"].as_str()?.to_string(),
        user_id: v["user"]["id"].as_u64()?,
        bot: v["user"]["type"].as_str() == Some("Bot"),
        state: ReviewState::parse(v["state"].as_str()?),
        commit_id: v["commit_id"].as_str().unwrap_or_default().to_string(),
        submitted_at: time(&v["submitted_at"]),
    })
}

impl GitHub {
    fn listed(&self, segments: &[&str], query: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.repo_url(segments)).expect("valid URL");
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            q.append_pair("per_page", "100");
        }
        url.to_string()
    }

    /// Every review of pull request `number`, oldest first.
    pub(super) async fn list_reviews(&self, number: u64) -> ForgeResult<Vec<Review>> {
        let what = format!("list the reviews of #{number}");
        let url = self.listed(&["pulls", &number.to_string(), "reviews"], &[]);
        let items = self.get_all(&url, &what).await?;
        let mut out: Vec<Review> = items.iter().filter_map(review_of).collect();
        if out.len() != items.len() {
            return Err(ForgeError::Decode {
                what,
                error: "a review lacks its id, user, state or head".into(),
            });
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Numbers of the open pull requests into `base`.
    pub(super) async fn list_open_pulls(&self, base: &str) -> ForgeResult<Vec<u64>> {
        let what = format!("list the open pull requests into {base}");
        let url = self.listed(&["pulls"], &[("state", "open"), ("base", base)]);
        let items = self.get_all(&url, &what).await?;
        let mut out: Vec<u64> = items.iter().filter_map(|p| p["number"].as_u64()).collect();
        out.sort_unstable();
        Ok(out)
    }

    /// Keeps check run `id` in progress with a new title and summary (no annotations: they are
    /// sent once, when the run completes).
    pub(super) async fn set_pending(&self, id: u64, output: &CheckOutput) -> ForgeResult<()> {
        let url = self.repo_url(&["check-runs", &id.to_string()]);
        let body = json!({
            "status": "in_progress",
            "output": { "title": output.title, "summary": output.summary },
        });
        self.write(
            Method::PATCH,
            &url,
            Some(&body),
            &format!("update check run {id}"),
        )
        .await
        .map(|_| ())
    }
}
