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

mod changes;
/// How long the catalog must stay quiet after a change before a rebuild starts (an editor's
/// save is often several events: write a temporary file, rename it, change attributes).
mod files;
mod pages;

use changes::*;
use files::*;
use pages::*;
pub use pages::{diagnostics_page, failure_page, inject_reload};

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
