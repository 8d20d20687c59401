//! The stand-in's issues and membership, for the lifecycle sweep: issues listed by their author
//! (open and closed), opened and edited; a team's members and an organization's member check;
//! and an outage of chosen operations (a 503 no matter what the description documents, as a
//! real outage answers).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::openapi::{Operation, spec};
use super::stand_in::{BOT, OWNER, REPO, World};

/// An issue as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct IssueState {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub open: bool,
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub author: String,
}

fn user(login: &str) -> Value {
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

fn label(name: &str) -> Value {
    let op = spec().find("GET", "/repos/o/r/labels/x").unwrap();
    let mut v = spec().example(op, 200);
    v["name"] = json!(name);
    v
}

pub fn issue_json(i: &IssueState) -> Value {
    // The GET example is a reference; the create answer's example is a whole issue.
    let op = spec().find("POST", "/repos/o/r/issues").unwrap();
    let mut v = spec().example(op, 201);
    if let Some(o) = v.as_object_mut() {
        o.remove("pull_request");
    }
    v["number"] = json!(i.number);
    v["title"] = json!(i.title);
    v["body"] = json!(i.body);
    v["state"] = json!(if i.open { "open" } else { "closed" });
    v["state_reason"] = if i.open {
        Value::Null
    } else {
        json!("completed")
    };
    v["closed_at"] = if i.open {
        Value::Null
    } else {
        json!("2026-11-25T10:00:00Z")
    };
    v["labels"] = json!(i.labels.iter().map(|l| label(l)).collect::<Vec<_>>());
    v["assignees"] = json!(i.assignees.iter().map(|l| user(l)).collect::<Vec<_>>());
    v["assignee"] = i.assignees.first().map(|l| user(l)).unwrap_or(Value::Null);
    v["user"] = user(&i.author);
    v["html_url"] = json!(format!(
        "https://github.com/{OWNER}/{REPO}/issues/{}",
        i.number
    ));
    v
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A 503 for an operation the test took down.
pub fn outage(w: &World, key: &str) -> Option<Response> {
    w.down.iter().any(|d| d == key).then(|| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("content-type", "application/json")],
            json!({"message": "Service Unavailable"}).to_string(),
        )
            .into_response()
    })
}

/// The answer to an issue or membership request, `None` for other operations.
pub fn answer(
    w: &mut World,
    op: &Operation,
    segs: &[String],
    query: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let num = |i: usize| segs[i].parse::<u64>().unwrap_or(0);
    let q = |k: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    Some(match (op.method.as_str(), op.template.as_str()) {
        ("GET", "/repos/{owner}/{repo}/issues") => {
            let creator = q("creator");
            let state = q("state").unwrap_or_else(|| "open".into());
            let mut list: Vec<&IssueState> = w
                .issues
                .iter()
                .filter(|i| creator.as_ref().is_none_or(|c| *c == i.author))
                .filter(|i| state == "all" || (state == "open") == i.open)
                .collect();
            list.sort_by_key(|i| std::cmp::Reverse(i.number));
            (
                200,
                json!(list.into_iter().map(issue_json).collect::<Vec<_>>()),
            )
        }
        ("POST", "/repos/{owner}/{repo}/issues") => {
            w.issue_seq += 1;
            let i = IssueState {
                number: w.issue_seq,
                title: body["title"].as_str().unwrap_or_default().into(),
                body: body["body"].as_str().unwrap_or_default().into(),
                open: true,
                labels: strings(&body["labels"]),
                assignees: strings(&body["assignees"]),
                author: BOT.into(),
            };
            let v = issue_json(&i);
            w.issues.push(i);
            (201, v)
        }
        ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}") => {
            let n = num(4);
            let Some(i) = w.issues.iter_mut().find(|i| i.number == n) else {
                return Some((
                    404,
                    json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
                ));
            };
            if let Some(b) = body["body"].as_str() {
                i.body = b.into();
            }
            if let Some(s) = body["state"].as_str() {
                i.open = s == "open";
            }
            if body.get("labels").is_some() {
                i.labels = strings(&body["labels"]);
            }
            if body.get("assignees").is_some() {
                i.assignees = strings(&body["assignees"]);
            }
            (200, issue_json(i))
        }
        ("GET", "/orgs/{org}/teams/{team_slug}/members") => {
            let team = format!("{}/{}", segs[1], segs[3]);
            let members = w.team_members.get(&team).cloned().unwrap_or_default();
            (
                200,
                json!(members.iter().map(|l| user(l)).collect::<Vec<_>>()),
            )
        }
        ("GET", "/orgs/{org}/members/{username}") => {
            if w.org_members.contains(&segs[3]) {
                (204, Value::Null)
            } else {
                (
                    404,
                    json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
                )
            }
        }
        _ => return None,
    })
}
