//! The static site: a page model built from a checked catalog, rendered with Tera (templates
//! from `site-templates/`, embedded as defaults, overridable file by file by the catalog's own
//! folder), README Markdown rendered and sanitized, `catalog.json`, and atomic publishing.

mod markdown;
mod publish;
pub mod serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::{Snapshot, team_of};
use crate::check::{CheckError, CheckOptions, check};
use crate::diagnostics::{Report, Severity};

pub use markdown::render as render_markdown;

static DEFAULT_TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/site-templates");

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The catalog repository.
    pub root: PathBuf,
    /// A revision instead of the working tree.
    pub rev: Option<String>,
    /// The published path (a link to the latest build).
    pub out: PathBuf,
    /// Today, for the policies.
    pub today: Option<chrono::NaiveDate>,
}

/// Why a build failed; the previous site keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// The catalog could not be read.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// A template is broken.
    #[error("template error: {0}")]
    Template(String),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    /// Pages written.
    pub pages: usize,
    /// The folder the published link now points at.
    pub dir: PathBuf,
    /// The check's findings (apps with errors are left out of the site).
    pub report: Report,
}

#[derive(Serialize)]
struct Group {
    slug: String,
    name: String,
    url: String,
    count: usize,
}

fn templates(snap: &Snapshot) -> Result<tera::Tera, SiteError> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    fn walk(dir: &Dir<'_>, out: &mut BTreeMap<String, String>) {
        for f in dir.files() {
            if let Some(text) = f.contents_utf8() {
                out.insert(
                    f.path().to_string_lossy().replace('\\', "/"),
                    text.to_string(),
                );
            }
        }
        for d in dir.dirs() {
            walk(d, out);
        }
    }
    walk(&DEFAULT_TEMPLATES, &mut files);
    // the catalog's own templates override the defaults file by file
    for path in snap
        .entries
        .keys()
        .filter(|p| p.starts_with("site-templates/"))
    {
        if let Ok(Ok(bytes)) = snap.read(path, 1024 * 1024)
            && let Ok(text) = String::from_utf8(bytes)
        {
            files.insert(path["site-templates/".len()..].to_string(), text);
        }
    }
    let mut t = tera::Tera::default();
    t.autoescape_on(vec![".html", ".xml"]);
    let list: Vec<(String, String)> = files
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html") || p.ends_with(".xml"))
        .collect();
    t.add_raw_templates(list)
        .map_err(|e| SiteError::Template(error_chain(&e)))?;
    Ok(t)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// What the signed history says: each app's approval trail and how long submissions took.
#[derive(Default)]
struct History {
    trails: BTreeMap<String, Vec<Value>>,
    /// Hours from a submission's opening to its merge.
    lead_hours: Vec<f64>,
}

/// Reads the trailers of the first-parent history (when the catalog is a Git repository), with
/// each merge's signature status from the audit.
fn governance_history(opts: &BuildOptions) -> History {
    let mut h = History::default();
    let Ok(report) = crate::audit::audit(&crate::audit::AuditOptions {
        root: opts.root.clone(),
        rev: opts.rev.clone(),
        today: opts.today,
        recompute: false,
    }) else {
        return h;
    };
    for c in &report.commits {
        let Some(r) = &c.record else { continue };
        let status = match c.status {
            crate::audit::Status::Verified => "signature verified",
            crate::audit::Status::Failed => "FAILED audit",
            crate::audit::Status::Genesis => "before signing began",
            crate::audit::Status::NotGoverned => "not governed",
        };
        if let (Some(opened), Some(merged)) = (r.opened, c.time) {
            h.lead_hours
                .push((merged - opened).num_minutes() as f64 / 60.0);
        }
        let entry = json!({
            "commit": &c.commit[..12.min(c.commit.len())],
            "date": c.time.map(|t| t.format("%Y-%m-%d").to_string()),
            "subject": c.subject, "submission": r.submission, "status": status, "head": &r.head[..12.min(r.head.len())],
            "approvals": r.approvals.iter().map(|a| json!({ "login": a.login, "role": a.role, "at": a.at.format("%Y-%m-%d %H:%M UTC").to_string() })).collect::<Vec<_>>(),
        });
        for id in r.added.iter().chain(&r.changed) {
            h.trails.entry(id.clone()).or_default().push(entry.clone());
        }
    }
    h
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The governance dashboard's numbers.
fn dashboard(apps: &[Value], history: &History, today: chrono::NaiveDate) -> Value {
    let count_by = |key: &str| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for a in apps {
            *m.entry(a[key].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
        m
    };
    let reviewed: Vec<&Value> = apps.iter().filter(|a| a["tier"] != "discover").collect();
    let with_sbom = reviewed
        .iter()
        .filter(|a| !a["sbom_url"].is_null() || !a["sbom_file"].is_null())
        .count();
    let due = |days: i64| {
        apps.iter()
            .filter(|a| {
                a["review_by"]
                    .as_str()
                    .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .is_some_and(|d| (d - today).num_days() <= days)
            })
            .count()
    };
    json!({
        "tiers": count_by("tier"), "classes": count_by("classification"), "statuses": count_by("status"),
        "sbom": { "with": with_sbom, "of": reviewed.len() },
        "due": { "d30": due(30), "d60": due(60), "d90": due(90) },
        "warnings": apps.iter().map(|a| a["warnings"].as_array().map_or(0, Vec::len)).sum::<usize>(),
        "median_hours": median(history.lead_hours.clone()).map(|h| (h * 10.0).round() / 10.0),
        "merges": history.lead_hours.len(),
    })
}

fn app_url(id: &str) -> String {
    format!("apps/{id}/")
}

/// Builds the site into a fresh folder and publishes it atomically at `out`.
pub fn build(opts: &BuildOptions) -> Result<Built, SiteError> {
    let checked = check(&CheckOptions {
        root: opts.root.clone(),
        rev: opts.rev.clone(),
        base: None,
        today: opts.today,
    })?;
    let snap = &checked.head;
    let tera = templates(snap)?;
    let cat = &checked.catalog;
    let config = cat.config.clone();
    let site = json!({
        "title": config.as_ref().map_or("App catalog".to_string(), |c| c.site.title.clone()),
        "base_url": config.as_ref().map(|c| c.site.base_url.to_string()),
    });
    let source = match &opts.rev {
        Some(r) => format!("revision {r}"),
        None => "the working tree".to_string(),
    };
    let verdicts: BTreeMap<&str, &crate::check::AppResult> = checked
        .verdict
        .apps
        .iter()
        .map(|a| (a.dir.as_str(), a))
        .collect();
    let history = governance_history(opts);
    let team_name = |slug: &str| {
        cat.teams
            .get(slug)
            .map_or(slug.to_string(), |t| t.name.clone())
    };

    // the page model of every app
    let mut apps: Vec<Value> = Vec::new();
    for e in &cat.apps {
        let a = &e.app;
        let v = verdicts.get(e.dir.as_str());
        let readme = match snap.read(
            &format!("{}/README.md", e.dir),
            crate::catalog::MAX_README_BYTES,
        ) {
            Ok(Ok(b)) => markdown::render(&String::from_utf8_lossy(&b)),
            _ => String::new(),
        };
        let warnings: Vec<Value> = checked
            .report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning && f.app.as_deref() == Some(a.id.as_str()))
            .map(|f| json!({ "message": f.message, "deadline": f.deadline }))
            .collect();
        let replacement = a
            .lifecycle
            .replacement
            .as_ref()
            .and_then(|r| cat.app(r))
            .map(|r| json!({ "name": r.app.name, "url": app_url(&r.app.id) }));
        let sec = a.security.as_ref();
        apps.push(json!({
            "id": a.id, "name": a.name, "version": a.version.to_string(), "summary": a.summary,
            "description": a.description, "url": app_url(&a.id), "team": team_of(&e.dir), "team_name": team_name(team_of(&e.dir)),
            "tags": a.tags, "tier": a.tier, "runtime": a.runtime, "classification": a.data.classification, "status": a.lifecycle.status,
            "endpoint": a.endpoint.as_ref().map(|u| u.to_string()), "owner": a.owner.primary, "backup": a.owner.backup,
            "channel": a.support.as_ref().and_then(|s| s.channel.clone()), "sla": a.support.as_ref().and_then(|s| s.sla.clone()),
            "oncall": a.support.as_ref().and_then(|s| s.oncall.clone()), "runbook": a.support.as_ref().and_then(|s| s.runbook.as_ref().map(|u| u.to_string())),
            "auth": a.auth.as_ref().map(|x| x.kind), "scopes": a.auth.as_ref().map(|x| x.scopes.clone()).unwrap_or_default(),
            "residency": a.data.residency, "external_transfer": a.data.external_transfer, "justification": a.data.justification,
            "sbom_url": sec.and_then(|s| s.sbom.clone()).filter(|s| s.starts_with("https://")),
            "sbom_file": sec.and_then(|s| s.sbom_path()).map(str::to_string),
            "digest": sec.and_then(|s| s.artifact_digest.clone()),
            "monthly_usd": a.cost.as_ref().and_then(|c| c.monthly_usd), "cost_center": a.cost.as_ref().and_then(|c| c.center.clone()),
            "last_reviewed": a.lifecycle.last_reviewed, "review_by": a.lifecycle.review_by, "expires": a.lifecycle.expires,
            "deprecation_reason": a.lifecycle.deprecation_reason, "retire_on": a.lifecycle.retire_on, "replacement": replacement,
            "risk": v.map_or("unknown", |v| v.risk.as_str()), "required_roles": v.map(|v| v.required_roles.clone()).unwrap_or_default(),
            "warnings": warnings, "readme_html": readme,
            "trail": history.trails.get(&a.id).cloned().unwrap_or_default(),
        }));
    }
    apps.sort_by(|a, b| {
        a["name"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .cmp(&b["name"].as_str().unwrap_or("").to_lowercase())
    });

    let group = |key: &str| -> BTreeMap<String, Vec<Value>> {
        let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for a in &apps {
            match &a[key] {
                Value::Array(items) => {
                    for i in items {
                        m.entry(i.as_str().unwrap_or_default().to_string())
                            .or_default()
                            .push(a.clone());
                    }
                }
                v => m
                    .entry(v.as_str().unwrap_or_default().to_string())
                    .or_default()
                    .push(a.clone()),
            }
        }
        m
    };
    let teams = group("team");
    let tiers = group("tier");
    let tags = group("tags");
    let groups = |m: &BTreeMap<String, Vec<Value>>,
                  prefix: &str,
                  name: &dyn Fn(&str) -> String|
     -> Vec<Group> {
        m.iter()
            .map(|(k, v)| Group {
                slug: k.clone(),
                name: name(k),
                url: format!("{prefix}/{k}/"),
                count: v.len(),
            })
            .collect()
    };
    let team_groups = groups(&teams, "teams", &|k| team_name(k));
    let tier_groups = groups(&tiers, "tiers", &|k| k.to_string());
    let collections: Vec<Value> = cat
        .collections
        .values()
        .map(|c| {
            let members: Vec<&Value> = c.apps.iter().filter_map(|id| apps.iter().find(|a| a["id"] == id.as_str())).collect();
            json!({ "name": c.name, "description": c.description, "featured": c.featured, "apps": members })
        })
        .collect();

    let dir = publish::fresh_dir(&opts.out);
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| SiteError::Io { path: p, source: e }
    };
    let mut pages = 0usize;
    let mut write = |rel: &str, text: &str| -> Result<(), SiteError> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        if rel.ends_with(".html") {
            pages += 1;
        }
        Ok(())
    };
    let render = |name: &str, ctx: &tera::Context| {
        tera.render(name, ctx)
            .map_err(|e| SiteError::Template(error_chain(&e)))
    };
    let base_ctx = |depth: usize| {
        let mut c = tera::Context::new();
        c.insert("site", &site);
        c.insert("root", &"../".repeat(depth));
        c.insert("source", &source);
        c
    };

    let mut ctx = base_ctx(0);
    ctx.insert("apps", &apps);
    ctx.insert("teams", &team_groups);
    ctx.insert("tiers", &tier_groups);
    ctx.insert("collections", &collections);
    write("index.html", &render("index.html", &ctx)?)?;
    write("404.html", &render("404.html", &base_ctx(0))?)?;
    for a in &apps {
        let mut ctx = base_ctx(2);
        ctx.insert("app", a);
        write(
            &format!("{}index.html", a["url"].as_str().unwrap_or_default()),
            &render("app.html", &ctx)?,
        )?;
    }
    for (prefix, title, map, gs) in [
        ("teams", "Teams", &teams, &team_groups),
        ("tiers", "Tiers", &tiers, &tier_groups),
    ] {
        let mut ctx = base_ctx(1);
        ctx.insert("heading", title);
        ctx.insert("groups", gs);
        write(&format!("{prefix}/index.html"), &render("list.html", &ctx)?)?;
        for (k, members) in map {
            let mut ctx = base_ctx(2);
            let heading = if prefix == "teams" {
                team_name(k)
            } else {
                format!("Tier: {k}")
            };
            ctx.insert("heading", &heading);
            ctx.insert(
                "intro",
                &cat.teams.get(k).and_then(|t| t.description.clone()),
            );
            ctx.insert("apps", members);
            write(
                &format!("{prefix}/{k}/index.html"),
                &render("list.html", &ctx)?,
            )?;
        }
    }
    for (k, members) in &tags {
        let mut ctx = base_ctx(2);
        ctx.insert("heading", &format!("#{k}"));
        ctx.insert("apps", members);
        write(&format!("tags/{k}/index.html"), &render("list.html", &ctx)?)?;
    }
    let today = opts
        .today
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let mut ctx = base_ctx(1);
    ctx.insert("dashboard", &dashboard(&apps, &history, today));
    write("dashboard/index.html", &render("dashboard.html", &ctx)?)?;

    // static assets: defaults, then the catalog's overrides
    for f in DEFAULT_TEMPLATES
        .get_dir("static")
        .map(|d| d.files().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        write(
            &f.path().to_string_lossy(),
            &String::from_utf8_lossy(f.contents()),
        )?;
    }
    for path in snap
        .entries
        .keys()
        .filter(|p| p.starts_with("site-templates/static/"))
    {
        if let Ok(Ok(bytes)) = snap.read(path, 8 * 1024 * 1024) {
            write(
                &path["site-templates/".len()..],
                &String::from_utf8_lossy(&bytes),
            )?;
        }
    }
    // the machine-readable catalog (shape version 1)
    let machine: Vec<Value> = cat
        .apps
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(&e.app).expect("app serializes");
            v["url"] = app_url(&e.app.id).into();
            v
        })
        .collect();
    write(
        "catalog.json",
        &serde_json::to_string_pretty(
            &json!({ "version": 1, "title": site["title"], "apps": machine }),
        )
        .expect("json"),
    )?;

    publish::swap_in(&opts.out, &dir).map_err(io(&opts.out))?;
    Ok(Built {
        pages,
        dir,
        report: checked.report,
    })
}
