//! The forge Bazaar works with: pull requests, check runs, comments and labels behind one trait,
//! and its GitHub implementation. The daemon's handlers only ever talk to a [`Forge`].

mod auth;
mod github;
mod issue;
mod ratelimit;
mod types;

use std::future::Future;

pub use auth::{AppCredentials, Auth, Secret};
pub use github::{ForgeStats, GitHub};
pub use issue::{Issue, IssueEdit, NewIssue};
pub use ratelimit::wait_for;
pub use types::{
    Annotation, AnnotationLevel, CheckOutput, CheckRun, CheckStatus, Comment, Conclusion,
    HookDelivery, LabelSpec, Pull, RepoName,
};

/// Why a forge call failed.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The forge could not be reached, or the answer was cut: whether a write happened is unknown.
    #[error("{what}: the forge could not be reached: {error}")]
    Unreachable {
        /// The call.
        what: String,
        /// The transport's error.
        error: String,
    },
    /// The forge answered with an error status.
    #[error("{what}: the forge answered {status}: {message}")]
    Status {
        /// The call.
        what: String,
        /// HTTP status.
        status: u16,
        /// The forge's message.
        message: String,
    },
    /// The answer was not what the API documents.
    #[error("{what}: unexpected answer from the forge: {error}")]
    Decode {
        /// The call.
        what: String,
        /// What was wrong.
        error: String,
    },
    /// Authentication could not be set up (bad App key, no installation).
    #[error("authentication with the forge failed: {0}")]
    Auth(String),
}

impl ForgeError {
    /// The HTTP status, when the forge answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ForgeError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the outcome of a write is unknown (the request may or may not have been done).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ForgeError::Unreachable { .. } | ForgeError::Decode { .. } => true,
            ForgeError::Status { status, .. } => *status >= 500,
            ForgeError::Auth(_) => false,
        }
    }
}

/// Result of a forge call.
pub type ForgeResult<T> = Result<T, ForgeError>;

/// What Bazaar needs from a forge. Writes that create something (check runs, comments) are never
/// retried blindly: an implementation that lost the answer reads back whether it happened.
pub trait Forge: Send + Sync + 'static {
    /// The login Bazaar acts as (`name[bot]` for an App): its own events are ignored.
    fn bot_login(&self) -> impl Future<Output = ForgeResult<String>> + Send;
    /// The token git uses over HTTPS to fetch from the forge, if any.
    fn git_token(&self) -> impl Future<Output = ForgeResult<Option<Secret>>> + Send;
    /// Whether the forge answers (for `/readyz`).
    fn ping(&self) -> impl Future<Output = ForgeResult<()>> + Send;
    /// A pull request's current state.
    fn pull(&self, number: u64) -> impl Future<Output = ForgeResult<Pull>> + Send;
    /// Bazaar's check run named `name` on `head_sha`, if there is one.
    fn find_check_run(
        &self,
        head_sha: &str,
        name: &str,
    ) -> impl Future<Output = ForgeResult<Option<CheckRun>>> + Send;
    /// Creates an `in_progress` check run (or returns the one a lost answer already created).
    fn start_check_run(
        &self,
        head_sha: &str,
        name: &str,
    ) -> impl Future<Output = ForgeResult<CheckRun>> + Send;
    fn complete_check_run(
        &self,
        id: u64,
        conclusion: Conclusion,
        output: &CheckOutput,
    ) -> impl Future<Output = ForgeResult<()>> + Send;
    /// Every comment on a pull request, oldest first.
    fn comments(&self, number: u64) -> impl Future<Output = ForgeResult<Vec<Comment>>> + Send;
    /// Adds a comment; when the answer is lost, `marker` finds out whether it was made.
    fn create_comment(
        &self,
        number: u64,
        body: &str,
        marker: &str,
    ) -> impl Future<Output = ForgeResult<Comment>> + Send;
    /// Replaces a comment's text.
    fn edit_comment(&self, id: u64, body: &str) -> impl Future<Output = ForgeResult<()>> + Send;
    /// Deletes a comment (already gone is fine).
    fn delete_comment(&self, id: u64) -> impl Future<Output = ForgeResult<()>> + Send;
    /// The labels on a pull request.
    fn labels(&self, number: u64) -> impl Future<Output = ForgeResult<Vec<String>>> + Send;
    /// Creates a repository label unless it exists.
    fn ensure_label(&self, label: &LabelSpec) -> impl Future<Output = ForgeResult<()>> + Send;
    /// Adds labels to a pull request (adding one it has is a no-op).
    fn add_labels(
        &self,
        number: u64,
        names: &[String],
    ) -> impl Future<Output = ForgeResult<()>> + Send;
    /// The App's recent webhook delivery attempts, newest first (empty without an App).
    fn recent_deliveries(&self) -> impl Future<Output = ForgeResult<Vec<HookDelivery>>> + Send;
    /// Asks the forge to deliver an attempt's webhook again.
    fn redeliver(&self, attempt: u64) -> impl Future<Output = ForgeResult<()>> + Send;
    /// Removes a label from a pull request (already gone is fine).
    fn remove_label(&self, number: u64, name: &str)
    -> impl Future<Output = ForgeResult<()>> + Send;
    /// Every review of a pull request (reviews only: comments are not approvals).
    fn reviews(
        &self,
        number: u64,
    ) -> impl Future<Output = ForgeResult<Vec<crate::review::state::Review>>> + Send;
    /// Numbers of the open pull requests into branch `base`.
    fn open_pulls(&self, base: &str) -> impl Future<Output = ForgeResult<Vec<u64>>> + Send;
    /// Keeps a check run in progress with a new title and summary (waiting for approvals).
    fn pending_check_run(
        &self,
        id: u64,
        output: &CheckOutput,
    ) -> impl Future<Output = ForgeResult<()>> + Send;
    /// Issues opened by `creator` (open and closed, newest first), pull requests left out.
    fn issues_by(&self, creator: &str) -> impl Future<Output = ForgeResult<Vec<Issue>>> + Send;
    /// Opens an issue; when the answer is lost, `marker` (in its body) finds out whether it
    /// was made.
    fn create_issue(
        &self,
        issue: &NewIssue,
        marker: &str,
    ) -> impl Future<Output = ForgeResult<Issue>> + Send;
    /// Changes an issue's text, state, labels or assignees in one write.
    fn edit_issue(
        &self,
        number: u64,
        edit: &IssueEdit,
    ) -> impl Future<Output = ForgeResult<Issue>> + Send;
    /// Whether `login` is a member of organization `org`.
    fn org_member(&self, org: &str, login: &str) -> impl Future<Output = ForgeResult<bool>> + Send;
    /// The logins of a team's members (`None`: the forge has no such team).
    fn team_members(
        &self,
        org: &str,
        team_slug: &str,
    ) -> impl Future<Output = ForgeResult<Option<Vec<String>>>> + Send;
}
