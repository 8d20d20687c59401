//! `cargo bench --bench sweep`: times `bazaar sweep --dry-run` (the plan: every app's policies and
//! lifecycle rules) on a generated 10,000-app catalog, side by side with the script a platform
//! team would otherwise run from cron: Python reading every manifest with `tomllib` and listing
//! the apps whose review date, expiry or retirement date is near or past (no policies, no SBOMs,
//! no warnings: a floor, not an equal).
//!
//! Goal (issue 18, 2 cores, release build): a sweep over 10,000 apps plans in < 1 s. Measured
//! the way the daemon sweeps: once a day, so each run is the first of its day (`--at` moves one
//! day per run; a cache keyed by inputs that hold the day could never serve it, and the sweep
//! keeps none). Also reported: the same day again (a re-plan after a lost race with a merge) and
//! a fresh clone (no `.git/bazaar`), which show that nothing a previous run left behind is what
//! makes it fast. Missed goals are reported, not failed on; a failing command
//! fails the bench. `BAZAAR_BENCH_APPS` (10,000) and `BAZAAR_BENCH_RUNS` (5) change the sizes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");

/// One finished child: wall seconds, CPU seconds (user + system) and peak RSS in KiB.
struct Run {
    wall: f64,
    cpu: f64,
    rss: i64,
}

#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives the rusage
fn measure(label: &str, cmd: &mut Command) -> Run {
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{label}: spawn: {e}"));
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; rusage is a POD out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{label} failed (status {status})"
    );
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        wall,
        cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
        rss: usage.ru_maxrss,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn report(label: &str, runs: &[Run], goal: Option<f64>) -> f64 {
    let wall = median(runs.iter().map(|r| r.wall).collect());
    let best = runs.iter().map(|r| r.wall).fold(f64::MAX, f64::min);
    let cpu = median(runs.iter().map(|r| r.cpu).collect());
    let peak = runs.iter().map(|r| r.rss).max().unwrap_or(0) as f64 / 1024.0;
    let verdict = match goal {
        Some(g) if wall < g => format!("  goal < {g} s: PASS"),
        Some(g) => format!("  goal < {g} s: MISS"),
        None => String::new(),
    };
    println!(
        "{label:<46} median {wall:>6.3} s  best {best:>6.3} s  cpu {cpu:>6.3} s  peak {peak:>6.1} MiB{verdict}"
    );
    wall
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("git")
        .success();
    assert!(ok, "git {args:?}");
}

/// What a platform team would cron instead: every manifest read with tomllib, the apps whose
/// review is due within 90 days or whose expiry or retirement date has passed counted.
const PEER: &str = r#"
import sys, pathlib, tomllib, datetime
root, at = pathlib.Path(sys.argv[1]), datetime.date.fromisoformat(sys.argv[2])
due = retire = 0
for m in root.glob("catalog/*/*/app.toml"):
    try: lc = tomllib.loads(m.read_text()).get("lifecycle", {})
    except Exception: continue
    day = lambda k: lc.get(k) if isinstance(lc.get(k), datetime.date) else None
    r = day("review_by")
    if r and 0 <= (r - at).days <= 90: due += 1
    for k in ("expires", "retire_on"):
        d = day(k)
        if d and d < at: retire += 1
print(due, retire)
"#;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there are no unit benches
    }
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (n, runs) = (
        var("BAZAAR_BENCH_APPS", 10_000),
        var("BAZAAR_BENCH_RUNS", 5),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("catalog");
    println!(
        "bazaar sweep benchmark: {n} apps, {} cores, {runs} runs each",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    measure(
        "init --sample",
        Command::new(BIN).args(["init", "--sample", &n.to_string(), dir.to_str().unwrap()]),
    );
    // packed, as a clone or a long-lived repository is
    git(&dir, &["gc", "--quiet"]);
    let root = dir.to_str().unwrap();
    let day = |i: usize| {
        (chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap() + chrono::Duration::days(i as i64))
            .to_string()
    };
    let sweep = |label: &str, at: &str| {
        measure(
            label,
            Command::new(BIN).args([
                "sweep",
                "--root",
                root,
                "--at",
                at,
                "--dry-run",
                "--format",
                "json",
            ]),
        )
    };
    // the first day's sweep fills the caches a daily schedule finds on the next day
    sweep("warm-up", &day(0));
    let daily: Vec<Run> = (1..=runs).map(|i| sweep("daily sweep", &day(i))).collect();
    let again: Vec<Run> = (0..runs).map(|_| sweep("same day", &day(runs))).collect();
    let fresh: Vec<Run> = (0..runs)
        .map(|i| {
            let _ = std::fs::remove_dir_all(dir.join(".git/bazaar"));
            sweep("fresh clone", &day(runs + 1 + i))
        })
        .collect();
    let peer: Option<Vec<Run>> = Command::new("python3")
        .args(["-c", "import tomllib"])
        .status()
        .is_ok_and(|s| s.success())
        .then(|| {
            (0..runs)
                .map(|i| {
                    measure(
                        "peer",
                        Command::new("python3").args(["-c", PEER, root, &day(i + 1)]),
                    )
                })
                .collect()
        });

    let daily_wall = report(
        "sweep, first of a new day (daemon's schedule)",
        &daily,
        Some(1.0),
    );
    report("sweep, same day again (re-plan after a race)", &again, None);
    report("sweep, fresh clone (no .git/bazaar)", &fresh, None);
    match &peer {
        Some(p) => {
            let peer_wall = report("peer: python3 tomllib dates-only script", p, None);
            println!(
                "ratio, daily sweep / peer script: {:.2}x (the peer reads dates only: no policies, SBOMs or warnings)",
                daily_wall / peer_wall
            );
        }
        None => {
            println!("peer: python3 with tomllib (3.11+) is missing; Bazaar's numbers stand alone")
        }
    }
}
