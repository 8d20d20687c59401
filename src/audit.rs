//! `bazaar audit`: verify the governance history of a catalog offline. Walks the first-parent
//! history of the main branch (a submission's own commits are covered by the signed merge that
//! brought them in) and checks that every commit changing `catalog/`, `policies/`,
//! `site-templates/` or `bazaar.toml` is signed by a key that `policies/allowed_signers` **of
//! its parent** lists for the committer, and that each merge's recorded approvals are
//! well-formed and cover the roles the base policies required for that change. History before
//! the first `allowed_signers` that lists a key is genesis; once one has, a missing or empty
//! file is a failure, never a way back to genesis.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use gix::bstr::ByteSlice;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Diff, Snapshot};
use crate::check::{CheckOptions, Judged, check, judge};
use crate::context::Context;
use crate::git::GitError;
use crate::manifest::Config;
use crate::policy::PolicySet;
use crate::review::{MergeRecord, Roster, coverage};
use crate::signing::{AllowedSigners, verify};

/// The governed top-level paths.
const GOVERNED: [&str; 4] = ["bazaar.toml", "catalog", "policies", "site-templates"];
const BAZAAR_TOML: usize = 0;
const POLICIES: usize = 2;
const SIGNERS: &str = "allowed_signers";

/// What to audit.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// The catalog repository.
    pub root: PathBuf,
    /// The tip to audit from (default `HEAD`).
    pub rev: Option<String>,
    /// Re-derive each merge's required roles from the base's policies instead of trusting the
    /// signed record's `Bazaar-Required-Roles` (slower; catches a signer that got them wrong).
    pub recompute: bool,
}

/// The verdict on one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Before the first `allowed_signers`: nothing to verify against.
    Genesis,
    /// Changes nothing governed.
    NotGoverned,
    /// Signed by an allowed key, approvals (for merges) cover the required roles.
    Verified,
    /// Something is wrong; see the reasons.
    Failed,
}

/// One commit's audit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitAudit {
    /// The commit id.
    pub commit: String,
    /// Its subject line.
    pub subject: String,
    /// The verdict.
    pub status: Status,
    /// Governed paths it changed (`catalog`, `policies`, `bazaar.toml`).
    pub changed: Vec<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// When it was committed.
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    /// Bazaar's record, for a merge that carries one (the site shows approval trails from it).
    #[serde(skip)]
    pub record: Option<MergeRecord>,
    /// The sweep record of a lifecycle sweep commit that passed its checks (the site's
    /// lifecycle dates, reasons and feed entries come from it).
    #[serde(skip)]
    pub sweep: Option<crate::lifecycle::SweepRecord>,
}

/// The audit of a history.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The tip audited.
    pub tip: String,
    /// Every first-parent commit, newest first.
    pub commits: Vec<CommitAudit>,
}

impl AuditReport {
    /// Number of commits with a status.
    pub fn count(&self, s: &Status) -> usize {
        self.commits.iter().filter(|c| &c.status == s).count()
    }
}

/// Why the audit could not run.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Git failed.
    #[error(transparent)]
    Git(#[from] GitError),
}

/// The ids of a base's `policies` tree and `bazaar.toml`.
type JudgeKey = (Option<gix::ObjectId>, Option<gix::ObjectId>);

/// A base's compiled policies and settings, shared by every merge onto that base.
type Judge = std::sync::Arc<(PolicySet, Option<Config>)>;

struct Ctx<'a> {
    opts: &'a AuditOptions,
    run: &'a Context,
    /// Position in the chain (newest first) of the oldest commit whose `allowed_signers` lists a
    /// key: a commit whose parent is at or after it in time can no longer be genesis.
    trusted_from: Option<usize>,
    /// Position of each commit in the chain.
    position: HashMap<gix::ObjectId, usize>,
    repo: &'a crate::git::Repo,
    judges: Mutex<HashMap<JudgeKey, Judge>>,
    signers: Mutex<HashMap<gix::ObjectId, Result<AllowedSigners, String>>>,
    rosters: Mutex<HashMap<gix::ObjectId, Result<Roster, String>>>,
}

fn read_err(what: &str, e: impl std::fmt::Display) -> GitError {
    GitError::Read {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

/// Ids of the governed top-level entries of a commit's tree, and of `policies/allowed_signers`
/// and `policies/reviewers.toml`.
struct TreeFacts {
    governed: [Option<gix::ObjectId>; 4],
    signers: Option<gix::ObjectId>,
    roster: Option<gix::ObjectId>,
}

fn tree_facts(repo: &gix::Repository, commit: gix::ObjectId) -> Result<TreeFacts, GitError> {
    let c = repo
        .find_commit(commit)
        .map_err(|e| read_err("commit", e))?;
    let tree = c.tree().map_err(|e| read_err("tree", e))?;
    let mut governed = [None; 4];
    let mut policies = None;
    for e in tree.iter() {
        let e = e.map_err(|e| read_err("tree", e))?;
        let name = e.filename().to_str_lossy();
        if let Some(i) = GOVERNED.iter().position(|g| *g == name) {
            governed[i] = Some(e.oid().to_owned());
            if name == "policies" && e.mode().is_tree() {
                policies = Some(e.oid().to_owned());
            }
        }
    }
    let (mut signers, mut roster) = (None, None);
    if let Some(p) = policies {
        let t = repo.find_tree(p).map_err(|e| read_err("policies", e))?;
        for e in t.iter() {
            let e = e.map_err(|e| read_err("policies", e))?;
            match e.filename().to_str_lossy().as_ref() {
                SIGNERS if e.mode().is_blob() => signers = Some(e.oid().to_owned()),
                "reviewers.toml" if e.mode().is_blob() => roster = Some(e.oid().to_owned()),
                _ => {}
            }
        }
    }
    Ok(TreeFacts {
        governed,
        signers,
        roster,
    })
}

fn blob_text(repo: &gix::Repository, id: gix::ObjectId) -> Result<String, String> {
    let b = repo.find_blob(id).map_err(|e| e.to_string())?;
    String::from_utf8(b.data.clone()).map_err(|_| "not UTF-8".to_string())
}

/// Audits the first-parent history from the tip.
pub fn audit(run: &Context, opts: &AuditOptions) -> Result<AuditReport, AuditError> {
    audit_with(run, opts, &|_| None)
}

/// The audit, taking the verdicts `known` gives by commit id instead of working them out: a
/// commit's verdict depends only on it and its ancestors, so a reader that keeps them (the
/// site's history) re-verifies only the commits it has not seen.
pub fn audit_with(
    run: &Context,
    opts: &AuditOptions,
    known: &(dyn Fn(&str) -> Option<CommitAudit> + Sync),
) -> Result<AuditReport, AuditError> {
    let repo = crate::git::Repo::open(&opts.root)?;
    let rev = opts.rev.clone().unwrap_or_else(|| "HEAD".into());
    let tip = repo.resolve(&rev)?;
    let local = repo.local();
    let mut chain = Vec::new();
    let mut next = Some(gix::ObjectId::from_hex(tip.as_bytes()).map_err(|e| read_err("tip", e))?);
    while let Some(id) = next {
        let c = local.find_commit(id).map_err(|e| read_err("commit", e))?;
        next = c.parent_ids().next().map(|p| p.detach());
        chain.push(id);
    }
    // the oldest commit that lists a trusted key ends genesis for everything after it
    let mut signer_cache: HashMap<gix::ObjectId, bool> = HashMap::new();
    let mut trusted_from = None;
    for (i, id) in chain.iter().enumerate().rev() {
        if let Some(blob) = tree_facts(&local, *id)?.signers {
            let lists_a_key = *signer_cache.entry(blob).or_insert_with(|| {
                blob_text(&local, blob).is_ok_and(|t| {
                    AllowedSigners::parse("policies/allowed_signers", &t)
                        .is_ok_and(|s| !s.signers.is_empty())
                })
            });
            if lists_a_key {
                trusted_from = Some(i);
                break;
            }
        }
    }
    let position = chain.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let ctx = Ctx {
        opts,
        run,
        trusted_from,
        position,
        repo: &repo,
        judges: Mutex::new(HashMap::new()),
        signers: Mutex::new(HashMap::new()),
        rosters: Mutex::new(HashMap::new()),
    };
    let commits = chain
        .par_iter()
        // pooled handles: rayon runs map_init once per job, and a fresh handle and object cache
        // per job cost more than the work
        .map(|id| match known(&id.to_string()) {
            Some(c) => Ok(c),
            None => repo.with(|r| audit_commit(r, *id, &ctx)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AuditReport { tip, commits })
}

fn audit_commit(
    repo: &gix::Repository,
    id: gix::ObjectId,
    ctx: &Ctx<'_>,
) -> Result<CommitAudit, GitError> {
    let c = repo.find_commit(id).map_err(|e| read_err("commit", e))?;
    let message = c.message_raw_sloppy().to_str_lossy().into_owned();
    let subject = message.lines().next().unwrap_or_default().to_string();
    let parents: Vec<gix::ObjectId> = c.parent_ids().map(|p| p.detach()).collect();
    let mut out = CommitAudit {
        commit: id.to_string(),
        subject,
        status: Status::Verified,
        changed: Vec::new(),
        reasons: Vec::new(),
        time: c
            .committer()
            .ok()
            .and_then(|s| s.time().ok())
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0)),
        record: None,
        sweep: None,
    };
    // a merge's record is parsed once: kept for the site, judged below
    let parsed = (parents.len() > 1).then(|| MergeRecord::parse(&message));
    if let Some(Ok(Some(r))) = &parsed {
        out.record = Some(r.clone());
    }
    let mine = tree_facts(repo, id)?;
    let parent = match parents.first() {
        Some(p) => Some(tree_facts(repo, *p)?),
        None => None,
    };
    for (i, g) in GOVERNED.iter().enumerate() {
        if parent.as_ref().map_or(mine.governed[i].is_some(), |p| {
            p.governed[i] != mine.governed[i]
        }) {
            out.changed.push(g.to_string());
        }
    }
    if out.changed.is_empty() {
        out.status = Status::NotGoverned;
        return Ok(out);
    }
    // the keys trusted for this commit are those of its parent: a commit cannot authorize
    // itself. Before the first file that lists a key, there is nothing to verify against
    // (genesis); after it, losing or emptying the file is itself a failure.
    let after_trust = match (parents.first(), ctx.trusted_from) {
        (Some(p), Some(t)) => ctx.position.get(p).is_some_and(|pos| *pos <= t),
        _ => false,
    };
    // nothing to verify against: genesis before trust, a failure after it
    let untrusted = |mut out: CommitAudit, what: &str| {
        if after_trust {
            out.status = Status::Failed;
            out.reasons.push(format!(
                "changes {} but its parent's policies/allowed_signers {what}, after an earlier commit listed keys; restore them",
                out.changed.join(", ")
            ));
        } else {
            out.status = Status::Genesis;
        }
        Ok(out)
    };
    let Some(signers_blob) = parent.as_ref().and_then(|p| p.signers) else {
        return untrusted(out, "is missing");
    };
    let signers = ctx
        .signers
        .lock()
        .expect("lock")
        .entry(signers_blob)
        .or_insert_with(|| {
            blob_text(repo, signers_blob).and_then(|t| {
                AllowedSigners::parse("policies/allowed_signers", &t).map_err(|e| e.to_string())
            })
        })
        .clone();
    let signers = match signers {
        // a file that lists no key yet (the template `bazaar init` writes) is no trust root
        Ok(s) if s.signers.is_empty() => return untrusted(out, "lists no key"),
        Ok(s) => s,
        Err(e) => {
            out.status = Status::Failed;
            out.reasons
                .push(format!("the parent's allowed_signers cannot be read: {e}"));
            return Ok(out);
        }
    };
    let committer = c.committer().map_err(|e| read_err("committer", e))?;
    let email = committer.email.to_str_lossy().into_owned();
    let when = committer.time().map_err(|e| read_err("time", e))?;
    let when = chrono::DateTime::from_timestamp(when.seconds, 0)
        .map(|d| {
            d.with_timezone(
                &chrono::FixedOffset::east_opt(when.offset)
                    .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("utc")),
            )
        })
        .unwrap_or_default();
    match c.signature().map_err(|e| read_err("signature", e))? {
        None => out.reasons.push(format!(
            "changes {} but is not signed",
            out.changed.join(", ")
        )),
        Some((sig, data)) => {
            let payload = data.to_bstring();
            if let Err(e) = verify(&sig.to_str_lossy(), &payload, &signers, &email, when) {
                out.reasons.push(e.to_string());
            }
        }
    }
    if out.reasons.is_empty()
        && parents.len() == 1
        && let Some(record) = crate::lifecycle::SweepRecord::parse(&message).unwrap_or_else(|e| {
            out.reasons
                .push(format!("the sweep record is malformed: {e}"));
            None
        })
    {
        check_sweep(repo, parents[0], id, &record, &mut out.reasons);
        if out.reasons.is_empty() {
            out.sweep = Some(record);
        }
    }
    if out.reasons.is_empty() && parents.len() > 1 {
        check_approvals(
            repo,
            parsed.unwrap_or(Ok(None)),
            (parents[0], parents[1], id),
            parent.as_ref().and_then(|p| p.roster),
            when.date_naive(),
            ctx,
            &mut out.reasons,
        );
    }
    if !out.reasons.is_empty() {
        out.status = Status::Failed;
    }
    Ok(out)
}

/// A signed sweep commit may change only `lifecycle.status` of the apps its record names, from
/// and to the statuses it records: anything else in it is not an automated lifecycle change.
fn check_sweep(
    repo: &gix::Repository,
    parent: gix::ObjectId,
    commit: gix::ObjectId,
    record: &crate::lifecycle::SweepRecord,
    reasons: &mut Vec<String>,
) {
    let tree = |c: gix::ObjectId| -> Option<gix::ObjectId> {
        Some(repo.find_commit(c).ok()?.tree_id().ok()?.detach())
    };
    let changes =
        match crate::source::tree::diff(repo, tree(parent), tree(commit), &GOVERNED, &|_| false) {
            Ok(c) => c,
            Err(e) => return reasons.push(format!("cannot read the sweep's change: {e}")),
        };
    let read = |c: gix::ObjectId, path: &str| -> Option<toml::Table> {
        let t = repo.find_commit(c).ok()?.tree().ok()?;
        let e = t.lookup_entry_by_path(path).ok()??;
        toml::from_str(&blob_text(repo, e.oid().to_owned()).ok()?).ok()
    };
    let mut seen = std::collections::BTreeSet::new();
    for c in changes {
        let (Some(old), Some(new)) = (read(parent, &c.path), read(commit, &c.path)) else {
            reasons.push(format!(
                "a sweep commit changes {}, which is not an existing app manifest",
                c.path
            ));
            continue;
        };
        let id = new.get("id").and_then(|v| v.as_str()).unwrap_or_default();
        let Some(rec) = record.changes.iter().find(|r| r.id == id) else {
            reasons.push(format!(
                "a sweep commit changes {} ({id}), which its record does not name",
                c.path
            ));
            continue;
        };
        seen.insert(rec.id.clone());
        let status = |t: &toml::Table| -> Option<String> {
            t.get("lifecycle")?
                .get("status")?
                .as_str()
                .map(str::to_string)
        };
        if status(&old).as_deref() != Some(&rec.from) || status(&new).as_deref() != Some(&rec.to) {
            reasons.push(format!(
                "the sweep record says {id} went from {} to {}, but the manifests say {:?} to {:?}",
                rec.from,
                rec.to,
                status(&old),
                status(&new)
            ));
            continue;
        }
        let mut expected = old.clone();
        if let Some(toml::Value::Table(lc)) = expected.get_mut("lifecycle") {
            lc.insert("status".into(), toml::Value::String(rec.to.clone()));
        }
        if expected != new {
            reasons.push(format!(
                "a sweep commit changes more of {} than lifecycle.status",
                c.path
            ));
        }
    }
    for r in &record.changes {
        if !seen.contains(&r.id) {
            reasons.push(format!(
                "the sweep record names {}, which the commit does not change",
                r.id
            ));
        }
    }
}

fn check_approvals(
    repo: &gix::Repository,
    parsed: Result<Option<MergeRecord>, String>,
    (base, head, merge): (gix::ObjectId, gix::ObjectId, gix::ObjectId),
    roster_blob: Option<gix::ObjectId>,
    day: chrono::NaiveDate,
    ctx: &Ctx<'_>,
    reasons: &mut Vec<String>,
) {
    let record = match parsed {
        Ok(Some(r)) => r,
        Ok(None) => {
            return reasons.push(
                "a merge without Bazaar's record of approvals (no Bazaar-Head trailer)".into(),
            );
        }
        Err(e) => return reasons.push(format!("the merge record is malformed: {e}")),
    };
    let head_hex = head.to_string();
    if record.head != head_hex {
        reasons.push(format!(
            "the record names head {} but the merged commit is {head_hex}",
            record.head
        ));
    }
    if let Some(b) = &record.base
        && gix::ObjectId::from_hex(b.as_bytes()).ok() != Some(base)
    {
        reasons.push(format!(
            "the record says the submission was judged on base {b} but the merge's first parent is {base}"
        ));
    }
    let Some(roster_blob) = roster_blob else {
        return reasons
            .push("the base has no policies/reviewers.toml, so no approval can count".into());
    };
    let roster = ctx
        .rosters
        .lock()
        .expect("lock")
        .entry(roster_blob)
        .or_insert_with(|| {
            blob_text(repo, roster_blob).and_then(|t| {
                Roster::parse(&crate::diagnostics::SourceFile::new(
                    crate::review::ROSTER_PATH,
                    t,
                ))
                .map_err(|fs| {
                    fs.into_iter()
                        .map(|f| f.message)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            })
        })
        .clone();
    let roster = match roster {
        Ok(r) => r,
        Err(e) => return reasons.push(format!("the base roster cannot be read: {e}")),
    };
    // the roles the base's policies required for this change: as the signed record says, or
    // recomputed from the base's policies as of the merge's day
    let day = ctx.run.today.unwrap_or(day).min(day);
    let required = match (&record.required_roles, ctx.opts.recompute) {
        (Some(recorded), false) => recorded.iter().cloned().collect(),
        // re-derived from what the merge did to its first parent (the tree it committed)
        (recorded, _) => match required_roles(repo, base, merge, day, ctx) {
            Ok(r) => {
                if let Some(recorded) = recorded {
                    let recorded: std::collections::BTreeSet<String> =
                        recorded.iter().cloned().collect();
                    // a record may ask for more than needed (a change made on both sides drops
                    // out of the merge's own diff), never for less
                    if !r.is_subset(&recorded) {
                        reasons.push(format!(
                            "the record says the change required {} but the base's policies require {}",
                            list(&recorded),
                            list(&r)
                        ));
                    }
                }
                r
            }
            Err(e) => return reasons.push(format!("cannot recompute the required roles: {e}")),
        },
    };
    let cov = coverage(
        &record.approvals,
        &required,
        &roster,
        record.author.as_deref(),
        &head_hex,
    );
    reasons.extend(cov.problems.iter().map(ToString::to_string));
}

fn list(roles: &std::collections::BTreeSet<String>) -> String {
    if roles.is_empty() {
        "no role".into()
    } else {
        roles.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// The smallest set of paths that decides a change's verdict: the settings and policies, and
/// for each changed app its folder and its team's file.
fn prefixes(changed: &[String]) -> Vec<String> {
    let mut out: std::collections::BTreeSet<String> =
        ["bazaar.toml".to_string(), "policies".to_string()].into();
    for p in changed {
        let parts: Vec<&str> = p.split('/').collect();
        match parts.as_slice() {
            ["catalog", "collections", ..] => {
                out.insert(p.clone());
            }
            ["catalog", team, app, ..] => {
                out.insert(format!("catalog/{team}/{app}"));
                out.insert(format!("catalog/{team}/team.toml"));
            }
            _ => {
                out.insert(p.clone());
            }
        }
    }
    out.into_iter().collect()
}

/// Recomputes the roles the base's policies require for the change from `base` (a merge's first
/// parent) to `merged` (the merge commit), judged on the merged tree, reading only what the
/// change touches. Policies that read `data.catalog` need the whole catalog, so
/// they go through a full check.
fn required_roles(
    repo: &gix::Repository,
    base: gix::ObjectId,
    head: gix::ObjectId,
    day: chrono::NaiveDate,
    ctx: &Ctx<'_>,
) -> Result<std::collections::BTreeSet<String>, String> {
    // `head` is the merged commit: its tree is what the merge committed
    let tree_of = |c: gix::ObjectId| -> Result<gix::ObjectId, String> {
        Ok(repo
            .find_commit(c)
            .map_err(|e| e.to_string())?
            .tree_id()
            .map_err(|e| e.to_string())?
            .detach())
    };
    let changed: Vec<String> = crate::source::tree::diff(
        repo,
        Some(tree_of(base)?),
        Some(tree_of(head)?),
        &GOVERNED,
        &|_| false,
    )
    .map_err(|e| e.to_string())?
    .into_iter()
    .map(|c| c.path)
    .collect();
    let paths = prefixes(&changed);
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let base_snap = Snapshot::from_repo_subset_in(ctx.repo, repo, &base.to_string(), &refs)
        .map_err(|e| e.to_string())?;
    let head_snap = Snapshot::from_repo_subset_in(ctx.repo, repo, &head.to_string(), &refs)
        .map_err(|e| e.to_string())?;
    let facts = tree_facts(repo, base).map_err(|e| e.to_string())?;
    let key = (facts.governed[POLICIES], facts.governed[BAZAAR_TOML]);
    let cached = ctx.judges.lock().expect("lock").get(&key).cloned();
    let judge_for_base = match cached {
        Some(j) => j,
        None => {
            let mut policies =
                PolicySet::load(&base_snap, false, ctx.run).map_err(|e| e.to_string())?;
            if !policies.reads_catalog() {
                policies.prepare();
            }
            let config = base_snap
                .read("bazaar.toml", crate::manifest::MAX_MANIFEST_BYTES)
                .ok()
                .and_then(Result::ok)
                .and_then(|b| {
                    crate::manifest::decode("bazaar.toml", &b, crate::manifest::MAX_MANIFEST_BYTES)
                        .ok()
                })
                .and_then(|f| crate::manifest::parse_config(&f).value);
            let j: Judge = std::sync::Arc::new((policies, config));
            ctx.judges.lock().expect("lock").insert(key, j.clone());
            j
        }
    };
    let (policies, config) = &*judge_for_base;
    if !policies.is_ok() {
        return Err(format!(
            "the base's policies do not load: {}",
            policies.errors[0].message
        ));
    }
    if policies.reads_catalog() {
        // the merge commit descends from the base, so it is judged as is
        let run = ctx.run.clone().with_today(Some(day));
        let c = check(
            &run,
            &CheckOptions {
                root: ctx.opts.root.clone(),
                rev: Some(head.to_string()),
                base: Some(base.to_string()),
            },
        )
        .map_err(|e| e.to_string())?;
        return Ok(c.verdict.required_roles);
    }
    let diff = Diff::between(&base_snap, &head_snap);
    let scope = diff.head_dirs();
    let catalog = Catalog::load_scoped(&head_snap, Some(&scope)).map_err(|e| e.to_string())?;
    let (verdict, _) = judge(&Judged {
        head: &head_snap,
        base: Some(&base_snap),
        diff: Some(&diff),
        catalog: &catalog,
        policies,
        config: config.as_ref(),
        signals: None,
        ctx: &Context {
            today: Some(day),
            caches: false,
            ..ctx.run.clone()
        },
    });
    Ok(verdict.required_roles)
}
