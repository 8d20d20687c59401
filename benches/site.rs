//! `cargo bench --bench site`: times `bazaar build` on a generated catalog side by side with the
//! site a user would otherwise put together: Hugo rendering one page per app, then the Pagefind
//! CLI indexing it (`../shared/bench/peer-site.sh`, or the script `BAZAAR_PEER_SITE` names; when it
//! is missing Bazaar's own numbers are still reported).
//!
//! Each round runs, alternating which side goes first: a cold build (no `.git/bazaar` cache and
//! no published site, as from a fresh clone; the previous round's are moved aside, not deleted,
//! so that neither side's timed part follows a mass deletion), a warm build (which publishes its pages before
//! its search index, as every rebuild of a serving site does), a one-app rebuild (one app's
//! summary edited in the working tree) and the peer.
//! Every child's wall time, CPU time and peak memory come from the kernel's rusage of the child
//! (which covers its descendants, so the peer's is its largest of hugo, pagefind and friends).
//!
//! Goals (2 cores, release build): a cold `bazaar build` ≤ 0.5 × the peer's time (hugo +
//! pagefind, as the script reports it), peak memory below the peer's, a one-app rebuild < 1 s
//! plus the search index refresh (a rebuild publishes its pages first, then builds the index,
//! which Pagefind rebuilds whole; both times are reported).
//! Missed goals are reported, not failed on; a failing command fails the bench.
//! `BAZAAR_BENCH_APPS` (10,000) and `BAZAAR_BENCH_ROUNDS` (2) change the sizes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_bazaar");

/// One finished child: wall, user and system CPU seconds, peak RSS in KiB, what it printed.
struct Run {
    wall: f64,
    user: f64,
    sys: f64,
    rss: i64,
    stdout: String,
    stderr: String,
}

impl Run {
    fn cpu(&self) -> f64 {
        self.user + self.sys
    }

    fn mib(&self) -> f64 {
        self.rss as f64 / 1024.0
    }
}

/// Runs a command to completion with its output in files under `scratch` (no pipes to drain);
/// panics with its stderr when it fails.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also gives the rusage
fn measure(label: &str, cmd: &mut Command, scratch: &Path) -> Run {
    let (out_path, err_path) = (scratch.join("child.out"), scratch.join("child.err"));
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("{label}: spawn: {e}"));
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; rusage is a POD out-parameter.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as i32, "{label}: wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let run = Run {
        wall,
        user: secs(usage.ru_utime),
        sys: secs(usage.ru_stime),
        rss: usage.ru_maxrss,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    };
    assert_eq!(
        code, 0,
        "{label}: {cmd:?} exited {code}\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

fn git(dir: &Path, args: &[&str], scratch: &Path) -> Run {
    measure(
        &format!("git {args:?}"),
        Command::new("git")
            .args([
                "-c",
                "user.name=Bench",
                "-c",
                "user.email=bench@example.com",
            ])
            .args(args)
            .current_dir(dir),
        scratch,
    )
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Total bytes and HTML files under `dir` (links followed, the published `public` one included);
/// `None` when it does not exist.
fn tree(dir: &Path) -> Option<(u64, usize)> {
    let dir = dir.canonicalize().ok()?;
    let (mut bytes, mut pages) = (0, 0);
    for e in walkdir::WalkDir::new(dir).follow_links(true) {
        let e = e.expect("walk the output");
        if e.file_type().is_file() {
            bytes += e.metadata().expect("metadata").len();
            pages += usize::from(e.path().extension().is_some_and(|x| x == "html"));
        }
    }
    Some((bytes, pages))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The peer's own split, from its stderr: (hugo s, pagefind s, pages).
fn peer_split(stderr: &str) -> (f64, f64, Option<usize>) {
    let num = |key: &str| {
        stderr
            .split(key)
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.trim_end_matches(',').parse().ok())
            .unwrap_or(f64::NAN)
    };
    let pages = stderr
        .lines()
        .find(|l| l.ends_with(" pages"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok());
    (num("hugo "), num("pagefind "), pages)
}

/// What one peer run gave: (its reported hugo + pagefind seconds, the run).
fn peer(script: &Path, catalog: &Path, work: &Path, scratch: &Path) -> (f64, Run) {
    let run = measure(
        "peer",
        Command::new("bash").arg(script).arg(catalog).arg(work),
        scratch,
    );
    assert!(
        !run.stdout.contains("FAIL"),
        "peer failed: {}\n{}",
        run.stdout,
        run.stderr
    );
    let total = run
        .stdout
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("peer printed no total: {:?}", run.stdout));
    (total, run)
}

/// A phase's milliseconds from `bazaar build`'s summary (`check 12 ms, model …`).
fn phase_ms(stderr: &str, phase: &str) -> f64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("built "))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    // the phases are the last parenthesis: "(check 12 ms, model 3 ms, pages 4 ms, search 5 ms)"
    let phases = &line[line.rfind('(').unwrap_or(0)..];
    let at = phases
        .find(&format!("{phase} "))
        .unwrap_or_else(|| panic!("no {phase} time in {line}"));
    phases[at + phase.len() + 1..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {phase} time in {line}"))
}

/// When the one-app rebuild's pages went live, in seconds: a rebuild of a serving site
/// publishes its pages with the index readers have, then builds and swaps in the new index.
fn pages_ready(r: &Run) -> f64 {
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("built "))
        .unwrap_or_else(|| panic!("no summary in {}", r.stderr));
    line.split("pages published after ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no publication time in {line}"))
}

fn pages_built(stderr: &str) -> Option<usize> {
    stderr.lines().find_map(|l| {
        l.strip_prefix("built ")?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a list; there are no unit benches
    }
    let n = env("BAZAAR_BENCH_APPS", 10_000);
    let rounds = env("BAZAAR_BENCH_ROUNDS", 2).max(1);
    let script = std::env::var_os("BAZAAR_PEER_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/peer-site.sh")
        });
    let script = script.is_file().then_some(script).or_else(|| {
        println!("peer script not found (set BAZAAR_PEER_SITE); reporting Bazaar's numbers only");
        None
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    let scratch = tmp.path();
    let cat = scratch.join("catalog");
    let out = scratch.join("bazaar/public");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let peer_work = scratch.join("peer");
    println!(
        "bazaar build benchmark: {n} apps, {rounds} round(s), {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let r = measure(
        "init",
        Command::new(BIN).args(["init", "--sample", &n.to_string(), cat.to_str().unwrap()]),
        scratch,
    );
    eprintln!("[site] init --sample {n}: {:.2} s", r.wall);
    // pack the objects, as a clone from the forge has them
    let r = git(&cat, &["gc", "-q"], scratch);
    eprintln!("[site] git gc: {:.2} s", r.wall);

    // the peer installs hugo and pagefind on its first run: do that on a tiny catalog, untimed
    if let Some(script) = &script {
        let tiny = scratch.join("tiny");
        measure(
            "init tiny",
            Command::new(BIN).args(["init", "--sample", "5", tiny.to_str().unwrap()]),
            scratch,
        );
        let t = Instant::now();
        peer(script, &tiny, &scratch.join("peer-tiny"), scratch);
        let _ = std::fs::remove_dir_all(scratch.join("peer-tiny"));
        eprintln!(
            "[site] peer warm-up on 5 apps (installs hugo/pagefind if missing): {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }

    // the app whose summary a one-app rebuild changes
    let mut apps: Vec<PathBuf> = std::fs::read_dir(cat.join("catalog/finance"))
        .expect("catalog/finance")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("app.toml").is_file())
        .collect();
    apps.sort();
    let manifest = apps[0].join("app.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        original.contains("summary = \""),
        "no summary in {manifest:?}"
    );

    let build = |label: &str| {
        let r = measure(
            label,
            Command::new(BIN)
                .args(["build", "--root"])
                .arg(&cat)
                .arg("--out")
                .arg(&out),
            scratch,
        );
        eprintln!(
            "[site]   {label}: {:.2} s, cpu {:.2} user + {:.2} sys, peak {:.0} MiB",
            r.wall,
            r.user,
            r.sys,
            r.mib()
        );
        r
    };
    let (mut cold, mut warm, mut one) = (Vec::new(), Vec::new(), Vec::new());
    // the peer's reported seconds (hugo + pagefind) and its runs
    let (mut peer_totals, mut peer_runs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        eprintln!("[site] round {}/{rounds}", round + 1);
        let run_peer = |totals: &mut Vec<f64>, runs: &mut Vec<Run>| {
            if let Some(script) = &script {
                let (total, r) = peer(script, &cat, &peer_work, scratch);
                let (hugo, pagefind, _) = peer_split(&r.stderr);
                eprintln!(
                    "[site]   peer: {total:.2} s (hugo {hugo:.2} s + pagefind {pagefind:.2} s; script wall {:.2} s), cpu {:.2} s, peak {:.0} MiB",
                    r.wall,
                    r.cpu(),
                    r.mib()
                );
                totals.push(total);
                runs.push(r);
            }
        };
        if round % 2 == 1 {
            run_peer(&mut peer_totals, &mut peer_runs);
        }
        // cold: from scratch, as a fresh clone builds and as the peer always does: no
        // verdict/facts cache (as check.rs separates them) and no published site. The previous
        // round's ~40,000 files are moved aside, not deleted, until the end: on ext4, files
        // created within minutes of a mass deletion pay for it (the inode allocator skips
        // recently freed inodes, scanning them, 5-8 s of sys time here), and the peer's script
        // deletes its own previous output in its untimed part, before its content conversion.
        let trash = scratch.join(format!("trash-{round}"));
        std::fs::create_dir_all(&trash).unwrap();
        let _ = std::fs::rename(cat.join(".git/bazaar"), trash.join("cache"));
        let _ = std::fs::rename(out.parent().unwrap(), trash.join("site"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        cold.push(build("build, cold cache"));
        warm.push(build("build, warm cache"));
        std::fs::write(
            &manifest,
            original.replacen("summary = \"", &format!("summary = \"Edit {round}. "), 1),
        )
        .unwrap();
        one.push(build("one-app rebuild"));
        if round % 2 == 0 {
            run_peer(&mut peer_totals, &mut peer_runs);
        }
    }

    // the check's share of a build, on the same (edited) working tree
    let check = |label: &str| {
        let r = measure(
            label,
            Command::new(BIN).args(["check", "--root"]).arg(&cat),
            scratch,
        );
        eprintln!(
            "[site]   {label}: {:.2} s, cpu {:.2} s, peak {:.0} MiB",
            r.wall,
            r.cpu(),
            r.mib()
        );
        r
    };
    let _ = std::fs::remove_dir_all(cat.join(".git/bazaar"));
    let check_cold = check("check, cold cache");
    let check_warm = check("check, warm cache");

    let wall = |v: &[Run]| median(v.iter().map(|r| r.wall).collect());
    let cpu = |v: &[Run]| median(v.iter().map(Run::cpu).collect());
    let peak = |v: &[Run]| v.iter().map(Run::mib).fold(0.0, f64::max);
    let (b_cold, b_warm, b_one) = (wall(&cold), wall(&warm), wall(&one));
    let one_pages = median(one.iter().map(pages_ready).collect());
    let one_search = median(
        one.iter()
            .map(|r| phase_ms(&r.stderr, "search") / 1000.0)
            .collect(),
    );
    let b_peak = peak(&cold).max(peak(&warm)).max(peak(&one));
    let any_peer = !peer_runs.is_empty();
    let p_time = any_peer.then(|| median(peer_totals));
    let p_wall = any_peer.then(|| wall(&peer_runs));
    let p_cpu = any_peer.then(|| cpu(&peer_runs));
    let p_peak = any_peer.then(|| peak(&peer_runs));
    let p_split = peer_runs.last().map(|r| peer_split(&r.stderr));

    let b_tree = tree(&out).expect("the published site");
    let b_search = tree(&out.join("pagefind"));
    let p_tree = tree(&peer_work.join("public"));
    let p_search = tree(&peer_work.join("public/pagefind"));
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);

    let fmt = |v: Option<f64>, prec: usize| v.map_or("—".to_string(), |v| format!("{v:.prec$}"));
    let ratio = |b: Option<f64>, p: Option<f64>| match (b, p) {
        (Some(b), Some(p)) if p > 0.0 => format!("{:.2}×", b / p),
        _ => "—".to_string(),
    };
    let row = |what: &str, b: Option<f64>, p: Option<f64>, prec: usize| {
        println!(
            "| {what} | {} | {} | {} |",
            fmt(b, prec),
            fmt(p, prec),
            ratio(b, p)
        );
    };
    println!();
    println!("| what | bazaar | peer (hugo + pagefind) | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    row("build, cold cache (s)", Some(b_cold), p_time, 2);
    row("build, warm cache (s)", Some(b_warm), p_time, 2);
    row(
        "one-app rebuild (s; peer rebuilds all)",
        Some(b_one),
        p_time,
        2,
    );
    row(
        "  of which until its pages were published (s)",
        Some(one_pages),
        None,
        2,
    );
    row(
        "  search index refresh, after the pages (s)",
        Some(one_search),
        None,
        2,
    );
    row(
        "wall incl. peer's content conversion (s)",
        Some(b_cold),
        p_wall,
        2,
    );
    // the machine is shared and noisy: CPU time is steadier than wall time
    row("CPU user + sys, cold (s)", Some(cpu(&cold)), p_cpu, 2);
    row(
        "  of which sys (s)",
        Some(median(cold.iter().map(|r| r.sys).collect())),
        any_peer.then(|| median(peer_runs.iter().map(|r| r.sys).collect())),
        2,
    );
    row("CPU user + sys, warm (s)", Some(cpu(&warm)), p_cpu, 2);
    row(
        "CPU user + sys, one-app rebuild (s)",
        Some(cpu(&one)),
        p_cpu,
        2,
    );
    row("peak memory, max of runs (MiB)", Some(b_peak), p_peak, 0);
    row(
        "output size (MiB)",
        Some(mib(b_tree.0)),
        p_tree.map(|t| mib(t.0)),
        1,
    );
    row(
        "HTML files",
        Some(b_tree.1 as f64),
        p_tree.map(|t| t.1 as f64),
        0,
    );
    row(
        "pages (as each side reports)",
        cold.last()
            .and_then(|r| pages_built(&r.stderr))
            .map(|p| p as f64),
        p_split.and_then(|s| s.2).map(|p| p as f64),
        0,
    );
    row(
        "search index `pagefind/` (MiB)",
        b_search.map(|t| mib(t.0)),
        p_search.map(|t| mib(t.0)),
        1,
    );
    println!();
    if let Some((hugo, pagefind, _)) = p_split {
        println!(
            "peer's times are hugo + pagefind as its script reports them; its CPU and memory cover the whole script (content conversion included)"
        );
        println!("peer split (last run): hugo {hugo:.2} s, pagefind {pagefind:.2} s");
    }
    println!(
        "check's share: `bazaar check` cold {:.2} s wall / {:.2} s CPU ({:.0}% / {:.0}% of a cold build), warm {:.2} s / {:.2} s ({:.0}% / {:.0}% of a warm build)",
        check_cold.wall,
        check_cold.cpu(),
        100.0 * check_cold.wall / b_cold,
        100.0 * check_cold.cpu() / cpu(&cold),
        check_warm.wall,
        check_warm.cpu(),
        100.0 * check_warm.wall / b_warm,
        100.0 * check_warm.cpu() / cpu(&warm)
    );
    if b_search.is_none() {
        println!("bazaar wrote no `pagefind/` folder: this build has no search index yet");
    }

    println!();
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => "PASS",
        Some(false) => "MISS",
        None => "n/a (no peer)",
    };
    println!(
        "goal: cold build ≤ 0.5 × peer time ({:.2} s vs {}): {}",
        b_cold,
        fmt(p_time.map(|p| 0.5 * p), 2),
        verdict(p_time.map(|p| b_cold <= 0.5 * p))
    );
    println!(
        "goal: peak memory < peer's ({:.0} MiB vs {} MiB): {}",
        b_peak,
        fmt(p_peak, 0),
        verdict(p_peak.map(|p| b_peak < p))
    );
    println!(
        "goal: one-app rebuild < 1 s plus the search index refresh (pages published after {one_pages:.2} s; search refresh {one_search:.2} s; whole build {b_one:.2} s): {}",
        verdict(Some(one_pages < 1.0))
    );
}
