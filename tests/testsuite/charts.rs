//! The dashboard's charts and an app's usage trend in Chromium: drawn at desktop and phone
//! widths inside the page, one marker per number in the chart's table, and no serious axe-core
//! finding. Screenshots go to target/screenshots/charts-*.png.

use std::path::Path;

use serde_json::Value;

use crate::browser::*;
use crate::support::git;

/// Makes the demo copy a Git repository whose history adds the apps over three months: all but
/// two in September, one in October, the last in November (tier, status and SBOM charts).
fn history(dir: &Path) {
    let commit = |date: &str, msg: &str| {
        let out = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(["commit", "-qm", msg])
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "reset",
            "-q",
            "--",
            "catalog/people/org-chart-classic",
            "catalog/finance/invoice-ocr",
        ],
    );
    commit("2026-09-10T10:00:00Z", "catalog");
    git(dir, &["add", "catalog/people/org-chart-classic"]);
    commit("2026-10-12T10:00:00Z", "add the classic org chart");
    git(dir, &["add", "-A"]);
    commit("2026-11-03T10:00:00Z", "add invoice OCR");
}

#[tokio::test]
async fn charts_render_at_both_widths_and_their_tables_hold_what_is_drawn() {
    within(TEST_LIMIT, "the charts test", async {
        let (_dir, public) = built_demo(|_| {});
        let base = serve_dir(&public);
        let (_hdir, hpublic) = built_demo(history);
        let with_history = serve_dir(&hpublic);
        let b = start_browser().await;
        let pages = [
            // users, reuse and cost by month (the copy is no Git repository: no merge history to chart)
            ("dashboard", format!("{base}dashboard/"), 3),
            ("app-usage", format!("{base}apps/com.acme.people.employee-directory/"), 1),
            // and, from Git history: apps per tier and per status, SBOM coverage, warnings
            ("dashboard-history", format!("{with_history}dashboard/"), 7),
        ];
        for (width, height) in [(1280u32, 900u32), (390, 844)] {
            b.viewport(width, height).await;
            for (name, url, charts) in &pages {
                b.open(url).await;
                // per chart: its drawn size, the page width, markers drawn and numbers tabled
                let found = b
                    .js("return [...document.querySelectorAll('svg.chart')].map(svg => {
                           // a dashboard chart's table is in its figure; an app's trend table
                           // (month, users, teams, cost) follows it in the usage section
                           const fig = svg.closest('.chart-figure');
                           const table = (fig || svg.closest('section')).querySelector('table.data');
                           const rows = [...table.querySelectorAll('tbody tr')];
                           const numbers = fig
                             ? rows.flatMap(tr => [...tr.querySelectorAll('td')]).filter(td => td.textContent.trim() !== '—').length
                             : rows.filter(tr => tr.children[1].textContent.trim() !== '—').length;
                           const r = svg.getBoundingClientRect();
                           return { name: svg.getAttribute('aria-label'), width: r.width, height: r.height,
                                    right: r.right, page: document.documentElement.clientWidth,
                                    markers: svg.querySelectorAll('circle').length, numbers,
                                    visible: r.width > 0 && getComputedStyle(svg).visibility !== 'hidden' };
                         })")
                    .await;
                let found = found.as_array().unwrap();
                assert_eq!(found.len(), *charts, "{name} at {width}px: {found:#?}");
                for c in found {
                    let what = format!("{name} at {width}px: {c}");
                    assert_eq!(c["visible"], Value::Bool(true), "{what}");
                    assert!(c["right"].as_f64().unwrap() <= c["page"].as_f64().unwrap() + 1.0, "sticks out: {what}");
                    assert!(c["width"].as_f64().unwrap() >= (width as f64 * 0.6).min(300.0), "too small: {what}");
                    assert!(c["height"].as_f64().unwrap() > 100.0, "too flat: {what}");
                    assert!(c["markers"].as_u64().unwrap() > 0, "{what}");
                    assert_eq!(c["markers"], c["numbers"], "one marker per number in the table: {what}");
                }
                b.full_page_screenshot(&format!("charts-{name}-{width}")).await;
                let serious: Vec<Value> = axe_violations(&b)
                    .await
                    .into_iter()
                    .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
                    .collect();
                assert!(serious.is_empty(), "{name} at {width}px: {serious:#?}");
            }
        }
        b.close().await;
    })
    .await
}
