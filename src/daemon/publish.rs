//! The site follows the main branch: every push to it (Bazaar's merge or anyone's) asks for a
//! rebuild; requests made while a build runs coalesce, so a burst of merges builds the newest
//! revision once. The build publishes atomically into the site folder; the revision last
//! published is kept in the data dir, so a restart rebuilds only when the branch moved.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Notify;

use crate::forge::Forge;

use super::Ctx;

/// Asks for rebuilds; cheap to call from any handler.
#[derive(Debug, Default)]
pub struct Publisher {
    wanted: Notify,
}

impl Publisher {
    /// Asks for the site to be rebuilt from the main branch's newest revision.
    pub fn request(&self) {
        // one stored permit at most: requests during a build collapse into one more build
        self.wanted.notify_one();
    }
}

fn marker<F>(ctx: &Ctx<F>) -> PathBuf {
    ctx.config.data_dir.join("published")
}

/// The revision the site was last published from.
pub fn last_published<F>(ctx: &Ctx<F>) -> Option<String> {
    std::fs::read_to_string(marker(ctx))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| crate::review::is_commit_id(s))
}

/// Runs forever: waits for a request, builds the newest main revision, publishes it.
pub async fn run<F: Forge>(ctx: Arc<Ctx<F>>) {
    loop {
        ctx.publish.wanted.notified().await;
        if let Err(e) = once(&ctx).await {
            tracing::error!(error = %e, "publishing the site failed; the previous site keeps serving");
        }
    }
}

/// Builds and publishes the main branch's newest revision, unless it is already published.
pub async fn once<F: Forge>(ctx: &Ctx<F>) -> Result<Option<String>, String> {
    let Some(out) = ctx.config.site_dir.clone() else {
        return Ok(None);
    };
    let token = ctx.git_token().await.map_err(|e| e.to_string())?;
    let mirror = ctx.mirror.clone();
    let branch = ctx.config.main_branch.clone();
    let rev = tokio::task::spawn_blocking(move || {
        mirror.fetch_branch(&branch, token.as_ref())?;
        mirror.resolve(&format!("refs/heads/{branch}"))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if last_published(ctx).as_deref() == Some(rev.as_str()) && out.exists() {
        return Ok(None);
    }
    let started = Instant::now();
    tracing::info!(rev = %rev, "building the site");
    let opts = crate::site::BuildOptions {
        root: ctx.mirror.path().to_path_buf(),
        rev: Some(rev.clone()),
        out,
        ctx: ctx.config.context.clone(),
    };
    let built = tokio::task::spawn_blocking(move || crate::site::build(&opts))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    record(&marker(ctx), &rev).map_err(|e| format!("cannot record the published revision: {e}"))?;
    tracing::info!(
        rev = %rev,
        pages = built.pages,
        rendered = built.rendered,
        ms = started.elapsed().as_millis() as u64,
        "site published"
    );
    Ok(Some(rev))
}

/// Writes the published revision: a new file renamed into place, so a crash leaves the old one.
fn record(path: &std::path::Path, rev: &str) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(rev.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
