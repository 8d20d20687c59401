//! The check of a pull request: re-read it from the forge (the webhook is only a signal), fetch
//! base and head into the mirror, judge the head as `bazaar check --base` does, and report: a
//! check run on the head, the sticky comment and the labels. Only the current head may write
//! the comment and labels, so an evaluation of an older head never overwrites a newer one.

use crate::forge::{CheckOutput, Conclusion, Forge};

use super::super::event::Trigger;
use super::super::{Ctx, report, verdict};
use super::{JobError, Outcome, labels, sticky};

/// Checks pull request `number` and reports on it.
pub async fn check_pull<F: Forge>(
    ctx: &Ctx<F>,
    number: u64,
    trigger: Trigger,
) -> Result<Outcome, JobError> {
    let pull = ctx.forge.pull(number).await?;
    if !pull.open {
        return Ok(Outcome::Skipped("closed".into()));
    }
    if pull.draft {
        return Ok(Outcome::Skipped("draft".into()));
    }
    let name = &ctx.config.check_name;
    let run = match ctx.forge.find_check_run(&pull.head_sha, name).await? {
        // A new push (or a duplicate of it) whose head was already reported: nothing changed.
        Some(r) if r.completed && trigger == Trigger::Push => {
            return Ok(Outcome::Skipped(format!(
                "head {} already reported",
                &pull.head_sha
            )));
        }
        // Interrupted before it completed: carry on with it.
        Some(r) if !r.completed => r,
        _ => ctx.forge.start_check_run(&pull.head_sha, name).await?,
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
    let rendered = match evaluated {
        Ok(ev) => report::render(&ev, &pull.head_sha, &pull.base_ref, &base),
        Err(e) => {
            // The catalog could not be read at all (no bazaar.toml, a broken tree): say so on
            // the check run; there is no verdict to put in the comment or labels.
            let output = CheckOutput {
                title: "Bazaar could not check this pull request".into(),
                summary: report::cut(&format!("{e}"), report::MAX_SUMMARY),
                annotations: Vec::new(),
            };
            ctx.forge
                .complete_check_run(run.id, Conclusion::Failure, &output)
                .await?;
            return Ok(Outcome::Reported("failure"));
        }
    };

    // The pull request's shared state (comment, labels) is written only for its current head.
    let now = ctx.forge.pull(number).await?;
    if now.open && now.head_sha == pull.head_sha {
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
    ctx.forge
        .complete_check_run(run.id, rendered.conclusion, &rendered.output)
        .await?;
    Ok(Outcome::Reported(match rendered.conclusion {
        Conclusion::Success => "success",
        Conclusion::Failure => "failure",
        Conclusion::Neutral => "neutral",
    }))
}
