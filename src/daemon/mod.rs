//! `bazaar daemon`: GitHub webhooks in, checks out. The HTTP edge verifies each delivery once
//! and turns it into a typed event; the journal makes an accepted delivery survive a crash; the
//! queue works each pull request's events in order; one handler per feature does the work
//! through the [`Forge`] trait and the bare [`mirror`](mirror::Mirror).

pub mod config;
pub mod event;
mod handlers;
mod http;
pub mod journal;
mod metrics;
pub mod mirror;
pub mod publish;
mod queue;
pub mod report;
pub mod signature;
pub mod verdict;

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use config::{Config, ConfigError, Sources};
pub use handlers::Outcome;

use crate::forge::{Forge, ForgeError, ForgeResult, ForgeStats, GitHub, Secret};
use event::{Event, classify};
use journal::{Delivery, Journal};
use metrics::Metrics;
use mirror::{Mirror, MirrorError};
use queue::{Lane, Queue};

/// What the handlers share.
pub struct Ctx<F> {
    /// The forge.
    pub forge: F,
    /// The bare mirror.
    pub mirror: Arc<Mirror>,
    /// The settings.
    pub config: Config,
    /// Counters.
    pub metrics: Metrics,
    /// Rebuilds of the site, coalesced.
    pub publish: publish::Publisher,
    /// One merge at a time: the mirror's main branch is each merge's base.
    pub merging: tokio::sync::Mutex<()>,
    bot: tokio::sync::OnceCell<String>,
}

impl<F: Forge> Ctx<F> {
    /// A context.
    pub fn new(forge: F, mirror: Arc<Mirror>, config: Config) -> Ctx<F> {
        Ctx {
            forge,
            mirror,
            config,
            metrics: Metrics::default(),
            publish: publish::Publisher::default(),
            merging: tokio::sync::Mutex::new(()),
            bot: tokio::sync::OnceCell::new(),
        }
    }

    /// The login Bazaar acts as (asked once).
    pub async fn bot_login(&self) -> ForgeResult<String> {
        self.bot
            .get_or_try_init(|| self.forge.bot_login())
            .await
            .cloned()
    }

    /// The bot's login if already known.
    pub fn known_bot(&self) -> Option<&str> {
        self.bot.get().map(String::as_str)
    }

    /// The token for git, only for a remote over HTTPS.
    pub async fn git_token(&self) -> ForgeResult<Option<Secret>> {
        if self.config.remote_url.starts_with("https://") {
            self.forge.git_token().await
        } else {
            Ok(None)
        }
    }
}

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// A file or socket problem, with what was being done.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The forge client could not be set up.
    #[error(transparent)]
    Forge(#[from] ForgeError),
    /// The mirror could not be created.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// `replay` was given an id the journal does not hold.
    #[error(
        "delivery {0} is not in the journal (kept: the last 10,000 done and every pending one)"
    )]
    UnknownDelivery(String),
}

/// The running daemon's state behind the HTTP edge.
pub struct Service<F> {
    ctx: Arc<Ctx<F>>,
    journal: Journal,
    queue: Arc<Queue>,
    seen: Mutex<HashSet<String>>,
    forge_stats: Arc<ForgeStats>,
    ready: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl<F: Forge> Service<F> {
    async fn accept(self: &Arc<Self>, d: Delivery, ev: Event, at: Instant) -> http::Accepted {
        if !self.seen.lock().expect("lock").insert(d.id.clone()) {
            return http::Accepted::Duplicate;
        }
        let Some(slot) = self.queue.reserve() else {
            self.seen.lock().expect("lock").remove(&d.id);
            return http::Accepted::Full;
        };
        if let Err(e) = self.journal.accept(&d).await {
            self.seen.lock().expect("lock").remove(&d.id);
            return http::Accepted::NotJournaled(e);
        }
        self.enqueue(slot, d, ev, at);
        http::Accepted::Queued
    }

    fn enqueue(self: &Arc<Self>, slot: queue::Slot, d: Delivery, ev: Event, at: Instant) {
        let lane = match &ev {
            Event::CheckPull { number, .. } => Lane::Pull(*number),
            Event::Ignored(_) | Event::Pushed { .. } => Lane::Other,
        };
        let svc = self.clone();
        slot.push(lane, move || async move { svc.work(d, ev, at).await });
    }

    async fn work(&self, d: Delivery, ev: Event, at: Instant) {
        let attempts = self.ctx.config.attempts.max(1);
        let mut attempt = 0;
        loop {
            match handlers::handle(&self.ctx, &ev).await {
                Ok(outcome) => {
                    tracing::info!(id = %d.id, event = %d.event, outcome = %outcome.label(), "delivery done");
                    self.journal.done(&d.id, &outcome.label());
                    self.ctx.metrics.delivery(&d.event, "done");
                    break;
                }
                Err(e) if e.retryable() && attempt + 1 < attempts => {
                    let wait = Duration::from_secs(1 << attempt.min(6));
                    tracing::warn!(id = %d.id, error = %e, wait_s = wait.as_secs(), "delivery failed; trying again");
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                Err(e) if e.retryable() => {
                    // Left undone in the journal: the next start works it again.
                    tracing::error!(id = %d.id, error = %e, "delivery failed; left for the next start");
                    self.ctx.metrics.delivery(&d.event, "failed_retryable");
                    break;
                }
                Err(e) => {
                    tracing::error!(id = %d.id, error = %e, "delivery failed");
                    self.journal.done(&d.id, &format!("failed:{e}"));
                    self.ctx.metrics.delivery(&d.event, "failed");
                    break;
                }
            }
        }
        self.ctx.metrics.processed(at.elapsed());
    }

    /// Brings every open pull request into the main branch to its right state (checks,
    /// comment, labels, merge when ready) and rebuilds the site if the branch moved: what was
    /// missed while the daemon was down, or refused by a full queue, is caught here. Its work
    /// goes through the same per-pull-request lanes as deliveries, but is not journaled (the
    /// next reconcile does it again).
    async fn reconcile(self: &Arc<Self>) -> Result<usize, ForgeError> {
        self.ctx.publish.request();
        let open = self
            .ctx
            .forge
            .open_pulls(&self.ctx.config.main_branch)
            .await?;
        let mut queued = 0;
        for number in open {
            let Some(slot) = self.queue.reserve() else {
                tracing::warn!("queue full: the rest of the reconcile waits for the next one");
                break;
            };
            let ctx = self.ctx.clone();
            slot.push(Lane::Pull(number), move || async move {
                let ev = Event::CheckPull {
                    number,
                    trigger: event::Trigger::Reconcile,
                };
                match handlers::handle(&ctx, &ev).await {
                    Ok(o) => tracing::debug!(number, outcome = %o.label(), "reconciled"),
                    Err(e) => {
                        tracing::warn!(number, error = %e, "reconcile of a pull request failed")
                    }
                }
            });
            queued += 1;
        }
        Ok(queued)
    }

    /// Mirror remote and forge reachable (checked at most every `every`).
    async fn ready(&self, every: Duration) -> Result<(), String> {
        let mut cached = self.ready.lock().await;
        if let Some((when, r)) = cached.as_ref()
            && when.elapsed() < every
        {
            return r.clone();
        }
        let r = async {
            let token = self.ctx.git_token().await.map_err(|e| e.to_string())?;
            let mirror = self.ctx.mirror.clone();
            tokio::task::spawn_blocking(move || mirror.probe(token.as_ref()))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("the remote does not answer: {e}"))?;
            self.ctx
                .forge
                .ping()
                .await
                .map_err(|e| format!("the forge does not answer: {e}"))
        }
        .await;
        *cached = Some((Instant::now(), r.clone()));
        r
    }
}

fn forge_of(config: &Config) -> Result<GitHub, ForgeError> {
    GitHub::new(
        &config.api_url,
        config.repository.clone(),
        config.auth.clone(),
        config.bot_login.clone(),
    )
}

fn parse(d: &Delivery, config: &Config, bot: Option<&str>) -> Event {
    classify(
        &d.event,
        d.body.as_bytes(),
        &config.repository.to_string(),
        bot,
    )
    .unwrap_or_else(|e| Event::Ignored(format!("unreadable journaled body: {e}")))
}

/// Runs the daemon until `shutdown` completes, then drains: stops accepting, finishes queued
/// work (up to the drain timeout) and returns.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DaemonError> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e| DaemonError::Io(what, e)
    };
    std::fs::create_dir_all(&config.data_dir).map_err(io("cannot create the data dir"))?;
    let (journal, recovered) =
        Journal::open(&config.data_dir.join("journal")).map_err(io("cannot open the journal"))?;
    let mirror = Arc::new(Mirror::open(
        &config.data_dir.join("mirror.git"),
        &config.remote_url,
    )?);
    let forge = forge_of(&config)?;
    let forge_stats = forge.stats();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(io(&format!("cannot listen on {}", config.listen)))?;
    let ctx = Arc::new(Ctx::new(forge, mirror, config));
    match ctx.bot_login().await {
        Ok(bot) => tracing::info!(bot = %bot, "acting as"),
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell Bazaar's own login yet; asked again when needed")
        }
    }
    let queue = Queue::new(ctx.config.queue_capacity, ctx.config.workers);
    let svc = Arc::new(Service {
        ctx: ctx.clone(),
        journal: journal.clone(),
        queue: queue.clone(),
        seen: Mutex::new(recovered.seen),
        forge_stats,
        ready: tokio::sync::Mutex::new(None),
    });
    // The mirror is filled in the background: the first check then only fetches its head.
    let filler = ctx.clone();
    tokio::spawn(async move {
        let token = filler.git_token().await.ok().flatten();
        let mirror = filler.mirror.clone();
        let started = Instant::now();
        match tokio::task::spawn_blocking(move || mirror.prefetch(token.as_ref())).await {
            Ok(Ok(())) => tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "mirror up to date"
            ),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot fill the mirror yet; each check fetches what it needs")
            }
            Err(e) => tracing::warn!(error = %e, "filling the mirror stopped"),
        }
    });
    // Deliveries GitHub could not make while the daemon was away are asked for again.
    let journaled = svc.seen.lock().expect("lock").clone();
    let asker = ctx.clone();
    tokio::spawn(async move {
        match handlers::ask_again(&asker, &journaled).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(asked = n, "missed deliveries asked again"),
            Err(e) => tracing::warn!(error = %e, "cannot read the App's webhook deliveries"),
        }
    });
    // The site follows the main branch; reconcile at start and then periodically.
    tokio::spawn(publish::run(ctx.clone()));
    let reconciler = svc.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(reconciler.ctx.config.reconcile_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match reconciler.reconcile().await {
                Ok(n) => tracing::info!(pulls = n, "reconcile queued"),
                Err(e) => {
                    tracing::warn!(error = %e, "reconcile could not list the open pull requests")
                }
            }
        }
    });
    // The lifecycle sweep on its schedule (BAZAAR_SWEEP_EVERY).
    tokio::spawn(handlers::lifecycle::schedule(ctx.clone()));
    let pending = recovered.pending.len();
    for d in recovered.pending {
        let ev = parse(&d, &ctx.config, ctx.known_bot());
        // Recovered work was accepted before: it is queued even past the capacity.
        let slot = queue.reserve().unwrap_or_else(|| queue.reserve_anyway());
        svc.enqueue(slot, d, ev, Instant::now());
    }
    tracing::info!(
        listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        repository = %ctx.config.repository,
        recovered = pending,
        "bazaar daemon listening"
    );
    axum::serve(listener, http::router(svc.clone()))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(io("the HTTP server failed"))?;
    tracing::info!(queued = queue.depth(), "stopping: draining queued work");
    if tokio::time::timeout(ctx.config.drain_timeout, queue.idle())
        .await
        .is_err()
    {
        tracing::warn!(
            left = queue.depth(),
            "drain timed out; the rest stays in the journal for the next start"
        );
    }
    journal
        .flush()
        .await
        .map_err(io("cannot flush the journal"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Works one journaled delivery again (for debugging) and says how it ended.
pub async fn replay(config: Config, id: &str) -> Result<String, DaemonError> {
    let dir = config.data_dir.join("journal");
    let d = Journal::find(&dir, id)
        .map_err(|e| DaemonError::Io("cannot read the journal".into(), e))?
        .ok_or_else(|| DaemonError::UnknownDelivery(id.to_string()))?;
    let mirror = Arc::new(Mirror::open(
        &config.data_dir.join("mirror.git"),
        &config.remote_url,
    )?);
    let forge = forge_of(&config)?;
    let ctx = Ctx::new(forge, mirror, config);
    let bot = ctx.bot_login().await.ok();
    let ev = parse(&d, &ctx.config, bot.as_deref());
    Ok(match handlers::handle(&ctx, &ev).await {
        Ok(o) => o.label(),
        Err(e) => format!("failed:{e}"),
    })
}
