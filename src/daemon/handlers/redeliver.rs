//! Deliveries missed while the daemon was down or refused (503): on start, the App's delivery
//! list is read and every delivery none of whose attempts succeeded, and that the journal does
//! not hold, is asked again from GitHub.

use std::collections::{BTreeMap, HashSet};

use crate::forge::{Forge, ForgeResult};

use super::super::Ctx;

/// Asks GitHub to redeliver what failed and was never journaled; returns how many.
pub async fn ask_again<F: Forge>(ctx: &Ctx<F>, journaled: &HashSet<String>) -> ForgeResult<usize> {
    // guid → (any attempt succeeded, newest failed attempt)
    let mut by_guid: BTreeMap<String, (bool, u64)> = BTreeMap::new();
    for d in ctx.forge.recent_deliveries().await? {
        let e = by_guid.entry(d.guid).or_insert((false, 0));
        e.0 |= d.ok;
        if !d.ok {
            e.1 = e.1.max(d.id);
        }
    }
    let mut asked = 0;
    for (guid, (ok, attempt)) in by_guid {
        if ok || attempt == 0 || journaled.contains(&guid) {
            continue;
        }
        ctx.forge.redeliver(attempt).await?;
        tracing::info!(delivery = %guid, attempt, "asked GitHub to deliver a missed webhook again");
        asked += 1;
    }
    Ok(asked)
}
