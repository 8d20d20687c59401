//! `bazaar sweep`: print the lifecycle plan for a day and, unless `--dry-run`, write its state
//! changes as one signed commit.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bazaar::context::Context;
use bazaar::lifecycle::{self, Members, Membership, Plan, SweepOptions, apply::apply};

fn human(plan: &Plan) -> String {
    let mut t = format!(
        "sweep of {} apps at {} (commit {})\n",
        plan.apps,
        plan.at,
        &plan.commit[..12.min(plan.commit.len())]
    );
    t.push_str(&format!("state changes: {}\n", plan.changes.len()));
    for c in &plan.changes {
        t.push_str(&format!(
            "  {}  {} -> {}  [{}] {}\n",
            c.id, c.from, c.to, c.rule, c.evidence
        ));
    }
    t.push_str(&format!("reminders: {}\n", plan.reminders.len()));
    for r in &plan.reminders {
        t.push_str(&format!(
            "  {}  to {}  [{}{}] {}\n",
            r.id,
            r.to.join(", "),
            r.rule,
            r.threshold
                .map(|d| format!(" {d} days"))
                .unwrap_or_default(),
            r.evidence
        ));
    }
    if !plan.flags.is_empty() {
        t.push_str(&format!("flagged: {}\n", plan.flags.len()));
        for f in &plan.flags {
            t.push_str(&format!("  {}  {}\n", f.what, f.evidence));
        }
    }
    for n in &plan.notes {
        t.push_str(&format!("note: {n}\n"));
    }
    t
}

/// Runs the sweep command.
pub fn run(
    ctx: Context,
    root: &Path,
    dry_run: bool,
    key: Option<PathBuf>,
    json: bool,
    members: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let members = match members {
        None => Members::Unknown("no --members file was given".into()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the --members file {}", p.display()))?;
            let m: Membership = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not membership JSON: {{\"orgs\": {{\"ORG\": [logins]}}, \"teams\": {{\"ORG/TEAM\": [logins]}}}}",
                    p.display()
                )
            })?;
            Members::Known(m)
        }
    };
    let key = match (dry_run, key) {
        (true, _) => None,
        (false, Some(k)) => Some(k),
        (false, None) => anyhow::bail!(
            "pass --key with Bazaar's signing key to write the sweep's changes, or --dry-run to only print the plan"
        ),
    };
    let plan = lifecycle::plan(
        &ctx,
        &SweepOptions {
            root: root.to_path_buf(),
            members,
            rev: None,
        },
    )?;
    let applied = match &key {
        Some(k) => apply(&ctx, root, &plan, k)?,
        None => None,
    };
    if json {
        let v = serde_json::json!({
            "plan": plan,
            "dry_run": dry_run,
            "commit": applied.as_ref().map(|a| a.commit.clone()),
        });
        super::out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
    } else {
        let mut text = human(&plan);
        match (&applied, dry_run) {
            (Some(a), _) => text.push_str(&format!(
                "committed {} state change{} as {} (signed){}\n",
                a.record.changes.len(),
                if a.record.changes.len() == 1 { "" } else { "s" },
                a.commit,
                if a.worktree_updated {
                    ", working tree updated"
                } else {
                    ""
                }
            )),
            (None, true) => text.push_str("dry run: nothing changed\n"),
            (None, false) => text.push_str("nothing to change\n"),
        }
        super::out(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}
