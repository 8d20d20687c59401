//! A stand-in for GitHub's REST API on loopback, stateful like bors' mock: pull requests, check
//! runs, comments and labels. Every request is checked against GitHub's OpenAPI description
//! (and the limits the description cannot say: 50 annotations a request, title and summary
//! lengths), every answer is built from the description's own example and checked too; what
//! fails is a violation the tests assert there are none of.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::openapi::{Operation, spec};

pub const OWNER: &str = "acme";
pub const REPO: &str = "catalog";
pub const TOKEN: &str = "ghs_test_token";
pub const BOT: &str = "bazaar-test[bot]";

#[derive(Debug, Clone)]
pub struct PullState {
    pub head: String,
    pub base_ref: String,
    pub base_sha: String,
    pub open: bool,
    pub draft: bool,
    pub author: String,
    pub merged: bool,
}

#[derive(Debug, Clone)]
pub struct CheckRunState {
    pub id: u64,
    pub head_sha: String,
    pub name: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub annotations: Vec<Value>,
    pub started_at: String,
}

#[derive(Debug, Clone)]
pub struct CommentState {
    pub id: u64,
    pub issue: u64,
    pub author: String,
    pub body: String,
}

#[derive(Default)]
pub struct World {
    pub pulls: BTreeMap<u64, PullState>,
    pub check_runs: Vec<CheckRunState>,
    pub comments: Vec<CommentState>,
    pub repo_labels: BTreeMap<String, (String, String)>,
    pub issue_labels: BTreeMap<u64, BTreeSet<String>>,
    pub violations: Vec<String>,
    pub calls: Vec<String>,
    next_id: u64,
    /// Answer the next request to this operation (`METHOD template`) with a rate limit.
    pub rate_limit_once: Option<String>,
    /// Do the next request to this operation, then answer 502 as if the answer was lost.
    pub lose_answer_once: Option<String>,
    /// The App's webhook delivery attempts (GET /app/hook/deliveries).
    pub hook_deliveries: Vec<Value>,
    /// Attempts the daemon asked to redeliver.
    pub redelivered: Vec<u64>,
    /// Heads a pull request moves to, one per read of it (a push between two reads).
    pub head_script: BTreeMap<u64, std::collections::VecDeque<String>>,
    /// A GitHub App's public key (PEM): App endpoints then require a JWT it verifies.
    pub app_public_key: Option<String>,
    etags: HashMap<String, String>,
    /// Reviews by pull request.
    pub reviews: BTreeMap<u64, Vec<super::stand_in_reviews::ReviewRec>>,
    /// The bare repository behind the forge (pull requests close when their head lands).
    pub git_dir: Option<std::path::PathBuf>,
    /// Close the gate at the k-th read of a pull request from now.
    pub hold_at_read: Option<usize>,
    /// The gate was closed by `hold_at_read`.
    pub held: bool,
    /// Issues (the lifecycle sweep's), in stand_in_issues.rs.
    pub issues: Vec<super::stand_in_issues::IssueState>,
    pub issue_seq: u64,
    /// Members of each team (`org/slug`) and of the organization.
    pub team_members: BTreeMap<String, Vec<String>>,
    pub org_members: BTreeSet<String>,
    /// Operations (`METHOD template`) that answer 503 until removed: an outage.
    pub down: Vec<String>,
}

impl World {
    /// A new id.
    pub fn bump(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// An issue's labels as GitHub lists them.
    fn issue_labels_json(&self, issue: u64) -> Value {
        let names = self.issue_labels.get(&issue).cloned().unwrap_or_default();
        let list: Vec<Value> = names
            .iter()
            .map(|n| {
                let (c, d) = self.repo_labels.get(n).cloned().unwrap_or_default();
                label_json(n, &c, &d)
            })
            .collect();
        json!(list)
    }
}

pub struct StandIn {
    pub url: String,
    pub world: Arc<Mutex<World>>,
    gate: Arc<tokio::sync::watch::Sender<bool>>,
}

#[derive(Clone)]
struct Shared {
    world: Arc<Mutex<World>>,
    gate: tokio::sync::watch::Receiver<bool>,
    closer: Arc<tokio::sync::watch::Sender<bool>>,
}

impl StandIn {
    pub async fn start() -> StandIn {
        let world = Arc::new(Mutex::new(World {
            next_id: 1000,
            ..Default::default()
        }));
        let (gate, rx) = tokio::sync::watch::channel(true);
        let gate = Arc::new(gate);
        let app = axum::Router::new().fallback(handle).with_state(Shared {
            world: world.clone(),
            gate: rx,
            closer: gate.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandIn { url, world, gate }
    }

    /// Reads of a pull request wait until [`StandIn::release`].
    pub fn hold(&self) {
        self.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.gate.send_replace(true);
    }

    pub fn set_pull(&self, number: u64, head: &str, base_sha: &str) {
        let mut w = self.world.lock().unwrap();
        let p = w.pulls.entry(number).or_insert(PullState {
            head: String::new(),
            base_ref: "main".into(),
            base_sha: String::new(),
            open: true,
            draft: false,
            author: "jane-doe".into(),
            merged: false,
        });
        p.head = head.into();
        p.base_sha = base_sha.into();
    }

    pub fn runs(&self, head: &str) -> Vec<CheckRunState> {
        let w = self.world.lock().unwrap();
        w.check_runs
            .iter()
            .filter(|r| r.head_sha == head)
            .cloned()
            .collect()
    }

    pub fn comments(&self, issue: u64) -> Vec<CommentState> {
        let w = self.world.lock().unwrap();
        w.comments
            .iter()
            .filter(|c| c.issue == issue)
            .cloned()
            .collect()
    }

    pub fn labels(&self, issue: u64) -> BTreeSet<String> {
        let w = self.world.lock().unwrap();
        w.issue_labels.get(&issue).cloned().unwrap_or_default()
    }

    pub fn violations(&self) -> Vec<String> {
        self.world.lock().unwrap().violations.clone()
    }

    pub fn calls(&self, prefix: &str) -> usize {
        let w = self.world.lock().unwrap();
        w.calls.iter().filter(|c| c.starts_with(prefix)).count()
    }

    pub fn add_comment(&self, issue: u64, author: &str, body: &str) -> u64 {
        let mut w = self.world.lock().unwrap();
        w.next_id += 1;
        let id = w.next_id;
        w.comments.push(CommentState {
            id,
            issue,
            author: author.into(),
            body: body.into(),
        });
        id
    }
}

pub fn user(login: &str) -> Value {
    // A simple-user, as comments and pull requests carry.
    let simple = spec().find("GET", "/users/x/followers").unwrap();
    let mut s = spec().example(simple, 200)[0].clone();
    s["login"] = json!(login);
    s["type"] = json!(if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    });
    s
}

fn now() -> String {
    "2026-11-25T10:00:00Z".into()
}

fn check_run_json(r: &CheckRunState) -> Value {
    let op = spec().find("GET", "/repos/o/r/check-runs/1").unwrap();
    let mut v = spec().example(op, 200);
    v["id"] = json!(r.id);
    v["head_sha"] = json!(r.head_sha);
    v["name"] = json!(r.name);
    v["status"] = json!(r.status);
    v["conclusion"] = json!(r.conclusion);
    v["started_at"] = json!(r.started_at);
    v["completed_at"] = if r.status == "completed" {
        json!(now())
    } else {
        Value::Null
    };
    v["output"]["title"] = json!(r.title);
    v["output"]["summary"] = json!(r.summary);
    v["output"]["text"] = Value::Null;
    v["output"]["annotations_count"] = json!(r.annotations.len());
    v["pull_requests"] = json!([]);
    v
}

fn comment_json(c: &CommentState) -> Value {
    let op = spec().find("GET", "/repos/o/r/issues/comments/1").unwrap();
    let mut v = spec().example(op, 200);
    v["id"] = json!(c.id);
    v["body"] = json!(c.body);
    v["user"] = user(&c.author);
    v["html_url"] = json!(format!(
        "https://github.com/{OWNER}/{REPO}/pull/{}#issuecomment-{}",
        c.issue, c.id
    ));
    v["issue_url"] = json!(format!(
        "https://api.github.com/repos/{OWNER}/{REPO}/issues/{}",
        c.issue
    ));
    v
}

fn label_json(name: &str, color: &str, description: &str) -> Value {
    let op = spec().find("GET", "/repos/o/r/labels/x").unwrap();
    let mut v = spec().example(op, 200);
    v["name"] = json!(name);
    v["color"] = json!(color);
    v["description"] = json!(description);
    v["url"] = json!(format!(
        "https://api.github.com/repos/{OWNER}/{REPO}/labels/{}",
        name.replace(':', "%3A")
    ));
    v
}

fn not_found() -> (u16, Value) {
    (
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn decode(seg: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", seg.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The stand-in's logic for one validated request.
fn answer(
    w: &mut World,
    op: &Operation,
    segs: &[String],
    query: &str,
    body: &Value,
) -> (u16, Value) {
    let t = op.template.as_str();
    let num = |i: usize| segs[i].parse::<u64>().unwrap_or(0);
    match (op.method.as_str(), t) {
        ("GET", "/user") => {
            let mut u = spec().example(op, 200);
            u["login"] = json!(BOT);
            (200, u)
        }
        ("GET", "/app") => {
            let mut a = spec().example(op, 200);
            a["slug"] = json!(BOT.trim_end_matches("[bot]"));
            (200, a)
        }
        ("GET", "/app/hook/deliveries") => (200, json!(w.hook_deliveries)),
        ("POST", "/app/hook/deliveries/{delivery_id}/attempts") => {
            let id = num(3);
            w.redelivered.push(id);
            (202, json!({}))
        }
        ("GET", "/repos/{owner}/{repo}/installation") => {
            let mut i = spec().example(op, 200);
            i["id"] = json!(77);
            (200, i)
        }
        ("POST", "/app/installations/{installation_id}/access_tokens") => {
            let mut t = spec().example(op, 201);
            t["token"] = json!(TOKEN);
            t["expires_at"] = json!((chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339());
            (201, t)
        }
        ("GET", "/repos/{owner}/{repo}") => {
            let mut r = spec().example(op, 200);
            r["full_name"] = json!(format!("{OWNER}/{REPO}"));
            // GitHub's example lacks `language`, which the schema requires (nullable).
            r["language"] = Value::Null;
            r["source"]["language"] = Value::Null;
            (200, r)
        }
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}") => {
            super::stand_in_reviews::close_if_merged(w, num(4));
            if let Some(next) = w.head_script.get_mut(&num(4)).and_then(|q| q.pop_front())
                && let Some(p) = w.pulls.get_mut(&num(4))
            {
                p.head = next;
            }
            let Some(p) = w.pulls.get(&num(4)).cloned() else {
                return not_found();
            };
            let mut v = spec().example(op, 200);
            v["number"] = json!(num(4));
            v["state"] = json!(if p.open { "open" } else { "closed" });
            v["merged"] = json!(p.merged);
            v["html_url"] = json!(format!("https://github.com/{OWNER}/{REPO}/pull/{}", num(4)));
            v["draft"] = json!(p.draft);
            v["head"]["sha"] = json!(p.head);
            v["base"]["sha"] = json!(p.base_sha);
            v["base"]["ref"] = json!(p.base_ref);
            v["user"] = user(&p.author);
            // GitHub's example predates the schema's required team `type`.
            v["requested_teams"] = json!([]);
            (200, v)
        }
        ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs") => {
            let name = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "check_name")
                .map(|(_, v)| v.into_owned());
            let runs: Vec<Value> = w
                .check_runs
                .iter()
                .filter(|r| r.head_sha == segs[4] && name.as_ref().is_none_or(|n| *n == r.name))
                .map(check_run_json)
                .collect();
            (200, json!({"total_count": runs.len(), "check_runs": runs}))
        }
        ("POST", "/repos/{owner}/{repo}/check-runs") => {
            w.next_id += 1;
            let r = CheckRunState {
                id: w.next_id,
                head_sha: body["head_sha"].as_str().unwrap_or_default().into(),
                name: body["name"].as_str().unwrap_or_default().into(),
                status: body["status"].as_str().unwrap_or("queued").into(),
                conclusion: body["conclusion"].as_str().map(str::to_string),
                title: None,
                summary: None,
                annotations: Vec::new(),
                started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            let v = check_run_json(&r);
            w.check_runs.push(r);
            (201, v)
        }
        ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}") => {
            let id = num(4);
            let Some(r) = w.check_runs.iter_mut().find(|r| r.id == id) else {
                return not_found();
            };
            if let Some(s) = body["status"].as_str() {
                r.status = s.into();
            }
            if let Some(c) = body["conclusion"].as_str() {
                r.conclusion = Some(c.into());
                r.status = "completed".into();
            }
            if let Some(o) = body["output"].as_object() {
                r.title = o.get("title").and_then(Value::as_str).map(str::to_string);
                r.summary = o.get("summary").and_then(Value::as_str).map(str::to_string);
                if let Some(a) = o.get("annotations").and_then(Value::as_array) {
                    r.annotations.extend(a.iter().cloned());
                }
            }
            let v = check_run_json(r);
            (200, v)
        }
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            let issue = num(4);
            let list: Vec<Value> = w
                .comments
                .iter()
                .filter(|c| c.issue == issue)
                .map(comment_json)
                .collect();
            (200, json!(list))
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments") => {
            w.next_id += 1;
            let c = CommentState {
                id: w.next_id,
                issue: num(4),
                author: BOT.into(),
                body: body["body"].as_str().unwrap_or_default().into(),
            };
            let v = comment_json(&c);
            w.comments.push(c);
            (201, v)
        }
        ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => {
            let id = num(5);
            let Some(c) = w.comments.iter_mut().find(|c| c.id == id) else {
                return not_found();
            };
            c.body = body["body"].as_str().unwrap_or_default().into();
            (200, comment_json(c))
        }
        ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}") => {
            let id = num(5);
            let before = w.comments.len();
            w.comments.retain(|c| c.id != id);
            if w.comments.len() == before {
                return not_found();
            }
            (204, Value::Null)
        }
        ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => {
            (200, w.issue_labels_json(num(4)))
        }
        ("GET", "/repos/{owner}/{repo}/labels/{name}") => {
            let name = decode(&segs[4]);
            match w.repo_labels.get(&name) {
                Some((c, d)) => (200, label_json(&name, c, d)),
                None => not_found(),
            }
        }
        ("POST", "/repos/{owner}/{repo}/labels") => {
            let name = body["name"].as_str().unwrap_or_default().to_string();
            if w.repo_labels.contains_key(&name) {
                return (
                    422,
                    json!({"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest",
                           "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]}),
                );
            }
            let color = body["color"].as_str().unwrap_or("ededed").to_string();
            let desc = body["description"].as_str().unwrap_or_default().to_string();
            w.repo_labels
                .insert(name.clone(), (color.clone(), desc.clone()));
            (201, label_json(&name, &color, &desc))
        }
        ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels") => {
            let issue = num(4);
            let names: Vec<String> = body["labels"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for n in &names {
                // GitHub creates a label that does not exist yet with a default colour.
                w.repo_labels
                    .entry(n.clone())
                    .or_insert(("ededed".into(), String::new()));
            }
            w.issue_labels.entry(issue).or_default().extend(names);
            (200, w.issue_labels_json(issue))
        }
        ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}") => {
            let name = decode(&segs[6]);
            let set = w.issue_labels.entry(num(4)).or_default();
            if !set.remove(&name) {
                return not_found();
            }
            (200, w.issue_labels_json(num(4)))
        }
        _ => {
            if let Some(r) = super::stand_in_issues::answer(w, op, segs, query, body) {
                return r;
            }
            if let Some(r) = super::stand_in_reviews::answer(w, op, segs, query) {
                return r;
            }
            w.violations.push(format!(
                "{} {}: the stand-in does not implement it",
                op.method, t
            ));
            not_found()
        }
    }
}

/// Limits GitHub enforces that the description does not state.
fn limits(op: &Operation, body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let key = format!("{} {}", op.method, op.template);
    if let Some(o) = body["output"].as_object() {
        if let Some(a) = o.get("annotations").and_then(Value::as_array) {
            if a.len() > 50 {
                out.push(format!(
                    "{key}: {} annotations in one request (max 50)",
                    a.len()
                ));
            }
            for an in a {
                if an["title"]
                    .as_str()
                    .is_some_and(|t| t.chars().count() > 255)
                {
                    out.push(format!("{key}: annotation title over 255 characters"));
                }
                let same_line = an["start_line"] == an["end_line"];
                if !same_line
                    && (an.get("start_column").is_some() || an.get("end_column").is_some())
                {
                    out.push(format!("{key}: columns on a multi-line annotation"));
                }
            }
        }
        if o.get("summary")
            .and_then(Value::as_str)
            .is_some_and(|s| s.chars().count() > 65_535)
        {
            out.push(format!("{key}: summary over 65,535 characters"));
        }
    }
    if op.template.contains("comments")
        && body["body"]
            .as_str()
            .is_some_and(|s| s.chars().count() > 65_536)
    {
        out.push(format!("{key}: comment over 65,536 characters"));
    }
    out
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let Some(op) = spec().find(method.as_str(), &path) else {
        shared
            .world
            .lock()
            .unwrap()
            .violations
            .push(format!("{method} {path}: GitHub has no such endpoint"));
        return (StatusCode::NOT_FOUND, "no such endpoint").into_response();
    };
    if op.method == "GET" && op.template == "/repos/{owner}/{repo}/pulls/{pull_number}" {
        // the k-th read of a pull request from now closes the gate before it is answered
        let mut w = shared.world.lock().unwrap();
        if let Some(k) = w.hold_at_read.as_mut() {
            *k -= 1;
            if *k == 0 {
                w.hold_at_read = None;
                w.held = true;
                shared.closer.send_replace(false);
            }
        }
    }
    if op.template.contains("/pulls/") {
        let mut gate = shared.gate.clone();
        let _ = gate.wait_for(|open| *open).await;
    }
    let mut w = shared.world.lock().unwrap();
    w.calls.push(format!("{} {}", op.method, op.template));
    let problems = {
        let mut p = Vec::new();
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let app_endpoint = op.template == "/app"
            || op.template.starts_with("/app/")
            || op.template == "/repos/{owner}/{repo}/installation";
        if app_endpoint {
            if let Err(e) = check_jwt(w.app_public_key.as_deref(), auth) {
                p.push(format!("{method} {path}: {e}"));
            }
        } else if auth != format!("Bearer {TOKEN}") {
            p.push(format!("{method} {path}: not authenticated with the token"));
        }
        if headers.get("user-agent").is_none() {
            p.push(format!(
                "{method} {path}: no User-Agent (GitHub refuses those)"
            ));
        }
        let json_body: Option<Value> = if body.is_empty() {
            None
        } else {
            match serde_json::from_slice(&body) {
                Ok(v) => Some(v),
                Err(e) => {
                    p.push(format!("{method} {path}: the body is not JSON: {e}"));
                    None
                }
            }
        };
        if let Err(e) = spec().check_request(op, json_body.as_ref()) {
            p.push(e);
        }
        if let Err(e) = spec().check_query(op, &query) {
            p.push(e);
        }
        p.extend(limits(op, json_body.as_ref().unwrap_or(&Value::Null)));
        (p, json_body.unwrap_or(Value::Null))
    };
    let (problems, json_body) = problems;
    if !problems.is_empty() {
        w.violations.extend(problems);
        let v = json!({"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest"});
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response();
    }
    let key = format!("{} {}", op.method, op.template);
    if w.rate_limit_once.as_deref() == Some(key.as_str()) {
        w.rate_limit_once = None;
        return (
            StatusCode::FORBIDDEN,
            [("retry-after", "1"), ("x-ratelimit-remaining", "0")],
            json!({"message": "You have exceeded a secondary rate limit."}).to_string(),
        )
            .into_response();
    }
    if let Some(r) = super::stand_in_issues::outage(&w, &key) {
        return r;
    }
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let (status, out) = answer(&mut w, op, &segs, &query, &json_body);
    if let Err(e) = spec().check_response(op, status, &out) {
        w.violations.push(format!("stand-in answer: {e}"));
    }
    let text = if out.is_null() {
        String::new()
    } else {
        out.to_string()
    };
    // Conditional reads: an unchanged answer is a 304 where the operation documents one.
    let mut headers_out = vec![("x-ratelimit-remaining".to_string(), "4999".to_string())];
    if method == Method::GET && status == 200 {
        let tag = format!("\"{:x}\"", fxhash(&text));
        let documented = spec().check_response(op, 304, &Value::Null).is_ok();
        let matches =
            headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(tag.as_str());
        w.etags.insert(path.clone(), tag.clone());
        headers_out.push(("etag".into(), tag));
        if matches && documented {
            w.calls.push(format!("304 {}", op.template));
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            for (k, v) in headers_out {
                r.headers_mut().insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            return r;
        }
    }
    let mut r = (StatusCode::from_u16(status).unwrap(), text).into_response();
    r.headers_mut().insert(
        "content-type",
        "application/json; charset=utf-8".parse().unwrap(),
    );
    for (k, v) in headers_out {
        r.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r
}

fn fxhash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// A GitHub App's JWT as GitHub checks it: RS256 by the App's key, issued by the App id, `iat` in
/// the past, at most ten minutes long.
fn check_jwt(public_key: Option<&str>, auth: &str) -> Result<(), String> {
    let key = public_key.ok_or("an App endpoint, but no App is registered")?;
    let token = auth.strip_prefix("Bearer ").ok_or("no bearer JWT")?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(key.as_bytes()).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_issuer(&["42"]);
    v.set_required_spec_claims(&["exp", "iat", "iss"]);
    let data =
        jsonwebtoken::decode::<Value>(token, &key, &v).map_err(|e| format!("bad JWT: {e}"))?;
    let (iat, exp) = (
        data.claims["iat"].as_i64().unwrap_or(0),
        data.claims["exp"].as_i64().unwrap_or(0),
    );
    let now = chrono::Utc::now().timestamp();
    if iat > now - 30 {
        return Err("the JWT's iat is not set back for clock drift".into());
    }
    if exp - iat > 600 {
        return Err("the JWT lasts over ten minutes".into());
    }
    Ok(())
}

/// A delivery attempt as GET /app/hook/deliveries lists it.
pub fn hook_delivery(id: u64, guid: &str, status_code: u16) -> Value {
    let op = spec().find("GET", "/app/hook/deliveries").unwrap();
    let mut v = spec().example(op, 200)[0].clone();
    v["id"] = json!(id);
    v["guid"] = json!(guid);
    v["status_code"] = json!(status_code);
    v["status"] = json!(if status_code < 300 { "OK" } else { "failed" });
    v
}
