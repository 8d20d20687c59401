//! Signals files: good rows load, every bad row is a finding at its line and column.

use super::*;
use crate::catalog::Snapshot;

fn load_files(files: &[(&str, &str)]) -> Signals {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bazaar.toml"), "").unwrap();
    std::fs::create_dir_all(dir.path().join("signals")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join("signals").join(name), text).unwrap();
    }
    let snap = Snapshot::from_dir(dir.path()).unwrap();
    let known: BTreeSet<&str> = ["com.acme.a.one", "com.acme.a.two"].into();
    load(&snap, &known)
}

fn at(s: &Signals) -> Vec<(String, String, usize, usize)> {
    s.findings
        .iter()
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            (f.code.to_string(), l.file.clone(), l.line, l.column)
        })
        .collect()
}

const HEADER: &str = "app,month,active_users,teams,requests,error_rate,uptime,cost_usd\n";

#[test]
fn good_rows_load_in_month_order() {
    let s = load_files(&[(
        "2026.csv",
        &format!(
            "{HEADER}com.acme.a.one,2026-10,120,3,9000,0.5,99.9,130\ncom.acme.a.one,2026-09,100,2,,,,90.5\n"
        ),
    )]);
    assert!(s.findings.is_empty(), "{:?}", s.findings);
    let rows = &s.by_app["com.acme.a.one"];
    assert_eq!(rows.len(), 2);
    assert_eq!(month_text(rows[0].month), "2026-09");
    assert_eq!(rows[0].requests, None);
    assert_eq!(rows[1].active_users, Some(120));
    assert_eq!(rows[1].uptime, Some(99.9));
    let today = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    assert_eq!(
        month_text(s.latest("com.acme.a.one", today).unwrap().month),
        "2026-10"
    );
    // on the last day of October, October is not complete yet
    let before = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    assert_eq!(
        month_text(s.latest("com.acme.a.one", before).unwrap().month),
        "2026-09"
    );
    let input = s.policy_input(today);
    assert_eq!(input["com.acme.a.one"]["cost_usd"], 130.0);
    assert_eq!(input["com.acme.a.one"]["complete_since"], "2026-11-01");
    assert_eq!(input["com.acme.a.one"]["months"], 2);
}

#[test]
fn every_bad_row_is_a_finding_at_its_place() {
    let csv = format!(
        "{HEADER}com.acme.a.nope,2026-10,1,1,1,1,1,1\ncom.acme.a.one,2026-10,12x,1,1,1,1,1\ncom.acme.a.one,2026-10,1,1,1,1,1,1\ncom.acme.a.two,Oct 2026,1,1,1,1,1,1\ncom.acme.a.two,2026-10,1,1\ncom.acme.a.two,2026-09,1,1,1,1,101,-5\n"
    );
    let jsonl = "{\"app\":\"com.acme.a.two\",\"month\":\"2026-08\",\"uptime\":99.5,\"cost_usd\":\"lots\"}\nnot json\n{\"app\":\"com.acme.a.one\",\"month\":\"2026-10\"}\n{\"app\":\"com.acme.a.two\",\"month\":\"2026-07\",\"colour\":1}\n";
    let s = load_files(&[("a.csv", &csv), ("b.jsonl", jsonl)]);
    let got = at(&s);
    let want: Vec<(String, String, usize, usize)> = [
        ("BZ0221", "signals/a.csv", 2, 1),    // unknown app
        ("BZ0222", "signals/a.csv", 3, 24),   // 12x users
        ("BZ0223", "signals/a.csv", 4, 16),   // second 2026-10 row of one
        ("BZ0222", "signals/a.csv", 5, 16),   // month
        ("BZ0224", "signals/a.csv", 6, 1),    // too few cells
        ("BZ0222", "signals/a.csv", 7, 32),   // uptime 101
        ("BZ0222", "signals/a.csv", 7, 36),   // cost -5
        ("BZ0222", "signals/b.jsonl", 1, 68), // cost "lots"
        ("BZ0224", "signals/b.jsonl", 2, 1),
        ("BZ0223", "signals/b.jsonl", 3, 33), // one 2026-10 again, across files
        ("BZ0224", "signals/b.jsonl", 4, 52), // unknown key (at its value)
    ]
    .iter()
    .map(|(c, f, l, col)| (c.to_string(), f.to_string(), *l, *col))
    .collect();
    let mut sorted = got.clone();
    sorted.sort_by(|a, b| (&a.1, a.2, a.3).cmp(&(&b.1, b.2, b.3)));
    assert_eq!(sorted, want, "{:#?}", s.findings);
    // the rest still counts: the row with bad cells keeps its good ones
    let two = &s.by_app["com.acme.a.two"];
    let sep = two
        .iter()
        .find(|r| month_text(r.month) == "2026-09")
        .unwrap();
    assert_eq!((sep.uptime, sep.cost_usd, sep.teams), (None, None, Some(1)));
    let aug = two
        .iter()
        .find(|r| month_text(r.month) == "2026-08")
        .unwrap();
    assert_eq!(aug.uptime, Some(99.5));
    assert!(
        s.findings
            .iter()
            .any(|f| f.message.contains("the first is signals/a.csv:3")),
        "{:#?}",
        s.findings
    );
}

#[test]
fn a_file_without_app_or_month_columns_or_of_another_kind_is_reported() {
    let s = load_files(&[
        ("x.csv", "month,cost_usd\n2026-10,5\n"),
        ("notes.txt", "hi"),
    ]);
    let codes: Vec<String> = s.findings.iter().map(|f| f.code.to_string()).collect();
    assert_eq!(codes, vec!["BZ0224", "BZ0224"], "{:#?}", s.findings);
    assert!(s.by_app.is_empty());
}

/// A submission's policies read only its apps' rows: they are the rows a whole load gives those
/// apps, from CSV (header after blank lines, a quoted id) and JSON Lines (an escaped id).
#[test]
fn the_rows_of_a_few_apps_are_the_rows_a_whole_load_gives_them() {
    let files = [
        (
            "2026.csv",
            format!(
                "\n{HEADER}com.acme.a.one,2026-10,120,3,9000,0.5,99.9,130\n\"com.acme.a.two\",2026-10,7,1,,,,4\ncom.acme.a.one,2026-09,100,2,,,,90.5\n"
            ),
        ),
        (
            "2025.jsonl",
            "{\"app\":\"com.acme.a.two\",\"month\":\"2025-12\",\"active_users\":5}\n{\"app\":\"com.acme.a.\\u006fne\",\"month\":\"2025-12\",\"active_users\":9}\n".to_string(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bazaar.toml"), "").unwrap();
    std::fs::create_dir_all(dir.path().join("signals")).unwrap();
    for (name, text) in &files {
        std::fs::write(dir.path().join("signals").join(name), text).unwrap();
    }
    let snap = Snapshot::from_dir(dir.path()).unwrap();
    let known: BTreeSet<&str> = ["com.acme.a.one", "com.acme.a.two"].into();
    let whole = load(&snap, &known);
    assert!(whole.findings.is_empty(), "{:?}", whole.findings);
    for id in ["com.acme.a.one", "com.acme.a.two"] {
        let only = load_for(&snap, &known, &[id].into());
        // other apps' rows may come along (a line that escapes characters is always read)
        assert!(only.by_app.len() <= whole.by_app.len());
        let months = |s: &Signals| {
            s.by_app[id]
                .iter()
                .map(|r| (r.month, r.active_users))
                .collect::<Vec<_>>()
        };
        assert_eq!(months(&only), months(&whole), "{id}");
        assert_eq!(
            whole.by_app[id].len(),
            if id.ends_with("one") { 3 } else { 2 }
        );
    }
}
