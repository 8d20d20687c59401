//! `bazaar publish` against a real S3-compatible server (moto's, from PyPI, installed by
//! .ci/run into tests/s3/venv) and real Git repositories.

mod branch;
mod bucket;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bazaar::publish::{Bucket, Credentials};
use futures_util::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path as Key;

use crate::support::{bazaar, bin, demo_copy, git_init_commit, repo_root};

/// moto's Python in the venv .ci/run makes; a missing install fails the test loudly.
fn moto_python() -> PathBuf {
    let py = repo_root().join("tests/s3/venv/bin/python");
    let ok = py.is_file()
        && Command::new(&py)
            .args(["-c", "import moto.server, flask"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "FAIL: the publish tests need moto's S3 server from PyPI in {}: run .ci/run, or \
         `python3 -m venv tests/s3/venv && tests/s3/venv/bin/pip install -r tests/s3/requirements.txt`",
        py.display()
    );
    py
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One moto S3 server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts a server and waits until it answers.
    pub fn start() -> Moto {
        let py = moto_python();
        let port = free_port();
        let child = Command::new(py)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let moto = Moto { child, port };
        let started = Instant::now();
        while moto.http("GET", "/").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One plain HTTP request; the status code, or `None` when nothing answers.
    fn http(&self, method: &str, path: &str) -> Option<u16> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.split_whitespace().nth(1)?.parse().ok()
    }

    /// Creates a bucket (moto accepts the unsigned request).
    pub fn bucket(&self, name: &str) {
        assert_eq!(self.http("PUT", &format!("/{name}")), Some(200));
    }

    /// A publish target for `s3://BUCKET/PREFIX` on this server.
    pub fn target(&self, url: &str) -> Bucket {
        let mut b = Bucket::from_url(url).unwrap();
        b.endpoint = Some(self.endpoint());
        b.allow_http = true;
        b.credentials = Some(Credentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
        });
        b
    }

    /// An object store client for `bucket`.
    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        self.target(&format!("s3://{bucket}")).store().unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `bazaar publish ARGS` with moto's test credentials.
pub fn publish_cli(moto: &Moto, args: &[&str]) -> crate::support::Run {
    let out = publish_cmd(moto, args).output().expect("run bazaar");
    crate::support::Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `bazaar publish ARGS --endpoint MOTO` command with moto's test credentials.
pub fn publish_cmd(moto: &Moto, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("publish")
        .args(args)
        .args(["--endpoint", &moto.endpoint()])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1");
    c
}

/// A built demo catalog in a temporary Git repository; the site is at `<dir>/public`.
pub fn built_demo() -> tempfile::TempDir {
    let dir = demo_copy();
    git_init_commit(dir.path());
    rebuild(dir.path());
    dir
}

/// `bazaar build --root DIR` (into DIR/public).
pub fn rebuild(root: &Path) {
    let r = bazaar(&["build", "--root", root.to_str().unwrap()]);
    assert_eq!(r.code, 0, "build: {}", r.stderr);
}

/// Every file of a built site by path, with its bytes.
pub fn files(site: &Path) -> BTreeMap<String, Vec<u8>> {
    let root = std::fs::canonicalize(site).unwrap();
    walkdir::WalkDir::new(&root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(&root).unwrap();
            (
                rel.to_string_lossy().replace('\\', "/"),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Every object under `prefix` (relative names), with its bytes.
pub async fn objects(store: &dyn ObjectStore, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let p = Key::from(prefix);
    let metas: Vec<_> = store.list(Some(&p)).try_collect().await.unwrap();
    let mut out = BTreeMap::new();
    for m in metas {
        let bytes = store.get(&m.location).await.unwrap().bytes().await.unwrap();
        let rel = m.location.as_ref()[prefix.len()..]
            .trim_start_matches('/')
            .to_string();
        out.insert(rel, bytes.to_vec());
    }
    out
}

/// The names of the objects under `prefix`, relative to it.
pub async fn keys(store: &dyn ObjectStore, prefix: &str) -> Vec<String> {
    let p = Key::from(prefix);
    let metas: Vec<_> = store.list(Some(&p)).try_collect().await.unwrap();
    metas
        .iter()
        .map(|m| {
            m.location.as_ref()[prefix.len()..]
                .trim_start_matches('/')
                .to_string()
        })
        .collect()
}

/// The site part of a bucket listing (Bazaar's own records left out).
pub fn site_part(objects: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    objects
        .iter()
        .filter(|(k, _)| !k.starts_with(".bazaar/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Asserts that the bucket serves exactly `want` (naming the paths that differ, not the bytes).
pub fn assert_serves(served: &BTreeMap<String, Vec<u8>>, want: &BTreeMap<String, Vec<u8>>) {
    let site = site_part(served);
    let (differ, missing) = diff(&site, want);
    let extra: Vec<&String> = site.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        differ.is_empty() && missing.is_empty() && extra.is_empty(),
        "the bucket does not serve the site: differ or missing {differ:?}, not in the site {extra:?}"
    );
}

/// Asserts that what the bucket serves is a whole site: every object is the old or the new
/// site's version of that file, every `href` and `src` of every page resolves to an object,
/// and the Pagefind entry's meta and wasm files exist.
pub fn assert_whole(
    served: &BTreeMap<String, Vec<u8>>,
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
) {
    let site = site_part(served);
    for (k, v) in &site {
        assert!(
            old.get(k) == Some(v) || new.get(k) == Some(v),
            "{k} holds bytes of neither the old nor the new site"
        );
    }
    assert!(site.contains_key("index.html"), "no index.html served");
    let mut checked = 0;
    for (page, bytes) in site.iter().filter(|(k, _)| k.ends_with(".html")) {
        let text = String::from_utf8_lossy(bytes);
        let dir = page.rsplit_once('/').map_or("", |(d, _)| d);
        for attr in ["href=\"", "src=\""] {
            for piece in text.split(attr).skip(1) {
                let link = piece.split('"').next().unwrap();
                if link.contains(':') || link.starts_with('#') || link.starts_with('/') {
                    continue;
                }
                let link = link.split(['#', '?']).next().unwrap();
                let target = resolve(dir, link);
                let target = if target.is_empty() || target.ends_with('/') {
                    format!("{target}index.html")
                } else {
                    target
                };
                assert!(
                    site.contains_key(&target),
                    "{page} links to {link:?} ({target}), which the bucket does not hold"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    let entry: serde_json::Value =
        serde_json::from_slice(&site["pagefind/pagefind-entry.json"]).unwrap();
    for (_, lang) in entry["languages"].as_object().unwrap() {
        let meta = format!(
            "pagefind/pagefind.{}.pf_meta",
            lang["hash"].as_str().unwrap()
        );
        let wasm = format!("pagefind/wasm.{}.pagefind", lang["wasm"].as_str().unwrap());
        assert!(
            site.contains_key(&meta),
            "the search entry names {meta}, which is missing"
        );
        assert!(
            site.contains_key(&wasm),
            "the search entry names {wasm}, which is missing"
        );
    }
}

/// `link` relative to the folder `dir`, with `..` and `.` resolved.
fn resolve(dir: &str, link: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in link.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    let mut s = parts.join("/");
    if link.ends_with('/') && !s.is_empty() {
        s.push('/');
    }
    s
}

/// The paths whose bytes differ between two sites (changed or only in `new`), and the paths
/// only in `old`.
pub fn diff(
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
) -> (Vec<String>, Vec<String>) {
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    (changed, removed)
}
