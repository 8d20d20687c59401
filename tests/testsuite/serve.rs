//! `bazaar serve`: the real binary on a copy of the demo catalog, spoken to over plain HTTP/1.1
//! on a `TcpStream`. It serves the site with the right content types and the live-reload script,
//! never anything outside the site, pushes `reload` events after a rebuild, shows a broken
//! manifest's findings on every page until it is fixed, keeps the last good site when a build
//! fails, and stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// How long anything may take before a test fails instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(30);

const APP: &str = "/apps/com.acme.finance.expense-tracker/";
const SCRIPT: &str = "<script src=\"/__bazaar/reload.js\" data-generation=";

/// A running `bazaar serve`; killed when dropped, so a failing test leaves no server behind.
struct Server {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bazaar"))
            .args(["serve", "--port", "0", "--root"])
            .arg(root)
            .env("NO_COLOR", "1")
            .env("BAZAAR_TODAY", TODAY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run bazaar serve");
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = channel::<String>();
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line.clone() + "\n"));
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            stderr,
        };
        server.addr = server.wait_for_url(&rx);
        server
    }

    /// Reads stderr until `serving http://ADDR/`.
    fn wait_for_url(&mut self, lines: &Receiver<String>) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("serving http://") {
                        return rest.split('/').next().unwrap().to_string();
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "bazaar serve printed no `serving http://…` line within {TIMEOUT:?}:\n{}",
                    self.stderr()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "bazaar serve exited before serving ({:?}):\n{}",
                    self.child.wait(),
                    self.stderr()
                ),
            }
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The server's stderr once it contains `needle` (its lines reach our reader a moment
    /// after the server acts), or as it is when the time is up.
    fn stderr_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let log = self.stderr();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn get(&self, target: &str) -> Reply {
        get(&self.addr, target)
    }

    fn events(&self) -> Events {
        Events::open(&self.addr)
    }

    fn status(&self) -> serde_json::Value {
        let r = self.get("/__bazaar/status");
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.header("content-type"), "application/json");
        serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("status is JSON ({e}): {}", r.body))
    }

    /// Polls the status until `done` says so (a rebuild takes a debounce and a build); returns
    /// the status.
    fn wait_for_status(
        &self,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let s = self.status();
            if done(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {TIMEOUT:?} (status {s}):\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The folder the server's published link points at now.
    fn served_dir(root: &Path) -> PathBuf {
        let link = root.join(".bazaar-serve/public");
        std::fs::canonicalize(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn connect(addr: &str, target: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_write_timeout(Some(TIMEOUT)).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s
}

/// Splits a response head into status and lower-cased headers.
fn parse_head(head: &str) -> (u16, Vec<(String, String)>) {
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

/// `GET target` (sent exactly as given, so tests can send what browsers would not).
fn get(addr: &str, target: &str) -> Reply {
    let mut s = connect(addr, target);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {target}: no complete answer within {TIMEOUT:?}: {e}"));
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {target}: incomplete response {raw:?}"));
    let (status, headers) = parse_head(head);
    let reply = Reply {
        status,
        headers,
        body: body.to_string(),
    };
    assert_ne!(
        reply.header("transfer-encoding"),
        "chunked",
        "GET {target}: files are sent with a length"
    );
    reply
}

/// An open `/__bazaar/events` stream.
struct Events {
    stream: TcpStream,
    seen: String,
}

impl Events {
    fn open(addr: &str) -> Events {
        let mut stream = connect(addr, "/__bazaar/events");
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        while !seen.contains("\r\n\r\n") {
            let n = stream
                .read(&mut buf)
                .unwrap_or_else(|e| panic!("no event-stream headers within {TIMEOUT:?}: {e}"));
            assert!(n > 0, "the event stream closed: {seen:?}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let (head, rest) = seen.split_once("\r\n\r\n").unwrap();
        let (status, headers) = parse_head(head);
        assert_eq!(status, 200, "{seen}");
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream")),
            "{head}"
        );
        let seen = rest.to_string();
        Events { stream, seen }
    }

    /// Reads until an `event: NAME` line has arrived (after what was already consumed).
    fn wait_for(&mut self, name: &str) {
        let needle = format!("event: {name}\n");
        let deadline = Instant::now() + TIMEOUT;
        let mut buf = [0u8; 4096];
        while !self.seen.contains(&needle) {
            assert!(
                Instant::now() < deadline,
                "no `{name}` event within {TIMEOUT:?}; got {:?}",
                self.seen
            );
            let n = self
                .stream
                .read(&mut buf)
                .unwrap_or_else(|e| panic!("no `{name}` event within {TIMEOUT:?}: {e}"));
            assert!(
                n > 0,
                "the event stream closed before `{name}`: {:?}",
                self.seen
            );
            self.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let at = self.seen.find(&needle).unwrap() + needle.len();
        self.seen.drain(..at);
    }
}

fn assert_html_with_script(r: &Reply, what: &str) {
    assert!(
        r.header("content-type").starts_with("text/html"),
        "{what}: {}",
        r.header("content-type")
    );
    let script = r
        .body
        .find(SCRIPT)
        .unwrap_or_else(|| panic!("{what}: no live-reload script:\n{}", r.body));
    let end = r.body.rfind("</body>").expect("</body>");
    assert!(script < end, "{what}: the script must come before </body>");
}

#[test]
fn serve_previews_the_demo_site_and_stops_cleanly_on_ctrl_c() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    assert_eq!(
        server.status(),
        serde_json::json!({ "generation": 1, "ok": true, "errors": 0 })
    );

    let index = server.get("/");
    assert_eq!(index.status, 200, "{}", index.body);
    assert_html_with_script(&index, "index");
    assert!(index.body.contains("id=\"search\""), "{}", index.body);
    let all = server.get("/apps/");
    assert_eq!(all.body.matches("class=\"app-card\"").count(), 23);

    let app = server.get(APP);
    assert_eq!(app.status, 200, "{}", app.body);
    assert_html_with_script(&app, "app page");
    assert!(app.body.contains("Expense Tracker") && app.body.contains("<dt>Owner</dt>"));
    let same = server.get(&format!("{APP}index.html"));
    assert_eq!((same.status, same.body), (200, app.body));

    // a folder without its slash: relative links need it
    let redirect = server.get(APP.trim_end_matches('/'));
    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location"), APP);
    // a protocol-relative path never redirects to another host
    let other = server.get("//apps");
    assert_eq!(other.status, 308);
    assert_eq!(other.header("location"), "/apps/");

    let missing = server.get("/no/such/page/");
    assert_eq!(missing.status, 404);
    assert_html_with_script(&missing, "404");
    assert!(missing.body.contains("Not found"), "{}", missing.body);

    let css = server.get("/static/style.css");
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, "text/css; charset=utf-8")
    );
    assert!(!css.body.contains(SCRIPT));
    let json = server.get("/catalog.json");
    assert_eq!(
        (json.status, json.header("content-type")),
        (200, "application/json")
    );
    serde_json::from_str::<serde_json::Value>(&json.body).expect("catalog.json is JSON");

    // the types of files the search index and widgets will bring
    let served = Server::served_dir(dir.path());
    std::fs::create_dir_all(served.join("pagefind")).unwrap();
    for (file, content_type) in [
        ("pagefind/pagefind.js", "text/javascript; charset=utf-8"),
        ("pagefind/wasm.en.pagefind", "application/octet-stream"),
        ("pagefind/pagefind-entry.json", "application/json"),
        (
            "pagefind/pagefind.en_1a2b.pf_meta",
            "application/octet-stream",
        ),
        (
            "pagefind/index/en_1a2b.pf_index",
            "application/octet-stream",
        ),
        (
            "pagefind/fragment/en_1a2b.pf_fragment",
            "application/octet-stream",
        ),
        (
            "pagefind/filter/en_1a2b.pf_filter",
            "application/octet-stream",
        ),
        ("widget.wasm", "application/wasm"),
        ("feed.xml", "application/xml"),
        ("logo.svg", "image/svg+xml"),
        ("logo.png", "image/png"),
    ] {
        let path = served.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "x").unwrap();
        let r = server.get(&format!("/{file}"));
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, content_type),
            "{file}"
        );
    }

    // Ctrl-C: exit 0, with the private build removed
    let mut server = server;
    let pid = i32::try_from(server.child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "bazaar serve did not stop within {TIMEOUT:?} of Ctrl-C:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}\n{}", server.stderr());
    let log = server.stderr_with("stopped");
    assert!(log.contains("stopped"), "{log}");
    assert!(
        !dir.path().join(".bazaar-serve").exists(),
        "the private build is removed"
    );
}

#[test]
fn serve_never_serves_files_outside_the_site() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    // the catalog root is two levels above the served folder; bazaar.toml is a fine target
    let secret = "[forge]";
    for target in [
        "/../bazaar.toml",
        "/../../bazaar.toml",
        "/apps/../../../bazaar.toml",
        "/%2e%2e/%2e%2e/bazaar.toml",
        "/%2E%2E%2F%2E%2E%2Fbazaar.toml",
        "/.%2e/.%2e/bazaar.toml",
        "/apps/..%2f..%2f..%2fbazaar.toml",
        "/..%5c..%5cbazaar.toml",
        "/%252e%252e/%252e%252e/bazaar.toml",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/index.html%00.css",
        "/%zz",
        "http://localhost/../../bazaar.toml",
    ] {
        let r = server.get(target);
        assert!(
            r.status == 400 || r.status == 404,
            "{target}: status {}",
            r.status
        );
        assert!(
            !r.body.contains(secret) && !r.body.contains("root:x:0:0"),
            "{target} leaked a file:\n{}",
            r.body
        );
    }

    // links inside the site that lead out of it are not followed
    let served = Server::served_dir(dir.path());
    std::os::unix::fs::symlink(dir.path().join("bazaar.toml"), served.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path(), served.join("leakdir")).unwrap();
    std::os::unix::fs::symlink("../../bazaar.toml", served.join("relative.txt")).unwrap();
    for target in [
        "/leak.txt",
        "/leakdir/bazaar.toml",
        "/leakdir/",
        "/relative.txt",
    ] {
        let r = server.get(target);
        assert_eq!(r.status, 404, "{target}");
        assert!(!r.body.contains(secret), "{target} leaked:\n{}", r.body);
    }
    // a link that stays inside the site is fine
    std::os::unix::fs::symlink("index.html", served.join("home.html")).unwrap();
    assert_eq!(server.get("/home.html").status, 200);
}

#[test]
fn serve_shows_a_broken_manifest_on_every_page_until_it_is_fixed() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    let mut events = server.events();
    events.wait_for("hello");

    // an unterminated string, with markup a contributor could have typed
    let manifest = dir.path().join(EXPENSE);
    let good = std::fs::read_to_string(&manifest).unwrap();
    let broken_line = "name = \"Expense <b onmouseover='x'>Tracker";
    edit(&manifest, "name = \"Expense Tracker\"", broken_line);
    let line = 1 + good.lines().position(|l| l.starts_with("name =")).unwrap();
    let col = broken_line.chars().count() + 1;

    events.wait_for("reload");
    let status = server.wait_for_status("build with errors", |s| s["ok"] == false);
    assert!(status["errors"].as_u64().unwrap() >= 1, "{status}");

    for page in ["/", APP, "/teams/finance/"] {
        let r = server.get(page);
        assert_eq!(r.status, 200, "{page}");
        assert_html_with_script(&r, page);
        let body = &r.body;
        assert!(body.contains("BZ0001"), "{page}: {body}");
        assert!(
            body.contains(&format!("{EXPENSE}:{line}:{col}")),
            "{page}: no {EXPENSE}:{line}:{col} in\n{body}"
        );
        assert!(body.contains("help: "), "{body}");
        // the contributor's text is escaped, never markup
        assert!(
            !body.contains("<b onmouseover")
                && body.contains("&lt;b onmouseover=&apos;x&apos;&gt;"),
            "{body}"
        );
    }

    std::fs::write(&manifest, &good).unwrap();
    events.wait_for("reload");
    let status = server.wait_for_status("good build", |s| s["ok"] == true);
    assert_eq!(status["errors"], 0, "{status}");
    let app = server.get(APP);
    assert_eq!(app.status, 200);
    assert!(
        app.body.contains("<dt>Owner</dt>") && !app.body.contains("BZ0001"),
        "{}",
        app.body
    );
    let log = server.stderr_with("rebuilt ");
    assert!(
        log.contains("error(s): showing diagnostics") && log.contains("rebuilt "),
        "{log}"
    );
}

#[test]
fn serve_shows_a_failed_build_and_keeps_the_last_good_site() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    // a new top-level folder (the catalog's own templates) with a broken template
    let templates = dir.path().join("site-templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("app.html"), "{% if %}<b>broken</b>").unwrap();
    let status = server.wait_for_status("failed build", |s| s["ok"] == false);
    assert_eq!(status["errors"], 1, "{status}");
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_html_with_script(&page, "index");
    assert!(
        page.body.contains("The site could not be built") && page.body.contains("template error"),
        "{}",
        page.body
    );
    let log = server.stderr_with("build failed: ");
    assert!(log.contains("build failed: "), "{log}");
    // the last good site is still there
    assert_eq!(server.get("/static/style.css").status, 200);
    assert_eq!(server.get("/catalog.json").status, 200);

    // editing a file in the new folder is seen: it is watched now
    std::fs::write(
        templates.join("app.html"),
        "{% extends \"base.html\" %}{% block main %}<h1 id=\"custom\">{{ app.name }}</h1>{% endblock main %}",
    )
    .unwrap();
    server.wait_for_status("good build", |s| s["ok"] == true);
    let app = server.get(APP);
    assert!(
        app.body.contains("<h1 id=\"custom\">Expense Tracker</h1>"),
        "{}",
        app.body
    );
}

impl Server {
    /// `bazaar serve` with extra arguments (e.g. `--bind`).
    fn start_with(root: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bazaar"))
            .args(["serve", "--port", "0", "--root"])
            .arg(root)
            .args(extra)
            .env("NO_COLOR", "1")
            .env("BAZAAR_TODAY", TODAY)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run bazaar serve");
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = channel::<String>();
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line.clone() + "\n"));
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            stderr,
        };
        server.addr = server.wait_for_url(&rx);
        server
    }
}

/// `GET /` with the given `Host` header.
fn get_with_host(addr: &str, host: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let (status, headers) = parse_head(head);
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

#[test]
fn serve_answers_only_to_its_own_host_names() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    for ok in [
        server.addr.clone(),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let r = get_with_host(&server.addr, &ok);
        assert_eq!(r.status, 200, "Host: {ok}");
    }
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1
    for bad in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1:{}", port.parse::<u16>().unwrap().wrapping_add(1)),
    ] {
        let r = get_with_host(&server.addr, &bad);
        assert!(
            r.status == 421 || r.status == 400,
            "Host: {bad}: {}",
            r.status
        );
        assert!(!r.body.contains("id=\"search\""), "Host: {bad}");
    }
}

#[test]
fn serve_sends_a_content_security_policy_and_no_inline_script() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    for page in ["/", APP, "/no/such/page/"] {
        let r = server.get(page);
        let csp = r.header("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("object-src 'none'"),
            "{page}: {csp:?}"
        );
        assert!(!csp.contains("unsafe-inline"), "{page}: {csp}");
        // every script is a file of the site (the policy forbids inline ones)
        let lower = r.body.to_lowercase();
        assert!(!lower.contains("<script>"), "{page}: inline script");
    }
    let reload = server.get("/__bazaar/reload.js");
    assert_eq!(reload.status, 200);
    assert!(reload.body.contains("EventSource"));
}

#[test]
fn serve_closes_a_connection_whose_headers_never_finish() {
    let dir = demo_copy();
    let server = Server::start(dir.path());
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let started = Instant::now();
    write!(s, "GET / HTTP/1.1\r\nHost: {}\r\nX-Slow: ", server.addr).unwrap();
    // a slowloris client: a byte now and then, never the end of the headers
    let mut raw = Vec::new();
    let closed = loop {
        let _ = s.write_all(b"a");
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 1024];
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break true,
        }
        if started.elapsed() > TIMEOUT {
            break false;
        }
    };
    assert!(closed, "still open after {TIMEOUT:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // the server still answers others
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn serve_warns_when_it_listens_beyond_this_machine() {
    let dir = demo_copy();
    let server = Server::start_with(dir.path(), &["--bind", "0.0.0.0"]);
    let log = server.stderr_with("warning:");
    assert!(
        log.contains("warning:") && log.contains("0.0.0.0") && log.contains("127.0.0.1"),
        "{log}"
    );
    let local = Server::start(dir.path());
    std::thread::sleep(Duration::from_millis(200));
    assert!(!local.stderr().contains("warning:"), "{}", local.stderr());
}

#[cfg(unix)]
#[test]
fn serve_never_publishes_a_hard_link_from_site_templates() {
    let dir = demo_copy();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "hard-linked-secret-5521").unwrap();
    let statics = dir.path().join("site-templates/static");
    std::fs::create_dir_all(&statics).unwrap();
    if std::fs::hard_link(&secret, statics.join("leak.txt")).is_err() {
        // a temporary folder on another file system: link within the catalog's instead
        let inside = dir.path().join("secret.txt");
        std::fs::write(&inside, "hard-linked-secret-5521").unwrap();
        std::fs::hard_link(&inside, statics.join("leak.txt")).unwrap();
    }
    let server = Server::start(dir.path());
    let r = server.get("/static/leak.txt");
    assert_ne!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("hard-linked-secret-5521"));
    let log = server.stderr_with("hard link");
    assert!(log.contains("hard link"), "{log}");
}
