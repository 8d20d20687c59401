//! The check of a pull request: re-read it from the forge (the webhook is only a signal), fetch
//! base and head into the mirror, judge the head as `bazaar check --base` does, read its
//! approvals, and report: a check run on the head, the sticky comment and the labels. Only the
//! current head may write the comment and labels, so an evaluation of an older head never
//! overwrites a newer one. With a signing key the daemon also merges: the check run stays
//! pending until every required role approved, then the submission is merged (see
//! [`merge`](super::merge)).

use crate::forge::{CheckOutput, CheckRun, Conclusion, Forge};

use super::super::event::Trigger;
use super::super::{Ctx, report, verdict};
use super::merge::{Merge, merge_pull};
use super::{JobError, Outcome, approvals, finish, labels, sticky};

/// Checks pull request `number`, reports on it, and merges it when it is ready.
pub async fn check_pull<F: Forge>(
    ctx: &Ctx<F>,
    number: u64,
    trigger: Trigger,
) -> Result<Outcome, JobError> {
    let pull = ctx.forge.pull(number).await?;
    if !pull.open {
        return finish::after_close(ctx, &pull).await;
    }
    if pull.draft {
        return Ok(Outcome::Skipped("draft".into()));
    }
    let name = &ctx.config.check_name;
    let merging = ctx.config.signing_key.is_some() && pull.base_ref == ctx.config.main_branch;
    let found = ctx.forge.find_check_run(&pull.head_sha, name).await?;
    let (run, done): (CheckRun, bool) = match found {
        // A push (or a duplicate of it, or a reconcile) whose head was already reported.
        Some(r) if r.completed && matches!(trigger, Trigger::Push | Trigger::Reconcile) => {
            return Ok(Outcome::Skipped(format!(
                "head {} already reported",
                &pull.head_sha
            )));
        }
        // A review on a head whose run completed: comment and labels follow, the run stays.
        Some(r) if r.completed && trigger == Trigger::Review => (r, true),
        // Interrupted before it completed, or waiting for approvals: carry on with it.
        Some(r) if !r.completed => (r, false),
        _ => (
            ctx.forge.start_check_run(&pull.head_sha, name).await?,
            false,
        ),
    };

    let token = ctx.git_token().await?;
    let mirror = ctx.mirror.clone();
    let (base_ref, head) = (pull.base_ref.clone(), pull.head_sha.clone());
    let base = tokio::task::spawn_blocking(move || {
        mirror.fetch(&base_ref, number, &head, token.as_ref())?;
        mirror.resolve(&format!("refs/heads/{base_ref}"))
    })
    .await
    .map_err(|e| JobError::Panicked(e.to_string()))??;

    let repo = ctx.mirror.path().to_path_buf();
    let (head, base2, judge) = (
        pull.head_sha.clone(),
        base.clone(),
        ctx.config.context.clone(),
    );
    let evaluated =
        tokio::task::spawn_blocking(move || verdict::evaluate(&repo, &head, &base2, &judge))
            .await
            .map_err(|e| JobError::Panicked(e.to_string()))?;
    let ev = match evaluated {
        Ok(ev) => ev,
        Err(e) => {
            // The catalog could not be read at all (no bazaar.toml, a broken tree): say so on
            // the check run; there is no verdict to put in the comment or labels.
            let output = CheckOutput {
                title: "Bazaar could not check this pull request".into(),
                summary: report::cut(&format!("{e}"), report::MAX_SUMMARY),
                annotations: Vec::new(),
            };
            if !done {
                ctx.forge
                    .complete_check_run(run.id, Conclusion::Failure, &output)
                    .await?;
            }
            return Ok(Outcome::Reported("failure"));
        }
    };
    let blocks = ev.checked.report.blocks();
    let state = match &ev.roster {
        Ok(roster) if !blocks => Some(
            approvals::state(
                ctx,
                &pull,
                &ev.checked.verdict.required_roles,
                roster,
                run.started_at,
            )
            .await?,
        ),
        _ => None,
    };
    let rendered = report::render(&ev, &pull.head_sha, &pull.base_ref, &base, state.as_ref());

    // The pull request's shared state (comment, labels) is written only for its current head.
    let now = ctx.forge.pull(number).await?;
    let current = now.open && now.head_sha == pull.head_sha;
    if current {
        sticky::sync(ctx, number, &rendered.comment, &pull.head_sha).await?;
        labels::sync(ctx, number, &rendered.labels).await?;
    } else {
        tracing::info!(
            number,
            head = %pull.head_sha,
            current = %now.head_sha,
            "the head moved during the check: comment and labels left to the newer head"
        );
    }
    if done {
        return Ok(Outcome::Reported("approvals"));
    }
    let ready = state.as_ref().is_some_and(|s| s.ready());
    if blocks || !merging {
        ctx.forge
            .complete_check_run(run.id, rendered.conclusion, &rendered.output)
            .await?;
        return Ok(Outcome::Reported(match rendered.conclusion {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
        }));
    }
    if !ready || !current {
        let title = match &state {
            _ if !current => "Waiting: the pull request moved during the check".to_string(),
            Some(s) => format!("Waiting for approval: {}", s.missing().join(", ")),
            None => "Waiting: the base's roster could not be read".to_string(),
        };
        pending(ctx, &run, &rendered.output, &title, "").await?;
        return Ok(Outcome::Reported("waiting"));
    }
    let approvals = state.map(|s| s.approvals()).unwrap_or_default();
    match merge_pull(ctx, &pull, approvals).await? {
        Merge::Merged(commit) => {
            finish::merged(ctx, &pull, &run, &commit, &rendered.output).await?;
            ctx.publish.request();
            Ok(Outcome::Reported("merged"))
        }
        Merge::AlreadyMerged => finish::after_close(ctx, &pull).await,
        Merge::Refused(reasons) => {
            let why: String = reasons.iter().map(|r| format!("- {r}\n")).collect();
            let title = "Approved, but the merge was refused";
            pending(ctx, &run, &rendered.output, title, &why).await?;
            Ok(Outcome::Reported("refused"))
        }
    }
}

/// Keeps the run pending under `title`, with `why` above the report's summary.
async fn pending<F: Forge>(
    ctx: &Ctx<F>,
    run: &CheckRun,
    output: &CheckOutput,
    title: &str,
    why: &str,
) -> Result<(), JobError> {
    let out = CheckOutput {
        title: report::cut(title, 255),
        summary: report::cut(&format!("{why}\n{}", output.summary), report::MAX_SUMMARY),
        annotations: Vec::new(),
    };
    ctx.forge.pending_check_run(run.id, &out).await?;
    Ok(())
}
