//! `bazaar sweep`: time travel over the demo catalog's dates (the day before, the day of, the
//! day after each rule's date), and the signed commit that stock git verifies and `bazaar audit`
//! accepts as an automated lifecycle change, rejecting one that changes anything else.

use crate::support::*;

const CLOSE: &str = "com.acme.finance.close-calendar"; // discover, review_by = expires = 2026-12-18
const ORG: &str = "com.acme.people.org-chart-classic"; // deprecated, retire_on = 2027-02-26

fn plan(r: &SignedCatalog, at: &str) -> serde_json::Value {
    plan_with(r, at, &[])
}

fn plan_with(r: &SignedCatalog, at: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "sweep",
        "--root",
        r.dir.to_str().unwrap(),
        "--at",
        at,
        "--dry-run",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = bazaar(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

fn change<'a>(v: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    v["plan"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
}

fn reminder(v: &serde_json::Value, id: &str) -> Option<u64> {
    v["plan"]["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .map(|r| r["threshold"].as_u64().unwrap())
}

#[test]
fn each_rule_fires_the_day_after_its_date_and_not_before() {
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    // discover expiry (2026-12-18)
    assert!(change(&plan(&r, "2026-12-17"), CLOSE).is_none());
    assert!(change(&plan(&r, "2026-12-18"), CLOSE).is_none());
    let after = plan(&r, "2026-12-19");
    let c = change(&after, CLOSE).expect("retired the day after");
    assert_eq!(
        (c["from"].as_str(), c["to"].as_str(), c["rule"].as_str()),
        (Some("active"), Some("retired"), Some("discover-expired"))
    );
    assert!(c["evidence"].as_str().unwrap().contains("2026-12-18"));
    // the collection that lists it is flagged
    assert!(
        after["plan"]["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["what"] == "catalog/collections/finance-close.toml"),
        "{after:#}"
    );
    // deprecation (retire_on 2027-02-26)
    assert!(change(&plan(&r, "2027-02-26"), ORG).is_none());
    assert_eq!(
        change(&plan(&r, "2027-02-27"), ORG).unwrap()["rule"],
        "deprecation-ended"
    );
    // review reminders 90, 60 and 30 days before review_by (2026-12-18)
    assert_eq!(reminder(&plan(&r, "2026-09-18"), CLOSE), None);
    assert_eq!(reminder(&plan(&r, "2026-09-19"), CLOSE), Some(90));
    assert_eq!(reminder(&plan(&r, "2026-10-19"), CLOSE), Some(60));
    assert_eq!(reminder(&plan(&r, "2026-11-18"), CLOSE), Some(30));
    assert_eq!(reminder(&plan(&r, "2026-12-19"), CLOSE), None);
}

#[test]
fn the_sweep_commit_is_signed_audited_and_a_tampered_one_fails() {
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    let before = git(&r.dir, &["rev-parse", "HEAD"]);
    // a dry run changes nothing; without a key nothing is written either
    let planned = plan(&r, "2027-03-01")["plan"]["changes"]
        .as_array()
        .unwrap()
        .len();
    assert!(planned >= 6, "{planned} changes");
    let no_key = bazaar(&[
        "sweep",
        "--root",
        r.dir.to_str().unwrap(),
        "--at",
        "2027-03-01",
    ]);
    assert_eq!(no_key.code, 2, "{}", no_key.stderr);
    assert!(no_key.stderr.contains("--key"), "{}", no_key.stderr);
    assert_eq!(git(&r.dir, &["rev-parse", "HEAD"]), before);
    let out = bazaar(&[
        "sweep",
        "--root",
        r.dir.to_str().unwrap(),
        "--at",
        "2027-03-01",
        "--key",
        r.key.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let committed = format!("committed {planned} state changes");
    assert!(out.stdout.contains(&committed), "{}", out.stdout);
    let manifest =
        std::fs::read_to_string(r.dir.join("catalog/finance/close-calendar/app.toml")).unwrap();
    assert!(manifest.contains("status = \"retired\""), "{manifest}");
    // stock git verifies it with the catalog's signers, and reads its trailers
    let signers = r.tmp.path().join("signers");
    std::fs::copy(r.dir.join("policies/allowed_signers"), &signers).unwrap();
    git(
        &r.dir,
        &[
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
            "verify-commit",
            "HEAD",
        ],
    );
    let trailers = git(&r.dir, &["log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(
        trailers.contains(&format!(
            "Bazaar-Lifecycle: {CLOSE} from=active to=retired rule=discover-expired"
        )),
        "{trailers}"
    );
    let audit = bazaar(&["audit", "--root", r.dir.to_str().unwrap()]);
    assert_eq!(audit.code, 0, "{}", audit.stdout);
    // the same trailers on a signed commit that also renames an app: rejected
    let message = git(&r.dir, &["log", "-1", "--format=%B"]);
    let repo = git2::Repository::open(&r.dir).unwrap();
    let tip = repo.head().unwrap().peel_to_commit().unwrap();
    let path = r.dir.join("catalog/finance/close-calendar/app.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("name = \"", "name = \"Sneaky ", 1)).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_path(std::path::Path::new(
            "catalog/finance/close-calendar/app.toml",
        ))
        .unwrap();
    let tree = index.write_tree().unwrap();
    let who = git2::Signature::now("Bazaar", "bazaar@acme.example").unwrap();
    let signer = bazaar::signing::Signer::from_file(&r.key).unwrap();
    let id = bazaar::git::write::signed_commit(
        &repo,
        tree,
        &[tip.id()],
        &who,
        &who,
        &message.replace(
            "from=active to=retired rule=discover-expired",
            "from=retired to=retired rule=discover-expired",
        ),
        &signer,
    )
    .unwrap();
    bazaar::git::write::move_branch(&repo, "main", id, tip.id(), "test").unwrap();
    let audit = bazaar(&["audit", "--root", r.dir.to_str().unwrap()]);
    assert_eq!(audit.code, 1, "{}", audit.stdout);
    assert!(
        audit
            .stdout
            .contains("more of catalog/finance/close-calendar/app.toml than lifecycle.status"),
        "{}",
        audit.stdout
    );
}

fn reminded_by(v: &serde_json::Value, id: &str, rule: &str) -> bool {
    v["plan"]["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id && r["rule"] == rule)
}

#[test]
fn an_attestation_holds_through_its_last_day_and_is_due_for_review_after() {
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    edit(
        &r.dir.join(EXPENSE),
        "review_by = 2027-03-14",
        "review_by = 2027-03-14\nattested_until = 2026-12-31",
    );
    commit_all(&r.dir, "attest the expense tracker");
    const ID: &str = "com.acme.finance.expense-tracker";
    assert!(!reminded_by(
        &plan(&r, "2026-12-30"),
        ID,
        "attestation-lapsed"
    ));
    assert!(!reminded_by(
        &plan(&r, "2026-12-31"),
        ID,
        "attestation-lapsed"
    ));
    let after = plan(&r, "2027-01-01");
    let rem = after["plan"]["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == ID && x["rule"] == "attestation-lapsed")
        .unwrap_or_else(|| panic!("{after:#}"));
    assert_eq!(rem["date"], "2026-12-31");
    assert_eq!(rem["to"], serde_json::json!(["maria-lopez", "tom-chen"]));
    // far in the future still plans (no overflow), and a malformed date is a finding, not a panic
    assert!(reminded_by(
        &plan(&r, "9999-12-31"),
        ID,
        "attestation-lapsed"
    ));
    edit(
        &r.dir.join(EXPENSE),
        "attested_until = 2026-12-31",
        "attested_until = \"soon\"",
    );
    commit_all(&r.dir, "a bad date");
    let out = bazaar(&["sweep", "--root", r.dir.to_str().unwrap(), "--dry-run"]);
    assert!(
        out.code == 0 || out.code == 1,
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn owners_who_left_are_judged_only_on_membership_the_caller_supplied() {
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    const ID: &str = "com.acme.finance.expense-tracker";
    // without --members: skipped, and the plan says so
    let v = plan(&r, "2026-11-25");
    assert!(change(&v, ID).is_none());
    assert!(
        v["plan"]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("owners-left rule was skipped")),
        "{v:#}"
    );
    let file = r.tmp.path().join("members.json");
    // both owners still in the org, only the backup still in the team: present
    std::fs::write(
        &file,
        r#"{"orgs": {"acme": ["maria-lopez", "tom-chen"]}, "teams": {"acme/finance-eng": ["tom-chen"]}}"#,
    )
    .unwrap();
    let v = plan_with(&r, "2026-11-25", &["--members", file.to_str().unwrap()]);
    assert!(change(&v, ID).is_none(), "{v:#}");
    // both left the team: maintenance-required
    std::fs::write(
        &file,
        r#"{"orgs": {"acme": ["maria-lopez", "tom-chen"]}, "teams": {"acme/finance-eng": ["someone-else"]}}"#,
    )
    .unwrap();
    let v = plan_with(&r, "2026-11-25", &["--members", file.to_str().unwrap()]);
    let c = change(&v, ID).unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(
        (c["to"].as_str(), c["rule"].as_str()),
        (Some("maintenance-required"), Some("owners-left"))
    );
    // a file that is not membership JSON is a clear error
    std::fs::write(&file, r#"{"org": []}"#).unwrap();
    let out = bazaar(&[
        "sweep",
        "--root",
        r.dir.to_str().unwrap(),
        "--dry-run",
        "--members",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not membership JSON"), "{}", out.stderr);
}

#[test]
fn the_site_keeps_a_tombstone_a_team_view_and_feed_entries_from_the_sweep() {
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    // a replacement chain that loops: close-calendar -> org-chart-classic -> close-calendar
    edit(
        &r.dir.join("catalog/people/org-chart-classic/app.toml"),
        "replacement = \"com.acme.people.employee-directory\"",
        "replacement = \"com.acme.finance.close-calendar\"",
    );
    edit(
        &r.dir.join("catalog/finance/close-calendar/app.toml"),
        "expires = 2026-12-18",
        "expires = 2026-12-18\nreplacement = \"com.acme.people.org-chart-classic\"",
    );
    commit_all(&r.dir, "a loop");
    let members = r.tmp.path().join("members.json");
    std::fs::write(&members, r#"{"teams": {"acme/finance-eng": []}}"#).unwrap();
    let out = bazaar(&[
        "sweep",
        "--root",
        r.dir.to_str().unwrap(),
        "--at",
        "2027-03-01",
        "--key",
        r.key.to_str().unwrap(),
        "--members",
        members.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let b = bazaar(&["build", "--root", r.dir.to_str().unwrap()]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let public = r.dir.join("public");
    let page =
        |id: &str| std::fs::read_to_string(public.join(format!("apps/{id}/index.html"))).unwrap();
    // the retired app's URL still works: when, why, and the loop reported, not followed
    let close = page(CLOSE);
    assert!(
        close.contains("<strong>Retired on 2027-03-01.</strong>")
            && close.contains("the experiment expired on 2026-12-18"),
        "{close}"
    );
    assert!(close.contains("Replacement loop."), "{close}");
    // a retired app whose replacement is live links it
    let r2 = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    let out = bazaar(&[
        "sweep",
        "--root",
        r2.dir.to_str().unwrap(),
        "--at",
        "2027-03-01",
        "--key",
        r2.key.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        bazaar(&["build", "--root", r2.dir.to_str().unwrap()]).code,
        0
    );
    let org = std::fs::read_to_string(
        r2.dir
            .join("public/apps/com.acme.people.org-chart-classic/index.html"),
    )
    .unwrap();
    assert!(
        org.contains("<strong>Retired on 2027-03-01.</strong>")
            && org.contains(
                "class=\"replacement\" href=\"../../apps/com.acme.people.employee-directory/\""
            ),
        "{org}"
    );
    // the dashboard's team view names the owners who left
    let dash = std::fs::read_to_string(public.join("dashboard/index.html")).unwrap();
    let team = &dash[dash.find("id=\"teams-lifecycle\"").expect("team view")..];
    let row = &team[team.find("Finance Engineering").expect(team)..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("Expense Tracker") && row.contains("maria-lopez"),
        "{row}"
    );
    // the feed says what the sweep did
    let feed = std::fs::read_to_string(public.join("feed.xml")).unwrap();
    assert!(
        feed.contains("<title>Month-End Close Calendar is now retired</title>")
            && feed.contains("Lifecycle sweep: active to retired by the rule discover-expired"),
        "{feed}"
    );
}

/// The sweep's decisions run on the bytecode VM (the default engine) as the check's do: the same
/// plan as the strict interpreter on every rule's day, caches cleared between the engines.
#[test]
fn the_vm_and_the_interpreter_plan_the_same_sweep() {
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    let run = |engine: &str, at: &str| {
        let _ = std::fs::remove_dir_all(r.dir.join(".git/bazaar"));
        let out = std::process::Command::new(bin())
            .args(["sweep", "--root", r.dir.to_str().unwrap(), "--at", at])
            .args(["--dry-run", "--format", "json"])
            .env("BAZAAR_POLICY_ENGINE", engine)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let mut decided = 0;
    for at in ["2026-09-19", "2026-12-19", "2027-02-27", "2029-01-01"] {
        let vm = run("vm", at);
        assert_eq!(vm, run("interpreter", at), "on {at}");
        decided += vm["plan"]["changes"].as_array().unwrap().len()
            + vm["plan"]["reminders"].as_array().unwrap().len();
    }
    assert!(decided >= 4, "the dates were chosen so that rules fire");
}

/// A sweep rule, or a warn rule the sweep reads, whose builtin fails at run time stops the sweep
/// with the policy's file and line, on the VM as on the interpreter (the VM's failure is re-run
/// on the interpreter for its message): nothing is planned from a half-evaluated rule.
#[test]
fn a_rule_that_fails_stops_the_sweep_naming_its_file() {
    let cases = [
        (
            "policies/sweep.rego",
            "\nactions contains a if {\n\tstatus == \"active\"\n\tn := to_number(input.app.name)\n\ta := {\"kind\": \"remind\", \"rule\": \"broken\", \"evidence\": sprintf(\"%v\", [n])}\n}\n",
        ),
        (
            "policies/lifecycle.rego",
            "\nwarn contains msg if {\n\tn := to_number(input.app.name)\n\tmsg := sprintf(\"%v\", [n])\n}\n",
        ),
    ];
    for (file, rule) in cases {
        let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
        let path = r.dir.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(rule);
        let line = 1 + text.lines().position(|l| l.contains("to_number")).unwrap();
        std::fs::write(&path, text).unwrap();
        commit_all(&r.dir, "a rule that fails");
        for engine in ["vm", "interpreter"] {
            let out = std::process::Command::new(bin())
                .args(["sweep", "--root", r.dir.to_str().unwrap(), "--dry-run"])
                .env("BAZAAR_POLICY_ENGINE", engine)
                .env("BAZAAR_TODAY", TODAY)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{file} {engine}: {stderr}");
            assert!(
                stderr.contains(&format!("{file}:{line}:"))
                    && stderr.contains("could not parse string as number"),
                "{file} {engine}: {stderr}"
            );
        }
    }
}

/// A warning's remediation deadline (from the check's warn rules, located and dated as `check`
/// reports them) moves an active app to maintenance-required the day after it, not on it.
#[test]
fn an_overdue_warning_makes_an_active_app_maintenance_required_the_day_after_its_deadline() {
    const BOARD: &str = "com.acme.clinical-ops.clinic-capacity-board"; // review_by 2026-11-15
    let r = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    edit(
        &r.dir
            .join("catalog/clinical-ops/clinic-capacity-board/app.toml"),
        "status = \"maintenance-required\"",
        "status = \"active\"",
    );
    commit_all(&r.dir, "the board is active again");
    // check reports the warning and its deadline: the sweep must read the same one
    let (_, checked) = check_json(&r.dir, &[]);
    let warning = checked["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["app"] == BOARD && f["severity"] == "warning")
        .expect("the board has a warning")
        .clone();
    let deadline = warning["deadline"].as_str().unwrap().to_string();
    assert_eq!(deadline, "2026-12-15", "{warning:#}");
    assert!(change(&plan(&r, "2026-12-15"), BOARD).is_none());
    let after = plan(&r, "2026-12-16");
    let c = change(&after, BOARD).expect("maintenance-required the day after");
    assert_eq!(
        (c["from"].as_str(), c["to"].as_str(), c["rule"].as_str()),
        (
            Some("active"),
            Some("maintenance-required"),
            Some("warning-overdue")
        )
    );
    let evidence = c["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(warning["code"].as_str().unwrap()) && evidence.contains(&deadline),
        "{evidence}"
    );
}
