//! One handler per feature. A handler gets a typed event and the daemon's context, talks to the
//! forge through the [`Forge`] trait and to Git through the mirror, and never sees HTTP.

mod approvals;
mod check;
mod finish;
mod labels;
pub mod lifecycle;
mod lifecycle_issues;
pub mod merge;
mod redeliver;
mod sticky;

use crate::forge::{Forge, ForgeError};

use super::Ctx;
use super::event::Event;
use super::mirror::MirrorError;

pub use check::check_pull;
pub use redeliver::ask_again;

/// How a delivery's work ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Reported on the pull request.
    Reported(&'static str),
    /// Nothing to do, and why.
    Skipped(String),
}

impl Outcome {
    /// For the journal and logs.
    pub fn label(&self) -> String {
        match self {
            Outcome::Reported(c) => format!("reported:{c}"),
            Outcome::Skipped(why) => format!("skipped:{why}"),
        }
    }
}

/// Why a delivery's work failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The forge failed.
    #[error(transparent)]
    Forge(#[from] ForgeError),
    /// The mirror could not be brought up to date.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// A worker thread died.
    #[error("the check stopped unexpectedly: {0}")]
    Panicked(String),
    /// The merge could not be made (no key, a key the base does not trust, git failed).
    #[error("cannot merge: {0}")]
    Merge(String),
}

impl JobError {
    /// Whether trying again later can help (an unreachable remote or forge, a rate limit, a
    /// forge error on its side), as opposed to a request the forge refuses.
    pub fn retryable(&self) -> bool {
        match self {
            JobError::Forge(e) => {
                e.outcome_unknown() || matches!(e.status(), Some(403 | 429 | 401))
            }
            JobError::Mirror(_) => true,
            JobError::Panicked(_) | JobError::Merge(_) => false,
        }
    }
}

/// Works one event.
pub async fn handle<F: Forge>(ctx: &Ctx<F>, event: &Event) -> Result<Outcome, JobError> {
    match event {
        Event::CheckPull { number, trigger } => check_pull(ctx, *number, *trigger).await,
        Event::Pushed { branch } if *branch == ctx.config.main_branch => {
            ctx.publish.request();
            Ok(Outcome::Skipped(format!(
                "{branch} moved: the site is rebuilt"
            )))
        }
        Event::Pushed { branch } => Ok(Outcome::Skipped(format!("push to {branch}"))),
        Event::Ignored(why) => Ok(Outcome::Skipped(why.clone())),
    }
}
