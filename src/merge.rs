//! `bazaar merge`: judge the tree that merging a submission's head into the base tip produces
//! (with the base's policies), verify that the approvals cover the roles those policies require,
//! and commit exactly that tree, signed by Bazaar's key, with trailers that say who approved
//! what on which head, against which base. The daemon calls the same function.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use git2::{BranchType, Oid, Repository};

use crate::catalog::{AppChange, Snapshot};
use crate::check::{CheckError, CheckOptions, Checked, check};
use crate::context::Context;
use crate::git::write::{WriteError, move_branch, signed_commit};
use crate::review::{Approval, MergeRecord, Roster, coverage};
use crate::signing::{KeyError, Signer};
use crate::source::merge::Outcome;

/// What to merge.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// The catalog repository.
    pub root: PathBuf,
    /// The branch to merge into (e.g. `main`).
    pub base: String,
    /// The submission's head revision.
    pub head: String,
    /// Bazaar's private signing key.
    pub key: PathBuf,
    /// Approvals, `LOGIN:ROLE:REVIEW_ID[@HEAD[@TIME]]`.
    pub approvals: Vec<String>,
    /// Approvals already typed (the daemon's, read from the forge's reviews, with the
    /// reviewer's user id and the team that grants the role).
    pub granted: Vec<Approval>,
    /// The submission's author (forge login).
    pub author: Option<String>,
    /// The submission's URL (https).
    pub submission: Option<String>,
    /// When the submission was opened.
    pub opened: Option<DateTime<Utc>>,
    /// A remote to push the base branch to, with a lease on where it was.
    pub push: Option<String>,
}

/// Why a merge did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// The submission may not be merged as it is (exit 1): checks block, approvals are missing,
    /// stale or invalid, the merge conflicts, or the working tree is dirty.
    #[error("merge refused:\n{}", .reasons.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused {
        /// What is wrong, one line each, with what to do.
        reasons: Vec<String>,
        /// The check's findings when checks blocked.
        checked: Option<Box<Checked>>,
    },
    /// The base branch already contains the head (merged before, perhaps by another daemon).
    #[error("merge refused:\n  - {0}")]
    UpToDate(String),
    /// The check could not run.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// Writing failed (including a branch that moved: nothing was overwritten).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Git failed.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    /// Bad arguments.
    #[error("{0}")]
    Invalid(String),
}

fn refused(reasons: Vec<String>) -> MergeError {
    MergeError::Refused {
        reasons,
        checked: None,
    }
}

/// The result of a merge.
#[derive(Debug)]
pub struct Merged {
    /// The signed merge commit.
    pub commit: String,
    /// What it records.
    pub record: MergeRecord,
    /// True when the working tree was updated to the new tip.
    pub worktree_updated: bool,
    /// True when the branch was pushed.
    pub pushed: bool,
}

/// Merges a submission: judges the tree that merging `head` into the base tip produces (with
/// the base's policies, roster and settings), checks the approvals, and commits exactly that
/// tree, signed, with a record naming the base tip it was judged against.
pub fn merge(ctx: &Context, opts: &MergeOptions) -> Result<Merged, MergeError> {
    // what goes into the signed record is checked before anything else happens
    if let Some(a) = &opts.author
        && !crate::manifest::is_login(a)
    {
        return Err(MergeError::Invalid(format!(
            "--author {:?} is not a forge login (letters, digits and single hyphens, at most 39)",
            a.chars().take(60).collect::<String>()
        )));
    }
    if let Some(u) = &opts.submission {
        crate::review::check_submission_url(u).map_err(MergeError::Invalid)?;
    }
    // approval times are kept to the second, as the record writes them
    let now = DateTime::from_timestamp(ctx.now().timestamp(), 0).unwrap_or_else(|| ctx.now());
    let repo = Repository::open(&opts.root)?;
    let branch = repo
        .find_branch(&opts.base, BranchType::Local)
        .map_err(|_| {
            MergeError::Invalid(format!(
                "there is no local branch {:?} in {}; pass the branch to merge into with --base",
                opts.base,
                opts.root.display()
            ))
        })?;
    let base_tip = branch.get().peel_to_commit()?;
    let head = repo
        .revparse_single(&opts.head)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| {
            MergeError::Invalid(format!(
                "--head {:?} is not a commit: {}",
                opts.head,
                e.message()
            ))
        })?;
    let (base_id, head_id) = (base_tip.id(), head.id());
    let head_hex = head_id.to_string();
    let mut approvals: Vec<Approval> = opts
        .approvals
        .iter()
        .map(|s| Approval::parse(s, &head_hex, now))
        .collect::<Result<_, _>>()
        .map_err(MergeError::Invalid)?;
    approvals.extend(opts.granted.iter().cloned());
    let signer = Signer::from_file(&opts.key)?;

    // 1. the merge result, judged by the base's policies
    let checked = check(
        ctx,
        &CheckOptions {
            root: opts.root.clone(),
            rev: Some(head_hex.clone()),
            base: Some(base_id.to_string()),
        },
    )?;
    let submission = checked
        .submission
        .clone()
        .expect("a check with base and revision judges a submission");
    let tree = match &submission.outcome {
        Outcome::Clean { tree } => Oid::from_str(tree)?,
        Outcome::UpToDate => {
            return Err(MergeError::UpToDate(format!(
                "{} already contains {}; there is nothing to merge",
                opts.base, opts.head
            )));
        }
        Outcome::Unrelated => {
            return Err(refused(vec![format!(
                "{} shares no history with {}; create the submission's branch from {} and commit the changes on it",
                opts.head, opts.base, opts.base
            )]));
        }
        Outcome::Conflict { paths } => {
            return Err(refused(vec![format!(
                "merging {} into {} conflicts in {}; rebase the submission on {} and push again",
                opts.head,
                opts.base,
                paths.join(", "),
                opts.base
            )]));
        }
    };
    if checked.report.blocks() {
        let n = checked.report.count(crate::diagnostics::Severity::Error);
        return Err(MergeError::Refused {
            reasons: vec![format!(
                "checks block the submission merged into its base ({n} error{}); run `bazaar check --base {} --rev {}`",
                if n == 1 { "" } else { "s" },
                opts.base,
                opts.head
            )],
            checked: Some(Box::new(checked)),
        });
    }

    // 2. approvals, judged by the base's roster
    // the roster and allowed_signers are all that is read from the base here
    let base_snap = Snapshot::from_rev_subset(&opts.root, &base_id.to_string(), &["policies"])
        .map_err(CheckError::from)?;
    let roster = match base_snap.read(crate::review::ROSTER_PATH, 1024 * 1024) {
        Ok(Ok(bytes)) => {
            let file = crate::manifest::decode(crate::review::ROSTER_PATH, &bytes, 1024 * 1024)
                .map_err(|f| MergeError::Invalid(f.message.clone()))?;
            Roster::parse(&file).map_err(|fs| {
                MergeError::Invalid(
                    fs.iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?
        }
        _ => {
            return Err(MergeError::Invalid(format!(
                "{} is missing on {}; nobody can approve",
                crate::review::ROSTER_PATH,
                opts.base
            )));
        }
    };
    let cov = coverage(
        &approvals,
        &checked.verdict.required_roles,
        &roster,
        opts.author.as_deref(),
        &head_hex,
    );
    if !cov.problems.is_empty() {
        let mut reasons: Vec<String> = cov.problems.iter().map(ToString::to_string).collect();
        let roles: Vec<&str> = checked
            .verdict
            .required_roles
            .iter()
            .map(String::as_str)
            .collect();
        reasons.push(format!(
            "risk {} requires approvals in: {}",
            checked.verdict.risk.as_str(),
            if roles.is_empty() {
                "no role".into()
            } else {
                roles.join(", ")
            }
        ));
        return Err(refused(reasons));
    }

    // 3. the working tree, when the base branch is checked out
    let follows = !repo.is_bare()
        && repo
            .head()
            .ok()
            .and_then(|h| h.name().ok().map(str::to_string))
            .as_deref()
            == Some(&format!("refs/heads/{}", opts.base));
    if follows {
        let dirty = crate::git::write::uncommitted(&repo, 5)?;
        if !dirty.is_empty() {
            return Err(refused(vec![format!(
                "{} is checked out with uncommitted changes ({}); commit or stash them first",
                opts.base,
                dirty.join(", ")
            )]));
        }
    }

    // 4. the signed record of exactly the tree that was judged
    let mut record = record(
        opts,
        &checked,
        cov.by_role.into_values().collect(),
        &head_hex,
    );
    record.base = Some(base_id.to_string());
    let message = record.message().map_err(MergeError::Invalid)?;
    let config = checked
        .catalog
        .config
        .as_ref()
        .and_then(|c| c.signing.clone());
    let who = match &config {
        Some(s) => git2::Signature::new(&s.name, &s.email, &git2::Time::new(ctx.now().timestamp(), 0))?,
        None => repo.signature().map_err(|_| MergeError::Invalid("no committer identity: set [signing] name and email in bazaar.toml (or git's user.name and user.email)".into()))?,
    };
    trusted_by_base(&base_snap, &signer, who.email().unwrap_or_default(), ctx)?;
    let commit = signed_commit(
        &repo,
        tree,
        &[base_id, head_id],
        &who,
        &who,
        &message,
        &signer,
    )?;

    // 5. push first with a lease (the remote branch must still be where the local one was),
    // then move the local branch with a compare-and-swap
    let pushed = match &opts.push {
        Some(remote) => {
            crate::git::write::push_with_lease(&repo, remote, &opts.base, Some(base_id), commit)?;
            true
        }
        None => false,
    };
    move_branch(&repo, &opts.base, commit, base_id, "bazaar merge")?;
    if follows {
        repo.checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
    }
    Ok(Merged {
        commit: commit.to_string(),
        record,
        worktree_updated: follows,
        pushed,
    })
}

/// Refuses to sign with a key the base does not trust for the committer (see
/// [`crate::signing::trusted_by`]).
fn trusted_by_base(
    base: &Snapshot,
    signer: &Signer,
    email: &str,
    ctx: &Context,
) -> Result<(), MergeError> {
    match crate::signing::trusted_by(base, signer, email, ctx.now()) {
        Ok(()) => Ok(()),
        Err(crate::signing::Untrusted::Unreadable(e)) => Err(MergeError::Invalid(e)),
        Err(e) => Err(refused(vec![e.to_string()])),
    }
}

fn record(
    opts: &MergeOptions,
    checked: &Checked,
    mut approvals: Vec<Approval>,
    head: &str,
) -> MergeRecord {
    approvals.sort_by(|a, b| a.role.cmp(&b.role));
    let id_of = |dir: &str| {
        checked
            .catalog
            .app_in(dir)
            .map(|a| a.app.id.clone())
            .unwrap_or_else(|| dir.to_string())
    };
    let mut r = MergeRecord {
        submission: opts.submission.clone(),
        opened: opts.opened,
        author: opts.author.clone(),
        head: head.to_string(),
        risk: checked.verdict.risk.as_str().to_string(),
        required_roles: Some(checked.verdict.required_roles.iter().cloned().collect()),
        approvals,
        ..Default::default()
    };
    for c in checked.diff.iter().flat_map(|d| &d.apps) {
        match c {
            AppChange::Added { dir } => r.added.push(id_of(dir)),
            AppChange::Changed { dir } => r.changed.push(id_of(dir)),
            AppChange::Removed { dir } => r.removed.push(dir.clone()),
            AppChange::Renamed { from, to } => r.renamed.push(format!("{from} -> {to}")),
        }
    }
    let number = opts
        .submission
        .as_deref()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let what: Vec<String> = r
        .added
        .iter()
        .map(|i| format!("add {i}"))
        .chain(r.changed.iter().map(|i| format!("update {i}")))
        .chain(r.removed.iter().map(|d| format!("remove {d}")))
        .chain(r.renamed.iter().map(|d| format!("move {d}")))
        .collect();
    let what = match what.len() {
        0 => "catalog settings".to_string(),
        1..=2 => what.join(", "),
        n => format!("{} and {} more", what[..2].join(", "), n - 2),
    };
    r.subject = match number {
        Some(n) => format!("Merge submission #{n}: {what}"),
        None => format!("Merge {}: {what}", opts.head),
    };
    r
}
