//! GitHub's REST API, on a thin reqwest client made for the job: conditional reads (ETag), rate
//! limits as GitHub documents them, writes one at a time, and creates that are never retried
//! blindly (a lost answer is resolved by reading back what exists).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};

mod endpoints;
mod issues;
mod reviews;

use super::auth::{Auth, Secret};
use super::{ForgeError, ForgeResult, RepoName, wait_for};

/// How often a rate-limited request is tried before giving up.
const RATE_LIMIT_TRIES: usize = 3;
/// The longest rate-limit wait taken inside one call; longer ones fail the call (the job is
/// retried later) instead of holding a worker for an hour.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// Counters of the forge calls, for `/metrics`.
#[derive(Debug, Default)]
pub struct ForgeStats {
    /// Calls by HTTP status (0: no answer).
    pub calls: Mutex<BTreeMap<u16, u64>>,
    /// `x-ratelimit-remaining` of the last answer (-1 before the first).
    pub rate_remaining: AtomicI64,
}

/// A conditional read's last answer: its ETag, body and next page.
type Cached = (String, Value, Option<String>);

struct Answer {
    status: u16,
    body: Value,
    next: Option<String>,
}

/// A GitHub (or GitHub Enterprise) REST client for one repository.
pub struct GitHub {
    http: reqwest::Client,
    api: url::Url,
    repo: RepoName,
    auth: Auth,
    bot_override: Option<String>,
    /// Installation token and when to refresh it.
    token: tokio::sync::Mutex<Option<(Secret, Instant)>>,
    /// Writes go one at a time (GitHub's advice against secondary rate limits).
    writes: tokio::sync::Mutex<()>,
    etags: Mutex<HashMap<String, Cached>>,
    blocked_until: Mutex<Option<Instant>>,
    stats: std::sync::Arc<ForgeStats>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.api.as_str())
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A client for `repo` at `api` (`https://api.github.com` or an Enterprise/test address).
    /// `bot_login` overrides the login Bazaar acts as (asked from the API otherwise).
    pub fn new(
        api: &url::Url,
        repo: RepoName,
        auth: Auth,
        bot_login: Option<String>,
    ) -> ForgeResult<GitHub> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("bazaar/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ForgeError::Auth(format!("cannot set up HTTP: {e}")))?;
        let mut api = api.clone();
        if !api.path().ends_with('/') {
            api.set_path(&format!("{}/", api.path()));
        }
        Ok(GitHub {
            http,
            api,
            repo,
            auth,
            bot_override: bot_login,
            token: tokio::sync::Mutex::new(None),
            writes: tokio::sync::Mutex::new(()),
            etags: Mutex::new(HashMap::new()),
            blocked_until: Mutex::new(None),
            stats: std::sync::Arc::new(ForgeStats {
                rate_remaining: AtomicI64::new(-1),
                ..Default::default()
            }),
        })
    }

    /// The call counters.
    pub fn stats(&self) -> std::sync::Arc<ForgeStats> {
        self.stats.clone()
    }

    fn url(&self, segments: &[&str]) -> String {
        let mut u = self.api.clone();
        {
            let mut p = u.path_segments_mut().expect("API address is a base");
            p.pop_if_empty();
            p.extend(segments);
        }
        u.to_string()
    }

    fn repo_url(&self, rest: &[&str]) -> String {
        let mut segs = vec!["repos", self.repo.owner.as_str(), self.repo.name.as_str()];
        segs.extend_from_slice(rest);
        self.url(&segs)
    }

    async fn token(&self) -> ForgeResult<Secret> {
        let app = match &self.auth {
            Auth::Token(t) => return Ok(t.clone()),
            Auth::App(app) => app,
        };
        let mut cached = self.token.lock().await;
        if let Some((t, refresh_at)) = cached.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(t.clone());
        }
        let jwt = Secret::new(app.jwt(SystemTime::now()).map_err(ForgeError::Auth)?);
        let url = self.repo_url(&["installation"]);
        let inst = self
            .raw(
                Method::GET,
                &url,
                &jwt,
                None,
                None,
                "find the App's installation",
            )
            .await?;
        let id = inst.body["id"]
            .as_u64()
            .ok_or_else(|| ForgeError::Auth("the App is not installed on the repository".into()))?;
        let url = self.url(&["app", "installations", &id.to_string(), "access_tokens"]);
        let tok = self
            .raw(
                Method::POST,
                &url,
                &jwt,
                Some(&json!({})),
                None,
                "make an installation token",
            )
            .await?;
        let token = tok.body["token"]
            .as_str()
            .ok_or_else(|| ForgeError::Auth("no token in GitHub's answer".into()))?;
        let expires = tok.body["expires_at"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| (t.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64)
            .unwrap_or(3600);
        // Refresh five minutes before the hour runs out.
        let refresh_at = Instant::now() + Duration::from_secs(expires.saturating_sub(300).max(30));
        let token = Secret::new(token);
        *cached = Some((token.clone(), refresh_at));
        Ok(token)
    }

    /// One request with a given bearer token; rate limits are waited out (a rate-limited request
    /// was not performed, so trying it again is safe even for a create).
    async fn raw(
        &self,
        method: Method,
        url: &str,
        bearer: &Secret,
        body: Option<&Value>,
        etag: Option<&str>,
        what: &str,
    ) -> ForgeResult<Answer> {
        let mut tries = 0;
        loop {
            let wait = self.blocked_until.lock().expect("lock").and_then(|t| {
                let now = Instant::now();
                (t > now).then(|| t - now)
            });
            if let Some(w) = wait {
                tokio::time::sleep(w).await;
            }
            let mut req = self
                .http
                .request(method.clone(), url)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .header("authorization", format!("Bearer {}", bearer.expose()));
            if let Some(e) = etag {
                req = req.header("if-none-match", e);
            }
            if let Some(b) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(b).expect("JSON values serialize"));
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    self.count(0);
                    return Err(ForgeError::Unreachable {
                        what: what.into(),
                        error: e.without_url().to_string(),
                    });
                }
            };
            let status = resp.status().as_u16();
            self.count(status);
            let headers = resp.headers().clone();
            let header = |n: &str| {
                headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            if let Some(left) = header("x-ratelimit-remaining").and_then(|v| v.parse().ok()) {
                self.stats.rate_remaining.store(left, Ordering::Relaxed);
            }
            let text = resp.text().await.map_err(|e| ForgeError::Unreachable {
                what: what.into(),
                error: e.without_url().to_string(),
            })?;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            if let Some(w) = wait_for(status, header, &text, now) {
                tries += 1;
                tracing::warn!(
                    what,
                    status,
                    wait_s = w.as_secs(),
                    "rate limited by the forge"
                );
                if tries >= RATE_LIMIT_TRIES || w > MAX_WAIT {
                    return Err(ForgeError::Status {
                        what: what.into(),
                        status,
                        message: format!("rate limited; retry after {} s", w.as_secs()),
                    });
                }
                *self.blocked_until.lock().expect("lock") = Some(Instant::now() + w);
                continue;
            }
            let value: Value = if text.trim().is_empty() {
                Value::Null
            } else {
                match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(e) if (200..300).contains(&status) => {
                        return Err(ForgeError::Decode {
                            what: what.into(),
                            error: e.to_string(),
                        });
                    }
                    Err(_) => Value::String(text.chars().take(200).collect()),
                }
            };
            if status == 304 || (200..300).contains(&status) {
                // A 304 has no body: the cached one stays.
                if let (Some(tag), true) = (header("etag"), method == Method::GET && status != 304)
                {
                    let next = next_link(header("link").as_deref());
                    self.etags
                        .lock()
                        .expect("lock")
                        .insert(url.to_string(), (tag, value.clone(), next));
                }
                return Ok(Answer {
                    status,
                    next: next_link(header("link").as_deref()),
                    body: value,
                });
            }
            let message = value["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            return Err(ForgeError::Status {
                what: what.into(),
                status,
                message,
            });
        }
    }

    fn count(&self, status: u16) {
        *self
            .stats
            .calls
            .lock()
            .expect("lock")
            .entry(status)
            .or_default() += 1;
    }

    /// A read: conditional on the last ETag; a transport error or 5xx is tried again (reads
    /// are safe to repeat).
    async fn get(&self, url: &str, what: &str) -> ForgeResult<Answer> {
        let mut attempt = 0;
        loop {
            let cached = self.etags.lock().expect("lock").get(url).cloned();
            let token = self.token().await?;
            let r = self
                .raw(
                    Method::GET,
                    url,
                    &token,
                    None,
                    cached.as_ref().map(|c| c.0.as_str()),
                    what,
                )
                .await;
            match r {
                Ok(a) if a.status == 304 => {
                    let Some((_, body, next)) = cached else {
                        return Err(ForgeError::Decode {
                            what: what.into(),
                            error: "304 to a read that was not conditional".into(),
                        });
                    };
                    return Ok(Answer {
                        status: 200,
                        body,
                        next,
                    });
                }
                Ok(a) => return Ok(a),
                Err(e) if e.outcome_unknown() && attempt < 2 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Every page of a list.
    async fn get_all(&self, url: &str, what: &str) -> ForgeResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = next.take() {
            let a = self.get(&u, what).await?;
            match a.body {
                Value::Array(items) => out.extend(items),
                other => {
                    return Err(ForgeError::Decode {
                        what: what.into(),
                        error: format!("expected a list, got {}", short(&other)),
                    });
                }
            }
            pages += 1;
            if pages < 50 {
                next = a.next;
            }
        }
        Ok(out)
    }

    /// A write: one at a time, never repeated here.
    async fn write(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        what: &str,
    ) -> ForgeResult<Answer> {
        let _one = self.writes.lock().await;
        let token = self.token().await?;
        // No cache to clear: a changed resource has a new ETag, so the next conditional read
        // of it gets the new body.
        self.raw(method, url, &token, body, None, what).await
    }
}

fn next_link(link: Option<&str>) -> Option<String> {
    link?.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(120).collect()
}
