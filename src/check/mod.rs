//! `bazaar check`: load the catalog at a revision (or the working tree), compare with a base
//! revision when given, evaluate the policies, and gather the findings, risk and required roles
//! to report. The daemon calls the same function.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::catalog::{Catalog, Diff, Snapshot, SnapshotError, id_token};
use crate::context::Context;
use crate::diagnostics::{Code, Finding, Report, Severity};
use crate::manifest::{self, Config, MAX_MANIFEST_BYTES};
use crate::policy::{self, InputContext, PolicySet, Risk};
use crate::source::merge::{MergeTreeError, Outcome, Submission};

mod judge;
pub use judge::{Judged, judge};

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// The catalog repository's root.
    pub root: PathBuf,
    /// Revision to check; the working tree when `None`.
    pub rev: Option<String>,
    /// Base revision: the submission is `rev` merged into it. Only the apps the submission
    /// changes (merge base → `rev`, the forge's pull request diff) get per-app findings, they
    /// are judged on the tree the merge produces, and the policies, their data, the roster and
    /// the settings are read from the base.
    pub base: Option<String>,
}

/// Why a check could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The root folder does not exist.
    #[error("{0} does not exist")]
    NoRoot(PathBuf),
    /// Not a catalog.
    #[error("{0} is not a Bazaar catalog (no bazaar.toml)")]
    NotACatalog(String),
    /// Reading failed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The merge of the submission into its base could not be computed.
    #[error(transparent)]
    Merge(#[from] MergeTreeError),
}

/// One app's verdict in a check.
#[derive(Debug, Clone, Serialize)]
pub struct AppResult {
    /// The app's id.
    pub id: String,
    /// Its folder.
    pub dir: String,
    /// Risk class.
    pub risk: Risk,
    /// Roles that must approve.
    pub required_roles: BTreeSet<String>,
    /// Blocking findings about it.
    pub errors: usize,
    /// Warnings about it.
    pub warnings: usize,
}

/// The verdict on the whole submission (or catalog).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    /// Highest risk over the apps checked.
    pub risk: Risk,
    /// Union of the roles the apps require, plus `admin` for a governance change.
    pub required_roles: BTreeSet<String>,
    /// Per app.
    pub apps: Vec<AppResult>,
}

/// The result of a check.
#[derive(Debug)]
pub struct Checked {
    /// Findings ready to render.
    pub report: Report,
    /// The catalog that was checked.
    pub catalog: Catalog,
    /// The change against the base, when a base was given.
    pub diff: Option<Diff>,
    /// Risk and roles.
    pub verdict: Verdict,
    /// The files that were checked (the site reads READMEs from them): on a submission, the
    /// tree its merge into the base produces.
    pub head: Snapshot,
    /// On a submission checked by revision: the base tip, head, merge base and merge outcome
    /// the verdict was made on (`merge` commits exactly this tree).
    pub submission: Option<Submission>,
}

/// Takes a snapshot of the working tree (`rev` = `None`) or a revision.
pub fn snapshot(root: &Path, rev: Option<&str>) -> Result<Snapshot, CheckError> {
    if !root.exists() {
        return Err(CheckError::NoRoot(root.to_path_buf()));
    }
    let snap = match rev {
        None => Snapshot::from_dir(root)?,
        Some(rev) => Snapshot::from_rev(root, rev)?,
    };
    if !snap.entries.contains_key("bazaar.toml") {
        let what = match rev {
            None => root.display().to_string(),
            Some(rev) => format!("{} at {rev}", root.display()),
        };
        return Err(CheckError::NotACatalog(what));
    }
    Ok(snap)
}

fn parse_manifest<T>(
    snap: &Snapshot,
    path: &str,
    parse: fn(&crate::diagnostics::SourceFile) -> manifest::Parsed<T>,
) -> Option<T> {
    let bytes = snap.read(path, MAX_MANIFEST_BYTES).ok()?.ok()?;
    let file = manifest::decode(path, &bytes, MAX_MANIFEST_BYTES).ok()?;
    parse(&file).value
}

/// Runs a check.
pub fn check(ctx: &Context, opts: &CheckOptions) -> Result<Checked, CheckError> {
    check_with(ctx, opts, &mut |_, _| {})
}

/// The snapshots a check reads: the tree judged, the base (policies, settings) and the change.
struct Sources {
    judged: Snapshot,
    base: Option<Snapshot>,
    diff: Option<Diff>,
    submission: Option<Submission>,
    findings: Vec<Finding>,
}

/// Reads what a check needs. With a base and a revision, the submission's change is merge base
/// → head and the tree judged is the merge of the head into the base tip; a conflict is a
/// finding (the head itself is then judged, so the contributor still sees their own problems).
fn sources(opts: &CheckOptions) -> Result<Sources, CheckError> {
    let (Some(base), Some(rev)) = (&opts.base, &opts.rev) else {
        let judged = snapshot(&opts.root, opts.rev.as_deref())?;
        let base = match &opts.base {
            None => None,
            Some(b) => Some(snapshot(&opts.root, Some(b))?),
        };
        let diff = base.as_ref().map(|b| Diff::between(b, &judged));
        return Ok(Sources {
            judged,
            base,
            diff,
            submission: None,
            findings: Vec::new(),
        });
    };
    if !opts.root.exists() {
        return Err(CheckError::NoRoot(opts.root.clone()));
    }
    let sub = crate::source::merge::submission(&opts.root, base, rev)?;
    let repo = crate::git::Repo::open(&opts.root).map_err(SnapshotError::from)?;
    let mut findings = Vec::new();
    // The change is read from the tree diff (merge base -> head), and only the judged tree is
    // listed whole: a one-app submission costs about the same on a catalog of any size.
    let (judged, diff) = match (&sub.outcome, &sub.merge_base) {
        (Outcome::Clean { tree }, Some(mb)) => {
            let diff = Diff::between_revs(&repo, mb, &sub.head)?;
            // when the head contains the base, its own tree is the merge result
            let judged = if *mb == sub.base { &sub.head } else { tree };
            (snapshot(&opts.root, Some(judged))?, diff)
        }
        (Outcome::Conflict { paths }, Some(mb)) => {
            findings.push(
                Finding::new(
                    Code::MERGE_CONFLICT,
                    format!(
                        "merging {rev} into {base} conflicts in {}; the verdict below is on {rev} alone",
                        paths.join(", ")
                    ),
                )
                .help(format!(
                    "rebase the submission on {base} (or merge {base} into it), resolve the conflicts and push again"
                )),
            );
            let diff = Diff::between_revs(&repo, mb, &sub.head)?;
            (snapshot(&opts.root, Some(&sub.head))?, diff)
        }
        (Outcome::UpToDate, _) => (snapshot(&opts.root, Some(&sub.head))?, Diff::default()),
        (_, _) => {
            findings.push(
                Finding::new(
                    Code::MERGE_CONFLICT,
                    format!("{rev} shares no history with {base}; it cannot be merged"),
                )
                .help(format!(
                    "create the submission's branch from {base} and commit the changes on it"
                )),
            );
            let diff = Diff::between_revs(&repo, &sub.base, &sub.head)?;
            (snapshot(&opts.root, Some(&sub.head))?, diff)
        }
    };
    // from the base: settings, policies, roster, and the changed apps' versions before
    // (and signals: the numbers a submission is judged by are the base's, not its own)
    let mut wanted: Vec<String> = vec!["bazaar.toml".into(), "policies".into(), "signals".into()];
    wanted.extend(diff.app_dirs());
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let base_snap = Snapshot::from_repo_subset(&repo, &sub.base, &wanted)?;
    if !base_snap.entries.contains_key("bazaar.toml") {
        return Err(CheckError::NotACatalog(format!(
            "{} at {base}",
            opts.root.display()
        )));
    }
    Ok(Sources {
        judged,
        base: Some(base_snap),
        diff: Some(diff),
        submission: Some(sub),
        findings,
    })
}

/// [`check`], calling `loaded` with the snapshot and catalog as soon as they are read, before
/// the policies run: work that needs only the manifests (the site's search index) can start
/// while the policies are evaluated.
pub fn check_with(
    ctx: &Context,
    opts: &CheckOptions,
    loaded: &mut dyn FnMut(&Snapshot, &Catalog),
) -> Result<Checked, CheckError> {
    let started = std::time::Instant::now();
    let Sources {
        judged: head,
        base,
        diff,
        submission,
        findings: merge_findings,
    } = sources(opts)?;
    let scope = diff.as_ref().map(Diff::head_dirs);
    let catalog = Catalog::load_scoped(&head, scope.as_ref())?;
    loaded(&head, &catalog);

    // Policies, their data, the roster and the settings come from the base on a submission.
    let policy_snap = base.as_ref().unwrap_or(&head);
    let config: Option<Config> = match &base {
        Some(b) => parse_manifest(b, "bazaar.toml", manifest::parse_config),
        None => catalog.config.clone(),
    };
    // the head's signals: what its policies read on a full check, and its signals findings
    // (which a submission that changes no signals file does not have); read while the
    // policies compile
    let read_signals = diff.as_ref().is_none_or(|d| {
        d.paths
            .iter()
            .any(|p| p.starts_with(crate::signals::FOLDER))
    });
    let (policies, head_signals) = rayon::join(
        || PolicySet::load(policy_snap, false, ctx),
        || {
            read_signals
                .then(|| crate::discovery::read_signals(&head, &catalog))
                .flatten()
        },
    );
    let policies = policies?;
    let load_time = started.elapsed();
    let (verdict, policy_findings) = judge(&Judged {
        head: &head,
        base: base.as_ref(),
        diff: diff.as_ref(),
        catalog: &catalog,
        policies: &policies,
        config: config.as_ref(),
        signals: head_signals.as_ref().filter(|_| base.is_none()),
        ctx,
    });
    let evaluated = started.elapsed() - load_time;

    let changed: Option<BTreeSet<String>> = diff.as_ref().map(|d| {
        d.paths
            .iter()
            .cloned()
            .chain(d.base_ids.iter().map(|id| id_token(id)))
            .collect()
    });
    let mut findings = merge_findings;
    findings.extend(catalog.findings_for(changed.as_ref()));
    findings.extend(policy_findings.into_iter().map(|(f, _)| f));
    // A broken policy blocks everything, whatever changed.
    findings.extend(policies.errors.iter().cloned());
    let discovery_started = std::time::Instant::now();
    findings.extend(crate::discovery::check_findings(
        &head,
        &catalog,
        diff.as_ref(),
        config.as_ref(),
        head_signals.as_ref(),
    ));
    let discovery_time = discovery_started.elapsed();
    if let Some(d) = &diff {
        let governed = d.governance_paths();
        if !governed.is_empty() {
            findings.push(Finding::new(
                Code::ADMIN_REQUIRED,
                format!(
                    "this change touches {}: the admin role must approve it",
                    governed.join(", ")
                ),
            ));
        }
        let policy_files: Vec<&str> = d
            .other
            .iter()
            .map(String::as_str)
            .filter(|p| {
                p.starts_with("policies/")
                    && (p.ends_with(".rego") || p.ends_with(".json") || p.ends_with(".toml"))
            })
            .collect();
        if !policy_files.is_empty() {
            findings.extend(policy_impact(&head, ctx, &policy_files)?);
        }
    }

    let apps_checked = match &diff {
        None => catalog.app_dirs.len(),
        Some(d) => d.apps.len(),
    };
    let mut report = Report {
        findings,
        sources: Default::default(),
        apps_checked,
        apps_total: catalog.app_dirs.len(),
        context: Default::default(),
        notes: Vec::new(),
    };
    report.sort();
    for f in &report.findings {
        if let Some(file) = f.file()
            && let Some(src) = catalog
                .sources
                .get(file)
                .or_else(|| policies.sources.get(file))
        {
            report.sources.insert(file.to_string(), src.clone());
        }
    }
    report.context.insert("risk".into(), json!(verdict.risk));
    report
        .context
        .insert("required_roles".into(), json!(verdict.required_roles));
    report.context.insert("apps".into(), json!(verdict.apps));
    if let Some(d) = &diff {
        report.context.insert(
            "changes".into(),
            serde_json::to_value(d).expect("diff serializes"),
        );
    }
    report.notes = verdict_notes(&verdict, diff.is_some());
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    report.context.insert(
        "timings_ms".into(),
        json!({
            "load": ms(load_time),
            "policy": ms(evaluated),
            // likely duplicates of added apps and the signals findings
            "discovery": ms(discovery_time),
            "total": ms(started.elapsed()),
        }),
    );
    Ok(Checked {
        report,
        catalog,
        diff,
        verdict,
        head,
        submission,
    })
}

fn verdict_notes(v: &Verdict, submission: bool) -> Vec<String> {
    let roles = |r: &BTreeSet<String>| {
        if r.is_empty() {
            "none (auto-approved once checks pass)".to_string()
        } else {
            r.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    let mut notes = Vec::new();
    if submission {
        for a in &v.apps {
            notes.push(format!(
                "{}: risk {}, approvals: {}",
                a.id,
                a.risk.as_str(),
                roles(&a.required_roles)
            ));
        }
        notes.push(format!(
            "submission: risk {}, approvals needed: {}",
            v.risk.as_str(),
            roles(&v.required_roles)
        ));
    } else {
        let count = |r: Risk| v.apps.iter().filter(|a| a.risk == r).count();
        notes.push(format!(
            "risk: {} low, {} medium, {} high",
            count(Risk::Low),
            count(Risk::Medium),
            count(Risk::High)
        ));
    }
    notes
}

/// What the head's (new) policies would do to the whole head catalog: informational, for the
/// admins who review a policy change.
/// It runs untrusted policies over every app, so it stops at the run's time budget and says so.
/// With a worker program in the context, the new policies run in a child process with a memory
/// limit: a policy that exhausts memory, crashes or floods its output blocks the submission with
/// a finding naming the changed policy files, and this process is unharmed.
fn policy_impact(
    head: &Snapshot,
    run: &Context,
    changed: &[&str],
) -> Result<Vec<Finding>, CheckError> {
    let until = std::time::Instant::now() + run.limits.impact_budget;
    let catalog = Catalog::load(head)?;
    let mut set = PolicySet::load(head, false, run)?;
    if !set.is_ok() {
        let first = set.errors[0].message.clone();
        return Ok(vec![Finding::new(
            Code::POLICY_IMPACT,
            format!(
                "the new policies do not load ({first}); merging them would block every submission"
            ),
        )]);
    }
    set.set_catalog(&catalog);
    let ctx = InputContext::new(catalog.config.as_ref(), run.today());
    let dirs: Vec<&str> = catalog.apps.iter().map(|a| a.dir.as_str()).collect();
    let (results, partial) = match &run.worker {
        None => policy::evaluate_apps_until(
            &set,
            &catalog,
            head,
            &dirs,
            &BTreeMap::new(),
            &ctx,
            run.caches,
            Some(until),
        ),
        Some(program) => match policy::evaluate_apps_isolated(
            &set,
            &catalog,
            head,
            &dirs,
            &ctx,
            program,
            &run.limits,
            Some(until),
        ) {
            Ok(results) => (results, false),
            Err(policy::worker::WorkerError::TimedOut(budget)) => {
                return Ok(vec![Finding::new(
                    Code::POLICY_IMPACT,
                    format!(
                        "partial: the new policies ran past the report's {budget} s budget over {} apps and were stopped; no impact is known",
                        dirs.len()
                    ),
                )]);
            }
            Err(e) => {
                return Ok(vec![
                    Finding::new(
                        Code::POLICY_LIMIT,
                        format!("the submission's policies ({}) {e}", changed.join(", ")),
                    )
                    .help("bound what the rules build (ranges, strings, sets) and how many findings they emit; `bazaar policy test` runs them locally"),
                ]);
            }
        },
    };
    // a rule that runs away (too many findings) would break every later check once merged
    if let Some(f) = results
        .iter()
        .flat_map(|(_, v)| &v.findings)
        .find(|f| f.code == Code::POLICY_LIMIT)
    {
        return Ok(vec![
            Finding::new(
                Code::POLICY_LIMIT,
                format!(
                    "the submission's policies ({}) exceed their limits on existing apps: {}",
                    changed.join(", "),
                    f.message
                ),
            )
            .help("make each rule emit one finding per problem; `bazaar policy test` runs them locally"),
        ]);
    }
    let mut blocked = Vec::new();
    let mut warned = Vec::new();
    for (dir, v) in &results {
        let id = catalog
            .app_in(dir)
            .map(|a| a.app.id.clone())
            .unwrap_or_default();
        if v.findings.iter().any(|f| f.severity == Severity::Error) {
            blocked.push(id);
        } else if v.findings.iter().any(|f| f.severity == Severity::Warning) {
            warned.push(id);
        }
    }
    let examples = |v: &[String]| {
        if v.is_empty() {
            String::new()
        } else {
            format!(
                " (e.g. {})",
                v.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            )
        }
    };
    let scope = if partial {
        format!(
            "partial: the report stopped at its {} s budget after {} of {} apps; ",
            run.limits.impact_budget.as_secs_f64(),
            results.len(),
            dirs.len()
        )
    } else {
        String::new()
    };
    Ok(vec![Finding::new(
        Code::POLICY_IMPACT,
        format!(
            "{scope}with the new policies, {} of {} existing apps would be blocked{} and {} would get warnings{}",
            blocked.len(),
            results.len(),
            examples(&blocked),
            warned.len(),
            examples(&warned)
        ),
    )])
}
