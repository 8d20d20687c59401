//! Signals (`signals/*.csv`, `*.jsonl`): bad rows are warnings at their line and column, the
//! cost policy warns at 25/50/100% over the forecast once a month is complete, and the pages
//! show the numbers from the file.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// `bazaar check --format json` with a chosen day.
fn check_on(root: &Path, today: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_bazaar"))
        .args(check_args(root, extra))
        .env("NO_COLOR", "1")
        .env("BAZAAR_TODAY", today)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

fn with_code<'a>(v: &'a serde_json::Value, code: &str) -> Vec<&'a serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

#[test]
fn bad_rows_are_warnings_at_their_line_and_never_block() {
    let dir = demo_copy();
    let p = dir.path();
    std::fs::write(
        p.join("signals/with-errors.csv"),
        "app,month,active_users,teams,requests,error_rate,uptime,cost_usd\n\
         com.acme.finance.expense-trackr,2026-10,5,1,10,0,100,1\n\
         com.acme.finance.expense-tracker,2026-10,5,1,10,0,100,1\n\
         com.acme.finance.invoice-ocr,2026-11,lots,1,10,0,100,1\n\
         com.acme.finance.invoice-ocr,2026-12,1,1\n",
    )
    .unwrap();
    let (code, v) = check_on(p, TODAY, &[]);
    assert_eq!(code, 0, "signals never block: {v:#}");
    let place = |code: &str| -> Vec<(String, u64, u64, String)> {
        with_code(&v, code)
            .iter()
            .map(|f| {
                (
                    f["location"]["file"].as_str().unwrap().to_string(),
                    f["location"]["line"].as_u64().unwrap(),
                    f["location"]["column"].as_u64().unwrap(),
                    f["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let w = |l, c| {
        vec![(
            "signals/with-errors.csv".to_string(),
            l,
            c,
            "warning".to_string(),
        )]
    };
    assert_eq!(place("BZ0221"), w(2, 1), "unknown app");
    assert_eq!(
        place("BZ0223"),
        w(3, 34),
        "duplicate month (the demo file has it)"
    );
    assert_eq!(place("BZ0222"), w(4, 38), "bad number");
    assert_eq!(place("BZ0224"), w(5, 1), "short row");
    let dup = with_code(&v, "BZ0223")[0]["message"].as_str().unwrap();
    assert!(
        dup.contains("the first is signals/usage-2026.csv:"),
        "{dup}"
    );

    // on a submission, only the signals files it changed are reported
    git_init_commit(p);
    edit(
        &p.join("catalog/finance/expense-tracker/app.toml"),
        "version = \"",
        "version = \"1",
    );
    commit_all(p, "change an app");
    let (_, v) = check_on(p, TODAY, &["--base", "HEAD~1", "--rev", "HEAD"]);
    assert!(with_code(&v, "BZ0221").is_empty(), "{v:#}");
    edit(
        &p.join("signals/with-errors.csv"),
        "expense-trackr",
        "expense-trackrr",
    );
    commit_all(p, "export again");
    let (code, v) = check_on(p, TODAY, &["--base", "HEAD~1", "--rev", "HEAD"]);
    assert_eq!(code, 0);
    assert_eq!(with_code(&v, "BZ0221").len(), 1, "{v:#}");
}

/// Forecasts in the demo: expense tracker $120, invoice OCR $640, employee directory $410,
/// PTO balance card $95. November's actual costs at +24%, +25%, +50% and +100%.
fn november_costs(p: &Path) {
    std::fs::write(
        p.join("signals/billing-2026-11.jsonl"),
        "{\"app\":\"com.acme.people.pto-balance-card\",\"month\":\"2026-11\",\"cost_usd\":117.8}\n\
         {\"app\":\"com.acme.finance.expense-tracker\",\"month\":\"2026-11\",\"cost_usd\":150}\n\
         {\"app\":\"com.acme.finance.invoice-ocr\",\"month\":\"2026-11\",\"cost_usd\":960}\n\
         {\"app\":\"com.acme.people.employee-directory\",\"month\":\"2026-11\",\"cost_usd\":820}\n",
    )
    .unwrap();
}

#[test]
fn the_cost_warning_fires_at_each_threshold_once_the_month_is_complete() {
    let dir = demo_copy();
    let p = dir.path();
    november_costs(p);
    // November is not complete on its last day: October's numbers (under forecast) count
    let (code, v) = check_on(p, "2026-11-30", &[]);
    assert_eq!(code, 0);
    assert!(with_code(&v, "BZ0315").is_empty(), "{v:#}");

    let (code, v) = check_on(p, "2026-12-01", &[]);
    assert_eq!(code, 0, "a cost warning does not block: {v:#}");
    let mut got: Vec<(String, String, String)> = with_code(&v, "BZ0315")
        .iter()
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            let t = m
                .split("past the ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            (
                f["app"].as_str().unwrap().to_string(),
                t.to_string(),
                f["deadline"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String)> = [
        ("com.acme.finance.expense-tracker", "25%"),
        ("com.acme.finance.invoice-ocr", "50%"),
        ("com.acme.people.employee-directory", "100%"),
    ]
    .iter()
    .map(|(a, t)| (a.to_string(), t.to_string(), "2026-12-31".to_string()))
    .collect();
    assert_eq!(
        got, want,
        "+24% is quiet; deadlines run from December 1: {v:#}"
    );
    let f = with_code(&v, "BZ0315")
        .into_iter()
        .find(|f| f["app"] == "com.acme.people.employee-directory")
        .unwrap();
    assert_eq!(
        f["location"]["file"],
        "catalog/people/employee-directory/app.toml"
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("actual cost in 2026-11 was $820, 100% over the forecast of $410"),
        "{f:#}"
    );
}

#[test]
fn a_submission_cannot_rewrite_the_numbers_it_is_judged_by() {
    let dir = demo_copy();
    let p = dir.path();
    november_costs(p);
    git_init_commit(p);
    // the PR changes the expense tracker and, on the side, its billing row
    edit(
        &p.join("catalog/finance/expense-tracker/app.toml"),
        "version = \"",
        "version = \"1",
    );
    edit(
        &p.join("signals/billing-2026-11.jsonl"),
        "\"cost_usd\":150",
        "\"cost_usd\":100",
    );
    commit_all(p, "cheaper, says the PR");
    let (_, v) = check_on(p, "2026-12-01", &["--base", "HEAD~1", "--rev", "HEAD"]);
    let f = with_code(&v, "BZ0315");
    assert_eq!(f.len(), 1, "the base's signals decide: {v:#}");
    assert_eq!(f[0]["app"], "com.acme.finance.expense-tracker");
}

#[test]
fn pages_show_the_numbers_from_the_file() {
    let dir = demo_copy();
    let p = dir.path();
    let r = bazaar(&["build", "--root", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(p.join("signals/usage-2026.csv")).unwrap();
    let row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("com.acme.people.employee-directory,2026-10,"))
        .unwrap()
        .split(',')
        .collect();
    let page = std::fs::read_to_string(
        p.join("public/apps/com.acme.people.employee-directory/index.html"),
    )
    .unwrap();
    let usage = &page[page.find("id=\"usage\"").expect("a usage section")..];
    let usage = &usage[..usage.find("</section>").unwrap()];
    assert!(usage.contains("Usage in 2026-10"), "{usage}");
    assert!(
        usage.contains(&format!("<dt>Active users</dt><dd>{}</dd>", row[2])),
        "{usage}"
    );
    assert!(
        usage.contains(&format!(
            "<dt>Teams using it</dt><dd>{} (reused across teams)",
            row[3]
        )),
        "{usage}"
    );
    assert!(
        usage.contains(&format!("<dt>Uptime</dt><dd>{}%</dd>", row[6])),
        "{usage}"
    );
    assert!(usage.contains("against a forecast of $410"), "{usage}");
    assert!(
        usage.contains("<svg role=\"img\" aria-label=\"Active users by month\""),
        "{usage}"
    );
    assert_eq!(
        usage.matches("<tr><th scope=\"row\">20").count(),
        12,
        "12 months of trend: {usage}"
    );
    assert!(
        usage.contains(&format!(
            "<tr><th scope=\"row\">2026-10</th><td>{}</td><td>{}</td>",
            row[2], row[3]
        )),
        "{usage}"
    );

    // the dashboard's reuse chart: its table holds what the summary says
    let dash = std::fs::read_to_string(p.join("public/dashboard/index.html")).unwrap();
    let reuse = &dash[dash.find("id=\"chart-reuse\"").expect("a reuse chart")..];
    let reuse = &reuse[..reuse.find("</figure>").unwrap()];
    let month_rows = csv.lines().filter(|l| l.contains(",2026-10,")).count();
    let reused = csv
        .lines()
        .filter(|l| l.contains(",2026-10,"))
        .filter(|l| l.split(',').nth(3).unwrap().parse::<u32>().unwrap() > 1)
        .count();
    let pct = format!(
        "{:.1}%",
        (reused as f64 * 1000.0 / month_rows as f64).round() / 10.0
    );
    assert!(
        reuse.contains(&format!("In 2026-10, {reused} of {month_rows} apps")),
        "{reuse}"
    );
    assert!(
        reuse.contains(&format!(
            "<tr><th scope=\"row\">2026-10</th><td>{pct}</td></tr>"
        )),
        "{reuse}"
    );
}
