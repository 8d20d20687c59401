//! The finder on small fixtures: what it must find, what it must not, and what it says.

use super::*;
use crate::manifest::SimilarSettings;

fn app(toml_body: &str) -> App {
    let text = format!(
        "schema_version = 1\nversion = \"1.0.0\"\nruntime = \"web-component\"\ntier = \"discover\"\n{toml_body}\n[owner]\nprimary = \"ann\"\nbackup = \"bob\"\n[data]\nclassification = \"internal\"\n[lifecycle]\nstatus = \"active\"\n"
    );
    let file = crate::diagnostics::SourceFile::new("app.toml", text);
    let parsed = crate::manifest::parse_app(&file);
    parsed
        .value
        .unwrap_or_else(|| panic!("fixture does not parse: {:?}", parsed.findings))
}

const EXPENSES: &str = r#"id = "com.acme.finance.expense-tracker"
name = "Expense Tracker"
team = "finance"
summary = "Submit expense reports with receipt photos and follow their approval."
description = "Employees file expenses, attach receipts and see reimbursement status."
tags = ["expenses", "finance", "receipts", "approvals"]
[[apis]]
name = "Expenses API"
url = "https://expenses.finance.acme.internal/v1/reports"
access = "write"
[auth]
type = "oidc"
scopes = ["expenses:read", "expenses:write"]
"#;

/// Same job, other words, same API.
const PARAPHRASE: &str = r#"id = "com.acme.sales.spend-claims"
name = "Spend Claims"
team = "sales"
summary = "Claim back money you spent on the road: snap the receipt, track reimbursement."
tags = ["travel", "receipts", "expenses"]
[[apis]]
name = "Expense reports"
url = "https://expenses.finance.acme.internal/v1/reports"
access = "write"
[auth]
type = "oidc"
scopes = ["expenses:write"]
"#;

/// Unrelated, one tag in common.
const UNRELATED: &str = r#"id = "com.acme.platform.build-minutes"
name = "Build Minutes Report"
team = "platform"
summary = "Shows CI build minutes per repository and month against the quota."
tags = ["finance", "ci"]
[[apis]]
name = "CI API"
url = "https://ci.platform.acme.internal/api/usage"
access = "read"
"#;

const ROSTER: &str = r#"id = "com.acme.people.shift-roster"
name = "Shift Roster"
team = "people"
summary = "Plan weekly shifts for clinic staff and swap them with colleagues."
tags = ["scheduling", "people"]
"#;

fn index(apps: &[&str]) -> Index {
    let mut w = text::Words::default();
    let docs = apps
        .iter()
        .map(|t| {
            let a = app(t);
            let dir = format!("catalog/{}/{}", a.team, a.id.rsplit('.').next().unwrap());
            doc_of(&a, &dir, "", &mut w)
        })
        .collect();
    Index::build(docs)
}

fn settings() -> SimilarSettings {
    SimilarSettings::default()
}

#[test]
fn a_paraphrased_duplicate_is_found_first_and_explained() {
    let idx = index(&[ROSTER, UNRELATED, EXPENSES, PARAPHRASE]);
    let q = idx.position("com.acme.sales.spend-claims").unwrap();
    let found = matches(&idx, q, &settings());
    assert_eq!(
        found[0].id, "com.acme.finance.expense-tracker",
        "{found:#?}"
    );
    assert!(found[0].likely_duplicate, "{found:#?}");
    let why = found[0].reasons.join(", ");
    assert!(
        why.contains("same API expenses.finance.acme.internal/v1/reports"),
        "{why}"
    );
    assert!(why.contains("1 shared scope (expenses:write)"), "{why}");
    assert!(why.contains("2 shared tags (expenses, receipts)"), "{why}");
    assert!(why.contains("text 0."), "{why}");
    assert!(why.contains("receipt"), "{why}");
}

#[test]
fn one_shared_tag_is_not_similarity() {
    let idx = index(&[ROSTER, UNRELATED, EXPENSES, PARAPHRASE]);
    let q = idx.position("com.acme.platform.build-minutes").unwrap();
    let found = matches(&idx, q, &settings());
    assert!(found.is_empty(), "{found:#?}");
    // and the score is low, not just under a threshold that happens to fit
    let e = idx.position("com.acme.finance.expense-tracker").unwrap();
    assert!(idx.score(q, e).score < 0.2, "{:?}", idx.score(q, e));
}

#[test]
fn saying_why_it_differs_is_kept_with_the_match_and_ends_the_cluster() {
    let differs = PARAPHRASE.replace(
        "[auth]",
        "[similar]\ndistinct_from = [{ id = \"com.acme.finance.expense-tracker\", why = \"per-diem claims for field sales only\" }]\n[auth]",
    );
    let idx = index(&[EXPENSES, &differs, ROSTER]);
    let q = idx.position("com.acme.sales.spend-claims").unwrap();
    let found = matches(&idx, q, &settings());
    assert_eq!(
        found[0].distinct.as_deref(),
        Some("per-diem claims for field sales only")
    );
    // seen from the other side too
    let e = idx.position("com.acme.finance.expense-tracker").unwrap();
    assert!(matches(&idx, e, &settings())[0].distinct.is_some());
    assert!(clusters(&idx, &all(&idx, &settings())).is_empty());
    let plain = index(&[EXPENSES, PARAPHRASE, ROSTER]);
    let groups = clusters(&plain, &all(&plain, &settings()));
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].len(), 2);
}

#[test]
fn retired_apps_are_not_offered() {
    let idx = {
        let mut w = text::Words::default();
        let mut a = app(EXPENSES);
        a.lifecycle.status = crate::manifest::Status::Retired;
        let b = app(PARAPHRASE);
        Index::build(vec![
            doc_of(&a, "catalog/finance/expense-tracker", "", &mut w),
            doc_of(&b, "catalog/sales/spend-claims", "", &mut w),
        ])
    };
    assert!(matches(&idx, 1, &settings()).is_empty());
}

/// Deterministic made-up apps, sorted by folder: words, spellings, tags, APIs and scopes drawn
/// from small pools so that they overlap in many ways.
fn made_up(n: usize) -> Vec<Doc> {
    let mut seed = 7u64;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % m
    };
    let pool = |p: &str, k: usize| (0..k).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
    let (words, tags, hosts) = (pool("w", 60), pool("tag", 9), pool("h", 5));
    let mut docs: Vec<Doc> = (0..n)
        .map(|i| {
            let mut terms: Vec<(String, String, u32)> = (0..3 + next(12))
                .map(|_| {
                    let w = words[next(words.len())].clone();
                    let spelled = if next(3) == 0 {
                        format!("{w}ing")
                    } else {
                        String::new()
                    };
                    (w, spelled, 1 + next(7) as u32)
                })
                .collect();
            terms.sort();
            terms.dedup_by(|a, b| a.0 == b.0);
            let host = hosts[next(hosts.len())].clone();
            Doc {
                id: format!("com.acme.t.app{i}"),
                name: format!("App {i}"),
                dir: format!("catalog/t/app{i:03}"),
                retired: next(10) == 0,
                terms,
                tags: vec![tags[next(9)].clone(), tags[next(9)].clone()],
                apis: vec![format!("{host}/v{}", next(3))],
                hosts: vec![host],
                scopes: vec![format!("s:{}", next(4))],
                distinct_from: Vec::new(),
            }
        })
        .collect();
    docs.sort_by(|a, b| a.dir.cmp(&b.dir));
    docs
}

#[test]
fn a_kept_base_with_added_apps_ranks_exactly_as_building_from_scratch() {
    let mut w = text::Words::default();
    let mut docs = made_up(120);
    for (t, dir) in [
        (EXPENSES, "catalog/finance/expense-tracker"),
        (PARAPHRASE, "catalog/sales/spend-claims"),
    ] {
        docs.push(doc_of(&app(t), dir, "", &mut w));
    }
    docs.sort_by(|a, b| a.dir.cmp(&b.dir));
    let whole = Prepared::new(docs.clone());
    let from_scratch = Index::from_prepared(whole.clone());
    // apps added alone, the first and last (new words sort before and after all others),
    // and the paraphrase with an app beside it
    let mut cases: Vec<Vec<usize>> = (0..docs.len()).step_by(5).map(|i| vec![i]).collect();
    cases.push(vec![0, docs.len() - 1]);
    let p = docs
        .iter()
        .position(|d| d.id == "com.acme.sales.spend-claims")
        .unwrap();
    cases.push(vec![p - 1, p]);
    for added in cases {
        let (mut new, mut base) = (Vec::new(), Vec::new());
        for (i, d) in docs.iter().enumerate() {
            if added.contains(&i) {
                new.push(d.clone())
            } else {
                base.push(d.clone())
            }
        }
        let base = Prepared::new(base);
        let mut kept = Prepared::from_bytes(&base.to_bytes()).expect("reads back");
        assert_eq!(kept, base, "the binary form round-trips");
        kept.insert(new);
        assert!(
            kept == whole,
            "added {added:?}: ids, weights and spellings differ"
        );
        let cached = Index::from_prepared(kept);
        for q in 0..docs.len() {
            let (a, b) = (from_scratch.query(q, 0.0, 50), cached.query(q, 0.0, 50));
            assert_eq!(a, b, "added {added:?}, query {q}");
            for s in &a {
                assert_eq!(
                    from_scratch.shared_words(q, s.doc, 4),
                    cached.shared_words(q, s.doc, 4)
                );
            }
        }
    }
    // and the paraphrase still finds the expense tracker first
    let q = from_scratch
        .position("com.acme.sales.spend-claims")
        .unwrap();
    assert_eq!(
        from_scratch.docs[from_scratch.query(q, 0.0, 5)[0].doc].id,
        "com.acme.finance.expense-tracker"
    );
}

#[test]
fn a_damaged_kept_base_is_refused() {
    let bytes = Prepared::new(made_up(10)).to_bytes();
    assert!(Prepared::from_bytes(&bytes[..bytes.len() - 3]).is_none());
    assert!(Prepared::from_bytes(&bytes[1..]).is_none());
    let mut more = bytes.clone();
    more.push(0);
    assert!(Prepared::from_bytes(&more).is_none());
}
