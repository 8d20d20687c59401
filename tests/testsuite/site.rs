//! `bazaar build`: the pages of the demo catalog, sanitized READMEs, internal links that resolve,
//! catalog.json, and atomic publishing (a failed build leaves the previous site serving).
//! (Browser tests, search, `serve` and the benchmark against Hugo + Pagefind come with the rest
//! of the site issue.)

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
    let index = read(public.join("index.html"));
    assert_eq!(index.matches("class=\"app-card\"").count(), 22);
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
    let v: serde_json::Value = serde_json::from_str(&read(public.join("catalog.json"))).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["apps"].as_array().unwrap().len(), 22);
    assert!(
        public.join("teams/finance/index.html").is_file()
            && public.join("tiers/vetted/index.html").is_file()
            && public.join("404.html").is_file()
    );
}

fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|l| l.replace("&#x2F;", "/").replace("&amp;", "&"))
        .collect()
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
    assert_ne!(first, second, "a new folder per build");
    assert!(
        !dir.path().join(&first).exists(),
        "the old build is removed after the swap"
    );
    // a broken template override: the build fails and the published site is untouched
    std::fs::create_dir_all(dir.path().join("site-templates")).unwrap();
    std::fs::write(dir.path().join("site-templates/app.html"), "{% extends \"base.html\" %}{% block main %}{{ app.name | no_such_filter }}{% endblock main %}").unwrap();
    let r = build(dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("template"), "{}", r.stderr);
    assert_eq!(std::fs::read_link(&public).unwrap(), second);
    assert!(read(public.join("index.html")).contains("app-card"));
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
