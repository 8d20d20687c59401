//! The library as a core the daemon can drive: caches shared safely by concurrent processes and
//! keyed by everything that decides a verdict, and `check`, `merge` and `build` called
//! in-process, concurrently, from inside a tokio runtime, on a bare repository.

use std::path::Path;
use std::process::Command;

use bazaar::check::{CheckOptions, check};
use bazaar::context::{Context, Engine};

use crate::support::*;

fn check_rev_json(root: &Path, env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let out = Command::new(bin())
        .args(["check", "--root", root.to_str().unwrap(), "--rev", "HEAD"])
        .args(["--format", "json"])
        .env("BAZAAR_TODAY", TODAY)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    v.as_object_mut().unwrap().remove("timings_ms");
    (out.status.code().unwrap(), v)
}

#[test]
fn four_cold_checks_in_parallel_agree_with_a_fifth() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    let init = bazaar(&["init", dir.to_str().unwrap(), "--sample", "400"]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let runs: Vec<(i32, serde_json::Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| check_rev_json(&dir, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let fifth = check_rev_json(&dir, &[]);
    assert_eq!(fifth.1["summary"]["apps_checked"], 400, "{:#}", fifth.1);
    for r in &runs {
        assert_eq!(r, &fifth);
    }
    // every cache file is whole: no temporary file is left, every line parses
    let caches = dir.join(".git/bazaar");
    let mut segments = 0;
    for folder in std::fs::read_dir(&caches).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&folder).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with("seg-"), "stray cache file {}", f.display());
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let (_, v) = line.split_once('\t').expect("key and value");
                serde_json::from_str::<serde_json::Value>(v).expect("a whole JSON value");
            }
            segments += 1;
        }
    }
    assert!(segments > 0, "the checks cached nothing");
}

/// Lines in the policy decision cache (all its segments).
fn cached_decisions(root: &Path) -> usize {
    let Ok(folders) = std::fs::read_dir(root.join(".git/bazaar")) else {
        return 0;
    };
    folders
        .map(|f| f.unwrap().path())
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("verdicts-")
        })
        .flat_map(|f| std::fs::read_dir(f).unwrap())
        .map(|seg| {
            std::fs::read_to_string(seg.unwrap().path())
                .unwrap()
                .lines()
                .count()
        })
        .sum()
}

#[test]
fn both_engines_are_strict_and_never_share_decisions() {
    let dir = demo_copy();
    // a deny rule whose builtin errors must block on either engine (before the patch in
    // vendor/regorus, the VM took the error as "no finding" and let every app through)
    std::fs::write(
        dir.path().join("policies/strict.rego"),
        "package bazaar\n\ndeny contains msg if {\n\tinput.app.tier == \"discover\"\n\tn := to_number(\"not a number\")\n\tmsg := sprintf(\"never %v\", [n])\n}\n",
    )
    .unwrap();
    git_init_commit(dir.path());
    for engine in ["vm", "interpreter"] {
        let (code, v) = check_rev_json(dir.path(), &[("BAZAAR_POLICY_ENGINE", engine)]);
        assert_eq!(code, 1, "{engine} let an erroring deny rule pass: {v:#}");
        assert!(
            errors(&v).contains(&"BZ0390".to_string()),
            "{engine}: {v:#}"
        );
    }
    // decisions are cached per engine: a run on the other engine decides afresh
    std::fs::remove_file(dir.path().join("policies/strict.rego")).unwrap();
    commit_all(dir.path(), "drop the rule");
    let before = cached_decisions(dir.path());
    let (_, vm) = check_rev_json(dir.path(), &[("BAZAAR_POLICY_ENGINE", "vm")]);
    let apps = vm["summary"]["apps_total"].as_u64().unwrap() as usize;
    let after_vm = cached_decisions(dir.path());
    assert_eq!(after_vm - before, apps, "one decision per demo app");
    let (_, interp) = check_rev_json(dir.path(), &[("BAZAAR_POLICY_ENGINE", "interpreter")]);
    assert_eq!(
        cached_decisions(dir.path()) - after_vm,
        apps,
        "the VM's decisions were reused"
    );
    assert_eq!(vm, interp);
}

/// The demo catalog in a bare repository whose `main` has a submission branch raising an app's
/// data class, and the signing key trusted by its `allowed_signers`.
fn bare_repo(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let work = tmp.join("work");
    std::fs::create_dir(&work).unwrap();
    for top in ["bazaar.toml", "catalog", "policies"] {
        copy(&repo_root().join(top), &work.join(top));
    }
    let (key, public) = keygen(tmp, "bazaar_key");
    std::fs::write(
        work.join("policies/allowed_signers"),
        format!("bazaar@acme.example namespaces=\"git\" {public}\n"),
    )
    .unwrap();
    git_init_commit(&work);
    git(&work, &["checkout", "-q", "-b", "submission"]);
    raise_data_class(&work);
    commit_all(&work, "raise the data class");
    let bare = tmp.join("bare.git");
    git(
        tmp,
        &["clone", "-q", "--bare", work.to_str().unwrap(), "bare.git"],
    );
    (bare, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_merge_and_build_run_in_process_concurrently_inside_tokio_on_a_bare_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, key) = bare_repo(tmp.path());
    let ctx = Context {
        today: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()),
        ..Context::new()
    };
    let mut tasks = Vec::new();
    for i in 0..3 {
        let (bare, ctx) = (bare.clone(), ctx.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let c = check(
                &ctx,
                &CheckOptions {
                    root: bare.clone(),
                    rev: Some("submission".into()),
                    base: Some("main".into()),
                },
            )
            .unwrap();
            assert!(!c.report.blocks(), "check {i}");
            assert_eq!(
                c.verdict.required_roles.iter().cloned().collect::<Vec<_>>(),
                ["product-owner", "security"]
            );
            format!("check {i}")
        }));
    }
    for i in 0..2 {
        let (bare, ctx, out) = (
            bare.clone(),
            ctx.clone(),
            tmp.path().join(format!("site{i}")),
        );
        tasks.push(tokio::task::spawn_blocking(move || {
            let built = bazaar::site::build(&bazaar::site::BuildOptions {
                root: bare,
                rev: Some("main".into()),
                out: out.clone(),
                ctx,
            })
            .unwrap();
            assert!(built.pages > 20, "{} pages", built.pages);
            assert!(out.join("index.html").is_file());
            assert!(out.join("pagefind/pagefind-entry.json").is_file());
            format!("build {i}")
        }));
    }
    {
        let (bare, ctx) = (bare.clone(), ctx.clone());
        tasks.push(tokio::task::spawn_blocking(move || {
            let merged = bazaar::merge::merge(
                &ctx,
                &bazaar::merge::MergeOptions {
                    root: bare,
                    base: "main".into(),
                    head: "submission".into(),
                    key,
                    approvals: vec!["alice:security:1".into(), "bob:product-owner:2".into()],
                    author: Some("jane-doe".into()),
                    ..Default::default()
                },
            )
            .unwrap();
            assert!(!merged.worktree_updated);
            "merge".to_string()
        }));
    }
    let mut done: Vec<String> = Vec::new();
    for t in tasks {
        done.push(t.await.expect("task did not panic"));
    }
    assert_eq!(done.len(), 6);
    // the merge is on main and stock git verifies it with the catalog's signers
    let signers = tmp.path().join("signers");
    std::fs::write(
        &signers,
        git(&bare, &["show", "main:policies/allowed_signers"]) + "\n",
    )
    .unwrap();
    git(
        &bare,
        &[
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
            "verify-commit",
            "main",
        ],
    );
    // the engine choice travels in the context: the VM agrees on this catalog
    let vm = Context {
        engine: Engine::Vm,
        ..ctx.clone()
    };
    let c = check(
        &vm,
        &CheckOptions {
            root: bare.clone(),
            rev: Some("main".into()),
            base: None,
        },
    )
    .unwrap();
    assert_eq!(c.report.apps_checked, c.catalog.app_dirs.len());
}

#[test]
fn library_errors_say_what_went_wrong_and_the_cli_adds_what_to_type() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nowhere");
    let err = check(
        &Context::new(),
        &CheckOptions {
            root: missing.clone(),
            rev: None,
            base: None,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("does not exist") && !err.contains("--root"),
        "{err}"
    );
    let out = bazaar(&["check", "--root", missing.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("does not exist") && out.stderr.contains("hint: pass --root"),
        "{}",
        out.stderr
    );
    let out = bazaar(&["check", "--root", tmp.path().to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bazaar init DIR"), "{}", out.stderr);
}
