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

/// Where the site is built: the folder target, or a folder of the data dir when only a branch
/// or bucket is published.
fn site_dir<F>(ctx: &Ctx<F>) -> Option<PathBuf> {
    let c = &ctx.config;
    c.site_dir.clone().or_else(|| {
        (c.publish_branch.is_some() || c.publish_bucket.is_some()).then(|| c.data_dir.join("site"))
    })
}

/// Builds and publishes the main branch's newest revision to every target, unless it is
/// already published. The revision is recorded only when every target took it, so a target
/// that failed is tried again by the next request (the reconcile makes one every few minutes).
pub async fn once<F: Forge>(ctx: &Ctx<F>) -> Result<Option<String>, String> {
    let Some(out) = site_dir(ctx) else {
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
    if let Some(branch) = &ctx.config.publish_branch {
        to_branch(ctx, &built.dir, branch).await?;
    }
    if let Some(bucket) = &ctx.config.publish_bucket {
        let target = crate::publish::Target::Bucket(bucket.clone());
        let p = crate::publish::publish(&built.dir, &target, None)
            .await
            .map_err(|e| format!("publishing to {}: {e}", bucket.url()))?;
        tracing::info!(
            target = %p.target,
            uploaded = p.uploaded,
            deleted = p.deleted,
            kept = p.kept,
            ms = p.timings_ms.total as u64,
            "site published to the bucket"
        );
    }
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

/// Commits the built site on `branch` of the mirror (brought level with the remote's first)
/// and pushes it with a lease on the remote's tip; a branch someone else moved is tried again
/// by the next publish.
async fn to_branch<F: Forge>(
    ctx: &Ctx<F>,
    built: &std::path::Path,
    branch: &str,
) -> Result<(), String> {
    let token = ctx.git_token().await.map_err(|e| e.to_string())?;
    let mirror = ctx.mirror.clone();
    let (b, t) = (branch.to_string(), token.clone());
    let before = tokio::task::spawn_blocking(move || mirror.sync_branch(&b, t.as_ref()))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let target = crate::publish::Target::Branch {
        repo: ctx.mirror.path().to_path_buf(),
        branch: branch.to_string(),
        push: None,
    };
    let p = crate::publish::publish(built, &target, None)
        .await
        .map_err(|e| format!("publishing to branch {branch}: {e}"))?;
    let Some(commit) = p.commit.clone() else {
        return Ok(());
    };
    let mirror = ctx.mirror.clone();
    let b = branch.to_string();
    let pushed = tokio::task::spawn_blocking(move || {
        mirror.push_with_lease(&b, before.as_deref().unwrap_or(""), &commit, token.as_ref())
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    match pushed {
        super::mirror::Pushed::Done => {
            tracing::info!(branch, commit = ?p.commit, uploaded = p.uploaded, "site published to the branch");
            Ok(())
        }
        super::mirror::Pushed::Moved(why) => Err(format!(
            "branch {branch} moved on the remote while publishing ({why}); the next publish tries again"
        )),
    }
}
