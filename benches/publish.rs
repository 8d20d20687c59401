//! `cargo bench --bench publish`: `bazaar publish` to a real S3-compatible server (moto's, from
//! tests/s3/venv, which .ci/run installs) on a generated catalog: the first publish of the whole
//! site, a publish with nothing changed (the cost of comparing), and the one that matters, a
//! publish after a one-app edit, next to the site build it follows.
//!
//! Goal (issue #17): a one-app change is republished within the site build time plus the
//! upload of the changed files, i.e. publishing adds only reading and hashing the built folder
//! and one manifest read to the uploads themselves. Reported, not failed on.
//! `BAZAAR_BENCH_APPS` (10,000) changes the size.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");

fn run(label: &str, cmd: &mut Command) -> (f64, String) {
    let t = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{label} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(port: u16, method: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn moto() -> (Moto, u16) {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/venv/bin/python");
    assert!(
        py.is_file(),
        "the publish bench needs moto's S3 server in tests/s3/venv: run .ci/run, or `python3 -m venv tests/s3/venv && tests/s3/venv/bin/pip install -r tests/s3/requirements.txt`"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
    let moto = Moto(child);
    let t = Instant::now();
    while http(port, "GET", "/").is_none() {
        assert!(t.elapsed() < Duration::from_secs(60), "moto did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (moto, port)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there are no unit benches
    }
    let n: usize = std::env::var("BAZAAR_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().expect("tempdir");
    let cat = tmp.path().join("catalog");
    println!("bazaar publish benchmark: {n} apps, moto S3 on loopback");
    run(
        "init",
        Command::new(BIN).args(["init", "--sample", &n.to_string(), cat.to_str().unwrap()]),
    );
    let build = |label: &str| {
        let (secs, _) = run(
            label,
            Command::new(BIN).arg("build").arg("--root").arg(&cat),
        );
        secs
    };
    let (_moto, port) = moto();
    assert!(http(port, "PUT", "/site").is_some_and(|r| r.contains(" 200 ")));
    let endpoint = format!("http://127.0.0.1:{port}");
    let site = cat.join("public");
    let publish = |label: &str| {
        let (secs, out) = run(
            label,
            Command::new(BIN)
                .args(["publish", "--format", "json", "--to", "s3://site/catalog"])
                .arg("--site")
                .arg(&site)
                .args(["--endpoint", &endpoint])
                .env("AWS_ACCESS_KEY_ID", "bench")
                .env("AWS_SECRET_ACCESS_KEY", "bench"),
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("json report");
        let t = &v["timings_ms"];
        println!(
            "{label}: {secs:.2} s, {} of {} files uploaded ({:.1} MB), {} deleted (scan+hash {} ms, manifest {} ms, upload {} ms, delete {} ms)",
            v["uploaded"],
            v["files"],
            v["uploaded_bytes"].as_f64().unwrap_or(0.0) / 1e6,
            v["deleted"],
            t["scan"],
            t["compare"],
            t["upload"],
            t["delete"]
        );
        (secs, v)
    };

    let full_build = build("build");
    println!("build: {full_build:.2} s");
    publish("first publish (whole site)");
    publish("publish, nothing changed");

    // one app's summary changes
    let dir = std::fs::read_dir(cat.join("catalog/finance"))
        .expect("catalog/finance")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("app.toml").is_file())
        .expect("an app");
    let manifest = dir.join("app.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("summary = \"", "summary = \"Edited: ", 1),
    )
    .unwrap();
    let one_build = build("one-app build");
    println!("one-app build: {one_build:.2} s");
    let (secs, v) = publish("one-app publish");
    let t = &v["timings_ms"];
    let upload = t["upload"].as_f64().unwrap_or(0.0) / 1000.0;
    let overhead = secs - upload;
    println!(
        "one-app change: build {one_build:.2} s + publish {secs:.2} s = {:.2} s; the uploads themselves {upload:.2} s, publishing's own cost (process, scan+hash, manifest, delete) {overhead:.2} s = {:.0}% of the build",
        one_build + secs,
        100.0 * overhead / one_build.max(0.001)
    );
}
