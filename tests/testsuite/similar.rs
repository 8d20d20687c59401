//! Similar apps: `check --base` notes a likely duplicate of an added app (BZ0220) without ever
//! blocking, the manifest's `[similar] distinct_from` silences it, and `bazaar similar` lists the
//! ranked matches with their evidence.

use crate::support::*;

/// The demo catalog in Git without Team Tree on `main`, and a branch that adds it back.
fn submission_adding_team_tree() -> tempfile::TempDir {
    let dir = demo_copy();
    let p = dir.path();
    let tree = p.join("catalog/sales/team-tree");
    let keep = tempfile::tempdir().unwrap();
    copy(&tree, keep.path());
    std::fs::remove_dir_all(&tree).unwrap();
    git_init_commit(p);
    git(p, &["checkout", "-q", "-b", "add-team-tree"]);
    copy(keep.path(), &tree);
    commit_all(p, "add Team Tree");
    dir
}

fn likely_duplicates(v: &serde_json::Value) -> Vec<&serde_json::Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "BZ0220")
        .collect()
}

#[test]
fn an_added_near_duplicate_is_named_with_its_evidence_and_never_blocks() {
    let dir = submission_adding_team_tree();
    let p = dir.path();
    let (code, v) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!(code, 0, "a likely duplicate never blocks: {v:#}");
    let found = likely_duplicates(&v);
    assert_eq!(found.len(), 1, "{v:#}");
    let f = found[0];
    assert_eq!(f["severity"], "info");
    assert_eq!(f["app"], "com.acme.sales.team-tree");
    assert_eq!(f["location"]["file"], "catalog/sales/team-tree/app.toml");
    assert_eq!(f["location"]["line"], 4, "points at the name: {f:#}");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.starts_with("looks like com.acme.people.employee-directory (Employee Directory): "),
        "{msg}"
    );
    for evidence in [
        "same API api.workday.example/ccx/v1/workers",
        "2 shared scopes (hr:read, profile)",
        "2 shared tags (org-chart, people)",
        "text 0.",
    ] {
        assert!(msg.contains(evidence), "{evidence:?} missing from {msg}");
    }
    assert!(
        f["help"].as_str().unwrap().contains("distinct_from"),
        "{f:#}"
    );

    // the human output says the same, as a note, and the check passes
    let r = bazaar(&["check", "--root", p.to_str().unwrap(), "--base", "main"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("info[BZ0220]: looks like com.acme.people.employee-directory"),
        "{}",
        r.stdout
    );

    // `explain` has the guide
    let e = bazaar(&["explain", "BZ0220"]);
    assert!(e.stdout.contains("reuse the existing app"), "{}", e.stdout);
}

#[test]
fn saying_why_it_differs_silences_the_note_for_that_app_only() {
    let dir = submission_adding_team_tree();
    let p = dir.path();
    let manifest = p.join("catalog/sales/team-tree/app.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!(
            "{text}\n[similar]\ndistinct_from = [{{ id = \"com.acme.people.org-chart-classic\", why = \"live data, embeddable; the classic chart is deprecated\" }}]\n"
        ),
    )
    .unwrap();
    commit_all(p, "explain one");
    let (code, v) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        likely_duplicates(&v).len(),
        1,
        "naming another app does not silence this one: {v:#}"
    );

    edit(
        &manifest,
        "com.acme.people.org-chart-classic",
        "com.acme.people.employee-directory",
    );
    commit_all(p, "explain the right one");
    let (code, v) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!(code, 0, "{v:#}");
    assert!(likely_duplicates(&v).is_empty(), "{v:#}");

    // a reason too short to read is an error at its line
    edit(
        &manifest,
        "why = \"live data, embeddable; the classic chart is deprecated\"",
        "why = \"better\"",
    );
    commit_all(p, "too short");
    let (code, v) = check_json(p, &["--base", "main", "--rev", "HEAD"]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(errors(&v), vec!["BZ0112"], "{v:#}");
}

#[test]
fn changed_apps_and_checks_without_base_get_no_note() {
    let dir = demo_copy();
    let p = dir.path();
    git_init_commit(p);
    // the pair is already in the catalog: a full check and a change to an existing app are quiet
    let (code, v) = check_json(p, &[]);
    assert_eq!(code, 0);
    assert!(likely_duplicates(&v).is_empty(), "{v:#}");
    edit(
        &p.join("catalog/sales/team-tree/app.toml"),
        "version = \"0.3.0\"",
        "version = \"0.3.1\"",
    );
    commit_all(p, "bump");
    let (_, v) = check_json(p, &["--base", "HEAD~1", "--rev", "HEAD"]);
    assert!(likely_duplicates(&v).is_empty(), "{v:#}");
}

#[test]
fn similar_lists_ranked_matches_by_id_or_folder() {
    let root = repo_root();
    let r = bazaar(&[
        "similar",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "com.acme.sales.team-tree",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let list = v["similar"].as_array().unwrap();
    assert_eq!(list[0]["id"], "com.acme.people.employee-directory", "{v:#}");
    assert_eq!(list[0]["likely_duplicate"], true);
    assert!(list[0]["score"].as_f64().unwrap() >= list[1]["score"].as_f64().unwrap());
    assert_eq!(list[1]["id"], "com.acme.people.org-chart-classic", "{v:#}");

    let human = bazaar(&[
        "similar",
        "--root",
        root.to_str().unwrap(),
        "catalog/sales/team-tree/app.toml",
    ]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human.stdout.contains("1. 0.")
            && human.stdout.contains(
                "com.acme.people.employee-directory (Employee Directory)  likely duplicate"
            ),
        "{}",
        human.stdout
    );

    let missing = bazaar(&[
        "similar",
        "--root",
        root.to_str().unwrap(),
        "com.acme.nope.nothing",
    ]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no valid app has the id or folder"),
        "{}",
        missing.stderr
    );
}

#[test]
fn app_pages_list_similar_apps_and_the_dashboard_groups_likely_duplicates() {
    let dir = demo_copy();
    let p = dir.path();
    let r = bazaar(&["build", "--root", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = |rel: &str| std::fs::read_to_string(p.join("public").join(rel)).unwrap();
    let page = read("apps/com.acme.sales.team-tree/index.html");
    let section = &page[page.find("id=\"similar\"").expect("a similar-apps section")..];
    let section = &section[..section.find("</section>").unwrap()];
    let directory = section
        .find("apps/com.acme.people.employee-directory/\">Employee Directory</a> — 0.5")
        .unwrap_or_else(|| panic!("{section}"));
    let classic = section
        .find("apps/com.acme.people.org-chart-classic/\">Org Chart (Classic)</a> — 0.3")
        .unwrap_or_else(|| panic!("{section}"));
    assert!(directory < classic, "best first: {section}");
    assert!(
        section.contains("<strong>likely duplicate</strong>: same API api.workday.example&#x2F;ccx&#x2F;v1&#x2F;workers; 2 shared scopes (hr:read, profile)"),
        "{section}"
    );
    // an app with nothing alike has no section
    let lonely = read("apps/com.acme.security.password-strength-meter/index.html");
    assert!(!lonely.contains("id=\"similar\""));

    let dash = read("dashboard/index.html");
    let dups = &dash[dash.find("id=\"duplicates\"").unwrap()..];
    let dups = &dups[..dups.find("</section>").unwrap()];
    assert_eq!(dups.matches("<li>2 apps:").count(), 1, "{dups}");
    assert!(
        dups.contains(">Employee Directory</a> (People Technology) — like Team Tree, 0.5")
            && dups.contains(">Team Tree</a> (Revenue Operations) — like Employee Directory"),
        "{dups}"
    );

    // once Team Tree says why it differs, the dashboard has no group and the page says why
    let manifest = p.join("catalog/sales/team-tree/app.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}\n[similar]\ndistinct_from = [{{ id = \"com.acme.people.employee-directory\", why = \"embeds one team's tree <b>live</b> on RevOps pages\" }}]\n"),
    )
    .unwrap();
    let r = bazaar(&["build", "--root", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dash = read("dashboard/index.html");
    assert!(dash.contains("No likely duplicates"), "{dash}");
    let page = read("apps/com.acme.people.employee-directory/index.html");
    assert!(
        page.contains(
            "differs: embeds one team&#x27;s tree &lt;b&gt;live&lt;&#x2F;b&gt; on RevOps pages"
        ),
        "contributor text is escaped: {page}"
    );
}
