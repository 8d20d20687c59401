//! Evaluating policies over apps: in parallel with one engine per thread and the on-disk
//! decision cache, within a time budget, or isolated in a memory-limited worker process.

use std::collections::BTreeMap;
use std::time::Instant;

use regorus::Value;

use super::{AppVerdict, InputContext, PolicySet, app_input, cache, catalog_data, worker};
use crate::catalog::{Catalog, Snapshot};
use crate::context::Limits;
use crate::diagnostics::Code;

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
    let deadline_days = deadline_days(ctx);
    let grace = chrono::Duration::days(deadline_days);
    Ok(entries
        .into_iter()
        .zip(answers)
        .map(|(entry, answer)| {
            let raw = answer.and_then(|j| Value::from_json_str(&j).map_err(|e| e.to_string()));
            let anchor = entry.app.lifecycle.last_reviewed.unwrap_or(ctx.today);
            let manifest = catalog.sources.get(&entry.manifest_path());
            let verdict = set.interpret(
                raw,
                manifest.map(|m| (m, &entry.app.spans)),
                &entry.app.id,
                anchor + chrono::Duration::days(deadline_days),
                grace,
            );
            (entry.dir.clone(), verdict)
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

/// What deciding one app needs besides its input: shared by every thread of one evaluation.
struct Decide<'a> {
    catalog: &'a Catalog,
    ctx: &'a InputContext,
    cache: &'a cache::VerdictCache,
    /// The policies' fingerprint when decisions are cached.
    fingerprint: Option<u128>,
    deadline_days: i64,
}

impl<'a> Decide<'a> {
    fn new(
        set: &PolicySet,
        catalog: &'a Catalog,
        ctx: &'a InputContext,
        cache: &'a cache::VerdictCache,
        use_cache: bool,
    ) -> Self {
        Decide {
            catalog,
            ctx,
            cache,
            fingerprint: use_cache.then(|| set.fingerprint(catalog)),
            deadline_days: deadline_days(ctx),
        }
    }

    /// The verdict of one app on its input (from the cache, or evaluated), and the decision to
    /// remember when it was evaluated.
    fn verdict(
        &self,
        set: &mut PolicySet,
        vm: Option<&mut regorus::rvm::vm::RegoVM>,
        entry: &crate::catalog::AppEntry,
        input: &serde_json::Value,
    ) -> (AppVerdict, Option<CacheEntry>) {
        let key = self.fingerprint.map(|f| cache::key(f, input));
        let cached = key
            .as_ref()
            .and_then(|k| self.cache.get(k))
            .and_then(|j| Value::from_json_str(j).ok());
        let (raw, fresh) = match cached {
            Some(v) => (Ok(v), None),
            None => {
                let raw = set.eval_fast(vm, input);
                let fresh = key.and_then(|k| {
                    let json = raw.as_ref().ok()?.to_json_str().ok()?;
                    Some((k, json))
                });
                (raw, fresh)
            }
        };
        let anchor = entry.app.lifecycle.last_reviewed.unwrap_or(self.ctx.today);
        let manifest = self.catalog.sources.get(&entry.manifest_path());
        let verdict = set.interpret(
            raw,
            manifest.map(|m| (m, &entry.app.spans)),
            &entry.app.id,
            anchor + chrono::Duration::days(self.deadline_days),
            chrono::Duration::days(self.deadline_days),
        );
        (verdict, fresh)
    }
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

/// The decision cache of a snapshot, when the run uses caches.
fn open_cache(snap: &Snapshot, use_cache: bool) -> cache::VerdictCache {
    snap.cache_dir()
        .filter(|_| use_cache)
        .map(|d| cache::VerdictCache::open(&d, "verdicts"))
        .unwrap_or_default()
}

/// Remembers fresh decisions (a cache that cannot be written only costs time next run).
fn remember(mut cache: cache::VerdictCache, fresh: impl IntoIterator<Item = CacheEntry>) {
    let mut any = false;
    for (k, v) in fresh {
        cache.insert(k, v);
        any = true;
    }
    if any {
        let _ = cache.save();
    }
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
    let cache = open_cache(snap, use_cache);
    let decide = Decide::new(&set, catalog, ctx, &cache, use_cache);
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
                let (verdict, fresh) = decide.verdict(set, vm.as_mut(), entry, &input);
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
    let mut fresh_all = Vec::new();
    for (dir, verdict, fresh) in results {
        fresh_all.extend(fresh);
        out.push((dir, verdict));
    }
    remember(cache, fresh_all);
    (out, stopped.into_inner())
}

/// Every app's warnings (`data.bazaar.warn` alone, located and given deadlines as a check gives
/// them) and then a second rule of the policies (the sweep's `data.bazaar.sweep.actions`) on
/// the same input with `key` added: what `extend` makes of the app and its warnings. One input
/// per app is built (its SBOM read) and given to the engine once for both, and both run on the
/// VM when the run uses it. Not cached: the inputs hold the day, so a daily run never meets the
/// same input twice. In the catalog's order.
#[allow(clippy::type_complexity)]
pub fn warnings_then(
    set: &PolicySet,
    catalog: &Catalog,
    snap: &Snapshot,
    ctx: &InputContext,
    rule: &str,
    key: &str,
    extend: &(
         dyn Fn(
        &crate::catalog::AppEntry,
        &[crate::diagnostics::Finding],
        &serde_json::Value,
    ) -> serde_json::Value
             + Sync
     ),
) -> Vec<Result<Vec<serde_json::Value>, String>> {
    use rayon::prelude::*;
    let mut set = prepared(set).into_owned();
    let warn = set.compile_rule(super::WARN_RULE);
    let then = set.compile_rule(rule);
    let days = deadline_days(ctx);
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
                let anchor = entry.app.lifecycle.last_reviewed.unwrap_or(ctx.today);
                let manifest = catalog.sources.get(&entry.manifest_path());
                let warnings = s.warnings(
                    warn_vm.as_mut(),
                    value.clone(),
                    manifest.map(|m| (m, &entry.app.spans)),
                    &entry.app.id,
                    anchor + chrono::Duration::days(days),
                    chrono::Duration::days(days),
                );
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
