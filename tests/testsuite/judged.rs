//! "Merge what was judged": a submission is judged on the tree that merging it produces, its
//! changes are merge base → head, the signed record names the base tip it was judged on, and
//! nothing a caller passes can write into that record.

use std::path::Path;

use crate::support::*;

const PSM: &str = "catalog/security/password-strength-meter/app.toml";
const TERRITORY: &str = "catalog/sales/territory-planner";
const TERRITORY_ID: &str = "com.acme.sales.territory-planner";

type Repo = SignedCatalog;

fn repo() -> Repo {
    signed_catalog(&["bazaar.toml", "catalog", "policies"])
}

fn branch(r: &Repo, name: &str, from: &str, change: impl FnOnce(&Path), msg: &str) {
    git(&r.dir, &["checkout", "-q", "-b", name, from]);
    change(&r.dir);
    commit_all(&r.dir, msg);
    git(&r.dir, &["checkout", "-q", "main"]);
}

fn merge(r: &Repo, head: &str, extra: &[&str]) -> Run {
    r.merge(head, extra)
}

fn add_to_collection(dir: &Path) {
    edit(
        &dir.join("catalog/collections/incident-response.toml"),
        "\"com.acme.support.status-banner\"]",
        &format!("\"com.acme.support.status-banner\", \"{TERRITORY_ID}\"]"),
    );
}

#[test]
fn a_stale_branch_is_judged_on_its_merge_result_and_refused() {
    let r = repo();
    // C, made first, lists the territory planner in a collection; R removes the app
    branch(&r, "c", "main", add_to_collection, "collect the planner");
    branch(
        &r,
        "r",
        "main",
        |d| {
            std::fs::remove_dir_all(d.join(TERRITORY)).unwrap();
        },
        "retire the planner",
    );
    let out = merge(&r, "r", &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // C alone is fine, but merged onto today's main it lists an app that no longer exists
    let (code, v) = check_json(&r.dir, &["--base", "main", "--rev", "c"]);
    assert_eq!(code, 1, "{v:#}");
    assert!(errors(&v).contains(&"BZ0206".to_string()), "{v:#}");
    let before = git(&r.dir, &["rev-parse", "main"]);
    let out = merge(&r, "c", &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("BZ0206"), "{}", out.stderr);
    assert_eq!(git(&r.dir, &["rev-parse", "main"]), before, "main moved");
    let (code, v) = check_json(&r.dir, &[]);
    assert_eq!(code, 0, "main must stay green: {v:#}");
}

#[test]
fn changes_are_counted_from_the_merge_base_not_the_base_tip() {
    let r = repo();
    branch(&r, "s", "main", raise_data_class, "raise the data class");
    // main moves on: an app is added after the branch was made (through a signed merge)
    let new_app = "catalog/sales/territory-planner-two";
    branch(
        &r,
        "n",
        "main",
        |d| {
            copy(&d.join(TERRITORY), &d.join(new_app));
            let manifest = d.join(new_app).join("app.toml");
            let toml = std::fs::read_to_string(&manifest).unwrap();
            let endpoint = toml.lines().find(|l| l.starts_with("endpoint")).unwrap();
            let moved = endpoint.replacen("territory-planner", "territory-planner-two", 1);
            std::fs::write(
                &manifest,
                toml.replace(endpoint, &moved)
                    .replace(TERRITORY_ID, "com.acme.sales.territory-planner-two"),
            )
            .unwrap();
        },
        "add a second planner",
    );
    let out = merge(&r, "n", &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let (_, v) = check_json(&r.dir, &["--base", "main", "--rev", "s"]);
    let changes = v["changes"]["apps"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        1,
        "only the app the submission changed: {changes:#?}"
    );
    assert_eq!(changes[0]["change"], "changed");
    assert_eq!(
        changes[0]["dir"],
        "catalog/security/password-strength-meter"
    );
    // merging it records exactly that change, and the base tip it was judged on
    let main_tip = git(&r.dir, &["rev-parse", "main"]);
    let head = git(&r.dir, &["rev-parse", "s"]);
    let out = merge(
        &r,
        "s",
        &[
            "--approval",
            "alice:security:11",
            "--approval",
            "bob:product-owner:12",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let trailers = git(
        &r.dir,
        &[
            "-c",
            "trailer.separators=:",
            "log",
            "-1",
            "--format=%(trailers:only,unfold)",
            "main",
        ],
    );
    assert!(
        trailers.contains(&format!("Bazaar-Base: {main_tip}")),
        "{trailers}"
    );
    assert!(
        trailers.contains(&format!("Bazaar-Head: {head}")),
        "{trailers}"
    );
    assert!(
        trailers.contains("Bazaar-Changed: com.acme.security.password-strength-meter"),
        "{trailers}"
    );
    assert!(!trailers.contains("Removed"), "{trailers}");
    // the committed tree is the merge of both sides: the new app and the change
    let tree_apps = git(&r.dir, &["ls-tree", "-r", "--name-only", "main", new_app]);
    assert!(tree_apps.contains("app.toml"), "{tree_apps}");
    let audit = bazaar(&["audit", "--root", r.dir.to_str().unwrap(), "--recompute"]);
    assert_eq!(audit.code, 0, "{}{}", audit.stdout, audit.stderr);
}

#[test]
fn a_conflict_is_a_finding_not_a_crash() {
    let r = repo();
    let edit_to =
        |to: &'static str| move |d: &Path| edit(&d.join(PSM), "classification = \"public\"", to);
    branch(
        &r,
        "s",
        "main",
        edit_to("classification = \"internal\""),
        "internal",
    );
    edit_to("classification = \"confidential\"")(&r.dir);
    commit_all(&r.dir, "confidential on main");
    let (code, v) = check_json(&r.dir, &["--base", "main", "--rev", "s"]);
    assert_eq!(code, 1, "{v:#}");
    assert!(errors(&v).contains(&"BZ0216".to_string()), "{v:#}");
    let out = merge(&r, "s", &["--approval", "alice:security:1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("conflicts in"), "{}", out.stderr);
}

#[test]
fn nothing_a_caller_passes_can_write_into_the_signed_record() {
    let r = repo();
    branch(&r, "s", "main", raise_data_class, "raise");
    let head = git(&r.dir, &["rev-parse", "s"]);
    let before = git(&r.dir, &["rev-parse", "main"]);
    let hostile: Vec<Vec<String>> = vec![
        vec!["--approval".into(), "alice:security:1 role=admin".into()],
        vec!["--approval".into(), "alice:security:abc".into()],
        vec![
            "--approval".into(),
            format!("alice:security:1@{}", &head[..7]),
        ],
        vec![
            "--approval".into(),
            "alice:security:1\nBazaar-Approval: mallory role=admin review=1 head=x at=y".into(),
        ],
        vec!["--author".into(), "jane\nBazaar-Approval: mallory".into()],
        vec!["--submission".into(), "javascript:alert(1)".into()],
        vec![
            "--submission".into(),
            "https://forge.example/pull/1\nBazaar-Approval: mallory".into(),
        ],
    ];
    for args in hostile {
        let mut extra: Vec<&str> = args.iter().map(String::as_str).collect();
        if !extra.contains(&"--approval") {
            extra.extend(["--approval", "alice:security:1"]);
        }
        extra.extend(["--approval", "bob:product-owner:2"]);
        let out = merge(&r, "s", &extra);
        assert_ne!(out.code, 0, "{args:?} was accepted: {}", out.stdout);
        assert!(
            !out.stderr.contains("internal error"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(git(&r.dir, &["rev-parse", "main"]), before, "{args:?}");
    }
}

#[test]
fn a_policy_with_a_tab_and_multibyte_text_on_a_broken_line_does_not_panic() {
    let r = repo();
    std::fs::write(
        r.dir.join("policies/broken.rego"),
        "package bazaar\n\n\téé := ???\n",
    )
    .unwrap();
    let (code, v) = check_json(&r.dir, &[]);
    assert_eq!(code, 1, "{v:#}");
    assert!(errors(&v).contains(&"BZ0390".to_string()), "{v:#}");
    // the same file in a submission reaches the policy-impact report
    git(&r.dir, &["checkout", "-q", "-b", "p"]);
    commit_all(&r.dir, "a broken policy");
    let run = bazaar(&[
        "check",
        "--root",
        r.dir.to_str().unwrap(),
        "--base",
        "main",
        "--rev",
        "p",
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn the_fast_disjoint_merge_gives_exactly_gits_three_way_result() {
    use bazaar::source::merge::{Outcome, disjoint_merge, submission, submission_in};
    let r = repo();
    let tree = |o: &Outcome| match o {
        Outcome::Clean { tree } => tree.clone(),
        other => panic!("not clean: {other:?}"),
    };
    // the submission adds a folder, edits a file, removes a file and adds an executable
    branch(
        &r,
        "s",
        "main",
        |d| {
            copy(&d.join(TERRITORY), &d.join("catalog/sales/territory-copy"));
            raise_data_class(d);
            std::fs::remove_file(d.join("catalog/collections/onboarding.toml")).unwrap();
            std::fs::write(d.join("tool.sh"), "#!/bin/sh\n").unwrap();
            git(d, &["add", "tool.sh"]);
            git(d, &["update-index", "--chmod=+x", "tool.sh"]);
        },
        "many kinds of change",
    );
    // main moves on elsewhere
    std::fs::remove_dir_all(r.dir.join(TERRITORY)).unwrap();
    std::fs::write(r.dir.join("NOTES.md"), "main moved\n").unwrap();
    commit_all(&r.dir, "main moves on");
    let fast = submission(&r.dir, "main", "s").unwrap();
    let full = submission_in(&git2::Repository::open(&r.dir).unwrap(), "main", "s").unwrap();
    assert_ne!(
        fast.merge_base.as_deref(),
        Some(fast.base.as_str()),
        "a real merge"
    );
    assert_eq!(tree(&fast.outcome), tree(&full.outcome));
    let reader = bazaar::git::Repo::open(&r.dir).unwrap();
    let mb = fast.merge_base.clone().unwrap();
    assert_eq!(
        disjoint_merge(&reader, &mb, &fast.base, &fast.head),
        Some(tree(&full.outcome)),
        "the fast path was taken and agrees"
    );
    // overlapping changes (both sides edit one manifest, in different lines) fall back to the
    // full merge, with the same result as git's
    branch(&r, "o", "main", raise_data_class, "overlap");
    let manifest = std::fs::read_to_string(r.dir.join(PSM)).unwrap();
    std::fs::write(
        r.dir.join(PSM),
        manifest.replacen("name = \"", "name = \"Strong ", 1),
    )
    .unwrap();
    commit_all(&r.dir, "main edits the same manifest");
    let fast = submission(&r.dir, "main", "o").unwrap();
    let full = submission_in(&git2::Repository::open(&r.dir).unwrap(), "main", "o").unwrap();
    assert_eq!(tree(&fast.outcome), tree(&full.outcome));
    let mb = fast.merge_base.clone().unwrap();
    assert_eq!(disjoint_merge(&reader, &mb, &fast.base, &fast.head), None);
}
