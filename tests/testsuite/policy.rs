//! Policy as code: the default policies' own tests, risk and roles in `check`, the trust rules
//! on real Git repositories, and broken policies.

use std::path::Path;

use crate::support::*;

const PSM: &str = "catalog/security/password-strength-meter/app.toml"; // low risk, public data
const DIRECTORY: &str = "catalog/people/employee-directory/app.toml"; // pii: high risk

fn write(root: &Path, rel: &str, text: &str) {
    std::fs::write(root.join(rel), text).unwrap();
}

fn finding<'a>(v: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {v:#}"))
}

fn roles(v: &serde_json::Value) -> Vec<String> {
    v["required_roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// A git repo holding the demo catalog on `main`, with a `submission` branch checked out.
fn repo() -> tempfile::TempDir {
    let dir = demo_copy();
    git_init_commit(dir.path());
    git(dir.path(), &["checkout", "-q", "-b", "submission"]);
    dir
}

fn check_pr(p: &Path) -> (i32, serde_json::Value) {
    check_json(p, &["--base", "main", "--rev", "HEAD"])
}

#[test]
fn default_policies_pass_their_own_tests() {
    let r = bazaar(&["policy", "test", "--root", repo_root().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let last = r.stdout.lines().last().unwrap();
    let n: usize = last.split_whitespace().next().unwrap().parse().unwrap();
    assert!(n >= 25, "{last}");
    assert!(last.ends_with(&format!("{n} passed, 0 failed")), "{last}");
}

#[test]
fn policy_test_reports_a_failing_test_with_its_place() {
    let dir = demo_copy();
    write(
        dir.path(),
        "policies/extra_test.rego",
        "package bazaar\n\ntest_ok if { true }\n\ntest_wrong if {\n    count(deny) == 99\n}\n",
    );
    let r = bazaar(&["policy", "test", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("FAIL - policies/extra_test.rego:5 - data.bazaar.test_wrong"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.trim_end().ends_with("1 failed"), "{}", r.stdout);
}

#[test]
fn demo_catalog_shows_every_risk_class_and_a_warning_with_a_deadline() {
    let (code, v) = check_json(&repo_root(), &[]);
    assert_eq!(code, 0, "{v:#}");
    let apps = v["apps"].as_array().unwrap();
    for risk in ["low", "medium", "high"] {
        assert!(apps.iter().any(|a| a["risk"] == risk), "no {risk} app");
    }
    let high = apps
        .iter()
        .find(|a| a["dir"] == "catalog/people/employee-directory")
        .unwrap();
    let r: Vec<&str> = high["required_roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(r, ["compliance", "legal", "product-owner", "security"]);
    let warn = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "warning")
        .expect("a warning in the demo");
    assert!(
        warn["deadline"].as_str().is_some_and(|d| d.len() == 10),
        "{warn:#}"
    );
}

#[test]
fn a_deny_points_at_the_field_in_nested_and_inline_tables() {
    let dir = demo_copy();
    let p = dir.path().join(PSM);
    // inline table for [owner] without a backup: the finding points at the owner line
    let text = std::fs::read_to_string(&p).unwrap();
    let start = text.find("[owner]").unwrap();
    let end = text[start..].find("\n\n").unwrap() + start;
    // (root-level keys must come before the first [table] header, so both inline tables go there)
    let inline = "owner = { primary = \"sam-okafor\" }\ndata = { classification = \"pii\", residency = [\"eu-central\", \"mars-1\"] }";
    let text = format!("{}{inline}{}", &text[..start], &text[end..]);
    // and the inline [data] table has pii, a region that is not allowed and no justification
    let text = text.replace("[data]\nclassification = \"public\"\n", "");
    std::fs::write(&p, &text).unwrap();
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let backup = finding(&v, "BZ0301");
    assert_eq!(backup["location"]["file"], PSM);
    assert_eq!(
        backup["location"]["line"],
        line_of("owner = {"),
        "{backup:#}"
    );
    let residency = finding(&v, "BZ0307");
    assert_eq!(residency["location"]["line"], line_of("data = {"));
    // the residency finding points at the list inside the inline table, not the line start
    assert!(
        residency["location"]["column"].as_u64().unwrap() > 20,
        "{residency:#}"
    );
    assert_eq!(
        finding(&v, "BZ0306")["location"]["line"],
        line_of("data = {")
    );
}

#[test]
fn json_carries_risk_and_required_roles_for_a_submission() {
    let dir = repo();
    let p = dir.path();
    edit(&p.join(PSM), "version = \"", "version = \"9");
    edit(&p.join(DIRECTORY), "version = \"", "version = \"9");
    commit_all(p, "touch a low and a high app");
    let (code, v) = check_pr(p);
    assert_eq!(code, 0, "{v:#}");
    // risk is the max, roles the union
    assert_eq!(v["risk"], "high");
    assert_eq!(
        roles(&v),
        ["compliance", "legal", "product-owner", "security"]
    );
    let apps = v["apps"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    assert_eq!(
        apps.iter()
            .find(|a| a["dir"] == "catalog/security/password-strength-meter")
            .unwrap()["risk"],
        "low"
    );
    // the human output says it too
    let r = bazaar(&[
        "check",
        "--root",
        p.to_str().unwrap(),
        "--base",
        "main",
        "--rev",
        "HEAD",
    ]);
    assert!(
        r.stdout.contains(
            "submission: risk high, approvals needed: compliance, legal, product-owner, security"
        ),
        "{}",
        r.stdout
    );
    // and the GitHub and SARIF formats
    let root = p.to_str().unwrap();
    let gh = bazaar(&[
        "check", "--root", root, "--base", "main", "--rev", "HEAD", "--format", "github",
    ]);
    assert!(
        gh.stdout
            .contains("::notice title=Bazaar verdict::submission: risk high"),
        "{}",
        gh.stdout
    );
    let sarif = bazaar(&[
        "check", "--root", root, "--base", "main", "--rev", "HEAD", "--format", "sarif",
    ]);
    let sv: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(sv["runs"][0]["properties"]["risk"], "high");
}

#[test]
fn a_low_risk_change_needs_no_roles() {
    let dir = repo();
    edit(&dir.path().join(PSM), "version = \"", "version = \"9");
    commit_all(dir.path(), "bump");
    let (code, v) = check_pr(dir.path());
    assert_eq!(code, 0);
    assert_eq!(v["risk"], "low");
    assert!(roles(&v).is_empty());
}

#[test]
fn raising_the_data_class_is_at_least_medium_even_when_the_result_alone_is_low() {
    let dir = repo();
    let p = dir.path();
    edit(
        &p.join(PSM),
        "classification = \"public\"",
        "classification = \"internal\"",
    );
    commit_all(p, "raise the class");
    let (_, v) = check_pr(p);
    assert_eq!(v["risk"], "medium", "{v:#}");
    assert_eq!(roles(&v), ["product-owner", "security"]);
    // the same manifest checked on its own (no base) is low
    let (_, alone) = check_json(p, &["--rev", "HEAD"]);
    let app = alone["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["dir"] == "catalog/security/password-strength-meter")
        .unwrap()
        .clone();
    assert_eq!(app["risk"], "low");
}

#[test]
fn a_policy_rewrite_in_the_submission_is_ignored_and_needs_admin() {
    let dir = repo();
    let p = dir.path();
    // the submission drops the backup-owner rule and adds an app without a backup owner
    for f in std::fs::read_dir(p.join("policies")).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "rego") {
            let text = std::fs::read_to_string(&f).unwrap();
            if text.contains("BZ0301") {
                std::fs::write(
                    &f,
                    text.replace("BZ0301", "BZ0301_DISABLED")
                        .replace("deny contains", "disabled contains"),
                )
                .unwrap();
            }
        }
    }
    let text = std::fs::read_to_string(p.join(PSM)).unwrap();
    let backup_line = text
        .lines()
        .find(|l| l.starts_with("backup"))
        .unwrap()
        .to_string();
    edit(&p.join(PSM), &format!("{backup_line}\n"), "");
    commit_all(p, "allow myself");
    let (code, v) = check_pr(p);
    assert_eq!(code, 1, "judged by the base's policies: {v:#}");
    assert_eq!(finding(&v, "BZ0301")["location"]["file"], PSM);
    assert!(roles(&v).contains(&"admin".to_string()));
    finding(&v, "BZ0393");
    // the impact of the new policies is reported for the admins, informational only
    let impact = finding(&v, "BZ0394");
    assert_eq!(impact["severity"], "info");
}

#[test]
fn a_settings_change_alone_needs_admin() {
    let dir = repo();
    edit(
        &dir.path().join("bazaar.toml"),
        "warn_deadline_days = 30",
        "warn_deadline_days = 14",
    );
    commit_all(dir.path(), "settings");
    let (code, v) = check_pr(dir.path());
    assert_eq!(code, 0);
    assert_eq!(roles(&v), ["admin"]);
}

#[test]
fn settings_come_from_the_base_so_a_submission_cannot_allow_its_own_scope() {
    let dir = repo();
    let p = dir.path();
    edit(
        &p.join("bazaar.toml"),
        "\"profile\", \"email\",",
        "\"profile\", \"email\", \"payroll:admin\",",
    );
    edit(
        &p.join(DIRECTORY),
        "scopes = [\"profile\", \"email\", \"hr:read\"]",
        "scopes = [\"profile\", \"email\", \"hr:read\", \"payroll:admin\"]",
    );
    commit_all(p, "sneak a scope in");
    let (code, v) = check_pr(p);
    assert_eq!(code, 1, "{v:#}");
    let f = finding(&v, "BZ0308");
    assert_eq!(f["location"]["file"], DIRECTORY);
    // a field in a nested [auth] table: the span of the offending list item itself
    let text = std::fs::read_to_string(p.join(DIRECTORY)).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("scopes = "))
        .unwrap()
        + 1;
    let col = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("\"payroll:admin\"")
        .unwrap()
        + 1;
    assert_eq!(
        (
            f["location"]["line"].as_u64(),
            f["location"]["column"].as_u64()
        ),
        (Some(line as u64), Some(col as u64)),
        "{f:#}"
    );
    assert!(roles(&v).contains(&"admin".to_string()));
}

#[test]
fn policy_impact_counts_what_new_rules_would_block() {
    let dir = repo();
    let p = dir.path();
    write(
        p,
        "policies/no_discover.rego",
        "package bazaar\n\ndeny contains \"discover apps are closed\" if {\n    input.app.tier == \"discover\"\n}\n",
    );
    commit_all(p, "close discover");
    let (code, v) = check_pr(p);
    assert_eq!(
        code, 0,
        "no app changed, the new rule does not decide: {v:#}"
    );
    let msg = finding(&v, "BZ0394")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("7 of 23 existing apps would be blocked"),
        "{msg}"
    );
}

fn broken(rego: &str) -> (i32, serde_json::Value, tempfile::TempDir) {
    let dir = demo_copy();
    write(dir.path(), "policies/broken.rego", rego);
    let (code, v) = check_json(dir.path(), &[]);
    (code, v, dir)
}

#[test]
fn a_syntax_error_blocks_and_names_file_and_line() {
    let (code, v, dir) =
        broken("package bazaar\n\ndeny contains msg if {\n    msg := \"x\" +\n}\n");
    assert_eq!(code, 1);
    let f = finding(&v, "BZ0390");
    assert_eq!(f["location"]["file"], "policies/broken.rego", "{f:#}");
    assert!(
        (4..=5).contains(&f["location"]["line"].as_u64().unwrap()),
        "{f:#}"
    );
    assert_eq!(v["risk"], "high");
    let t = bazaar(&["policy", "test", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(t.code, 1);
    assert!(t.stdout.contains("policies/broken.rego"), "{}", t.stdout);
}

#[test]
fn a_runtime_error_blocks_with_file_and_line() {
    let (code, v, _d) = broken(
        "package bazaar\n\ndeny contains msg if {\n    n := to_number(input.app.name)\n    msg := sprintf(\"%v\", [n])\n}\n",
    );
    assert_eq!(code, 1);
    let f = finding(&v, "BZ0390");
    assert_eq!(f["location"]["file"], "policies/broken.rego", "{f:#}");
    assert_eq!(f["location"]["line"], 4, "{f:#}");
}

#[test]
fn a_runaway_policy_hits_the_time_limit() {
    let start = std::time::Instant::now();
    // bounded memory (two small ranges), unbounded time (10^10 steps)
    let (code, v, _d) = broken(
        "package bazaar\n\ndeny contains msg if {\n    some i in numbers.range(1, 100000)\n    some j in numbers.range(1, 100000)\n    i + j < 0\n    msg := \"never\"\n}\n",
    );
    assert_eq!(code, 1);
    let f = finding(&v, "BZ0390");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("time"),
        "{f:#}"
    );
    // stopped after the first app(s) instead of paying the limit 22 times
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn wrong_shapes_and_unknown_roles_are_clear_errors() {
    let (code, v, _d) = broken("package bazaar\n\nwarn contains 42 if { true }\n");
    assert_eq!(code, 1);
    assert!(
        finding(&v, "BZ0390")["message"]
            .as_str()
            .unwrap()
            .contains("`warn`"),
        "{v:#}"
    );

    let dir = demo_copy();
    // replace the risk rule file by one returning a number
    for f in std::fs::read_dir(dir.path().join("policies")).unwrap() {
        let f = f.unwrap().path();
        if std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .any(|l| l.starts_with("risk "))
        {
            std::fs::remove_file(&f).unwrap();
        }
    }
    write(
        dir.path(),
        "policies/risk.rego",
        "package bazaar\n\nrisk := 5\n\nrequired_roles := {\"wizard\"}\n",
    );
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        finding(&v, "BZ0390")["message"]
            .as_str()
            .unwrap()
            .contains("\"low\", \"medium\" or \"high\""),
        "{v:#}"
    );
}

#[test]
fn an_unknown_role_is_named() {
    let dir = demo_copy();
    for f in std::fs::read_dir(dir.path().join("policies")).unwrap() {
        let f = f.unwrap().path();
        if std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .any(|l| l.starts_with("required_roles"))
        {
            std::fs::remove_file(&f).unwrap();
        }
    }
    write(
        dir.path(),
        "policies/roles.rego",
        "package bazaar\n\nrequired_roles := {\"security\", \"wizard\"}\n",
    );
    let (code, v) = check_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = finding(&v, "BZ0391");
    assert!(
        f["message"].as_str().unwrap().contains("\"wizard\""),
        "{f:#}"
    );
}

/// The VM (the default engine) must decide exactly as the interpreter (BAZAAR_POLICY_ENGINE=
/// interpreter) on every app; where a rule errors, both block (see the strictness test in core).
#[test]
fn the_bytecode_vm_and_the_interpreter_decide_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sample");
    assert_eq!(
        bazaar(&["init", "--sample", "400", dir.to_str().unwrap()]).code,
        0
    );
    // a few findings of every kind: break some apps on purpose
    for (i, e) in std::fs::read_dir(dir.join("catalog/finance"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .take(6)
        .enumerate()
    {
        let p = e.path().join("app.toml");
        let text = std::fs::read_to_string(&p).unwrap();
        let text = match i {
            0 => text.replace("[\"docs:read\"", "[\"docs:read\", \"root:all\""),
            1 => text.replace("backup = ", "# backup = "),
            2 => text.replace(".prod.apps.acme.internal", ".prod.apps.evil.example"),
            3 => text.replace("status = \"active\"", "status = \"deprecated\""),
            4 => text.replace("classification = \"", "classification = \"pii\"\n# was \""),
            _ => text.replace("channel = ", "# channel = "),
        };
        std::fs::write(&p, text).unwrap();
    }
    let run = |engine: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_bazaar"))
            .args(["check", "--root", dir.to_str().unwrap(), "--format", "json"])
            .env("BAZAAR_TODAY", TODAY)
            .env("BAZAAR_POLICY_ENGINE", engine)
            .output()
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("timings_ms");
        v
    };
    // no cache: the working tree of a fresh repo has .git, so clear it between runs
    let vm = run("vm");
    let _ = std::fs::remove_dir_all(dir.join(".git/bazaar"));
    let interp = run("interpreter");
    let _ = std::fs::remove_dir_all(dir.join(".git/bazaar"));
    assert_eq!(run("default"), vm, "the VM is the default");
    assert!(vm["summary"]["errors"].as_u64().unwrap() >= 6, "{vm:#}");
    assert_eq!(vm, interp);
}
