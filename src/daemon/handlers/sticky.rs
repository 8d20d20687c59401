//! The one sticky comment: found by its hidden marker and its author being Bazaar's bot,
//! edited in place, duplicates removed (the oldest is kept).

use crate::forge::{Forge, ForgeResult};

use super::super::Ctx;
use super::super::report::{STICKY_MARKER, head_marker};

/// Makes the pull request's sticky comment say `body` (which describes `head`).
pub async fn sync<F: Forge>(ctx: &Ctx<F>, number: u64, body: &str, head: &str) -> ForgeResult<()> {
    let bot = ctx.bot_login().await?;
    let mut ours: Vec<_> = ctx
        .forge
        .comments(number)
        .await?
        .into_iter()
        .filter(|c| c.body.contains(STICKY_MARKER) && c.author.eq_ignore_ascii_case(&bot))
        .collect();
    ours.sort_by_key(|c| c.id);
    match ours.first() {
        None => {
            ctx.forge
                .create_comment(number, body, &head_marker(head))
                .await?;
        }
        Some(oldest) => {
            if oldest.body != body {
                ctx.forge.edit_comment(oldest.id, body).await?;
            }
            for dup in &ours[1..] {
                ctx.forge.delete_comment(dup.id).await?;
            }
        }
    }
    Ok(())
}
