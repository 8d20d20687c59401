//! A submission's own policies are untrusted code: run over the whole catalog for the impact
//! report, they are bounded in memory, output and findings. A policy past a limit is a blocking
//! finding naming its file, and the process that ran `check` is unharmed.

use std::time::{Duration, Instant};

use crate::support::*;

/// A demo catalog on main and a branch `p` that adds `policies/bomb.rego` with `rule`.
fn submission_with_policy(rule: &str) -> tempfile::TempDir {
    let dir = demo_copy();
    git_init_commit(dir.path());
    git(dir.path(), &["checkout", "-q", "-b", "p"]);
    std::fs::write(
        dir.path().join("policies/bomb.rego"),
        format!("package bazaar\n\n{rule}\n"),
    )
    .unwrap();
    commit_all(dir.path(), "a policy");
    git(dir.path(), &["checkout", "-q", "main"]);
    dir
}

/// `check --base main --rev p` in process, as the daemon calls it, with these limits and worker.
fn check_in_process(
    dir: &std::path::Path,
    worker: Option<std::path::PathBuf>,
    limits: bazaar::context::Limits,
) -> bazaar::check::Checked {
    let ctx = bazaar::context::Context {
        today: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        worker,
        limits,
        ..bazaar::context::Context::new()
    };
    bazaar::check::check(
        &ctx,
        &bazaar::check::CheckOptions {
            root: dir.to_path_buf(),
            rev: Some("p".into()),
            base: Some("main".into()),
        },
    )
    .unwrap()
}

fn check_submission(dir: &std::path::Path) -> (i32, serde_json::Value, Duration) {
    let started = Instant::now();
    let (code, v) = check_json(dir, &["--base", "main", "--rev", "p"]);
    (code, v, started.elapsed())
}

fn limit_finding(v: &serde_json::Value) -> String {
    let msg = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "BZ0395")
        .unwrap_or_else(|| panic!("no BZ0395 finding: {v:#}"))["message"]
        .as_str()
        .unwrap()
        .to_string();
    // the worker must have been stopped by a limit, not by a bug of its own
    assert!(!msg.contains("internal error"), "{msg}");
    msg
}

#[test]
fn a_policy_that_allocates_without_bound_is_a_blocking_finding_and_check_survives() {
    let dir = submission_with_policy(
        "warn contains msg if {\n\tcount(numbers.range(1, 400000000)) > 0\n\tmsg := \"never\"\n}",
    );
    let (code, v, took) = check_submission(dir.path());
    assert_eq!(code, 1, "{v:#}");
    let msg = limit_finding(&v);
    assert!(msg.contains("policies/bomb.rego"), "{msg}");
    assert!(msg.contains("MiB"), "{msg}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn a_policy_that_builds_a_huge_string_is_a_blocking_finding() {
    let dir = submission_with_policy(
        "warn contains msg if {\n\tmsg := sprintf(\"%0500000000d\", [1])\n}",
    );
    // in process, as the daemon calls it: the worker is this build's binary, with a tighter
    // memory limit and a time budget a loaded machine cannot miss
    let checked = check_in_process(
        dir.path(),
        Some(bin()),
        bazaar::context::Limits {
            policy_memory: 256 * 1024 * 1024,
            impact_budget: Duration::from_secs(300),
            ..Default::default()
        },
    );
    assert!(checked.report.blocks());
    let f = checked
        .report
        .findings
        .iter()
        .find(|f| f.code.as_str() == "BZ0395")
        .expect("a BZ0395 finding");
    assert!(f.message.contains("policies/bomb.rego"), "{}", f.message);
    assert!(f.message.contains("256 MiB"), "{}", f.message);
    // whatever happened in the worker, the report stayed small
    let size: usize = checked
        .report
        .findings
        .iter()
        .map(|f| f.message.len())
        .sum();
    assert!(size < 20_000, "{size} bytes of findings");
}

#[test]
fn a_rule_that_floods_findings_is_capped_and_blocks() {
    let rule = "warn contains msg if {\n\tsome i in numbers.range(1, 1000)\n\tmsg := sprintf(\"warning %d\", [i])\n}";
    let dir = submission_with_policy(rule);
    let (code, v, _) = check_submission(dir.path());
    assert_eq!(code, 1, "{v:#}");
    assert!(limit_finding(&v).contains("at most 100"), "{v:#}");
    // the same rule on main (the policies that judge) blocks each app it floods, with no flood
    std::fs::write(
        dir.path().join("policies/bomb.rego"),
        format!("package bazaar\n\n{rule}\n"),
    )
    .unwrap();
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() < 200, "{} findings", findings.len());
    assert!(findings.iter().any(|f| f["code"] == "BZ0395"), "{v:#}");
}

#[test]
fn the_policy_impact_report_stops_at_its_budget_and_says_it_is_partial() {
    let dir = submission_with_policy(
        "warn contains msg if {\n\tinput.app.tier == \"never\"\n\tmsg := \"x\"\n}",
    );
    let check = |worker: Option<std::path::PathBuf>| {
        let checked = check_in_process(
            dir.path(),
            worker,
            bazaar::context::Limits {
                impact_budget: Duration::ZERO,
                ..Default::default()
            },
        );
        let impact = checked
            .report
            .findings
            .iter()
            .find(|f| f.code.as_str() == "BZ0394")
            .expect("an impact note")
            .message
            .clone();
        (checked.report.blocks(), impact)
    };
    // in process and in the worker: a report cut short is marked partial, and blocks nothing
    for worker in [None, Some(bin())] {
        let (blocks, impact) = check(worker);
        assert!(!blocks, "{impact}");
        assert!(impact.starts_with("partial:"), "{impact}");
    }
}
