//! What a submission (or a careless contributor) must never achieve through the site: delete or
//! overwrite files Bazaar did not make, publish host files, read the build's environment, stall
//! the build with one README, plant live `javascript:` links, break the feed with hostile text.
//! Each test is the reproduction of a finding of issue 15.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

fn build(root: &Path) -> Run {
    bazaar(&["build", "--root", root.to_str().unwrap()])
}

/// A Git repository holding the demo catalog, everything committed.
fn demo_repo() -> tempfile::TempDir {
    let dir = demo_copy();
    git_init_commit(dir.path());
    dir
}

/// A folder outside the catalog with one file in it: what an attack would delete.
fn victim() -> (tempfile::TempDir, PathBuf) {
    let v = tempfile::tempdir().unwrap();
    let file = v.path().join("precious.txt");
    std::fs::write(&file, "do not delete").unwrap();
    (v, file)
}

/// Every path under `dir` that is a symbolic link (not followed).
fn links_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                out.push(e.path());
            } else if t.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn build_never_removes_what_a_committed_out_link_points_at() {
    let dir = demo_repo();
    let (v, precious) = victim();
    std::os::unix::fs::symlink(v.path(), dir.path().join("public")).unwrap();
    commit_all(dir.path(), "a submission commits public -> elsewhere");
    let r = build(dir.path());
    assert!(precious.is_file(), "the link's target was removed");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not made by Bazaar") && r.stderr.contains("move it away"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("error:").count(),
        1,
        "one error, said once: {}",
        r.stderr
    );
    // refused before anything was written beside the output
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public"))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[cfg(unix)]
#[test]
fn a_committed_build_folder_is_never_trusted() {
    let dir = demo_repo();
    let (v, precious) = victim();
    let other = v.path().join("other.txt");
    std::fs::write(&other, "also mine").unwrap();
    let planted = dir.path().join(".public.build-a");
    std::fs::create_dir_all(planted.join(".bazaar")).unwrap();
    // a state file listing pages that are "gone": relative escapes and an absolute path
    std::fs::write(
        planted.join(".bazaar/pages.tsv"),
        format!(
            "0000000000000001\t../../../../../../../..{}\n0000000000000002\t{}\n",
            precious.display(),
            other.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", planted.join("passwd.html")).unwrap();
    std::os::unix::fs::symlink(v.path(), planted.join("static")).unwrap();
    commit_all(dir.path(), "a submission commits a build folder");
    let r = build(dir.path());
    assert!(precious.is_file() && other.is_file(), "{}", r.stderr);
    assert_eq!(
        std::fs::read_dir(v.path()).unwrap().count(),
        2,
        "nothing written through the planted link"
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(".public.build-a") && r.stderr.contains("not made by Bazaar"),
        "{}",
        r.stderr
    );
    assert!(
        !dir.path().join("public").exists(),
        "nothing was published from the planted folder"
    );
}

#[cfg(unix)]
#[test]
fn links_and_state_planted_in_bazaars_own_build_folders_are_not_followed() {
    let dir = demo_repo();
    let (v, precious) = victim();
    // two builds: both build folders exist and are Bazaar's
    for _ in 0..2 {
        let r = build(dir.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let public = dir.path().join("public");
    let live = std::fs::canonicalize(&public).unwrap();
    let [a, b] = [".public.build-a", ".public.build-b"].map(|n| dir.path().join(n));
    let next = if live == std::fs::canonicalize(&a).unwrap() {
        b
    } else {
        a
    };
    // a checkout writes into the folder the next build reuses
    std::fs::remove_dir_all(next.join("static")).unwrap();
    std::os::unix::fs::symlink(v.path(), next.join("static")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", next.join("passwd.html")).unwrap();
    std::fs::create_dir_all(next.join(".bazaar")).unwrap();
    std::fs::write(
        next.join(".bazaar/pages.tsv"),
        format!(
            "0000000000000001\t../../../../../../../..{}\n",
            precious.display()
        ),
    )
    .unwrap();
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(precious.is_file(), "a planted state file deleted a file");
    assert_eq!(
        std::fs::read_dir(v.path()).unwrap().count(),
        1,
        "a file was written through a planted link"
    );
    let site = std::fs::canonicalize(&public).unwrap();
    assert_eq!(site, next);
    assert_eq!(
        links_under(&site),
        Vec::<PathBuf>::new(),
        "links in the published site"
    );
    assert!(site.join("static/style.css").is_file());
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for e in walk_files(&site) {
        if !passwd.is_empty() {
            assert_ne!(std::fs::read_to_string(&e).ok(), Some(passwd.clone()));
        }
    }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn a_refused_out_leaves_nothing_behind_and_says_so_once() {
    let dir = demo_copy();
    std::fs::create_dir(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("public/keep.txt"), "mine").unwrap();
    let r = build(dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(dir.path().join("public/keep.txt").is_file());
    assert_eq!(r.stderr.matches("not a link").count(), 1, "{}", r.stderr);
    for left in [".public.lock", ".public.build-a", ".public.build-b"] {
        assert!(!dir.path().join(left).exists(), "{left} left behind");
    }
}

#[test]
fn check_reports_committed_build_output() {
    let dir = demo_copy();
    std::fs::create_dir_all(dir.path().join(".public.build-a/apps")).unwrap();
    std::fs::write(dir.path().join(".public.build-a/apps/index.html"), "x").unwrap();
    std::fs::create_dir_all(dir.path().join("public")).unwrap();
    std::fs::write(dir.path().join("public/index.html"), "x").unwrap();
    git_init_commit(dir.path());
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 1, "{v}");
    let found: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "BZ0217")
        .collect();
    assert_eq!(found.len(), 2, "{v}");
    assert!(found.iter().all(|f| f["severity"] == "error"));
    // the same at a revision
    let (code, v) = check_json(dir.path(), &["--rev", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(codes(&v).iter().filter(|c| *c == "BZ0217").count(), 2);
    let r = bazaar(&["explain", "BZ0217"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("git rm"), "{}", r.stdout);
}

/// `bazaar build` with one more environment variable.
fn build_with_env(root: &Path, key: &str, value: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_bazaar"))
        .args(["build", "--root", root.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env("BAZAAR_TODAY", TODAY)
        .env(key, value)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn templates_cannot_read_the_environment() {
    let dir = demo_copy();
    std::fs::create_dir_all(dir.path().join("site-templates")).unwrap();
    std::fs::write(
        dir.path().join("site-templates/404.html"),
        "{% extends \"base.html\" %}{% block main %}TOKEN={{ get_env(name=\"BAZAAR_TEST_SECRET\") }} HOME={{ get_env(name=\"HOME\", default=\"\") }}{% endblock main %}",
    )
    .unwrap();
    let secret = "s3cr3t-t0ken-4b9f";
    let r = build_with_env(dir.path(), "BAZAAR_TEST_SECRET", secret);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("get_env") && r.stderr.contains("not available"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(secret));
    for f in walk_files(dir.path()) {
        if let Ok(text) = std::fs::read_to_string(&f) {
            assert!(!text.contains(secret), "{} holds the secret", f.display());
        }
    }
}

/// The README cases of finding 4 and the time each took to build (check included).
#[test]
fn hostile_readmes_are_bounded_and_reported_with_their_line() {
    let cases = [
        (
            "blockquotes 100k",
            format!("# Hi\n\nok\n{}x\n", ">".repeat(100_000)),
        ),
        (
            "blockquotes 200k",
            format!("# Hi\n\nok\n{}x\n", ">".repeat(200_000)),
        ),
        (
            "divs 40k",
            format!("# Hi\n\nok\n{}\n", "<div>".repeat(40_000)),
        ),
    ];
    for (what, readme) in cases {
        let dir = demo_copy();
        let app = dir.path().join("catalog/finance/expense-tracker");
        std::fs::write(app.join("README.md"), &readme).unwrap();
        let t = Instant::now();
        let (code, v) = check_json(dir.path(), &[]);
        let checked = t.elapsed();
        assert_eq!(code, 1, "{what}: {v}");
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "BZ0218")
            .unwrap_or_else(|| panic!("{what}: no BZ0218 in {v}"));
        assert_eq!(f["location"]["line"], 4, "{what}: {f}");
        let t = Instant::now();
        let r = build(dir.path());
        let built = t.elapsed();
        assert_eq!(r.code, 0, "{what}: {}", r.stderr);
        let page = std::fs::read_to_string(
            dir.path()
                .join("public/apps/com.acme.finance.expense-tracker/index.html"),
        )
        .unwrap();
        assert!(page.contains("too complex"), "{what}: no notice");
        assert!(
            !page.contains("<div><div>") && !page.contains("<blockquote>\n<blockquote>"),
            "{what}: rendered anyway"
        );
        // a debug build on a busy machine: the old code took minutes
        assert!(
            checked < Duration::from_secs(5) && built < Duration::from_secs(10),
            "{what}: check {checked:?}, build {built:?}"
        );
    }
}

/// Unsigned merge commit with Bazaar trailers that claim approvals and a `javascript:` link.
#[test]
fn a_forged_merge_record_shows_no_links_and_no_approvals() {
    let dir = demo_repo();
    git(dir.path(), &["checkout", "-q", "-b", "pr"]);
    edit(
        &dir.path().join(EXPENSE),
        "summary = \"",
        "summary = \"Now faster. ",
    );
    commit_all(dir.path(), "change");
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    let msg = format!(
        "Merge submission #7: update com.acme.finance.expense-tracker\n\nBazaar-Submission: javascript:alert(document.domain)\nBazaar-Author: mallory\nBazaar-Head: {head}\nBazaar-Risk: low\nBazaar-Required-Roles: security\nBazaar-Changed: com.acme.finance.expense-tracker\nBazaar-Approval: fakeapprover role=security review=1 head={head} at=2026-11-25T10:00:00Z\n"
    );
    git(dir.path(), &["merge", "-q", "--no-ff", "pr", "-m", &msg]);
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(
        dir.path()
            .join("public/apps/com.acme.finance.expense-tracker/index.html"),
    )
    .unwrap();
    let trail = &page[page.find("id=\"trail\"").unwrap()..page.find("id=\"versions\"").unwrap()];
    assert!(trail.contains("unverified"), "{trail}");
    assert!(!trail.to_lowercase().contains("javascript:"), "{trail}");
    assert!(!trail.contains("fakeapprover"), "{trail}");
    assert!(!trail.contains("<a "), "{trail}");
}

#[test]
fn bidi_controls_and_noncharacters_in_text_fields_are_refused() {
    for (field, from, to) in [
        (
            "name",
            "name = \"Expense Tracker\"",
            "name = \"Expense \u{202E}rekcarT\"",
        ),
        (
            "name",
            "name = \"Expense Tracker\"",
            "name = \"Expense\u{FFFE} Tracker\"",
        ),
        ("summary", "summary = \"", "summary = \"\u{2066}x\u{2069} "),
        (
            "name",
            "name = \"Expense Tracker\"",
            "name = \"Expense\u{FDD0}Tracker\"",
        ),
    ] {
        let dir = demo_copy();
        edit(&dir.path().join(EXPENSE), from, to);
        let (code, v) = check_json(dir.path(), &[]);
        assert_eq!(code, 1, "{field}: {v}");
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "BZ0115")
            .unwrap_or_else(|| panic!("{to:?}: no BZ0115 in {v}"));
        assert!(f["message"].as_str().unwrap().contains(field), "{f}");
        assert!(
            f["location"]["line"].as_u64().unwrap() > 0
                && f["location"]["column"].as_u64().unwrap() > 1,
            "{f}"
        );
    }
    // team names too
    let dir = demo_copy();
    edit(
        &dir.path().join("catalog/finance/team.toml"),
        "name = \"Finance Engineering\"",
        "name = \"Finance\u{200F} Engineering\"",
    );
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"BZ0115".to_string()), "{v}");
    let r = bazaar(&["explain", "BZ0115"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.to_lowercase().contains("bidi"), "{}", r.stdout);
}

#[test]
fn every_xml_file_of_the_site_parses_even_with_hostile_names() {
    let dir = demo_copy();
    // a hostile name the check refuses (the app is built anyway with the others) and a
    // site title and history with characters XML does not allow
    edit(
        &dir.path().join(EXPENSE),
        "name = \"Expense Tracker\"",
        "name = \"Expense\u{FFFE}\u{202E} <Tracker> &\"",
    );
    git_init_commit(dir.path());
    edit(
        &dir.path().join("catalog/finance/invoice-ocr/app.toml"),
        "summary = \"",
        "summary = \"Again. ",
    );
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &[
            "commit",
            "-q",
            "-m",
            "odd \u{FFFF}\u{7}\u{202E} <subject> &",
        ],
    );
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = dir.path().join("public");
    for f in ["feed.xml", "sitemap.xml"] {
        let text = std::fs::read_to_string(public.join(f)).unwrap();
        if let Err(e) = roxmltree::Document::parse(&text) {
            panic!("{f} is not XML: {e}\n{text}");
        }
    }
}

#[test]
fn every_page_carries_a_content_security_policy_that_a_catalog_can_widen() {
    let dir = demo_copy();
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let site = std::fs::canonicalize(dir.path().join("public")).unwrap();
    let mut pages = 0;
    for f in walk_files(&site) {
        if f.extension().is_none_or(|e| e != "html") {
            continue;
        }
        pages += 1;
        let html = std::fs::read_to_string(&f).unwrap();
        let head = &html[..html.find("</head>").unwrap()];
        let meta = head
            .find("<meta http-equiv=\"Content-Security-Policy\" content=\"")
            .unwrap_or_else(|| panic!("{}: no policy", f.display()));
        // before anything that loads
        assert!(
            head.find("<script").is_none_or(|s| s > meta)
                && head.find("<link").is_none_or(|s| s > meta),
            "{}",
            f.display()
        );
        let policy = head[meta..].replace("&#x27;", "'");
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval';")
                && policy.contains("object-src 'none'")
                && !policy.contains("unsafe-inline"),
            "{}: {policy}",
            f.display()
        );
        // the policy runs no inline script: every script is a file of the site
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').unwrap()];
            assert!(tag.contains(" src=\""), "{}: inline {tag}", f.display());
        }
    }
    assert!(pages > 100, "{pages}");
    // a catalog adds sources in bazaar.toml
    let toml = dir.path().join("bazaar.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("\n[site.csp]\nscript_src = [\"https://cdn.acme.example/widgets/\"]\nframe_src = [\"https://dash.acme.example\"]\n");
    std::fs::write(&toml, &text).unwrap();
    let r = build(dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let index = std::fs::read_to_string(dir.path().join("public/index.html"))
        .unwrap()
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/");
    assert!(
        index.contains("script-src 'self' 'wasm-unsafe-eval' https://cdn.acme.example/widgets/;")
            && index.contains("frame-src https://dash.acme.example/;"),
        "{index}"
    );
    // only https sources, never keywords or another directive
    for bad in [
        "'unsafe-inline'",
        "https://x.example; script-src *",
        "http://cdn.example",
        "*",
    ] {
        std::fs::write(
            &toml,
            text.replace("https://cdn.acme.example/widgets/", bad),
        )
        .unwrap();
        let (code, v) = check_json(dir.path(), &[]);
        assert_eq!(code, 1, "{bad}: {v}");
        assert!(codes(&v).contains(&"BZ0107".to_string()), "{bad}: {v}");
    }
}
