//! After the merge: the check run completes with the signed commit, a final comment links it.
//! Also run when a closed pull request is seen (a restart after the push but before these
//! writes), so a merge is always reported once.

use crate::forge::{CheckOutput, CheckRun, Conclusion, Forge, Pull};

use super::super::{Ctx, report};
use super::merge::merged_marker;
use super::{JobError, Outcome};

/// How far back along the main branch a restarted daemon looks for its own merge.
const LOOK_BACK: usize = 1000;

/// Reports the merge of `pull` as `commit`: the run completes, the final comment is left.
pub async fn merged<F: Forge>(
    ctx: &Ctx<F>,
    pull: &Pull,
    run: &CheckRun,
    commit: &str,
    output: &CheckOutput,
) -> Result<(), JobError> {
    let done = CheckOutput {
        title: format!("Merged as {}", &commit[..commit.len().min(12)]),
        summary: report::cut(
            &format!(
                "Merged into `{}` as `{commit}`, signed by Bazaar.\n\n{}",
                ctx.config.main_branch, output.summary
            ),
            report::MAX_SUMMARY,
        ),
        annotations: output.annotations.clone(),
    };
    if !run.completed {
        ctx.forge
            .complete_check_run(run.id, Conclusion::Success, &done)
            .await?;
    }
    let bot = ctx.bot_login().await?;
    let marker = merged_marker(commit);
    let said = ctx
        .forge
        .comments(pull.number)
        .await?
        .iter()
        .any(|c| c.body.contains(&marker) && c.author.eq_ignore_ascii_case(&bot));
    if !said {
        let body = format!(
            "{marker}\n✅ Merged into `{branch}` as {commit}, signed by Bazaar with the approvals \
             recorded in its trailers.\n\nVerify it with `git verify-commit {commit}` (with the \
             catalog's `allowed_signers`) or `bazaar audit`.",
            branch = ctx.config.main_branch,
        );
        ctx.forge
            .create_comment(pull.number, &body, &marker)
            .await?;
    }
    Ok(())
}

/// A closed pull request: if Bazaar merged it (its head is a merge's second parent on the main
/// branch), make sure the merge was reported; otherwise nothing to do.
pub async fn after_close<F: Forge>(ctx: &Ctx<F>, pull: &Pull) -> Result<Outcome, JobError> {
    if pull.base_ref != ctx.config.main_branch || ctx.config.signing_key.is_none() {
        return Ok(Outcome::Skipped("closed".into()));
    }
    let token = ctx.git_token().await?;
    let mirror = ctx.mirror.clone();
    let (branch, head) = (ctx.config.main_branch.clone(), pull.head_sha.clone());
    let commit = tokio::task::spawn_blocking(move || {
        mirror.fetch_branch(&branch, token.as_ref())?;
        Ok::<_, JobError>(mirror.merge_of(&branch, &head, LOOK_BACK))
    })
    .await
    .map_err(|e| JobError::Panicked(e.to_string()))??;
    let Some(commit) = commit else {
        return Ok(Outcome::Skipped("closed".into()));
    };
    let run = ctx
        .forge
        .find_check_run(&pull.head_sha, &ctx.config.check_name)
        .await?;
    let output = CheckOutput::default();
    match run {
        Some(run) => merged(ctx, pull, &run, &commit, &output).await?,
        None => {
            let run = ctx
                .forge
                .start_check_run(&pull.head_sha, &ctx.config.check_name)
                .await?;
            merged(ctx, pull, &run, &commit, &output).await?
        }
    }
    ctx.publish.request();
    Ok(Outcome::Reported("merged"))
}
