//! The daemon's lifecycle sweep end to end: the real binary on a schedule, a real bare remote it
//! pushes its signed commit to, and the GitHub stand-in where owners are told through issues:
//! once, updated rather than duplicated across runs and restarts, closed when resolved, within
//! the write budget; and a forge outage that changes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use super::stand_in::{BOT, StandIn};
use super::{Daemon, until};
use crate::support::{SignedCatalog, bazaar, git, signed_catalog};

const SWEEP_DONE: &str = "lifecycle sweep done";

/// A signed catalog and the bare remote the daemon fetches from and pushes to.
struct Catalog {
    signed: SignedCatalog,
    bare: tempfile::TempDir,
}

fn catalog() -> Catalog {
    let signed = signed_catalog(&["bazaar.toml", "catalog", "policies"]);
    let bare = tempfile::tempdir().unwrap();
    git(bare.path(), &["init", "-q", "--bare"]);
    git(
        &signed.dir,
        &["push", "-q", bare.path().to_str().unwrap(), "main:main"],
    );
    Catalog { signed, bare }
}

/// Every forge team the catalog names, with the owners of its apps as members.
fn teams(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for team in std::fs::read_dir(dir.join("catalog")).unwrap() {
        let team = team.unwrap().path();
        let Ok(t) = std::fs::read_to_string(team.join("team.toml")) else {
            continue;
        };
        let forge = t
            .lines()
            .find_map(|l| l.strip_prefix("forge_team = "))
            .unwrap()
            .trim_matches('"')
            .to_string();
        let mut members = Vec::new();
        for app in std::fs::read_dir(&team).unwrap() {
            let Ok(a) = std::fs::read_to_string(app.unwrap().path().join("app.toml")) else {
                continue;
            };
            for l in a.lines() {
                if let Some(v) = l
                    .strip_prefix("primary = ")
                    .or_else(|| l.strip_prefix("backup = "))
                {
                    members.push(v.trim_matches('"').to_string());
                }
            }
        }
        out.insert(forge, members);
    }
    out
}

async fn start(api: &StandIn, c: &Catalog, data: &Path, today: &str, writes: &str) -> Daemon {
    Daemon::start(
        api,
        c.bare.path(),
        data,
        &[
            ("BAZAAR_TODAY", today),
            ("BAZAAR_SIGNING_KEY", c.signed.key.to_str().unwrap()),
            ("BAZAAR_SWEEP_EVERY", "1h"),
            ("BAZAAR_SWEEP_WRITES", writes),
        ],
    )
    .await
}

async fn swept(d: &Daemon) -> String {
    until("the sweep", d, || {
        let log = d.log();
        log.contains(SWEEP_DONE) || log.contains("lifecycle sweep failed")
    })
    .await;
    let log = d.log();
    assert!(log.contains(SWEEP_DONE), "{log}");
    log.lines()
        .find(|l| l.contains(SWEEP_DONE))
        .unwrap()
        .to_string()
}

fn issues(api: &StandIn) -> Vec<super::stand_in_issues::IssueState> {
    api.world.lock().unwrap().issues.clone()
}

fn issue_of(api: &StandIn, app: &str) -> super::stand_in_issues::IssueState {
    let marker = format!("<!-- bazaar:lifecycle app={app} -->");
    let all: Vec<_> = issues(api)
        .into_iter()
        .filter(|i| i.body.contains(&marker))
        .collect();
    assert_eq!(all.len(), 1, "one issue for {app}: {all:?}");
    all[0].clone()
}

const CLOSE: &str = "com.acme.finance.close-calendar";
const INVOICE: &str = "com.acme.finance.invoice-ocr";
const ORG: &str = "com.acme.people.org-chart-classic";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_are_told_once_within_the_budget_and_updated_not_duplicated() {
    let api = StandIn::start().await;
    let c = catalog();
    api.world.lock().unwrap().team_members = teams(&c.signed.dir);
    let data = tempfile::tempdir().unwrap();
    let data = data.path().join("d");
    let main0 = git(c.bare.path(), &["rev-parse", "main"]);

    // 10 apps need attention on 2026-11-25; a budget of 4 writes opens 4 issues, the rest wait
    let mut d = start(&api, &c, &data, "2026-11-25", "4").await;
    let line = swept(&d).await;
    assert!(
        line.contains("created=4") && line.contains("deferred=6"),
        "{line}"
    );
    assert!(d.log().contains("the write budget is spent"), "{}", d.log());
    assert_eq!(issues(&api).len(), 4);
    d.kill();
    // nothing changed state: no commit
    assert_eq!(git(c.bare.path(), &["rev-parse", "main"]), main0);

    // a restart with room: the other 6, and the first 4 untouched
    let mut d = start(&api, &c, &data, "2026-11-25", "80").await;
    let line = swept(&d).await;
    assert!(
        line.contains("created=6") && line.contains("updated=0"),
        "{line}"
    );
    d.kill();
    assert_eq!(issues(&api).len(), 10);
    let close = issue_of(&api, CLOSE);
    assert_eq!(close.author, BOT);
    assert_eq!(close.labels, ["lifecycle:review-due"]);
    assert_eq!(close.assignees, ["priya-natarajan", "maria-lopez"]);
    assert!(
        close.body.contains("review-reminder@2026-12-18/30"),
        "{}",
        close.body
    );
    let invoice = issue_of(&api, INVOICE);
    assert!(invoice.body.contains("review-reminder@2027-02-10/90"));
    assert_eq!(
        api.calls("PATCH /repos/{owner}/{repo}/issues/{issue_number}"),
        0
    );

    // the same day again (a second daemon, or a restart): no write at all
    let posts = api.calls("POST ");
    let mut d = start(&api, &c, &data.with_extension("second"), "2026-11-25", "80").await;
    let line = swept(&d).await;
    assert!(
        line.contains("created=0 updated=0 commented=0 closed=0"),
        "{line}"
    );
    d.kill();
    assert_eq!(api.calls("POST "), posts);

    // 2026-12-19: the experiment retires (one signed commit pushed), the invoice app gets its
    // 60-day reminder as one comment, and the deprecated app past its review closes its issue
    let mut d = start(&api, &c, &data, "2026-12-19", "80").await;
    let line = swept(&d).await;
    d.kill();
    let main1 = git(c.bare.path(), &["rev-parse", "main"]);
    assert_ne!(main1, main0, "{line}");
    assert!(line.contains(&format!("commit={main1}")), "{line}");
    let close = issue_of(&api, CLOSE);
    assert_eq!(close.labels, ["lifecycle:retired"]);
    assert!(close.open);
    let invoice = issue_of(&api, INVOICE);
    assert!(
        invoice.body.contains("review-reminder@2027-02-10/90")
            && invoice.body.contains("review-reminder@2027-02-10/60"),
        "{}",
        invoice.body
    );
    let reminders: Vec<_> = api
        .comments(invoice.number)
        .into_iter()
        .filter(|c| c.body.contains("review-reminder@2027-02-10/60"))
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert!(!issue_of(&api, ORG).open, "resolved: closed");
    // the next run that day: the retired app needs nothing more (its notice closes), and
    // nothing else is written; the run after writes nothing at all
    let (posts, patches) = (api.calls("POST "), api.calls("PATCH "));
    let mut d = start(&api, &c, &data, "2026-12-19", "80").await;
    let line = swept(&d).await;
    d.kill();
    assert!(
        line.contains("commit=none") && line.contains("closed=1"),
        "{line}"
    );
    assert!(!issue_of(&api, CLOSE).open);
    assert_eq!(
        (api.calls("POST "), api.calls("PATCH ")),
        (posts, patches + 1)
    );
    let mut d = start(&api, &c, &data, "2026-12-19", "80").await;
    let line = swept(&d).await;
    d.kill();
    assert!(
        line.contains("created=0 updated=0 commented=0 closed=0"),
        "{line}"
    );
    assert_eq!(git(c.bare.path(), &["rev-parse", "main"]), main1);

    // the pushed commit verifies with stock git and passes the audit
    let clone = c.signed.tmp.path().join("clone");
    git(
        c.signed.tmp.path(),
        &[
            "clone",
            "-q",
            c.bare.path().to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    let signers = c.signed.tmp.path().join("signers");
    std::fs::copy(clone.join("policies/allowed_signers"), &signers).unwrap();
    git(
        &clone,
        &[
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", signers.display()),
            "verify-commit",
            "HEAD",
        ],
    );
    let trailers = git(&clone, &["log", "-1", "--format=%(trailers:only,unfold)"]);
    assert!(
        trailers.contains(&format!("Bazaar-Lifecycle: {CLOSE} from=active to=retired")),
        "{trailers}"
    );
    let audit = bazaar(&["audit", "--root", clone.to_str().unwrap()]);
    assert_eq!(audit.code, 0, "{}{}", audit.stdout, audit.stderr);
    assert_eq!(api.violations(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forge_outage_flags_no_owner_as_gone() {
    let api = StandIn::start().await;
    let c = catalog();
    // the finance team is empty on the forge: its owners left, once the forge can say so
    let mut members = teams(&c.signed.dir);
    members.insert("acme/finance-eng".into(), vec![]);
    {
        let mut w = api.world.lock().unwrap();
        w.team_members = members;
        w.down = vec!["GET /orgs/{org}/teams/{team_slug}/members".into()];
    }
    let data = tempfile::tempdir().unwrap();
    let data = data.path().join("d");
    let main0 = git(c.bare.path(), &["rev-parse", "main"]);
    let mut d = start(&api, &c, &data, "2026-11-25", "80").await;
    let line = swept(&d).await;
    d.kill();
    assert!(line.contains("commit=none"), "{line}");
    assert!(line.contains("owners-left rule was skipped"), "{line}");
    assert!(
        d.log().contains("cannot read team membership"),
        "{}",
        d.log()
    );
    assert_eq!(git(c.bare.path(), &["rev-parse", "main"]), main0);
    // the forge answers again: the finance apps whose owners left are flagged
    api.world.lock().unwrap().down.clear();
    let mut d = start(&api, &c, &data, "2026-11-25", "80").await;
    let line = swept(&d).await;
    d.kill();
    let main1 = git(c.bare.path(), &["rev-parse", "main"]);
    assert_ne!(main1, main0, "{line}");
    let trailers = git(
        c.bare.path(),
        &["log", "-1", "--format=%(trailers:only,unfold)", "main"],
    );
    assert!(
        trailers.contains(
            "com.acme.finance.expense-tracker from=active to=maintenance-required rule=owners-left"
        ),
        "{trailers}"
    );
    let expense = issue_of(&api, "com.acme.finance.expense-tracker");
    assert_eq!(expense.labels, ["lifecycle:maintenance-required"]);
    assert!(
        expense.assignees.is_empty(),
        "owners who left are not assigned"
    );
    assert_eq!(api.violations(), Vec::<String>::new());
}
