//! Evaluating policies over apps: in parallel with one engine per thread and the on-disk
//! decision cache, within a time budget, or isolated in a memory-limited worker process.

use std::collections::BTreeMap;
use std::time::Instant;

use regorus::Value;

use super::{AppVerdict, InputContext, PolicySet, app_input, cache, catalog_data, worker};
use crate::catalog::{AppEntry, Catalog, Snapshot};
use crate::context::Limits;
use crate::diagnostics::{Code, Finding};

/// The SBOM document of an app kept in its folder, as policies see it (`input.sbom`).
pub fn sbom_input(snap: &Snapshot, entry: &crate::catalog::AppEntry) -> serde_json::Value {
    let Some(rel) = entry.app.security.as_ref().and_then(|s| s.sbom_path()) else {
        return serde_json::Value::Null;
    };
    let path = format!("{}/{rel}", entry.dir);
    if !snap.is_file(&path) {
        return serde_json::Value::Null;
    }
    match snap.read(&path, crate::catalog::MAX_SBOM_BYTES) {
        Ok(Ok(bytes)) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(doc) => serde_json::json!({ "path": path, "parsed": true, "document": doc }),
            Err(e) => serde_json::json!({ "path": path, "parsed": false, "error": e.to_string() }),
        },
        Ok(Err(size)) => {
            serde_json::json!({ "path": path, "parsed": false, "error": format!("{size} bytes is over the {} byte limit", crate::catalog::MAX_SBOM_BYTES) })
        }
        Err(e) => serde_json::json!({ "path": path, "parsed": false, "error": e.to_string() }),
    }
}

/// Evaluates the given apps with the policies in a worker process with a memory limit (see
/// [`worker`]): for policies nobody has reviewed yet, such as a submission's own. Nothing is
/// cached; any failure of the worker is the error, and this process is unharmed.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_apps_isolated(
    set: &PolicySet,
    catalog: &Catalog,
    snap: &Snapshot,
    dirs: &[&str],
    ctx: &InputContext,
    program: &std::path::Path,
    limits: &Limits,
    until: Option<Instant>,
) -> Result<Vec<(String, AppVerdict)>, worker::WorkerError> {
    use rayon::prelude::*;
    let entries: Vec<&crate::catalog::AppEntry> =
        dirs.iter().filter_map(|d| catalog.app_in(d)).collect();
    let inputs: Vec<serde_json::Value> = entries
        .par_iter()
        .map(|entry| {
            let team = catalog.teams.get(crate::catalog::team_of(&entry.dir));
            app_input(entry, team, None, sbom_input(snap, entry), ctx)
        })
        .collect();
    let job = worker::Job {
        files: set
            .sources
            .iter()
            .map(|(p, s)| (p.clone(), s.text.to_string()))
            .collect(),
        catalog: set.reads_catalog().then(|| catalog_data(catalog)),
        engine: set.engine_kind.as_str().into(),
        eval_ms: limits.policy_eval.as_millis() as u64,
        inputs,
    };
    let answers = worker::run(program, &job, limits, until)?;
    Ok(entries
        .into_iter()
        .zip(answers)
        .map(|(entry, answer)| {
            let raw = answer.and_then(|j| Value::from_json_str(&j).map_err(|e| e.to_string()));
            (entry.dir.clone(), verdict_of(set, catalog, ctx, entry, raw))
        })
        .collect())
}

/// Days a warning gives to fix it (`[governance] warn_deadline_days`, 30 by default).
fn deadline_days(ctx: &InputContext) -> i64 {
    ctx.config["governance"]["warn_deadline_days"]
        .as_i64()
        .unwrap_or(30)
}

/// A fresh decision to remember: cache key and the decisions as JSON.
type CacheEntry = (String, String);

/// One app's raw decisions read as its verdict: findings located in its manifest, warnings due
/// `warn_deadline_days` after its last review (or today, when it has none).
fn verdict_of(
    set: &PolicySet,
    catalog: &Catalog,
    ctx: &InputContext,
    entry: &AppEntry,
    raw: Result<Value, String>,
) -> AppVerdict {
    let days = chrono::Duration::days(deadline_days(ctx));
    let anchor = entry.app.lifecycle.last_reviewed.unwrap_or(ctx.today);
    let manifest = catalog.sources.get(&entry.manifest_path());
    set.interpret(
        raw,
        manifest.map(|m| (m, &entry.app.spans)),
        &entry.app.id,
        anchor + days,
        days,
    )
}

/// The set prepared once (rayon calls `map_init` once per job, not per thread: each clones an
/// engine that is already prepared).
fn prepared(set: &PolicySet) -> std::borrow::Cow<'_, PolicySet> {
    if set.prepared {
        std::borrow::Cow::Borrowed(set)
    } else {
        let mut s = set.clone();
        s.prepare();
        std::borrow::Cow::Owned(s)
    }
}

/// Evaluates the policies for the given apps in parallel (one engine per thread). `base_apps`
/// gives each app's version on the base revision, by folder. Decisions are cached by the hash of
/// the policies and of each input document, so an unchanged app is not evaluated twice.
pub fn evaluate_apps(
    set: &PolicySet,
    catalog: &Catalog,
    snap: &Snapshot,
    dirs: &[&str],
    base_apps: &BTreeMap<String, crate::manifest::App>,
    ctx: &InputContext,
    use_cache: bool,
) -> Vec<(String, AppVerdict)> {
    evaluate_apps_until(set, catalog, snap, dirs, base_apps, ctx, use_cache, None).0
}

/// [`evaluate_apps`] that stops starting new evaluations at `until`; the flag is true when it
/// stopped before every app was evaluated (the results are then partial).
#[allow(clippy::too_many_arguments)]
pub fn evaluate_apps_until(
    set: &PolicySet,
    catalog: &Catalog,
    snap: &Snapshot,
    dirs: &[&str],
    base_apps: &BTreeMap<String, crate::manifest::App>,
    ctx: &InputContext,
    use_cache: bool,
    until: Option<Instant>,
) -> (Vec<(String, AppVerdict)>, bool) {
    let stopped = std::sync::atomic::AtomicBool::new(false);
    use rayon::prelude::*;
    let set = prepared(set);
    let fingerprint = use_cache.then(|| set.fingerprint(catalog));
    let mut cache = snap
        .cache_dir()
        .filter(|_| use_cache)
        .map(|d| cache::VerdictCache::open(&d, "verdicts"))
        .unwrap_or_default();
    // After one app's evaluation fails (error, time limit), the policy is broken for all: stop
    // instead of paying the time limit once per app.
    let broken = std::sync::atomic::AtomicBool::new(false);
    let results: Vec<(String, AppVerdict, Option<CacheEntry>)> = dirs
        .par_iter()
        .filter_map(|d| catalog.app_in(d))
        .map_init(
            || {
                let set = set.clone().into_owned();
                let vm = set.vm();
                (set, vm)
            },
            |(set, vm), entry| {
                if broken.load(std::sync::atomic::Ordering::Relaxed) {
                    return None;
                }
                if until.is_some_and(|t| Instant::now() >= t) {
                    stopped.store(true, std::sync::atomic::Ordering::Relaxed);
                    return None;
                }
                let team = catalog.teams.get(crate::catalog::team_of(&entry.dir));
                let input = app_input(
                    entry,
                    team,
                    base_apps.get(&entry.dir),
                    sbom_input(snap, entry),
                    ctx,
                );
                let key = fingerprint.map(|f| cache::key(f, &input));
                let cached = key
                    .as_ref()
                    .and_then(|k| cache.get(k))
                    .and_then(|j| Value::from_json_str(j).ok());
                let (raw, fresh) = match cached {
                    Some(v) => (Ok(v), None),
                    None => {
                        let raw = set.eval_fast(vm.as_mut(), &input);
                        let fresh = key.zip(raw.as_ref().ok().and_then(|v| v.to_json_str().ok()));
                        (raw, fresh)
                    }
                };
                let verdict = verdict_of(set, catalog, ctx, entry, raw);
                if verdict
                    .findings
                    .iter()
                    .any(|f| f.code == Code::POLICY_ERROR)
                {
                    broken.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Some((entry.dir.clone(), verdict, fresh))
            },
        )
        .flatten()
        .collect();
    let mut out = Vec::with_capacity(results.len());
    for (dir, verdict, fresh) in results {
        if let Some((k, v)) = fresh {
            cache.insert(k, v);
        }
        out.push((dir, verdict));
    }
    // a cache that cannot be written only costs time next run
    let _ = cache.save();
    (out, stopped.into_inner())
}

/// Every app's warnings (`data.bazaar.warn` alone, located and given deadlines as a check gives
/// them) and then a second rule of the policies (the sweep's `data.bazaar.sweep.actions`) on
/// the same input with `key` added: what `extend` makes of the app and its warnings. One input
/// per app is built (its SBOM read) and given to the engine once for both, and both run on the
/// VM when the run uses it. Not cached: the inputs hold the day, so a daily run never meets the
/// same input twice. In the catalog's order.
pub fn warnings_then<F>(
    set: &PolicySet,
    catalog: &Catalog,
    snap: &Snapshot,
    ctx: &InputContext,
    rule: &str,
    key: &str,
    extend: F,
) -> Vec<Result<Vec<serde_json::Value>, String>>
where
    F: Fn(&AppEntry, &[Finding], &serde_json::Value) -> serde_json::Value + Sync,
{
    use rayon::prelude::*;
    let mut set = prepared(set).into_owned();
    let warn = set.compile_rule(super::WARN_RULE);
    let then = set.compile_rule(rule);
    catalog
        .apps
        .par_iter()
        .map_init(
            || {
                let s = set.clone();
                let warn_vm = warn.clone().and_then(|p| s.vm_for(p));
                let then_vm = then.clone().and_then(|p| s.vm_for(p));
                (s, warn_vm, then_vm)
            },
            |(s, warn_vm, then_vm), entry| {
                let team = catalog.teams.get(crate::catalog::team_of(&entry.dir));
                let input = app_input(entry, team, None, sbom_input(snap, entry), ctx);
                let mut value = super::to_value(&input)?;
                let raw = s.eval_warn(warn_vm.as_mut(), value.clone());
                let warnings = verdict_of(s, catalog, ctx, entry, raw).findings;
                // a warn rule that fails decides nothing: the sweep stops on it
                if let Some(f) = warnings.iter().find(|f| f.code == Code::POLICY_ERROR) {
                    return Err(match &f.location {
                        Some(l) => format!("{}:{}:{}: {}", l.file, l.line, l.column, f.message),
                        None => f.message.clone(),
                    });
                }
                let added = super::to_value(&extend(entry, &warnings, &input))?;
                value
                    .as_object_mut()
                    .map_err(|e| e.to_string())?
                    .insert(Value::from(key), added);
                s.eval_rule_items(then_vm.as_mut(), rule, value)
            },
        )
        .collect()
}
