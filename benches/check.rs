//! `cargo bench --bench check`: times `bazaar check` on a generated 10,000-app catalog.
//!
//! Goals (2 cores, release build): a cold full check (empty caches, all default policies, the
//! strict engine) < 1 s; warm working tree and `--rev HEAD` < 1 s; a one-app submission
//! (`--base main --rev sub`, judged on its merge result) < 0.2 s cold and < 0.1 s warm, both
//! when the branch is up to date with main and when main moved on after it was made. Prints median and best wall time of
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
    for (label, engine) in [
        ("check, all policies, cold, interpreter", "interpreter"),
        ("check, all policies, cold, VM (strict)", "vm"),
    ] {
        let mut times = Vec::new();
        let mut peak = 0;
        for _ in 0..3 {
            let _ = std::fs::remove_dir_all(dir.join(".git/bazaar"));
            let (t, code, rss) = measure(
                Command::new(BIN)
                    .args(["check"])
                    .env("BAZAAR_POLICY_ENGINE", engine)
                    .current_dir(&dir),
            );
            assert_eq!(code, 0);
            times.push(t.as_secs_f64());
            peak = peak.max(rss);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{label:<42} median {:>7.3} s  best {:>7.3} s  peak {:>6.1} MiB  goal < 1 s: {}",
            times[1],
            times[0],
            peak as f64 / 1024.0,
            if times[1] < 1.0 { "met" } else { "MISSED" }
        );
    }
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
    // a submission branch: one app changed on `sub`; later, main moves on with another change,
    // so the submission is judged on a real merge (its merge base is not main's tip)
    git(&dir, &["branch", "-q", "sub", "HEAD"]);
    git(&dir, &["reset", "-q", "--hard", "HEAD~1"]);
    let other = std::fs::read_dir(dir.join("catalog/sales"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .unwrap()
        .path()
        .join("app.toml");
    let text = std::fs::read_to_string(&other).unwrap();
    std::fs::write(
        &other,
        text.replacen("summary = \"", "summary = \"Main moved. ", 1),
    )
    .unwrap();
    git(
        &dir,
        &["-c", "gc.auto=0", "commit", "-qam", "main moves on"],
    );
    git(&dir, &["branch", "-q", "ff", "HEAD"]);
    let ff_app = std::fs::read_dir(dir.join("catalog/people"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .unwrap()
        .path()
        .join("app.toml");
    git(&dir, &["checkout", "-q", "ff"]);
    let text = std::fs::read_to_string(&ff_app).unwrap();
    std::fs::write(
        &ff_app,
        text.replacen("summary = \"", "summary = \"Up to date. ", 1),
    )
    .unwrap();
    git(
        &dir,
        &[
            "-c",
            "gc.auto=0",
            "commit",
            "-qam",
            "an up-to-date submission",
        ],
    );
    git(&dir, &["checkout", "-q", "-"]);
    let cache = dir.join(".git/bazaar");
    for (label, head) in [
        ("up to date with main", "ff"),
        ("main moved on (merged)", "sub"),
    ] {
        let args = ["check", "--base", "main", "--rev", head];
        let mut cold = Vec::new();
        for _ in 0..3 {
            let _ = std::fs::remove_dir_all(&cache);
            let (t, code, rss) = measure(Command::new(BIN).args(args).current_dir(&dir));
            assert_eq!(code, 0, "{label}");
            cold.push((t.as_secs_f64(), rss));
        }
        cold.sort_by(|a, b| a.0.total_cmp(&b.0));
        println!(
            "{:<42} median {:>7.3} s  peak {:>6.1} MiB  goal < 0.2 s: {}",
            format!("one-app submission, {label}, cold"),
            cold[1].0,
            cold[1].1 as f64 / 1024.0,
            if cold[1].0 < 0.2 { "met" } else { "MISSED" }
        );
        let out = Command::new(BIN)
            .args(args)
            .args(["--format", "json"])
            .current_dir(&dir)
            .output()
            .expect("run");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        println!(
            "{:<42} policy {:>6.1} ms  load {:>6.1} ms  total {:>6.1} ms (in-process timings)",
            "  phases (warm)",
            v["timings_ms"]["policy"].as_f64().unwrap_or(f64::NAN),
            v["timings_ms"]["load"].as_f64().unwrap_or(f64::NAN),
            v["timings_ms"]["total"].as_f64().unwrap_or(f64::NAN)
        );
        bench(
            &format!("one-app submission, {label}, warm"),
            Some(0.1),
            5,
            &args,
            &dir,
        );
    }
    bench(
        "check --format json (working tree)",
        None,
        3,
        &["check", "--format", "json"],
        &dir,
    );
}
