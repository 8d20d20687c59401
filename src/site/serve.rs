//! `bazaar serve`: a local preview of the site. It builds the catalog into a private folder,
//! serves that folder over HTTP, watches the catalog's files and rebuilds after every change,
//! and tells open pages to reload through Server-Sent Events. While the latest build has errors
//! (or failed outright), every page shows the findings instead, with file, line and column, so a
//! contributor sees what to fix in the browser they are previewing with.
//!
//! Nothing here prints: what happens is reported through a [`Log`] callback.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use notify::Watcher;
use tokio::sync::{broadcast, mpsc, watch};

use super::{BuildOptions, Built, SiteError, build};
use crate::catalog::snapshot::TRACKED_ROOTS;
use crate::diagnostics::{Format, Report, Severity, render};

/// The Server-Sent Events stream pages listen on for `reload` events.
pub const EVENTS_PATH: &str = "/__bazaar/events";
/// The JSON status of the latest build: `{"generation": n, "ok": bool, "errors": n}`.
pub const STATUS_PATH: &str = "/__bazaar/status";
/// The live-reload script every page loads (a file: the pages' policy runs no inline script).
pub const RELOAD_PATH: &str = "/__bazaar/reload.js";
/// The style sheet of the preview's own pages (diagnostics, failed build).
pub const STYLE_PATH: &str = "/__bazaar/preview.css";

/// How long a client may take to send a request's headers before the connection is closed
/// (a slow client must not hold connections open forever).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the catalog must stay quiet after a change before a rebuild starts (an editor's
/// save is often several events: write a temporary file, rename it, change attributes).
const DEBOUNCE: Duration = Duration::from_millis(150);

/// What to serve, and where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The catalog repository (its working tree is what gets built).
    pub root: PathBuf,
    /// The address to listen on (127.0.0.1 keeps the preview on this machine).
    pub bind: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The run's clock, policy engine and limits.
    pub ctx: crate::context::Context,
}

/// What the server reports while it runs. `Display` gives the line the CLI prints.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// The server is listening.
    Serving {
        /// `http://ADDR:PORT/`.
        url: String,
    },
    /// A build succeeded without errors.
    Rebuilt {
        /// Which build this was (1 is the first).
        generation: u64,
        /// Pages written.
        pages: usize,
        /// How long it took.
        seconds: f64,
    },
    /// A build succeeded but the catalog has errors: pages show the diagnostics.
    Diagnostics {
        /// Error findings.
        errors: usize,
    },
    /// A build failed; pages show the error and the last good site stays on disk.
    Failed {
        /// Why.
        message: String,
    },
    /// The server listens on an address other machines can reach.
    Exposed {
        /// The address.
        addr: SocketAddr,
    },
    /// The server stopped and removed its private build.
    Stopped,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Serving { url } => write!(f, "serving {url}"),
            Note::Rebuilt {
                generation,
                pages,
                seconds,
            } => write!(
                f,
                "{} {pages} pages in {seconds:.2} s",
                if *generation <= 1 { "built" } else { "rebuilt" }
            ),
            Note::Diagnostics { errors } => write!(
                f,
                "{errors} error(s): showing diagnostics on every page until they are fixed (`bazaar check` shows them too)"
            ),
            Note::Failed { message } => write!(
                f,
                "build failed: {message}; pages show the error until the next good build"
            ),
            Note::Exposed { addr } => write!(
                f,
                "warning: listening on {addr}, which other machines can reach; the preview is meant for this one (the default --bind 127.0.0.1 keeps it local)"
            ),
            Note::Stopped => write!(f, "stopped"),
        }
    }
}

/// Where the server's notes go (the CLI prints them on stderr).
pub type Log = Arc<dyn Fn(&Note) + Send + Sync>;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The first build could not read the catalog or write the site.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// The address is taken or not ours.
    #[error(
        "cannot listen on {addr}: {cause}; pass another --port (0 picks a free one) or --bind address"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause (part of the message, so not a `source`).
        cause: std::io::Error,
    },
    /// The catalog's files cannot be watched.
    #[error(
        "cannot watch {path} for changes: {cause} (on Linux, raising fs.inotify.max_user_watches may help)"
    )]
    Watch {
        /// The folder.
        path: PathBuf,
        /// The cause (part of the message, so not a `source`).
        cause: notify::Error,
    },
    /// The server failed while running.
    #[error("the preview server failed: {0}")]
    Server(std::io::Error),
}

/// The private folder `serve` publishes its builds at: inside `.git/bazaar/` when the root is a
/// Git repository with a `.git` folder, else `.bazaar-serve/` at the root (which carries its
/// own `.gitignore`). Never inside `catalog/` or any folder the catalog is read from.
pub fn out_dir(root: &Path) -> PathBuf {
    let git = root.join(".git");
    if git.is_dir() {
        git.join("bazaar").join("serve").join("public")
    } else {
        root.join(".bazaar-serve").join("public")
    }
}

/// The latest build, as pages see it.
#[derive(Debug, Clone, Default)]
struct Status {
    /// Builds done so far (the first is 1).
    generation: u64,
    /// The build succeeded without errors.
    ok: bool,
    /// Error findings (1 when the build failed).
    errors: usize,
    /// The diagnostics page shown instead of every page, when not ok.
    overlay: Option<Arc<str>>,
    /// The Content-Security-Policy of the latest site built (sent with every answer).
    csp: Option<Arc<str>>,
}

/// What the handlers and the rebuild loop share.
struct Shared {
    root: PathBuf,
    /// The port the server listens on (requests must name it in `Host`).
    port: u16,
    out: PathBuf,
    ctx: crate::context::Context,
    status: RwLock<Status>,
    reload: broadcast::Sender<u64>,
    stop: watch::Receiver<bool>,
    log: Log,
}

impl Shared {
    fn status(&self) -> Status {
        self.status
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn build_options(&self) -> BuildOptions {
        BuildOptions {
            root: self.root.clone(),
            rev: None,
            out: self.out.clone(),
            ctx: self.ctx.clone(),
        }
    }

    /// Records a build's outcome, tells open pages to reload and logs it.
    fn apply(&self, result: Result<Built, SiteError>, elapsed: Duration) {
        let mut pages = 0;
        let mut csp = None;
        let (ok, errors, overlay, note) = match result {
            Ok(built) => {
                pages = built.pages;
                csp = Some(Arc::from(built.csp.as_str()));
                match built.report.count(Severity::Error) {
                    0 => (true, 0, None, None),
                    errors => (
                        false,
                        errors,
                        Some(diagnostics_page(&built.report)),
                        Some(Note::Diagnostics { errors }),
                    ),
                }
            }
            Err(e) => {
                let message = error_chain(&e);
                (
                    false,
                    1,
                    Some(failure_page(&message)),
                    Some(Note::Failed { message }),
                )
            }
        };
        let generation = {
            let mut s = self.status.write().unwrap_or_else(PoisonError::into_inner);
            s.generation += 1;
            s.ok = ok;
            s.errors = errors;
            s.overlay = overlay.map(Arc::from);
            if csp.is_some() {
                s.csp = csp;
            }
            s.generation
        };
        let _ = self.reload.send(generation);
        (self.log)(&note.unwrap_or(Note::Rebuilt {
            generation,
            pages,
            seconds: elapsed.as_secs_f64(),
        }));
    }
}

/// Builds the site, serves it on `opts.bind:opts.port` and rebuilds after every change to the
/// catalog until `shutdown` completes; then removes the private build and returns.
///
/// Fails before serving when the catalog cannot be read (not a catalog, missing root), the site
/// cannot be written, the address cannot be bound or the files cannot be watched. Later build
/// failures are shown in the pages instead.
pub async fn serve(
    opts: ServeOptions,
    log: Log,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let root = std::fs::canonicalize(&opts.root)
        .map_err(|_| SiteError::Check(crate::check::CheckError::NoRoot(opts.root.clone())))?;
    let out = out_dir(&root);
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|cause| ServeError::Bind { addr, cause })?;
    let addr = listener
        .local_addr()
        .map_err(|cause| ServeError::Bind { addr, cause })?;

    // watch before the first build, so a change made while it runs is not missed
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    let watched = root.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Some(rewatch) = classify(&watched, event) {
            let _ = changes_tx.send(rewatch);
        }
    })
    .map_err(|cause| ServeError::Watch {
        path: root.clone(),
        cause,
    })?;
    watch_catalog(&mut watcher, &root)?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let (reload, _) = broadcast::channel(16);
    let shared = Arc::new(Shared {
        root: root.clone(),
        port: addr.port(),
        out: out.clone(),
        ctx: opts.ctx.clone(),
        status: RwLock::new(Status::default()),
        reload,
        stop: stop_rx.clone(),
        log: log.clone(),
    });

    let first = {
        let o = shared.build_options();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            (build(&o), started.elapsed())
        })
        .await
        .map_err(|e| ServeError::Server(std::io::Error::other(e)))?
    };
    match first {
        (Err(e @ (SiteError::Check(_) | SiteError::Io { .. } | SiteError::Refused { .. })), _) => {
            cleanup(&root, &out);
            return Err(e.into());
        }
        (result, elapsed) => shared.apply(result, elapsed),
    }
    ignore_in_git(&out);

    let rebuilder = tokio::spawn(rebuild_loop(
        shared.clone(),
        changes_rx,
        watcher,
        stop_rx.clone(),
    ));
    let app = router(shared.clone());
    let mut server = tokio::spawn(accept_loop(listener, app, stop_rx.clone()));
    log(&Note::Serving {
        url: format!("http://{addr}/"),
    });
    if !addr.ip().is_loopback() {
        log(&Note::Exposed { addr });
    }

    let failed = tokio::select! {
        () = shutdown => None,
        r = &mut server => Some(match r {
            Ok(Ok(())) => std::io::Error::other("the server stopped unexpectedly"),
            Ok(Err(e)) => e,
            Err(e) => std::io::Error::other(e),
        }),
    };
    let _ = stop_tx.send(true);
    if failed.is_none() {
        // open event streams end on `stop`; a connection that lingers does not hold us up
        let _ = tokio::time::timeout(Duration::from_secs(3), &mut server).await;
        server.abort();
    }
    // let a build in progress finish before its folder is removed
    let _ = rebuilder.await;
    cleanup(&root, &out);
    log(&Note::Stopped);
    match failed {
        Some(e) => Err(ServeError::Server(e)),
        None => Ok(()),
    }
}

/// Accepts connections until `stop`, each served by hyper's HTTP/1 with a deadline for the
/// request headers ([`HEADER_TIMEOUT`]); then waits for open connections to finish.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                // a connection that failed before it was accepted, or too many open files:
                // keep serving the others
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = async { let _ = stop.wait_for(|stop| *stop).await; } => break,
        };
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(
                hyper_util::rt::TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(app.clone()),
            );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The HTTP routes: the event stream, the status, the preview's script and style, and the site
/// for everything else; every request first passes [`guard`].
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(EVENTS_PATH, get(events))
        .route(STATUS_PATH, get(status))
        .route(RELOAD_PATH, get(reload_script))
        .route(STYLE_PATH, get(preview_style))
        .fallback(site)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// Answers only requests addressed to this server by a name that cannot be rebound: `localhost`
/// or an IP address, with the port it listens on. A page on another site whose DNS name now
/// resolves to 127.0.0.1 (DNS rebinding) sends its own name and gets 421. Every answer carries
/// the site's Content-Security-Policy.
async fn guard(
    State(shared): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let mut r = if host_allowed(host, shared.port) {
        next.run(req).await
    } else {
        response(
            StatusCode::MISDIRECTED_REQUEST,
            "text/plain; charset=utf-8",
            Body::from(format!(
                "this preview answers only to localhost:{0} or an IP address with port {0}\n",
                shared.port
            )),
        )
    };
    let csp = shared
        .status()
        .csp
        .unwrap_or_else(|| Arc::from(super::model::content_security_policy(None).as_str()));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// Whether a `Host` header names this server: `localhost` or an IP address (names that DNS
/// rebinding cannot take over), with `port` (which may be left out only when it is 80).
fn host_allowed(host: &str, port: u16) -> bool {
    let (name, given) = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        match rest.split_once(']') {
            Some((v6, tail)) if v6.parse::<std::net::Ipv6Addr>().is_ok() => {
                (v6, tail.strip_prefix(':'))
            }
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        }
    };
    let port_ok = match given {
        Some(p) => p.parse::<u16>() == Ok(port),
        None => port == 80,
    };
    let name_ok = name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::Ipv4Addr>().is_ok()
        || (host.starts_with('[') && name.parse::<std::net::Ipv6Addr>().is_ok());
    port_ok && name_ok
}

/// `/__bazaar/reload.js`: reloads the page when a build newer than the one it was served from
/// (its `data-generation`) is announced, including after a restart.
async fn reload_script() -> Response {
    response(
        StatusCode::OK,
        "text/javascript; charset=utf-8",
        Body::from(format!(
            "(function(){{var me=document.currentScript;var g=me&&me.getAttribute(\"data-generation\");\
var s=new EventSource(\"{EVENTS_PATH}\");function check(e){{if(e.data!==g){{s.close();location.reload();}}}}\
s.addEventListener(\"hello\",check);s.addEventListener(\"reload\",check);}})();\n"
        )),
    )
}

/// `/__bazaar/preview.css`: the style of the diagnostics and failure pages.
async fn preview_style() -> Response {
    response(
        StatusCode::OK,
        "text/css; charset=utf-8",
        Body::from(PAGE_STYLE),
    )
}

/// Rebuilds after each quiet period that follows a change, until `stop`.
async fn rebuild_loop(
    shared: Arc<Shared>,
    mut changes: mpsc::UnboundedReceiver<bool>,
    mut watcher: notify::RecommendedWatcher,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let mut rewatch = tokio::select! {
            c = changes.recv() => match c {
                Some(c) => c,
                None => return,
            },
            _ = stop.wait_for(|stop| *stop) => return,
        };
        loop {
            match tokio::time::timeout(DEBOUNCE, changes.recv()).await {
                Ok(Some(c)) => rewatch |= c,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        if *stop.borrow() {
            return;
        }
        if rewatch {
            // a top-level folder came or went: watch what is there now
            for top in TRACKED_ROOTS {
                let _ = watcher.unwatch(&shared.root.join(top));
            }
            let _ = watch_catalog(&mut watcher, &shared.root);
        }
        let s = shared.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let result = build(&s.build_options());
            s.apply(result, started.elapsed());
        })
        .await;
    }
}

/// Watches the root (not recursively: `bazaar.toml` and the top-level folders coming and going)
/// and each folder the catalog is read from, recursively. The rest of the root (`.git/`,
/// `target/`, the output) is never watched.
fn watch_catalog(watcher: &mut notify::RecommendedWatcher, root: &Path) -> Result<(), ServeError> {
    let mut first_error = None;
    let mut try_watch = |path: &Path, mode| {
        if let Err(cause) = watcher.watch(path, mode) {
            first_error.get_or_insert(ServeError::Watch {
                path: path.to_path_buf(),
                cause,
            });
        }
    };
    try_watch(root, notify::RecursiveMode::NonRecursive);
    for top in TRACKED_ROOTS {
        let dir = root.join(top);
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            try_watch(&dir, notify::RecursiveMode::Recursive);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Whether a file-system event calls for a rebuild: `None` when not, `Some(true)` when it
/// touches a top-level entry (the watches must be renewed), `Some(false)` otherwise.
fn classify(root: &Path, event: notify::Result<notify::Event>) -> Option<bool> {
    use notify::EventKind;
    use notify::event::{MetadataKind, ModifyKind};
    let event = match event {
        // the watcher lost track (e.g. its queue overflowed): rebuild to be safe
        Err(_) => return Some(true),
        Ok(e) => e,
    };
    match event.kind {
        // reading files (the build itself does) changes nothing
        EventKind::Access(_)
        | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => {
            return None;
        }
        _ => {}
    }
    let mut relevant = None;
    for path in &event.paths {
        if let Some(top) = relevant_path(root, path) {
            relevant = Some(relevant.unwrap_or(false) || top);
        }
    }
    relevant
}

/// `Some(top_folder)` when a change to `path` can change the site: it lies in what the catalog
/// is read from and is not hidden (`.git/`, editor locks) or an editor's temporary file.
/// `top_folder` says the path is one of the top-level folders itself (created, removed, renamed).
fn relevant_path(root: &Path, path: &Path) -> Option<bool> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next()?;
    if !TRACKED_ROOTS.contains(&first.as_ref()) {
        return None;
    }
    let mut depth = 1;
    for part in parts {
        if part == "target" {
            return None;
        }
        depth += 1;
    }
    let name = rel.file_name()?.to_string_lossy();
    if rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        || editor_temp(&name)
    {
        return None;
    }
    Some(depth == 1 && first != "bazaar.toml")
}

/// Temporary files editors write while saving (vim's swap files and `4913` probe, Emacs' lock
/// and autosave files, backups ending in `~`).
fn editor_temp(name: &str) -> bool {
    name == "4913"
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || [".swp", ".swo", ".swx", ".tmp"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// Makes Git ignore `.bazaar-serve/` without touching the repository's own `.gitignore`.
fn ignore_in_git(out: &Path) {
    if let Some(dir) = out.parent()
        && dir.file_name().is_some_and(|n| n == ".bazaar-serve")
    {
        let ignore = dir.join(".gitignore");
        if !ignore.exists() && std::fs::create_dir_all(dir).is_ok() {
            let _ = std::fs::write(ignore, "# bazaar serve's private build\n*\n");
        }
    }
}

/// Removes the published link, both build folders (when Bazaar's ledger says they are its own)
/// and the ledger (and `.bazaar-serve/` when nothing else is left in it).
fn cleanup(root: &Path, out: &Path) {
    let ledger = super::publish::Ledger::of(root, out);
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = std::fs::remove_file(out);
    }
    for slot in super::publish::slots(out) {
        if matches!(ledger.owns(&slot), Ok(true)) {
            let _ = ledger.remove(&slot);
        }
    }
    ledger.forget();
    if let Some(dir) = out.parent()
        && dir.file_name().is_some_and(|n| n == ".bazaar-serve")
    {
        let only_ignore = std::fs::read_dir(dir)
            .is_ok_and(|entries| entries.flatten().all(|e| e.file_name() == ".gitignore"));
        if only_ignore {
            let _ = std::fs::remove_file(dir.join(".gitignore"));
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// `/__bazaar/status`: the latest build, for scripts and tests that wait on rebuilds.
async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let s = shared.status();
    let body = serde_json::json!({ "generation": s.generation, "ok": s.ok, "errors": s.errors });
    response(
        StatusCode::OK,
        "application/json",
        Body::from(body.to_string()),
    )
}

/// `/__bazaar/events`: a `hello` event with the current generation, then a `reload` event
/// (with the new generation) after every build, until the server stops.
async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = shared.reload.subscribe();
    let stop = shared.stop.clone();
    let hello = Some(shared.status().generation);
    let stream =
        futures_util::stream::unfold((hello, rx, stop), |(hello, mut rx, mut stop)| async move {
            if let Some(g) = hello {
                let e = Event::default().event("hello").data(g.to_string());
                return Some((Ok(e), (None, rx, stop)));
            }
            loop {
                if *stop.borrow() {
                    return None;
                }
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(g) => {
                            let e = Event::default().event("reload").data(g.to_string());
                            return Some((Ok(e), (None, rx, stop)));
                        }
                        // missed some: the next one carries the latest generation
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    },
                    r = stop.changed() => if r.is_err() {
                        return None;
                    },
                }
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Everything else: a file of the latest published build.
async fn site(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            Body::from("only GET and HEAD\n"),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = uri.path().to_string();
    let query = uri.query().map(str::to_string);
    tokio::task::spawn_blocking(move || respond(&shared, &path, query.as_deref()))
        .await
        .unwrap_or_else(|_| {
            response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                Body::from("internal error\n"),
            )
        })
}

/// Resolves a request path inside the published build (resolving the link now: it moves with
/// every rebuild) and answers with the file, a redirect to the folder's `/`, or the 404 page.
fn respond(shared: &Shared, raw_path: &str, query: Option<&str>) -> Response {
    let segments = match clean_path(raw_path) {
        Ok(s) => s,
        Err(why) => {
            return response(
                StatusCode::BAD_REQUEST,
                "text/plain; charset=utf-8",
                Body::from(format!("bad request: {why}\n")),
            );
        }
    };
    let status = shared.status();
    // while the diagnostics replace the pages, a page that is missing (an app left out for its
    // errors, or the whole site when the first build failed) shows them too
    let page = looks_like_page(&segments, raw_path);
    let missing = |base: Option<&Path>| match &status.overlay {
        Some(_) if page => html(StatusCode::OK, None, &status),
        _ => not_found(base, &status),
    };
    let Ok(base) = std::fs::canonicalize(&shared.out) else {
        return missing(None);
    };
    let mut file = base.clone();
    file.extend(&segments);
    let Some(mut file) = inside(&base, &file) else {
        return missing(Some(&base));
    };
    if file.is_dir() {
        if !raw_path.ends_with('/') {
            // relative links need the trailing slash; `//host` must not become a redirect away
            let mut location = format!("/{}/", raw_path.trim_start_matches('/'));
            if let Some(q) = query {
                location.push('?');
                location.push_str(q);
            }
            if let Ok(location) = HeaderValue::from_str(&location) {
                let mut r = response(
                    StatusCode::PERMANENT_REDIRECT,
                    "text/plain; charset=utf-8",
                    Body::empty(),
                );
                r.headers_mut().insert(header::LOCATION, location);
                return r;
            }
            return missing(Some(&base));
        }
        match inside(&base, &file.join("index.html")) {
            Some(index) => file = index,
            None => return missing(Some(&base)),
        }
    }
    // only regular files (the path is canonical: never a link itself)
    if !std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file()) {
        return missing(Some(&base));
    }
    let Ok(bytes) = std::fs::read(&file) else {
        return missing(Some(&base));
    };
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "html" {
        return html(
            StatusCode::OK,
            Some(&String::from_utf8_lossy(&bytes)),
            &status,
        );
    }
    response(StatusCode::OK, content_type(ext), Body::from(bytes))
}

/// Whether a request asks for a page (a folder, `.html`, or a name without an extension) rather
/// than an asset.
fn looks_like_page(segments: &[String], raw_path: &str) -> bool {
    raw_path.ends_with('/')
        || segments
            .last()
            .is_none_or(|last| last.ends_with(".html") || !last.contains('.'))
}

/// The canonical path of `path` when it exists and lies inside `base` (itself canonical):
/// links that lead out of the build are refused.
fn inside(base: &Path, path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    real.starts_with(base).then_some(real)
}

/// The path's segments, percent-decoded once; `..`, backslashes and NUL are refused so a
/// request can never name anything outside the site. Empty and `.` segments are dropped, so an
/// "absolute" `//etc/passwd` is just `etc/passwd` inside the site.
fn clean_path(raw: &str) -> Result<Vec<String>, &'static str> {
    let decoded = percent_decode(raw).ok_or("malformed percent-encoding")?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err("backslash or NUL in path");
    }
    let mut segments = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err("`..` in path"),
            s => segments.push(s.to_string()),
        }
    }
    Ok(segments)
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type of a file by its extension.
fn content_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "atom" => "application/atom+xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        // Pagefind's index files, and anything unknown
        _ => "application/octet-stream",
    }
}

/// The site's 404 page (or a plain one), with status 404.
fn not_found(base: Option<&Path>, status: &Status) -> Response {
    let page = base
        .and_then(|b| inside(b, &b.join("404.html")))
        .and_then(|p| std::fs::read(p).ok())
        .map(|b| {
            // served at any depth: its relative links are relative to the site's root
            let text = String::from_utf8_lossy(&b).into_owned();
            match find_ignore_case(&text, "<head>", false) {
                Some(i) => format!("{}<base href=\"/\">{}", &text[..i + 6], &text[i + 6..]),
                None => text,
            }
        })
        .unwrap_or_else(|| {
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body><h1>Not found</h1><p><a href=\"/\">Browse all apps</a></p></body></html>".to_string()
        });
    html(StatusCode::NOT_FOUND, Some(&page), status)
}

/// An HTML response: the page (or, while the latest build has errors, the diagnostics page)
/// with the live-reload script before `</body>`.
fn html(code: StatusCode, page: Option<&str>, status: &Status) -> Response {
    let page = match (&status.overlay, page) {
        (Some(overlay), _) => overlay.to_string(),
        (None, Some(page)) => page.to_string(),
        (None, None) => String::new(),
    };
    response(
        code,
        content_type("html"),
        Body::from(inject_reload(&page, status.generation)),
    )
}

/// A response with the headers every answer of the preview carries.
fn response(code: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut r = (code, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// Inserts the live-reload script (a file of the preview, [`RELOAD_PATH`]) just before the last
/// `</body>` (or at the end). The page reloads when a build newer than the one it was served
/// from is announced, including when it reconnects to a restarted server.
pub fn inject_reload(page: &str, generation: u64) -> String {
    let script =
        format!("<script src=\"{RELOAD_PATH}\" data-generation=\"{generation}\"></script>\n");
    match find_ignore_case(page, "</body>", true) {
        Some(i) => format!("{}{script}{}", &page[..i], &page[i..]),
        None => format!("{page}{script}"),
    }
}

/// Byte offset of an ASCII `needle` in `hay`, ignoring ASCII case; the last one when `last`.
fn find_ignore_case(hay: &str, needle: &str, last: bool) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    let mut hits = (0..=h.len() - n.len()).filter(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n));
    if last { hits.next_back() } else { hits.next() }
}

// Escapes text for HTML element content and attribute values (the XML escape is valid HTML).
use super::xml_escape as escape_html;

const PAGE_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fff7f7;color:#1d1d1f}\
main{max-width:60rem;margin:0 auto;padding:1.5rem}h1{color:#b00020;font-size:1.5rem}\
ol{padding-left:1.25rem}li{margin:0 0 1rem}code,pre{font:14px/1.4 ui-monospace,monospace}\
pre{background:#1d1d1f;color:#f5f5f7;padding:1rem;overflow:auto;border-radius:6px}\
.code{color:#b00020;font-weight:700}.where{margin:0}.help{margin:0;color:#3a3a3c}";

fn page_shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<link rel=\"stylesheet\" href=\"{STYLE_PATH}\">\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape_html(title)
    )
}

/// The page shown instead of every page while the catalog has errors: each error's code,
/// message, `file:line:col`, app and help, then the same findings as `bazaar check` prints them.
/// Everything contributors wrote is escaped.
pub fn diagnostics_page(report: &Report) -> String {
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect();
    let mut body = format!(
        "<h1>{} error{} in the catalog</h1>\n<p>Apps with errors are left out of the site. \
Fix the files below and save: this page reloads by itself, and shows the site again once the \
catalog builds without errors.</p>\n<ol class=\"findings\">\n",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for f in &errors {
        body.push_str(&format!(
            "<li><p><span class=\"code\">{}</span> <span class=\"message\">{}</span></p>\n",
            escape_html(f.code.as_str()),
            escape_html(&f.message)
        ));
        if let Some(l) = &f.location {
            body.push_str(&format!(
                "<p class=\"where\"><code>{}:{}:{}</code></p>\n",
                escape_html(&l.file),
                l.line,
                l.column
            ));
        }
        if let Some(app) = &f.app {
            body.push_str(&format!(
                "<p class=\"where\">app: <code>{}</code></p>\n",
                escape_html(app)
            ));
        }
        if let Some(help) = &f.help {
            body.push_str(&format!(
                "<p class=\"help\">help: {}</p>\n",
                escape_html(help)
            ));
        }
        body.push_str("</li>\n");
    }
    body.push_str("</ol>\n<h2>As <code>bazaar check</code> shows them</h2>\n<pre>");
    let only_errors = Report {
        findings: errors.clone(),
        sources: report.sources.clone(),
        apps_checked: report.apps_checked,
        apps_total: report.apps_total,
        ..Default::default()
    };
    body.push_str(&escape_html(&render(&only_errors, Format::Human, false)));
    body.push_str("</pre>\n");
    page_shell(
        &format!("{} error(s) — Bazaar preview", errors.len()),
        &body,
    )
}

/// The page shown instead of every page when the site could not be built at all.
pub fn failure_page(message: &str) -> String {
    page_shell(
        "Build failed — Bazaar preview",
        &format!(
            "<h1>The site could not be built</h1>\n<pre>{}</pre>\n<p>Fix the problem and save: \
this page reloads by itself once the site builds again.</p>\n",
            escape_html(message)
        ),
    )
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        // transparent wrappers repeat their source's message
        if !s.ends_with(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_site() {
        assert_eq!(clean_path("/apps/x/").unwrap(), ["apps", "x"]);
        assert_eq!(clean_path("//etc/passwd").unwrap(), ["etc", "passwd"]);
        assert_eq!(clean_path("/./a/./b").unwrap(), ["a", "b"]);
        for bad in [
            "/../x",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fx",
            "/a%2f..%2f..%2fx",
            "/a\\..\\x",
            "/a%5c..",
            "/a%00",
            "/%zz",
            "/%2",
            "/%ff",
        ] {
            assert!(clean_path(bad).is_err(), "{bad}");
        }
        // decoded once: a double-encoded dot-dot is just an odd file name
        assert_eq!(clean_path("/%252e%252e").unwrap(), ["%2e%2e"]);
    }

    #[test]
    fn the_script_goes_before_the_last_body_end() {
        let page = inject_reload("<html><body><p>x</p></BODY></html>", 7);
        let at = page.find("<script").unwrap();
        assert!(
            page[at..].starts_with("<script src=\"/__bazaar/reload.js\" data-generation=\"7\">")
        );
        assert!(page.ends_with("</script>\n</BODY></html>"), "{page}");
        assert!(inject_reload("no body", 1).starts_with("no body<script"));
    }

    #[test]
    fn only_names_that_cannot_be_rebound_are_answered() {
        for ok in [
            "127.0.0.1:8000",
            "localhost:8000",
            "LOCALHOST:8000",
            "[::1]:8000",
            "192.168.1.5:8000",
        ] {
            assert!(host_allowed(ok, 8000), "{ok}");
        }
        for bad in [
            "evil.example:8000",
            "evil.example",
            "localhost",
            "127.0.0.1:8001",
            "localhost.evil.example:8000",
            "[::1]",
            "::1:8000",
            "",
            "127.0.0.1:8000:8000",
        ] {
            assert!(!host_allowed(bad, 8000), "{bad}");
        }
        assert!(host_allowed("localhost", 80));
    }

    #[test]
    fn editor_temp_files_and_outside_paths_do_not_rebuild() {
        let root = Path::new("/r");
        assert_eq!(
            relevant_path(root, Path::new("/r/catalog/a/b/app.toml")),
            Some(false)
        );
        assert_eq!(
            relevant_path(root, Path::new("/r/bazaar.toml")),
            Some(false)
        );
        assert_eq!(relevant_path(root, Path::new("/r/catalog")), Some(true));
        for ignored in [
            "/r/.git/index",
            "/r/target/debug/x",
            "/r/.bazaar-serve/public",
            "/r/public",
            "/r/catalog/a/.app.toml.swp",
            "/r/catalog/a/app.toml~",
            "/r/catalog/a/.#app.toml",
            "/r/catalog/a/4913",
            "/r/catalog/a/.hidden/app.toml",
            "/elsewhere/catalog/a/app.toml",
        ] {
            assert_eq!(relevant_path(root, Path::new(ignored)), None, "{ignored}");
        }
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&apos;y&apos;&gt;&amp;&lt;/a&gt;"
        );
    }
}
