//! `cargo bench --bench check`: times `bazaar check` on a generated 10,000-app catalog.
//!
//! Goals (issue 3, 2 cores, release build): whole working tree < 1 s, `--rev HEAD` < 1 s,
//! `--base HEAD~1 --rev HEAD` with one app changed < 0.2 s (once the facts cache of unchanged
//! apps is warm, as it is for a daemon or a second local run; the cold run is shown too). Prints median and best wall time of
//! several runs and each command's peak memory (from the kernel's rusage of the child).
//! `BAZAAR_BENCH_APPS` changes the catalog size.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");

/// Runs a command to completion; returns wall time, exit code and peak RSS in KiB.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives the rusage
fn measure(cmd: &mut Command) -> (Duration, i32, i64) {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; rusage is a POD out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (start.elapsed(), code, usage.ru_maxrss)
}

fn bench(label: &str, goal: Option<f64>, runs: usize, args: &[&str], dir: &Path) {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let (t, code, rss) = measure(Command::new(BIN).args(args).current_dir(dir));
        assert_eq!(code, 0, "{label}: bazaar {args:?} exited {code}");
        times.push(t.as_secs_f64());
        peak = peak.max(rss);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let verdict = match goal {
        Some(g) if median <= g => format!("goal < {g} s: met"),
        Some(g) => format!("goal < {g} s: MISSED"),
        None => String::new(),
    };
    println!(
        "{label:<42} median {median:>7.3} s  best {:>7.3} s  peak {:>6.1} MiB  {verdict}",
        times[0],
        peak as f64 / 1024.0
    );
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git")
        .success();
    assert!(ok, "git {args:?}");
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
    let dir = tmp.path().join("catalog");
    println!(
        "bazaar check benchmark: {n} apps, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let (t, code, rss) = measure(
        Command::new(BIN)
            .args(["init", "--sample", &n.to_string(), dir.to_str().unwrap()])
            .stderr(std::process::Stdio::null()),
    );
    assert_eq!(code, 0);
    println!(
        "{:<42} {:>7.3} s  peak {:>6.1} MiB",
        format!("init --sample {n} (write + commit)"),
        t.as_secs_f64(),
        rss as f64 / 1024.0
    );

    // one app changed in a second commit
    let app = std::fs::read_dir(dir.join("catalog/finance"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let manifest = app.join("app.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("summary = \"", "summary = \"Now faster. ", 1),
    )
    .unwrap();
    git(
        &dir,
        &["-c", "gc.auto=0", "commit", "-qam", "change one app"],
    );
    // pack the objects, as a clone from the forge has them
    git(&dir, &["gc", "-q"]);

    // the first full check evaluates every app's policies; later ones hit the verdict cache
    let _ = std::fs::remove_dir_all(dir.join(".git/bazaar"));
    let (t, code, rss) = measure(Command::new(BIN).args(["check"]).current_dir(&dir));
    assert_eq!(code, 0);
    println!(
        "{:<42} {:>7.3} s  peak {:>6.1} MiB  goal < 2 s (issue 4): {}",
        "check, all policies, cold verdict cache",
        t.as_secs_f64(),
        rss as f64 / 1024.0,
        if t.as_secs_f64() < 2.0 {
            "met"
        } else {
            "MISSED"
        }
    );
    let _ = std::fs::remove_dir_all(dir.join(".git/bazaar"));
    let (t, code, rss) = measure(
        Command::new(BIN)
            .args(["check"])
            .env("BAZAAR_POLICY_ENGINE", "vm")
            .current_dir(&dir),
    );
    assert_eq!(code, 0);
    println!(
        "{:<42} {:>7.3} s  peak {:>6.1} MiB  (opt-in regorus VM, not strict)",
        "check, all policies, cold, VM",
        t.as_secs_f64(),
        rss as f64 / 1024.0
    );
    bench(
        "check (working tree), warm verdicts",
        Some(1.0),
        5,
        &["check"],
        &dir,
    );
    bench(
        "check --rev HEAD, warm verdicts",
        Some(1.0),
        5,
        &["check", "--rev", "HEAD"],
        &dir,
    );
    let base = ["check", "--base", "HEAD~1", "--rev", "HEAD"];
    let cache = dir.join(".git/bazaar");
    let mut cold = Vec::new();
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(&cache);
        let (t, code, rss) = measure(Command::new(BIN).args(base).current_dir(&dir));
        assert_eq!(code, 0);
        cold.push((t.as_secs_f64(), rss));
    }
    cold.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "{:<42} median {:>7.3} s  peak {:>6.1} MiB  (fills the facts cache)",
        "check --base HEAD~1 --rev HEAD, cold cache",
        cold[1].0,
        cold[1].1 as f64 / 1024.0
    );
    // policy time of the one-app check, as check reports it (verdict not cached)
    for e in std::fs::read_dir(&cache).unwrap().filter_map(Result::ok) {
        if e.file_name().to_string_lossy().starts_with("verdicts-") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let out = Command::new(BIN)
        .args(base)
        .args(["--format", "json"])
        .current_dir(&dir)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    println!(
        "{:<42} policy {:>6.1} ms  load {:>6.1} ms  total {:>6.1} ms (in-process timings)",
        "check --base, one app: phases",
        v["timings_ms"]["policy"].as_f64().unwrap_or(f64::NAN),
        v["timings_ms"]["load"].as_f64().unwrap_or(f64::NAN),
        v["timings_ms"]["total"].as_f64().unwrap_or(f64::NAN)
    );
    bench(
        "check --base HEAD~1 --rev HEAD, warm cache",
        Some(0.2),
        5,
        &base,
        &dir,
    );
    bench(
        "check --format json (working tree)",
        None,
        3,
        &["check", "--format", "json"],
        &dir,
    );
}
