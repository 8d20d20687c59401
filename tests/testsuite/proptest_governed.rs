//! Property tests of every file a submission can change besides manifests (those are in
//! `proptest_parser`): the roster, `allowed_signers`, the merge record, policies, READMEs and
//! SBOMs never make Bazaar panic; and for any approval a caller passes, either it is refused or
//! stock `git interpret-trailers` reads exactly that approval back from the signed message.

use std::path::Path;
use std::process::{Command, Stdio};

use bazaar::check::{CheckOptions, check};
use bazaar::context::Context;
use bazaar::diagnostics::SourceFile;
use bazaar::review::{Approval, MergeRecord, Roster};
use bazaar::signing::AllowedSigners;
use chrono::{DateTime, Utc};
use proptest::prelude::*;

use crate::proptest_parser::{apply, config, mutation};
use crate::support::*;

const ROSTER: &str = include_str!("../../policies/reviewers.toml");
const RISK: &str = include_str!("../../policies/risk.rego");
const README: &str = include_str!("../../catalog/finance/expense-tracker/README.md");
const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";
const SIGNERS: &str = "alice@acme.example namespaces=\"git\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEnj77+tswvF2r/rqz7KZsfk2qsas8mITAAtaJtLrVOt\n";

fn few() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        ..config()
    }
}

/// Text pieces that stress parsers: separators, quotes, tabs, multibyte and control characters.
fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a",
            "alice",
            "security",
            ":",
            "@",
            "=",
            " ",
            "\t",
            "\n",
            "\r",
            "\"",
            "'",
            "#",
            "[",
            "]",
            "role=admin",
            "review=1",
            "head=",
            "at=",
            "é",
            "😀",
            "\u{202E}",
            "\u{0}",
            "\u{FFFE}",
            "-",
            "0",
            "1",
            "99999999999999999999",
            HEAD,
            "2026-11-24T16:03:11Z",
            "Bazaar-Approval: ",
            "\n\n",
            "https://x/pull/1",
        ]),
        0..16,
    )
    .prop_map(|v| v.concat())
}

fn git_trailers(message: &str) -> Vec<String> {
    let mut child = Command::new("git")
        .args(["interpret-trailers", "--parse"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("git is installed (.ci/run installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn record_with(approval: Approval) -> MergeRecord {
    MergeRecord {
        subject: "Merge submission #1: update com.acme.x.y".into(),
        base: Some("f".repeat(40)),
        head: HEAD.into(),
        risk: "medium".into(),
        required_roles: Some(vec![approval.role.clone()]),
        approvals: vec![approval],
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Whatever string a caller passes as an approval (or the parts of a record), either it is
    /// refused or the signed message carries exactly that approval, as git itself reads it.
    #[test]
    fn an_approval_is_refused_or_read_back_exactly(spec in hostile(), tail in hostile()) {
        let now = DateTime::<Utc>::from_timestamp(1_795_000_000, 0).unwrap();
        for spec in [spec.clone(), format!("alice:security:{spec}"), format!("alice:security:1@{HEAD}@{spec}"), format!("{spec}:security:1{tail}")] {
            let Ok(a) = Approval::parse(&spec, HEAD, now) else { continue };
            let Ok(message) = record_with(a.clone()).message() else { continue };
            let trailers: Vec<String> = git_trailers(&message)
                .into_iter()
                .filter(|l| l.starts_with("Bazaar-Approval"))
                .collect();
            prop_assert_eq!(
                trailers,
                vec![format!(
                    "Bazaar-Approval: {} role={} review={} head={} at={}",
                    a.login, a.role, a.review_id, a.head,
                    a.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )]
            );
            let back = MergeRecord::parse(&message).unwrap().unwrap();
            prop_assert_eq!(back.approvals, vec![a]);
        }
    }

    /// Author, submission and subject text cannot add a trailer either.
    #[test]
    fn record_text_cannot_add_a_trailer(author in hostile(), url in hostile(), subject in hostile()) {
        let a = Approval::parse("alice:security:1", HEAD, Utc::now()).unwrap();
        let mut r = record_with(a);
        r.author = Some(author);
        r.submission = Some(format!("https://forge.example/{url}"));
        r.subject = subject;
        if let Ok(message) = r.message() {
            let approvals = git_trailers(&message)
                .into_iter()
                .filter(|l| l.starts_with("Bazaar-Approval"))
                .count();
            prop_assert_eq!(approvals, 1, "{}", message);
            let back = MergeRecord::parse(&message).unwrap().unwrap();
            prop_assert_eq!(back.approvals.len(), 1);
            prop_assert_eq!(back.author, r.author);
        }
    }

    /// The reader never panics on any message, and refuses repeated keys in an approval.
    #[test]
    fn the_record_reader_never_panics(text in hostile(), muts in prop::collection::vec(mutation(), 0..6)) {
        let a = Approval::parse("alice:security:1", HEAD, Utc::now()).unwrap();
        let message = record_with(a).message().unwrap();
        let _ = MergeRecord::parse(&text);
        let mutated = apply(message.as_bytes(), &muts);
        let _ = MergeRecord::parse(&String::from_utf8_lossy(&mutated));
    }

    /// The roster and allowed_signers parsers, on mutated real files and on hostile text.
    #[test]
    fn roster_and_signers_never_panic(muts in prop::collection::vec(mutation(), 0..8), text in hostile()) {
        for (base, extra) in [(ROSTER, &text), (SIGNERS, &text)] {
            let mutated = String::from_utf8_lossy(&apply(base.as_bytes(), &muts)).into_owned();
            for t in [mutated.clone(), format!("{mutated}{extra}"), extra.clone()] {
                if let Err(fs) = Roster::parse(&SourceFile::new("policies/reviewers.toml", t.clone())) {
                    for f in fs {
                        if let Some(l) = &f.location {
                            prop_assert!(l.span.end <= t.len() && t.is_char_boundary(l.span.start));
                        }
                    }
                }
                let _ = AllowedSigners::parse("policies/allowed_signers", &t);
            }
        }
    }
}

/// A demo catalog in a temporary Git repository (for the file-level properties).
fn catalog() -> tempfile::TempDir {
    let dir = demo_copy();
    git_init_commit(dir.path());
    dir
}

fn check_dir(dir: &Path) -> bazaar::check::Checked {
    let ctx = Context {
        today: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        ..Context::new()
    };
    check(
        &ctx,
        &CheckOptions {
            root: dir.to_path_buf(),
            rev: None,
            base: None,
        },
    )
    .expect("check runs")
}

proptest! {
    #![proptest_config(few())]

    /// Broken policies (mutated real ones, with tabs and multibyte text) are findings that
    /// point inside the file, never a panic.
    #[test]
    fn a_broken_policy_is_a_located_finding(muts in prop::collection::vec(mutation(), 1..6), text in hostile()) {
        let dir = catalog();
        let mutated = apply(RISK.as_bytes(), &muts);
        let mut bytes = mutated.clone();
        bytes.extend_from_slice(format!("\n\t{text} := ???\n").as_bytes());
        std::fs::write(dir.path().join("policies/risk.rego"), &bytes).unwrap();
        let checked = check_dir(dir.path());
        for f in &checked.report.findings {
            if let (Some(file), Some(l)) = (f.file(), &f.location) {
                let src = &checked.report.sources[file];
                prop_assert!(l.span.end <= src.text.len(), "{f:?}");
                prop_assert!(src.text.is_char_boundary(l.span.start) && src.text.is_char_boundary(l.span.end));
            }
        }
    }

}

proptest! {
    // a debug build of the demo site with its search index takes seconds: few cases
    #![proptest_config(ProptestConfig { cases: 6, ..config() })]

    /// Hostile READMEs and SBOMs: check and build finish without a panic.
    #[test]
    fn hostile_readmes_and_sboms_build(muts in prop::collection::vec(mutation(), 0..6), text in hostile(), sbom in hostile()) {
        let dir = catalog();
        let app = dir.path().join("catalog/finance/expense-tracker");
        let mut readme = apply(README.as_bytes(), &muts);
        readme.extend_from_slice(format!("\n> {text}\n<div>{text}\n[x]({text})\n").as_bytes());
        std::fs::write(app.join("README.md"), &readme).unwrap();
        let manifest = std::fs::read_to_string(app.join("app.toml")).unwrap();
        if let Some(line) = manifest.lines().find(|l| l.starts_with("sbom")) {
            let rel = line.split('"').nth(1).unwrap_or("sbom.cdx.json");
            std::fs::write(app.join(rel), format!("{{\"bomFormat\": \"CycloneDX\", \"components\": [{sbom}]}}")).unwrap();
        }
        let _ = check_dir(dir.path());
        let out = dir.path().join("public");
        let ctx = Context {
            today: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
            ..Context::new()
        };
        let built = bazaar::site::build(&bazaar::site::BuildOptions {
            root: dir.path().to_path_buf(),
            rev: None,
            out: out.clone(),
            ctx,
        });
        prop_assert!(built.is_ok(), "{:?}", built.err());
        prop_assert!(out.join("index.html").is_file());
    }
}
