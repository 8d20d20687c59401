//! The stand-in's reviews, teams and pull request lists, and GitHub's closing of a pull request
//! whose head was pushed to its base branch (what happens when Bazaar's merge lands).

use std::path::Path;

use serde_json::{Value, json};

use super::openapi::{Operation, spec};
use super::stand_in::{OWNER, REPO, StandIn, World, user};

#[derive(Debug, Clone)]
pub struct ReviewRec {
    pub id: u64,
    pub login: String,
    pub user_id: u64,
    pub state: String,
    pub commit_id: String,
    pub submitted_at: String,
}

/// A stable user id for a login (GitHub's ids never change with the login's case).
pub fn user_id(login: &str) -> u64 {
    login
        .to_lowercase()
        .bytes()
        .fold(1000u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        % 10_000_000
}

impl StandIn {
    /// A review by `login` on pull request `n` at `commit`, submitted now; returns its id.
    pub fn review(&self, n: u64, login: &str, state: &str, commit: &str) -> u64 {
        let mut w = self.world.lock().unwrap();
        let id = w.bump();
        w.reviews.entry(n).or_default().push(ReviewRec {
            id,
            login: login.into(),
            user_id: user_id(login),
            state: state.into(),
            commit_id: commit.into(),
            submitted_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        id
    }

    /// Dismisses a review, as a maintainer does.
    pub fn dismiss(&self, n: u64, review: u64) {
        let mut w = self.world.lock().unwrap();
        for r in w.reviews.entry(n).or_default() {
            if r.id == review {
                r.state = "DISMISSED".into();
            }
        }
    }

    /// A team `org/slug` and its members.
    pub fn team(&self, team: &str, members: &[&str]) {
        let mut w = self.world.lock().unwrap();
        w.team_members.insert(
            team.to_string(),
            members.iter().map(|m| m.to_string()).collect(),
        );
    }

    /// The bare repository behind the forge: a pull request whose head is reachable from its
    /// base branch there reads as closed (merged), as GitHub closes it after such a push.
    pub fn serve_git(&self, dir: &Path) {
        self.world.lock().unwrap().git_dir = Some(dir.to_path_buf());
    }

    /// Whether pull request `n` is still open.
    pub fn is_open(&self, n: u64) -> bool {
        let mut w = self.world.lock().unwrap();
        close_if_merged(&mut w, n);
        w.pulls.get(&n).is_some_and(|p| p.open)
    }
}

/// Closes pull request `n` when its head is reachable from its base branch in the repository.
pub fn close_if_merged(w: &mut World, n: u64) {
    let Some(dir) = w.git_dir.clone() else {
        return;
    };
    let Some(p) = w.pulls.get_mut(&n) else {
        return;
    };
    if !p.open || p.head.is_empty() {
        return;
    }
    let ok = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&dir)
        .args([
            "merge-base",
            "--is-ancestor",
            &p.head,
            &format!("refs/heads/{}", p.base_ref),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        p.open = false;
        p.merged = true;
    }
}

fn review_json(op: &Operation, r: &ReviewRec) -> Value {
    let mut v = spec().example(op, 200)[0].clone();
    v["id"] = json!(r.id);
    let mut u = user(&r.login);
    u["id"] = json!(r.user_id);
    v["user"] = u;
    v["state"] = json!(r.state);
    v["commit_id"] = json!(r.commit_id);
    v["submitted_at"] = json!(r.submitted_at);
    v
}

/// Answers what this file implements, `None` for the rest.
pub fn answer(w: &mut World, op: &Operation, segs: &[String], query: &str) -> Option<(u16, Value)> {
    let num = |i: usize| segs[i].parse::<u64>().unwrap_or(0);
    Some(match (op.method.as_str(), op.template.as_str()) {
        ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews") => {
            let list: Vec<Value> = w
                .reviews
                .get(&num(4))
                .into_iter()
                .flatten()
                .map(|r| review_json(op, r))
                .collect();
            (200, json!(list))
        }
        ("GET", "/repos/{owner}/{repo}/pulls") => {
            let base = url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "base")
                .map(|(_, v)| v.into_owned());
            let numbers: Vec<u64> = w.pulls.keys().copied().collect();
            for n in &numbers {
                close_if_merged(w, *n);
            }
            let list: Vec<Value> = w
                .pulls
                .iter()
                .filter(|(_, p)| p.open && base.as_ref().is_none_or(|b| *b == p.base_ref))
                .map(|(n, p)| {
                    let mut v = spec().example(op, 200)[0].clone();
                    v["number"] = json!(n);
                    v["state"] = json!("open");
                    v["head"]["sha"] = json!(p.head);
                    v["base"]["ref"] = json!(p.base_ref);
                    v["user"] = user(&p.author);
                    v["requested_teams"] = json!([]);
                    v["html_url"] = json!(format!("https://github.com/{OWNER}/{REPO}/pull/{n}"));
                    v
                })
                .collect();
            (200, json!(list))
        }
        _ => return None,
    })
}
