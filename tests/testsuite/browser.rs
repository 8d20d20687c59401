//! The built site in a real headless Chromium, driven over WebDriver (chromedriver + fantoccini)
//! and served from loopback by a small static file server: facts render where readers look for
//! them, axe-core finds no serious accessibility problem, hostile READMEs and summaries stay inert,
//! and pages fit a phone without sideways scrolling.
//!
//! The harness (`start_browser`, `serve_dir`, `inject_axe`, `axe_violations`, `built_demo`) is
//! public so later tests (search, facets) can drive pages the same way. Chromium, chromedriver and
//! axe-core are installed by `.ci/run`; when one is missing a test fails and says so, never skips.

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::ops::Deref;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::*;

/// No browser test may run longer than this (each WebDriver call has its own shorter limit).
pub const TEST_LIMIT: Duration = Duration::from_secs(240);
/// Page loads and scripts (axe included) must finish within this.
const STEP_LIMIT: Duration = Duration::from_secs(30);

const RUN_CI: &str = "run .ci/run once (it installs chromium, chromium-driver and axe-core), or \
                      `apt-get install chromium chromium-driver && npm ci --prefix tests/browser`";

/// Runs `test` and panics if it takes longer than `limit`: a hung browser fails the test.
pub async fn within<T>(limit: Duration, what: &str, test: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, test)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?} (hung browser?)"))
}

/// `name` on PATH, else in /usr/bin.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// One HTTP request to chromedriver on loopback, blocking, with short timeouts; returns the
/// body. (chromedriver keeps connections open, so the body is read by its Content-Length.)
fn http(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut reader = BufReader::new(s);
    let (mut line, mut length) = (String::new(), 0);
    while reader.read_line(&mut line)? > 2 {
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
        line.clear();
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// A chromedriver process, in its own process group so the browsers it starts go with it.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // the group id is chromedriver's pid (process_group(0)); kill it and what it started
        let pid = self.child.id() as i32;
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// A WebDriver session in a fresh headless Chromium; derefs to the fantoccini client.
pub struct Browser {
    client: Client,
    session: Option<String>,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // end the session so chromedriver quits Chromium cleanly, even when a test panicked
        if let Some(id) = &self.session {
            let _ = http(self.driver.port, "DELETE", &format!("/session/{id}"));
        }
    }
}

/// Starts chromedriver on a free port and opens a headless Chromium session (1280x900).
pub async fn start_browser() -> Browser {
    let chromedriver = find_program("chromedriver")
        .unwrap_or_else(|| panic!("chromedriver is not installed: {RUN_CI}"));
    let chromium =
        find_program("chromium").unwrap_or_else(|| panic!("chromium is not installed: {RUN_CI}"));
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
    let mut driver = Driver { child, port };
    let started = Instant::now();
    loop {
        if http(port, "GET", "/status").is_ok_and(|r| r.contains("\"ready\":true")) {
            break;
        }
        if let Ok(Some(status)) = driver.child.try_wait() {
            panic!("chromedriver exited at start ({status}); is port {port} taken?");
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not answer on port {port} within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({
        "browserName": "chrome",
        // an alert stays open for the test to see it instead of being dismissed by the next command
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--no-proxy-server",
                // nothing leaves the machine: every host but loopback fails to resolve at once
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = within(
        Duration::from_secs(60),
        "starting chromium",
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()));
    let session = client.session_id().await.ok().flatten();
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(STEP_LIMIT),
            Some(STEP_LIMIT),
            Some(Duration::ZERO),
        ))
        .await
        .expect("set WebDriver timeouts");
    Browser {
        client,
        session,
        driver,
        _profile: profile,
    }
}

impl Browser {
    /// Navigates to `url`; panics with the URL when the page does not load.
    pub async fn open(&self, url: &str) {
        if let Err(e) = self.goto(url).await {
            let alert = self.get_alert_text().await.ok();
            panic!("could not open {url}: {e} (open alert: {alert:?})");
        }
    }

    /// Waits (at most 30 s) until an element matches the CSS `selector`, e.g. search results
    /// that a script renders after typing; panics naming the selector when none comes.
    pub async fn wait_for(&self, selector: &str) -> fantoccini::elements::Element {
        self.wait()
            .at_most(STEP_LIMIT)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no element matches {selector} after {STEP_LIMIT:?}: {e}"))
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn js(&self, script: &str) -> Value {
        self.execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Sets the viewport (not the window) to `width` x `height` CSS pixels.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.set_window_size(width, height)
            .await
            .expect("resize the window");
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]")
            .await;
        let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
        if (w, h) != (width as u64, height as u64) {
            let (dw, dh) = (
                width as u64 - w.min(width as u64),
                height as u64 - h.min(height as u64),
            );
            self.set_window_size(width + dw as u32, height + dh as u32)
                .await
                .expect("resize the window");
        }
        let inner = self.js("return window.innerWidth").await;
        assert_eq!(
            inner,
            json!(width),
            "the viewport could not be set to {width}px"
        );
    }

    /// A PNG of the viewport into `target/screenshots/NAME.png`; returns its path.
    pub async fn screenshot_to(&self, name: &str) -> PathBuf {
        let png = self.screenshot().await.expect("take a screenshot");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// A PNG of the whole page at the current width into `target/screenshots/NAME.png` (the
    /// window grows to the page's height, at most 6000 px, and shrinks back); returns its path.
    pub async fn full_page_screenshot(&self, name: &str) -> PathBuf {
        let size = self
            .js("return [window.innerWidth, window.innerHeight, document.documentElement.scrollHeight]")
            .await;
        let [w, h, full] = [0, 1, 2].map(|i| size[i].as_u64().unwrap() as u32);
        self.viewport(w, full.clamp(h, 6000)).await;
        let path = self.screenshot_to(name).await;
        self.viewport(w, h).await;
        path
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        if client.close().await.is_ok() {
            self.session = None;
        }
    }
}

/// Cargo's target folder (the test binary lives in `target/debug/deps/`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Serves the folder `root` on a loopback port until the test process ends; returns its URL
/// (`http://127.0.0.1:PORT/`). `dir/` serves `dir/index.html`; a missing file serves `404.html`
/// with status 404.
pub fn serve_dir(root: &Path) -> String {
    let root = root
        .canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || respond(&root, stream));
        }
    });
    url
}

fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        // Pagefind's index chunks (.pf_meta, .pf_index, .pf_fragment, .pf_filter) and the rest
        _ => "application/octet-stream",
    }
}

/// Every file the test servers sent: (site folder, path, bytes). Workers' fetches (Pagefind
/// loads its index from a web worker) do not show in the page's own resource timing.
static SERVED: std::sync::Mutex<Vec<(PathBuf, String, usize)>> = std::sync::Mutex::new(Vec::new());

/// What the test server of `site` has sent from paths starting with `prefix`, and forgets it.
pub fn take_served(site: &Path, prefix: &str) -> Vec<(String, usize)> {
    let site = site.canonicalize().unwrap_or_else(|_| site.to_path_buf());
    let mut log = SERVED.lock().unwrap();
    let (mine, rest): (Vec<_>, Vec<_>) = log.drain(..).partition(|(root, _, _)| *root == site);
    *log = rest;
    mine.into_iter()
        .filter(|(_, p, _)| p.starts_with(prefix))
        .map(|(_, p, n)| (p, n))
        .collect()
}

fn respond(root: &Path, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let mut file = root.join(rel);
    let (mut status, mut extra) = ("200 OK", String::new());
    if rel.split('/').any(|s| s == ".." || s.contains('\\')) || !file.exists() {
        (status, file) = ("404 Not Found", root.join("404.html"));
    } else if file.is_dir() && !path.ends_with('/') {
        (status, extra) = ("301 Moved Permanently", format!("Location: {path}/\r\n"));
    } else if file.is_dir() {
        file = file.join("index.html");
    }
    let body = if status.starts_with('3') {
        Vec::new()
    } else {
        std::fs::read(&file).unwrap_or_default()
    };
    if let Ok(mut log) = SERVED.lock() {
        log.push((root.to_path_buf(), rel.to_string(), body.len()));
    }
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        content_type(&file),
        body.len()
    )?;
    stream.write_all(&body)
}

/// A copy of the demo catalog, changed by `prepare`, built with the real binary. Returns the
/// copy (keep it alive) and the built site's folder.
pub fn built_demo(prepare: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let dir = demo_copy();
    prepare(dir.path());
    let r = bazaar(&["build", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "bazaar build failed:\n{}", r.stderr);
    assert!(
        !r.stderr.contains("error(s) in the catalog"),
        "the prepared catalog has errors, so apps were left out:\n{}",
        r.stderr
    );
    let public = dir.path().join("public").canonicalize().unwrap();
    (dir, public)
}

/// axe-core's source, installed by `.ci/run` from tests/browser/package-lock.json.
fn axe_source() -> String {
    let path = repo_root().join("tests/browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is not installed ({}: {e}): {RUN_CI}",
            path.display()
        )
    })
}

/// Loads axe-core into the current page (defines `window.axe`).
pub async fn inject_axe(b: &Browser) {
    b.execute(&axe_source(), vec![])
        .await
        .expect("inject axe-core");
    assert_eq!(
        b.js("return typeof window.axe").await,
        json!("object"),
        "axe-core did not load"
    );
}

/// Injects axe-core and runs it on the whole page; returns its violations.
pub async fn axe_violations(b: &Browser) -> Vec<Value> {
    inject_axe(b).await;
    let done = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(JSON.stringify({ violations: r.violations, passes: r.passes.length,
                                                incomplete: r.incomplete.map(i => i.id) })),
                     e => done('axe failed: ' + e));",
            vec![],
        )
        .await
        .expect("run axe");
    let text = done.as_str().unwrap_or_default();
    let mut r: Value = serde_json::from_str(text).unwrap_or_else(|_| panic!("{text}"));
    eprintln!(
        "axe: {} rules pass, incomplete: {}",
        r["passes"], r["incomplete"]
    );
    assert!(
        r["passes"].as_u64() > Some(10),
        "axe checked almost nothing: {r}"
    );
    serde_json::from_value(r["violations"].take()).unwrap()
}

/// One violation per line (impact, rule, help), then up to five offending nodes.
fn describe(violations: &[&Value]) -> String {
    let mut out = String::new();
    for v in violations {
        let text = |k: &str| v[k].as_str().unwrap_or("?").to_string();
        out += &format!(
            "  [{}] {}: {} ({})\n",
            text("impact"),
            text("id"),
            text("help"),
            text("helpUrl")
        );
        let nodes = v["nodes"].as_array().map(Vec::as_slice).unwrap_or_default();
        for n in nodes.iter().take(5) {
            out += &format!(
                "      {} — {}\n",
                n["target"],
                n["failureSummary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', " ")
            );
        }
        if nodes.len() > 5 {
            out += &format!("      … and {} more\n", nodes.len() - 5);
        }
    }
    out
}

const APP: &str = "com.acme.people.employee-directory";
const APP_TOML: &str = "catalog/people/employee-directory/app.toml";

fn app_url(base: &str, id: &str) -> String {
    format!("{base}apps/{id}/")
}

#[tokio::test]
async fn an_app_page_shows_owner_and_sla_in_the_browser() {
    within(TEST_LIMIT, "the owner/SLA test", async {
        let (_dir, public) = built_demo(|_| {});
        let base = serve_dir(&public);
        let manifest: toml::Table =
            toml::from_str(&std::fs::read_to_string(repo_root().join(APP_TOML)).unwrap()).unwrap();
        let owner = manifest["owner"]["primary"].as_str().unwrap();
        let sla = manifest["support"]["sla"].as_str().unwrap();
        let b = start_browser().await;
        b.open(&app_url(&base, APP)).await;
        b.wait_for("dl.facts").await;
        for (term, want) in [("Owner", owner), ("SLA", sla)] {
            let xpath = format!("//dl/dt[normalize-space()='{term}']/following-sibling::dd[1]");
            let dd = b
                .find(Locator::XPath(&xpath))
                .await
                .unwrap_or_else(|e| panic!("no <dt>{term}</dt> with a <dd> on the page: {e}"));
            assert!(dd.is_displayed().await.unwrap(), "{term} is not visible");
            assert_eq!(dd.text().await.unwrap().trim(), want, "{term}");
        }
        b.close().await;
    })
    .await
}

#[tokio::test]
async fn axe_finds_no_serious_or_critical_violations() {
    within(TEST_LIMIT, "the axe test", async {
        let (_dir, public) = built_demo(|_| {});
        let base = serve_dir(&public);
        let b = start_browser().await;
        let mut report = String::new();
        let pages = [
            base.clone(),
            app_url(&base, APP),
            // a deprecated app: the banner and its colours; its README has a wide table
            app_url(&base, "com.acme.people.org-chart-classic"),
            format!("{base}dashboard/"),
            format!("{base}tiers/vetted/"),
            format!("{base}costs/"),
            format!("{base}collections/onboarding/"),
        ];
        for (width, height) in [(1280, 900), (390, 844)] {
            b.viewport(width, height).await;
            for page in &pages {
                b.open(page).await;
                let violations = axe_violations(&b).await;
                let all: Vec<&Value> = violations.iter().collect();
                if !all.is_empty() {
                    eprintln!("axe on {page} at {width}px:\n{}", describe(&all));
                }
                let bad: Vec<&Value> = violations
                    .iter()
                    .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
                    .collect();
                if !bad.is_empty() {
                    report += &format!("{page} at {width}px:\n{}", describe(&bad));
                }
            }
        }
        b.close().await;
        assert!(
            report.is_empty(),
            "axe-core found serious or critical accessibility violations:\n{report}"
        );
    })
    .await
}

#[tokio::test]
async fn screenshots_at_desktop_and_phone_widths() {
    within(TEST_LIMIT, "the screenshot test", async {
        let (_dir, public) = built_demo(|_| {});
        let base = serve_dir(&public);
        let b = start_browser().await;
        let pages = [
            ("index", base.clone()),
            ("app", app_url(&base, APP)),
            (
                "app-deprecated",
                app_url(&base, "com.acme.people.org-chart-classic"),
            ),
            ("dashboard", format!("{base}dashboard/")),
            ("tier", format!("{base}tiers/vetted/")),
            ("teams", format!("{base}teams/")),
            ("costs", format!("{base}costs/")),
            ("scope", format!("{base}scopes/calendar-read/")),
            ("not-found", format!("{base}no/such/page/")),
        ];
        let mut wide = Vec::new();
        for (width, height) in [(1280, 900), (390, 844)] {
            b.viewport(width, height).await;
            for (name, url) in &pages {
                b.open(url).await;
                let path = b.full_page_screenshot(&format!("{name}-{width}")).await;
                let scroll = b
                    .js("return [document.documentElement.scrollWidth, window.innerWidth]")
                    .await;
                let (sw, iw) = (scroll[0].as_u64().unwrap(), scroll[1].as_u64().unwrap());
                if sw > iw + 1 {
                    // the innermost elements whose content sticks out of them or out of the page
                    let culprits = b
                        .js("const edge = document.documentElement.clientWidth;
                             const out = e => e.scrollWidth > e.clientWidth + 1
                               || e.getBoundingClientRect().right > edge + 1;
                             return [...document.querySelectorAll('body *')]
                               .filter(e => out(e) && ![...e.children].some(out))
                               .slice(0, 8)
                               .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                                         + ' \"' + e.textContent.trim().slice(0, 40) + '\"')")
                        .await;
                    wide.push(format!(
                        "{url} at {width}px: content is {sw}px wide ({}; too wide: {culprits})",
                        path.display()
                    ));
                }
            }
        }
        b.close().await;
        assert!(
            wide.is_empty(),
            "pages scroll sideways:\n{}",
            wide.join("\n")
        );
    })
    .await
}

/// Markup that tries to run script (each sets `window.__pwned` to its own name, or alerts it),
/// load active content, restyle the page or send the reader elsewhere. Used raw in READMEs (where
/// Markdown allows HTML) and as plain text in manifest fields.
const HOSTILE_HTML: &[&str] = &[
    "<script>window.__pwned = 'script'; alert('script')</script>",
    "<img src=x onerror=\"window.__pwned = 'img-onerror'; alert('img-onerror')\">",
    "<a href=\"javascript:window.__pwned='raw-js-link'\">raw javascript link</a>",
    "<a href=\"JaVaScRiPt:window.__pwned='mixed-case-js-link'\">mixed case link</a>",
    "<a href=\"  javascript:window.__pwned='spaced-js-link'\">leading spaces link</a>",
    "<a href=\"&#106;avascript:window.__pwned='entity-js-link'\">entity link</a>",
    "<a href=\"jav&#x09;ascript:window.__pwned='tab-js-link'\">tab link</a>",
    "<a href=\"data:text/html,<script>alert('raw-data-link')</script>\">raw data link</a>",
    "<a href=\"vbscript:msgbox('vbscript-link')\">vbscript link</a>",
    "<a href=\"https://evil.example/\" onclick=\"window.__pwned='onclick'\">onclick link</a>",
    "<iframe src=\"javascript:parent.__pwned='iframe-js'\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__pwned='iframe-srcdoc'</script>\"></iframe>",
    "<form action=\"javascript:window.__pwned='form-action'\"><input name=q autofocus \
     onfocus=\"window.__pwned='autofocus'\"><button>Send</button></form>",
    "<svg onload=\"window.__pwned='svg-onload'\"><circle r=\"5\"/></svg>",
    "<svg><script>window.__pwned='svg-script'</script></svg>",
    "<style>body { display: none }</style>",
    "<link rel=\"stylesheet\" href=\"https://evil.example/hide.css\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.__pwned='meta-refresh'\">",
    "<object data=\"javascript:window.__pwned='object'\"></object>",
    "<embed src=\"javascript:window.__pwned='embed'\">",
    "<base href=\"javascript:window.__pwned='base'//\">",
    "\"><script>window.__pwned='attribute-breakout'</script>",
    "'><img src=x onerror=\"window.__pwned='single-quote-breakout'\">",
    "<details open ontoggle=\"window.__pwned='details-ontoggle'\"><summary>more</summary>x</details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss-math'\">\
     </style></mglyph></table></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__pwned='mxss-noscript'>\"></noscript>",
    "<video><source onerror=\"window.__pwned='video-source'\"></video>",
    "<div style=\"position:fixed;inset:0;z-index:99\" onmouseover=\"window.__pwned='overlay'\">overlay</div>",
    "<template><script>window.__pwned='template'</script></template>",
    "<textarea autofocus onfocus=\"window.__pwned='textarea'\"></textarea>",
];

/// The same attacks in Markdown's own syntax (links and images).
const HOSTILE_MARKDOWN: &[&str] = &[
    "[markdown javascript link](javascript:window.__pwned='md-js-link')",
    "[markdown entity link](&#106;avascript:window.__pwned='md-entity-link')",
    "[markdown data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgnbWQtZGF0YScpPC9zY3JpcHQ+)",
    "![markdown image](javascript:window.__pwned='md-js-image')",
    "[title breakout](https://evil.example/ \"x\\\" onmouseover=\\\"window.__pwned='md-title'\")",
    "<javascript:window.__pwned='md-autolink'>",
    "[reference link][evil]\n\n[evil]: javascript:window.__pwned='md-reference'",
];

const SENTINEL: &str = "This sentinel paragraph of the hostile README must be visible.";

/// A TOML basic string holding `s`, escaped by the toml crate.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// What a page must never contain, whatever the catalog says: scripts the templates do not ship,
/// event handler attributes, script URLs, active or restyling elements. Returns the problems.
async fn dangers(b: &Browser, ours: &[String]) -> Vec<String> {
    let found = b
        .execute(
            "const ours = arguments[0];
             const out = [];
             if (typeof window.__pwned !== 'undefined') out.push('window.__pwned = ' + window.__pwned);
             for (const s of document.scripts) {
               const shipped = s.src ? s.src.startsWith(location.origin + '/')
                                     : s.text.trim() !== '' && ours.some(t => t.includes(s.text.trim()));
               if (!shipped) out.push('foreign script: ' + s.outerHTML.slice(0, 100));
             }
             for (const e of document.querySelectorAll('*')) {
               // Pagefind's own search form is shipped by us (its action is javascript:void(0))
               if (e.matches('#search form.pagefind-ui__form')) continue;
               for (const a of e.attributes) {
                 if (a.name.toLowerCase().startsWith('on'))
                   out.push('handler: <' + e.localName + ' ' + a.name + '=' + a.value.slice(0, 60) + '>');
                 if (['href', 'src', 'action', 'formaction', 'data', 'srcset', 'poster', 'xlink:href']
                       .includes(a.name.toLowerCase())) {
                   let scheme = '';
                   try { scheme = new URL(a.value.trim(), document.baseURI).protocol; } catch (_) {}
                   if (['javascript:', 'data:', 'vbscript:'].includes(scheme))
                     out.push('script URL: <' + e.localName + ' ' + a.name + '=' + a.value.slice(0, 60) + '>');
                 }
               }
             }
             // the site's own Content-Security-Policy (in the head, from base.html) is the one
             // meta allowed: any other could redirect or change the policy
             const active = 'iframe, frame, object, embed, base, body meta, '
               + 'head meta[http-equiv]:not([http-equiv=Content-Security-Policy]), body style, body link';
             for (const e of document.querySelectorAll(active))
               out.push('element: ' + e.outerHTML.slice(0, 100));
             // where catalog text is rendered: no forms, no inline styles, no foreign markup
             const inside = ['.readme', '.lead', '.app-card', '.collection', 'article.app'];
             const banned = ':is(form, input, button, textarea, select, template, noscript, svg, math, [style])';
             // (an app's usage chart is ours: drawn at build time from the signals' numbers, no
             // contributor text in it; any handler or script URL inside it is still caught above)
             for (const e of document.querySelectorAll(inside.map(c => c + ' ' + banned).join(', ')))
               if (!e.matches('section[aria-labelledby=usage] figure.trend > svg.chart'))
                 out.push('in catalog text: ' + e.outerHTML.slice(0, 100));
             if (document.baseURI !== location.href) out.push('base URI changed to ' + document.baseURI);
             return out;",
            vec![json!(ours)],
        )
        .await
        .unwrap_or_else(|e| panic!("inspecting the page failed (an alert open?): {e}"));
    serde_json::from_value(found).unwrap()
}

/// Panics when an alert is open (a payload ran).
async fn assert_no_alert(b: &Browser, when: &str) {
    if let Ok(text) = b.get_alert_text().await {
        panic!("an alert is open {when}: {text:?} — a payload ran");
    }
}

/// The texts of the templates the site ships (inline scripts must come from them).
fn shipped_templates() -> Vec<String> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(repo_root().join("site-templates")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    out
}

#[tokio::test]
async fn hostile_readme_and_summary_are_inert_in_the_browser() {
    within(TEST_LIMIT, "the hostile content test", async {
        const ID: &str = "com.acme.finance.expense-tracker";
        let summary = "\"><script>window.__pwned='summary'</script><img src=x \
                       onerror=\"alert('summary')\"> {{ 7 * 7 }} &#106;avascript:alert(1)";
        let description = HOSTILE_HTML.join("\n");
        let (_dir, public) = built_demo(|root| {
            let app = root.join("catalog/finance/expense-tracker");
            let readme = format!(
                "# Hostile README\n\n{SENTINEL}\n\n[A link back to all apps](../../)\n\n{}\n\n{}\n",
                HOSTILE_HTML.join("\n\n"),
                HOSTILE_MARKDOWN.join("\n\n")
            );
            std::fs::write(app.join("README.md"), readme).unwrap();
            let toml_path = app.join("app.toml");
            let manifest = std::fs::read_to_string(&toml_path).unwrap();
            let manifest: String = manifest
                .lines()
                .map(|l| {
                    if l.starts_with("summary = ") {
                        format!("summary = {}\n", toml_string(summary))
                    } else if l.starts_with("description = ") {
                        format!("description = {}\n", toml_string(&description))
                    } else {
                        format!("{l}\n")
                    }
                })
                .collect();
            std::fs::write(&toml_path, manifest).unwrap();
        });
        assert!(HOSTILE_HTML.len() + HOSTILE_MARKDOWN.len() >= 15);
        let base = serve_dir(&public);
        let ours = shipped_templates();
        let b = start_browser().await;

        // control: the same browser does run such a payload when nothing cleans it
        let raw = tempfile::tempdir().unwrap();
        std::fs::write(
            raw.path().join("index.html"),
            "<img src=x onerror=\"window.__pwned = 'control'\">",
        )
        .unwrap();
        b.open(&serve_dir(raw.path())).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            b.js("return window.__pwned").await,
            json!("control"),
            "the browser does not run inline handlers, so this test would prove nothing"
        );
        let found = dangers(&b, &ours).await;
        assert!(
            found.iter().any(|d| d.starts_with("handler: <img onerror"))
                && found.iter().any(|d| d.contains("__pwned = control")),
            "the page inspection misses what it looks for: {found:?}"
        );

        let page = app_url(&base, ID);
        for url in [&page, &base] {
            b.open(url).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_no_alert(&b, &format!("on {url}")).await;
            let found = dangers(&b, &ours).await;
            assert!(found.is_empty(), "{url}:\n  {}", found.join("\n  "));
        }

        // the hostile text is also inert where search shows it
        let (titles, _) = search(&b, &base, "Hostile").await;
        assert!(
            !titles.is_empty(),
            "the hostile README is not found by search"
        );
        assert_no_alert(&b, "after searching the hostile README").await;
        let found = dangers(&b, &ours).await;
        assert!(
            found.is_empty(),
            "search results:\n  {}",
            found.join("\n  ")
        );

        // sanity: the page rendered, with the README and the escaped summary as visible text
        b.open(&page).await;
        let sentinel = b
            .find(Locator::XPath(&format!(
                "//section[contains(@class,'readme')]//p[normalize-space()='{SENTINEL}']"
            )))
            .await
            .expect("the README's sentinel paragraph is on the page");
        assert!(
            sentinel.is_displayed().await.unwrap(),
            "the README is hidden"
        );
        let lead = b.find(Locator::Css("p.lead")).await.unwrap();
        assert_eq!(
            lead.text().await.unwrap(),
            summary,
            "the summary is shown as text"
        );
        assert!(lead.is_displayed().await.unwrap());
        let body = b
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            body.contains("<iframe srcdoc="),
            "the description is shown as text"
        );

        // click every link of the README: none runs script or leaves for a script URL
        let count = b.find_all(Locator::Css(".readme a")).await.unwrap().len();
        assert!(count >= 5, "only {count} links in the README");
        let mut clicked = 0;
        for i in 0..count {
            b.open(&page).await;
            let links = b.find_all(Locator::Css(".readme a")).await.unwrap();
            let link = &links[i];
            let label = link.html(false).await.unwrap_or_default();
            if link.click().await.is_err() {
                continue; // not clickable (no text or no size): nothing to activate
            }
            clicked += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let when = format!("after clicking {label}");
            assert_no_alert(&b, &when).await;
            let windows = b.windows().await.unwrap();
            assert_eq!(windows.len(), 1, "{when}: a window opened");
            let now = b.current_url().await.unwrap();
            assert!(
                ["http", "https", "about", "chrome-error"].contains(&now.scheme()),
                "{when}: the browser went to {now}"
            );
            if now.as_str().starts_with(&base) {
                let found = dangers(&b, &ours).await;
                assert!(found.is_empty(), "{when}:\n  {}", found.join("\n  "));
            }
        }
        assert!(
            clicked >= 3,
            "only {clicked} of {count} README links could be clicked"
        );
        b.close().await;
    })
    .await
}

/// Types a query into the Pagefind UI on the index and waits for its results; returns the
/// result titles and the message ("N results for …").
async fn search(b: &Browser, base: &str, query: &str) -> (Vec<String>, String) {
    b.open(base).await;
    let input = b.wait_for("#search input.pagefind-ui__search-input").await;
    // searching loads Pagefind's index and WebAssembly: under the pages' Content-Security-Policy
    b.js(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', \
          e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); return null",
    )
    .await;
    input.send_keys(query).await.unwrap();
    b.wait_for(".pagefind-ui__result-link").await;
    // results arrive in batches: wait until the message settles
    let mut last = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = search_message(b).await;
        if now == last && now.contains(query) {
            break;
        }
        last = now;
    }
    let blocked = b.js("return window.__csp").await;
    assert_eq!(blocked, json!([]), "the policy blocked part of the search");
    (result_titles(b).await, last)
}

/// The Pagefind UI's message ("18 results for Acme"), empty before one shows.
async fn search_message(b: &Browser) -> String {
    b.js("return (document.querySelector('.pagefind-ui__message')||{}).textContent || ''")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The number of results a message announces.
fn result_count(message: &str) -> Option<usize> {
    message.split_whitespace().next()?.parse().ok()
}

/// The titles of the results shown.
async fn result_titles(b: &Browser) -> Vec<String> {
    let titles = b
        .js("return [...document.querySelectorAll('.pagefind-ui__result-link')].map(a => a.textContent.trim())")
        .await;
    serde_json::from_value(titles).unwrap()
}

#[tokio::test]
async fn search_finds_an_app_by_a_word_from_its_readme() {
    within(TEST_LIMIT, "the search test", async {
        let (dir, public) = built_demo(|_| {});
        // a word only this README has: no manifest and no other README mentions it
        let app = dir.path().join("catalog/people/employee-directory");
        let word = "pronouns";
        assert!(
            std::fs::read_to_string(app.join("README.md"))
                .unwrap()
                .contains(word)
        );
        assert!(
            !std::fs::read_to_string(app.join("app.toml"))
                .unwrap()
                .contains(word)
        );
        let base = serve_dir(&public);
        let b = start_browser().await;
        let (titles, message) = search(&b, &base, word).await;
        assert_eq!(titles, vec!["Employee Directory".to_string()], "{message}");
        // the result links to the app's page, which opens
        let href = b
            .js("return document.querySelector('.pagefind-ui__result-link').href")
            .await;
        assert!(
            href.as_str()
                .unwrap()
                .ends_with("/apps/com.acme.people.employee-directory/"),
            "{href}"
        );
        // what one search costs a reader: every byte the server sent from pagefind/ (the page's
        // scripts, the worker, its WebAssembly, the index chunk, the first results' fragments)
        let served = take_served(&public, "pagefind/");
        let bytes: usize = served.iter().map(|(_, n)| n).sum();
        eprintln!("one search fetched {bytes} bytes of search bundle: {served:?}");
        assert!(
            served.iter().any(|(p, _)| p.ends_with(".pf_index"))
                && served.iter().any(|(p, _)| p.ends_with(".pf_fragment")),
            "{served:?}"
        );
        assert!(
            bytes > 10_000 && bytes < 1_000_000,
            "{bytes} bytes for one search"
        );
        b.open(href.as_str().unwrap()).await;
        let h1 = b
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(h1.starts_with("Employee Directory"), "{h1}");
        b.close().await;
    })
    .await
}

#[tokio::test]
async fn a_facet_filter_narrows_the_search_results() {
    within(TEST_LIMIT, "the facet filter test", async {
        let (_dir, public) = built_demo(|_| {});
        let base = serve_dir(&public);
        let b = start_browser().await;
        // a word most READMEs share
        let (_, message) = search(&b, &base, "Acme").await;
        let all = result_count(&message).unwrap_or_else(|| panic!("no count in {message:?}"));
        assert!(all >= 8, "{message}");
        // the filter panel offers every facet; tick tier = enterprise
        let names = b
            .js("return [...document.querySelectorAll('.pagefind-ui__filter-name')].map(s => s.textContent.trim().toLowerCase())")
            .await;
        for facet in ["team", "tag", "tier", "lifecycle", "runtime", "data", "scope"] {
            assert!(names.as_array().unwrap().iter().any(|n| n.as_str().unwrap().starts_with(facet)), "no {facet} filter in {names}");
        }
        let ticked = b
            .js("const box = document.querySelector('input.pagefind-ui__filter-checkbox[name=\"tier\"][value=\"enterprise\"]') \
                 || [...document.querySelectorAll('input.pagefind-ui__filter-checkbox')].find(i => i.id.startsWith('tier') && i.id.includes('enterprise')); \
                 if (!box) return false; box.click(); return true;")
            .await;
        assert_eq!(ticked, json!(true), "no checkbox for tier = enterprise");
        let mut after = all;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(n) = result_count(&search_message(&b).await) {
                after = n;
                if after < all {
                    break;
                }
            }
        }
        assert!(after > 0 && after < all, "{all} results before the filter, {after} after");
        // show them all, then check each
        for _ in 0..10 {
            let more = b
                .js("const m = document.querySelector('.pagefind-ui__button'); if (m) { m.click(); return true; } return false;")
                .await;
            if more != json!(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let narrowed = result_titles(&b).await;
        assert_eq!(narrowed.len(), after, "{narrowed:?}");
        // every remaining result is an enterprise app, per the built catalog.json
        let catalog: Value =
            serde_json::from_str(&std::fs::read_to_string(public.join("catalog.json")).unwrap()).unwrap();
        for title in &narrowed {
            let app = catalog["apps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == title.as_str())
                .unwrap_or_else(|| panic!("{title} is not in catalog.json"));
            assert_eq!(app["tier"], "enterprise", "{title}");
        }
        b.close().await;
    })
    .await
}

#[tokio::test]
async fn search_finds_an_edit_once_a_rebuild_is_published() {
    within(TEST_LIMIT, "the rebuild search test", async {
        let (dir, _first) = built_demo(|_| {});
        // a second build publishes its pages first (with the index readers have), then its index
        let readme = dir.path().join("catalog/finance/invoice-ocr/README.md");
        let text = std::fs::read_to_string(&readme).unwrap();
        std::fs::write(
            &readme,
            format!("{text}\nIt also reads zanzibarian receipts.\n"),
        )
        .unwrap();
        let r = bazaar(&["build", "--root", dir.path().to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("pages published after"), "{}", r.stderr);
        // the link now points at the other folder: serve that one
        let public = dir.path().join("public").canonicalize().unwrap();
        let base = serve_dir(&public);
        let b = start_browser().await;
        let (titles, message) = search(&b, &base, "zanzibarian").await;
        assert_eq!(titles, vec!["Invoice OCR".to_string()], "{message}");
        // and the words of the other apps are all still found
        let (titles, message) = search(&b, &base, "pronouns").await;
        assert_eq!(titles, vec!["Employee Directory".to_string()], "{message}");
        b.close().await;
        drop(dir);
    })
    .await
}
