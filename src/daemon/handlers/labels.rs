//! Labels `risk:…`, `tier:…`, `needs:<role>`: created in the repository when missing, added and
//! removed so the pull request carries exactly the current ones of Bazaar's prefixes.

use crate::forge::{Forge, ForgeResult, LabelSpec};

use super::super::Ctx;
use super::super::report::LABEL_PREFIXES;

/// Brings the pull request's Bazaar labels to `wanted`.
pub async fn sync<F: Forge>(ctx: &Ctx<F>, number: u64, wanted: &[LabelSpec]) -> ForgeResult<()> {
    let have = ctx.forge.labels(number).await?;
    let missing: Vec<&LabelSpec> = wanted
        .iter()
        .filter(|w| !have.iter().any(|h| h.eq_ignore_ascii_case(&w.name)))
        .collect();
    for l in &missing {
        ctx.forge.ensure_label(l).await?;
    }
    let names: Vec<String> = missing.iter().map(|l| l.name.clone()).collect();
    ctx.forge.add_labels(number, &names).await?;
    for h in &have {
        let ours = LABEL_PREFIXES.iter().any(|p| h.starts_with(p));
        if ours && !wanted.iter().any(|w| w.name.eq_ignore_ascii_case(h)) {
            ctx.forge.remove_label(number, h).await?;
        }
    }
    Ok(())
}
