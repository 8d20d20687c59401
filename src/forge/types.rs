//! The values the forge trades in: pull requests, check runs, comments and labels.

use serde::{Deserialize, Serialize};

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoName {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository's name.
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`.
    pub fn parse(s: &str) -> Option<RepoName> {
        let (owner, name) = s.split_once('/')?;
        let ok = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (ok(owner) && ok(name)).then(|| RepoName {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for RepoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A pull request as the forge sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    /// Its number.
    pub number: u64,
    /// The head commit.
    pub head_sha: String,
    /// The branch it merges into.
    pub base_ref: String,
    /// The base branch's commit as the forge last computed it.
    pub base_sha: String,
    /// Open (not closed or merged).
    pub open: bool,
    /// A draft.
    pub draft: bool,
    /// The author's login.
    pub author: String,
    /// Its web address.
    pub html_url: String,
    /// When it was opened.
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A check run's status while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Queued.
    Queued,
    /// Running.
    InProgress,
    /// Done (a conclusion is set).
    Completed,
}

/// How a check run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conclusion {
    /// Nothing blocks.
    Success,
    /// Something blocks.
    Failure,
    /// Could not be judged (Bazaar itself failed).
    Neutral,
}

/// The level of a line annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    /// Informational.
    Notice,
    /// A warning.
    Warning,
    /// Blocks.
    Failure,
}

/// A line annotation on a file of the head commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// Repository-relative path.
    pub path: String,
    /// First line (1-based).
    pub start_line: u64,
    /// Last line.
    pub end_line: u64,
    /// First column, only when `start_line == end_line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u64>,
    /// Last column, only when `start_line == end_line`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u64>,
    /// Level.
    pub annotation_level: AnnotationLevel,
    /// What is wrong (at most 64 KB).
    pub message: String,
    /// Short title (at most 255 characters).
    pub title: String,
}

/// A check run's output: title, Markdown summary and annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOutput {
    /// One line (at most 255 characters).
    pub title: String,
    /// Markdown (at most 65,535 characters).
    pub summary: String,
    /// All annotations; the forge sends them in batches of at most 50.
    pub annotations: Vec<Annotation>,
}

/// A check run that exists on the forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// Its id.
    pub id: u64,
    /// The commit it is about.
    pub head_sha: String,
    /// Its name.
    pub name: String,
    /// Completed or not.
    pub completed: bool,
    /// How it ended, when completed (`success`, `failure`, …).
    pub conclusion: Option<String>,
    /// When Bazaar's first run of this name on the head started: the moment it first saw the
    /// head (as [`Forge::find_check_run`](super::Forge::find_check_run) reports it).
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A comment on a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Its id (ids grow with time: the smallest is the oldest).
    pub id: u64,
    /// Its author's login.
    pub author: String,
    /// Its Markdown.
    pub body: String,
}

/// A label to create when missing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LabelSpec {
    /// Its name.
    pub name: String,
    /// Six hex digits, no `#`.
    pub color: String,
    /// What it means (at most 100 characters).
    pub description: String,
}

/// One attempt GitHub made at delivering a webhook to the App.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookDelivery {
    /// The attempt's id (for redelivery).
    pub id: u64,
    /// The delivery's id (`X-GitHub-Delivery`), the same for every attempt at it.
    pub guid: String,
    /// Whether the receiver answered 2xx.
    pub ok: bool,
}
