//! `bazaar build`: the pages of the demo catalog, sanitized READMEs, internal links that resolve,
//! facet, collection and cost pages, feeds, the search bundle, version history, incremental
//! rendering, and atomic publishing (a failed or killed build leaves the previous site serving).
//! The same site in a real browser is `browser.rs`; the preview server is `serve.rs`.

use std::path::{Path, PathBuf};

use crate::support::*;

fn build(root: &Path) -> Run {
    bazaar(&["build", "--root", root.to_str().unwrap()])
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn the_demo_site_has_every_app_with_its_facts() {
    let dir = demo_copy();
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = dir.path().join("public");
    assert!(
        std::fs::symlink_metadata(&public)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let all = read(public.join("apps/index.html"));
    assert_eq!(all.matches("class=\"app-card\"").count(), 23);
    let index = read(public.join("index.html"));
    assert!(index.contains("Featured collections") && index.contains("id=\"search\""));
    let app = read(public.join("apps/com.acme.people.employee-directory/index.html"));
    assert!(
        app.contains("<dt>Owner</dt>") && app.contains("<dt>SLA</dt>"),
        "{app}"
    );
    assert!(
        app.contains("risk high") && app.contains("compliance, legal, product-owner, security")
    );
    let old = read(public.join("apps/com.acme.people.org-chart-classic/index.html"));
    assert!(
        old.contains("Deprecated.")
            && old.contains("href=\"../../apps/com.acme.people.employee-directory/\""),
        "{old}"
    );
    // the SBOM kept in the catalog, summarized from the document itself
    let sbom: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join("catalog/clinical-ops/appointment-reminder/sbom.cdx.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let reminder = read(public.join("apps/com.acme.clinical-ops.appointment-reminder/index.html"));
    let summary = format!(
        "CycloneDX {}: {} components",
        sbom["specVersion"].as_str().unwrap(),
        sbom["components"].as_array().unwrap().len()
    );
    assert!(reminder.contains(&summary), "{summary}: {reminder}");
    // a policy warning with its deadline (the demo's overdue review)
    let board = read(public.join("apps/com.acme.clinical-ops.clinic-capacity-board/index.html"));
    assert!(
        board.contains("Open warnings") && board.contains("overdue") && board.contains("(fix by "),
        "{board}"
    );
    let v: serde_json::Value = serde_json::from_str(&read(public.join("catalog.json"))).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["apps"].as_array().unwrap().len(), 23);
    assert!(
        public.join("teams/finance/index.html").is_file()
            && public.join("tiers/vetted/index.html").is_file()
            && public.join("404.html").is_file()
    );
}

fn links(html: &str) -> Vec<String> {
    ["href=\"", "src=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|s| s.split('"').next())
        .map(|l| l.replace("&#x2F;", "/").replace("&amp;", "&"))
        .collect()
}

/// The build folders beside `public` (`.public.build-*`).
fn build_folders(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public.build-"))
        .collect();
    v.sort();
    v
}

/// The numbers `bazaar build` reports: (pages, rendered, unchanged).
fn counts(stderr: &str) -> (usize, usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("built "))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1], nums[2])
}

#[test]
fn every_page_kind_exists_with_facets_costs_feeds_and_search() {
    let dir = demo_copy();
    git_init_commit(dir.path());
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = dir.path().join("public");
    // one page per value of every facet, each a real link from the index
    let index = read(public.join("index.html"));
    for page in [
        "teams/finance/",
        "tags/onboarding/",
        "tiers/enterprise/",
        "lifecycle/deprecated/",
        "runtimes/web-component/",
        "data/confidential/",
        "scopes/calendar-read/",
        "collections/onboarding/",
        "costs/",
    ] {
        assert!(public.join(page).join("index.html").is_file(), "{page}");
    }
    assert!(index.contains("href=\"lifecycle/deprecated/\""), "{index}");
    let deprecated = read(public.join("lifecycle/deprecated/index.html"));
    assert!(deprecated.contains("Org Chart (Classic)"), "{deprecated}");
    let scope = read(public.join("scopes/calendar-read/index.html"));
    assert!(scope.contains("app-card"), "{scope}");
    // cost showback: each center's total is the sum of its apps' monthly costs
    let mut totals: std::collections::BTreeMap<String, f64> = Default::default();
    for m in glob_manifests(dir.path()) {
        let v: toml::Value = toml::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
        if let (Some(c), Some(usd)) = (
            v.get("cost")
                .and_then(|c| c.get("center"))
                .and_then(|c| c.as_str()),
            v.get("cost")
                .and_then(|c| c.get("monthly_usd"))
                .and_then(|c| c.as_float().or(c.as_integer().map(|i| i as f64))),
        ) {
            *totals.entry(c.to_string()).or_default() += usd;
        }
    }
    assert!(totals.len() >= 3, "{totals:?}");
    let costs = read(public.join("costs/index.html"));
    for (center, usd) in &totals {
        let page = read(public.join(format!("costs/{}/index.html", center.to_lowercase())));
        // dollars as readers read them: $1,350
        let whole = format!("{}", *usd as i64);
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        assert_eq!(usd.fract(), 0.0, "the demo's costs are whole dollars");
        assert!(
            page.contains(&format!("${grouped} a month")),
            "{center} {usd}: {page}"
        );
        assert!(costs.contains(center.as_str()));
    }
    // Atom feed and sitemap
    let feed = read(public.join("feed.xml"));
    assert!(
        feed.starts_with("<?xml") && feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );
    assert_eq!(feed.matches("<entry>").count(), 23, "{feed}");
    let sitemap = read(public.join("sitemap.xml"));
    let html_pages = walk(&public)
        .into_iter()
        .filter(|p| p.ends_with(".html") && !p.ends_with("404.html"))
        .count();
    assert_eq!(sitemap.matches("<loc>").count(), html_pages);
    assert!(sitemap.contains(
        "<loc>https://bazaar.acme.internal/apps/com.acme.people.employee-directory/</loc>"
    ));
    // the Pagefind bundle: one record per app, a filter per facet
    let entry: serde_json::Value =
        serde_json::from_str(&read(public.join("pagefind/pagefind-entry.json"))).unwrap();
    assert_eq!(entry["languages"]["en"]["page_count"], 23, "{entry}");
    let filters = std::fs::read_dir(public.join("pagefind/filter"))
        .unwrap()
        .count();
    assert_eq!(filters, 7);
    assert!(
        public.join("pagefind/pagefind-ui.js").is_file()
            && index.contains("pagefind/pagefind-ui.js")
    );
    // version history from Git on the app page
    let app = read(public.join("apps/com.acme.people.employee-directory/index.html"));
    assert!(
        app.contains("Version history") && app.contains("5.2.0"),
        "{app}"
    );
}

/// Every file under a folder, relative to it.
fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

fn glob_manifests(root: &Path) -> Vec<PathBuf> {
    walk(&root.join("catalog"))
        .into_iter()
        .filter(|p| p.ends_with("/app.toml"))
        .map(|p| root.join("catalog").join(p))
        .collect()
}

#[test]
fn a_one_app_edit_re_renders_only_the_pages_it_touches() {
    let dir = demo_copy();
    git_init_commit(dir.path());
    let r = build(dir.path());
    let (pages, rendered, _) = counts(&r.stderr);
    assert_eq!(pages, rendered, "{}", r.stderr);
    let public = dir.path().join("public");
    let untouched = read(public.join("apps/com.acme.people.employee-directory/index.html"));
    // nothing changed: nothing is rendered again
    let r = build(dir.path());
    assert_eq!(counts(&r.stderr), (pages, 0, pages), "{}", r.stderr);
    // one summary: its page, the lists it is in, the index (featured) — not the other apps
    edit(
        &dir.path().join("catalog/finance/expense-tracker/app.toml"),
        "summary = \"",
        "summary = \"Edited: ",
    );
    let r = build(dir.path());
    let (_, rendered, reused) = counts(&r.stderr);
    assert!(rendered > 3 && rendered < 25, "{}", r.stderr);
    assert_eq!(rendered + reused, pages);
    let page = read(public.join("apps/com.acme.finance.expense-tracker/index.html"));
    assert!(page.contains("Edited: "), "{page}");
    assert!(read(public.join("teams/finance/index.html")).contains("Edited: "));
    assert!(read(public.join("apps/index.html")).contains("Edited: "));
    assert_eq!(
        read(public.join("apps/com.acme.people.employee-directory/index.html")),
        untouched
    );
    // the search index follows the edit too
    assert!(read(public.join("pagefind/pagefind-entry.json")).contains("\"page_count\":23"));
    // a template change renders every page that uses it
    std::fs::create_dir_all(dir.path().join("site-templates")).unwrap();
    let base = std::fs::read_to_string(repo_root().join("site-templates/base.html")).unwrap();
    std::fs::write(
        dir.path().join("site-templates/base.html"),
        base.replace("</footer>", " Custom footer.</footer>"),
    )
    .unwrap();
    let r = build(dir.path());
    assert_eq!(counts(&r.stderr).1, pages, "{}", r.stderr);
    assert!(
        read(public.join("apps/com.acme.people.employee-directory/index.html"))
            .contains("Custom footer.")
    );
}

#[test]
fn version_history_and_the_feed_follow_git() {
    let dir = demo_copy();
    git_init_commit(dir.path());
    edit(
        &dir.path()
            .join("catalog/people/employee-directory/app.toml"),
        "version = \"5.2.0\"",
        "version = \"5.3.0\"",
    );
    commit_all(dir.path(), "Employee Directory 5.3.0: skills search");
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = dir.path().join("public");
    let app = read(public.join("apps/com.acme.people.employee-directory/index.html"));
    let (new, old) = (
        app.find("5.3.0 (changed)").expect(&app),
        app.find("5.2.0 (added)").expect(&app),
    );
    assert!(new < old, "newest first");
    assert!(app.contains("skills search"));
    let feed = read(public.join("feed.xml"));
    let first = &feed[feed.find("<entry>").unwrap()..];
    assert!(
        first.starts_with("<entry>\n<title>Employee Directory 5.3.0 changed</title>"),
        "{first}"
    );
    let index = read(public.join("index.html"));
    assert!(index.contains("Recently changed") && index.find("skills search").is_some());
}

#[test]
fn a_build_killed_midway_leaves_the_previous_site_serving() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("cat");
    let r = bazaar(&["init", "--sample", "400", cat.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = build(&cat);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = cat.join("public");
    let before = std::fs::read_link(&public).unwrap();
    let index = read(public.join("index.html"));
    edit(&cat.join("bazaar.toml"), "title = \"", "title = \"Renamed ");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bazaar"))
        .args(["build", "--root", cat.to_str().unwrap()])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // kill it once its build folder has pages in it, before it can swap
    let started = std::time::Instant::now();
    loop {
        let partial = build_folders(&cat)
            .into_iter()
            .filter(|n| *n != before.to_string_lossy())
            .any(|n| cat.join(n).join("apps").is_dir());
        if partial {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the build ended before it could be killed"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "no build folder appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        std::fs::read_link(&public).unwrap(),
        before,
        "the link still points at the old build"
    );
    assert_eq!(
        read(public.join("index.html")),
        index,
        "the old site is whole"
    );
    assert!(
        build_folders(&cat).len() == 2,
        "the killed build's folder is left for cleanup"
    );
    // the next build publishes normally
    let r = build(&cat);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(read(public.join("index.html")).contains("Renamed "));
}

#[test]
fn every_internal_link_resolves() {
    let dir = demo_copy();
    assert_eq!(build(dir.path()).code, 0);
    let public = dir.path().join("public");
    let mut pages = vec![public.clone()];
    let mut checked = 0;
    while let Some(p) = pages.pop() {
        for e in std::fs::read_dir(&p).unwrap().filter_map(Result::ok) {
            let path = e.path();
            if path.is_dir() {
                pages.push(path);
            } else if path.extension().is_some_and(|x| x == "html") {
                for l in links(&read(path.clone())) {
                    if l.contains("://") || l.starts_with("mailto:") || l.starts_with('#') {
                        continue;
                    }
                    let target = path.parent().unwrap().join(&l);
                    let target = if l.ends_with('/') || l.is_empty() {
                        target.join("index.html")
                    } else {
                        target
                    };
                    assert!(
                        target.exists(),
                        "{} links to {l}, which does not exist",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 200, "{checked} links checked");
}

#[test]
fn hostile_text_is_inert_in_the_output() {
    let dir = demo_copy();
    let app = dir.path().join("catalog/finance/expense-tracker");
    std::fs::write(
        app.join("README.md"),
        "# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n<iframe src=https://evil.example></iframe>\n\n<form><input></form>\n\n<div style=\"position:fixed\">x</div>\n",
    )
    .unwrap();
    edit(
        &app.join("app.toml"),
        "summary = \"",
        "summary = \"<script>alert(2)</script> ",
    );
    assert_eq!(build(dir.path()).code, 0);
    let page = read(
        dir.path()
            .join("public/apps/com.acme.finance.expense-tracker/index.html"),
    )
    .to_lowercase();
    for bad in [
        "<script",
        "onerror",
        "javascript:",
        "<iframe",
        "<form",
        "<input",
        "style=\"position",
    ] {
        assert!(!page.contains(bad), "{bad} survived");
    }
    assert!(
        page.contains("&lt;script&gt;alert(2)"),
        "the summary is escaped, not dropped"
    );
}

#[test]
fn publishing_is_atomic_and_a_failed_build_keeps_the_old_site() {
    let dir = demo_copy();
    assert_eq!(build(dir.path()).code, 0);
    let public = dir.path().join("public");
    let first = std::fs::read_link(&public).unwrap();
    assert_eq!(build(dir.path()).code, 0);
    let second = std::fs::read_link(&public).unwrap();
    assert_ne!(
        first, second,
        "each build goes to the folder no one is reading"
    );
    assert!(
        dir.path().join(&first).join("index.html").is_file(),
        "the previous build stays whole beside the link"
    );
    assert_eq!(build(dir.path()).code, 0);
    assert_eq!(
        std::fs::read_link(&public).unwrap(),
        first,
        "two folders, taken in turn"
    );
    assert_eq!(build(dir.path()).code, 0);
    // a broken template override: the build fails and the published site is untouched
    std::fs::create_dir_all(dir.path().join("site-templates")).unwrap();
    std::fs::write(dir.path().join("site-templates/app.html"), "{% extends \"base.html\" %}{% block main %}{{ app.name | no_such_filter }}{% endblock main %}").unwrap();
    let r = build(dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("template"), "{}", r.stderr);
    assert_eq!(std::fs::read_link(&public).unwrap(), second);
    assert!(read(public.join("apps/index.html")).contains("app-card"));
    assert_eq!(
        build_folders(dir.path()),
        vec![second.to_string_lossy().into_owned()],
        "the failed build removed its folder"
    );
    // an override that works replaces the default file by file
    std::fs::write(
        dir.path().join("site-templates/404.html"),
        "{% extends \"base.html\" %}{% block main %}<h1>Lost?</h1>{% endblock main %}",
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("site-templates/app.html")).unwrap();
    assert_eq!(build(dir.path()).code, 0);
    assert!(read(public.join("404.html")).contains("Lost?"));
    // a real folder where the link should be is refused, not deleted
    let other = demo_copy();
    std::fs::create_dir(other.path().join("public")).unwrap();
    std::fs::write(other.path().join("public/keep.txt"), "mine").unwrap();
    let r = build(other.path());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a link"), "{}", r.stderr);
    assert!(other.path().join("public/keep.txt").exists());
}

#[test]
fn rebuilds_keep_one_search_index_whole_and_do_not_pile_up_old_ones() {
    let dir = demo_copy();
    let manifest = dir.path().join("catalog/finance/expense-tracker/app.toml");
    let public = dir.path().join("public");
    let mut files = Vec::new();
    for round in 0..6 {
        edit(
            &manifest,
            "summary = \"",
            &format!("summary = \"Round {round}. "),
        );
        let r = build(dir.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        let bundle: Vec<String> = walk(&public.join("pagefind"));
        // what the published index names is all there
        let entry: serde_json::Value =
            serde_json::from_str(&read(public.join("pagefind/pagefind-entry.json"))).unwrap();
        let hash = entry["languages"]["en"]["hash"].as_str().unwrap();
        assert!(
            bundle.contains(&format!("pagefind.{hash}.pf_meta")),
            "round {round}: the entry names a meta file that is not there: {bundle:?}"
        );
        files.push(bundle.len());
    }
    // the serving folder holds the current index and at most the previous one's files
    assert!(
        files[5] <= files[2] + 4 && files[4] <= files[1] + 4,
        "the search bundle grows build after build: {files:?}"
    );
}
