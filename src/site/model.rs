//! The page model: every fact the templates show, computed once from a checked catalog and its
//! history. Apps are JSON values (what Tera reads); facets, collections, cost centers and the
//! dashboard refer to them by index.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::history::{History, median};
use crate::catalog::{Catalog, team_of};
use crate::check::Checked;
use crate::diagnostics::Severity;

/// A browsable dimension of the catalog: one page per value, and a search filter.
pub struct FacetDef {
    /// The search filter's name (Pagefind).
    pub filter: &'static str,
    /// The app model's field holding the value (a string or a list of strings).
    pub field: &'static str,
    /// The folder of its pages.
    pub prefix: &'static str,
    /// The heading of its index page.
    pub title: &'static str,
}

/// The facets, in the order the index shows them.
pub const FACETS: &[FacetDef] = &[
    FacetDef {
        filter: "team",
        field: "team",
        prefix: "teams",
        title: "Teams",
    },
    FacetDef {
        filter: "tag",
        field: "tags",
        prefix: "tags",
        title: "Tags",
    },
    FacetDef {
        filter: "tier",
        field: "tier",
        prefix: "tiers",
        title: "Tiers",
    },
    FacetDef {
        filter: "lifecycle",
        field: "status",
        prefix: "lifecycle",
        title: "Lifecycle",
    },
    FacetDef {
        filter: "runtime",
        field: "runtime",
        prefix: "runtimes",
        title: "Runtimes",
    },
    FacetDef {
        filter: "data",
        field: "classification",
        prefix: "data",
        title: "Data classification",
    },
    FacetDef {
        filter: "scope",
        field: "scopes",
        prefix: "scopes",
        title: "OAuth scopes",
    },
];

/// One value of a facet.
#[derive(Serialize, Clone)]
pub struct FacetValue {
    /// Its folder name.
    pub slug: String,
    /// What readers see.
    pub name: String,
    /// Its page, from the site root.
    pub url: String,
    /// How many apps have it.
    pub count: usize,
    /// The apps (indexes into [`Model::apps`]).
    #[serde(skip)]
    pub apps: Vec<usize>,
}

/// A facet with its values.
pub struct Facet {
    /// Its definition.
    pub def: &'static FacetDef,
    /// Values by slug.
    pub values: BTreeMap<String, FacetValue>,
}

/// Everything the pages show.
pub struct Model {
    /// Title and base URL.
    pub site: Value,
    /// Every app, sorted by name.
    pub apps: Vec<Value>,
    /// Each app's README Markdown (untrusted), parallel to `apps`.
    pub readmes: Vec<String>,
    /// The facets.
    pub facets: Vec<Facet>,
    /// Collections with their member apps.
    pub collections: Vec<Value>,
    /// Cost centers with their apps and monthly totals.
    pub costs: Vec<Value>,
    /// Governance numbers.
    pub dashboard: Value,
    /// The newest app changes (with the app's name and page when it still exists).
    pub recent: Vec<Value>,
}

/// A folder name for any value: lowercase letters, digits and dashes.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() { "_".into() } else { out }
}

/// Dollars for readers: `$1,350` or `$1,350.50`.
pub fn money(x: f64) -> String {
    let cents = (x * 100.0).round() as i64;
    let (whole, frac) = (cents.abs() / 100, cents.abs() % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if cents < 0 { "-" } else { "" };
    if frac == 0 {
        format!("{sign}${grouped}")
    } else {
        format!("{sign}${grouped}.{frac:02}")
    }
}

/// `url` when it is an absolute http(s) URL, the only links the site renders from catalog data
/// (`javascript:`, `data:` and the like never become links).
pub fn web_link(url: &str) -> Option<String> {
    url::Url::parse(url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .map(|u| u.to_string())
}

/// The pages' Content-Security-Policy: only the site's own scripts, styles and requests
/// (Pagefind's search runs WebAssembly: `'wasm-unsafe-eval'`, which allows compiling wasm but
/// no `eval` of text), images from the site or any https address, no plugins, frames, form
/// targets or `<base>` elsewhere; plus the sources `[site.csp]` adds.
pub fn content_security_policy(extra: Option<&crate::manifest::Csp>) -> String {
    let add = |base: &str, more: Option<&Vec<String>>| {
        let mut s = base.to_string();
        for m in more.into_iter().flatten() {
            s.push(' ');
            s.push_str(m);
        }
        s
    };
    let frames = match extra.map(|e| &e.frame_src).filter(|f| !f.is_empty()) {
        Some(f) => add("frame-src", Some(f)),
        None => "frame-src 'none'".into(),
    };
    [
        "default-src 'self'".to_string(),
        add(
            "script-src 'self' 'wasm-unsafe-eval'",
            extra.map(|e| &e.script_src),
        ),
        add("style-src 'self'", extra.map(|e| &e.style_src)),
        add("img-src 'self' https:", extra.map(|e| &e.img_src)),
        add("font-src 'self'", extra.map(|e| &e.font_src)),
        add("connect-src 'self'", extra.map(|e| &e.connect_src)),
        frames,
        "object-src 'none'".into(),
        "base-uri 'self'".into(),
        "form-action 'self'".into(),
    ]
    .join("; ")
}

/// An app's page, from the site root.
pub fn app_url(id: &str) -> String {
    format!("apps/{id}/")
}

/// What an SBOM kept in the catalog says, in a few numbers (CycloneDX or SPDX JSON).
fn sbom_summary(doc: &Value) -> Value {
    let doc = &doc["document"];
    let (format, components) = if doc["bomFormat"] == "CycloneDX" {
        (
            format!("CycloneDX {}", doc["specVersion"].as_str().unwrap_or("?")),
            doc["components"].as_array(),
        )
    } else if doc["spdxVersion"].is_string() {
        (
            doc["spdxVersion"].as_str().unwrap_or("SPDX").to_string(),
            doc["packages"].as_array(),
        )
    } else {
        return Value::Null;
    };
    let components = components.map(Vec::as_slice).unwrap_or_default();
    let mut licenses: BTreeMap<String, usize> = BTreeMap::new();
    for c in components {
        let mut any = false;
        for l in c["licenses"].as_array().into_iter().flatten() {
            let id = l["license"]["id"]
                .as_str()
                .or(l["license"]["name"].as_str())
                .or(l["expression"].as_str());
            if let Some(id) = id {
                *licenses.entry(id.to_string()).or_default() += 1;
                any = true;
            }
        }
        if let Some(id) = c["licenseConcluded"]
            .as_str()
            .filter(|s| *s != "NOASSERTION")
        {
            *licenses.entry(id.to_string()).or_default() += 1;
            any = true;
        }
        if !any {
            *licenses.entry("unknown".into()).or_default() += 1;
        }
    }
    let mut top: Vec<(String, usize)> = licenses.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(6);
    json!({
        "format": format, "components": components.len(),
        "licenses": top.into_iter().map(|(l, n)| json!({ "id": l, "count": n })).collect::<Vec<_>>(),
    })
}

/// Builds the model; `readmes` are the apps' README texts in the catalog's order, `similar`
/// each app's similar apps and the clusters of likely duplicates ([`super::similar::models`]).
pub fn build(
    checked: &Checked,
    history: &History,
    today: chrono::NaiveDate,
    source: &str,
    readmes: Vec<String>,
    (similar, clusters): (Vec<Value>, Value),
) -> Model {
    let cat: &Catalog = &checked.catalog;
    let snap = &checked.head;
    let site = json!({
        "title": cat.config.as_ref().map_or("App catalog".to_string(), |c| c.site.title.clone()),
        "base_url": cat.config.as_ref().map(|c| c.site.base_url.to_string()),
        "csp": content_security_policy(cat.config.as_ref().map(|c| &c.site.csp)),
        "source": source,
    });
    let verdicts: BTreeMap<&str, &crate::check::AppResult> = checked
        .verdict
        .apps
        .iter()
        .map(|a| (a.dir.as_str(), a))
        .collect();
    let team_name = |slug: &str| {
        cat.teams
            .get(slug)
            .map_or(slug.to_string(), |t| t.name.clone())
    };
    let mut warnings: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for f in &checked.report.findings {
        if let (Severity::Warning, Some(app)) = (f.severity, f.app.as_deref()) {
            warnings
                .entry(app)
                .or_default()
                .push(json!({ "message": f.message, "deadline": f.deadline, "code": f.code }));
        }
    }
    let signals = super::usage::load(snap, cat);
    use rayon::prelude::*;
    let mut apps: Vec<(Value, String)> = cat
        .apps
        .par_iter()
        .zip(readmes.into_par_iter())
        .zip(similar.into_par_iter())
        .map(|((e, readme), similar)| {
        let a = &e.app;
        let v = verdicts.get(e.dir.as_str());
        let replacement = a
            .lifecycle
            .replacement
            .as_ref()
            .and_then(|r| cat.app(r))
            .map(|r| json!({ "name": r.app.name, "url": app_url(&r.app.id) }));
        let sec = a.security.as_ref();
        let sbom = crate::policy::sbom_input(snap, e);
        let scopes = a
            .auth
            .as_ref()
            .map(|x| x.scopes.clone())
            .unwrap_or_default();
        let team = team_of(&e.dir);
        let in_collections: Vec<Value> = cat
            .collections
            .iter()
            .filter(|(_, c)| c.apps.contains(&a.id))
            .map(|(k, c)| json!({ "name": c.name, "url": format!("collections/{}/", slug(k)) }))
            .collect();
        let model = json!({
            "id": a.id, "name": a.name, "version": a.version.to_string(), "summary": a.summary,
            "description": a.description, "url": app_url(&a.id), "dir": e.dir,
            "team": team, "team_name": team_name(team), "team_description": cat.teams.get(team).and_then(|t| t.description.clone()),
            "tags": a.tags, "tier": a.tier, "runtime": a.runtime, "classification": a.data.classification, "status": a.lifecycle.status,
            "endpoint": a.endpoint.as_ref().and_then(|u| web_link(u.as_str())), "owner": a.owner.primary, "backup": a.owner.backup,
            "channel": a.support.as_ref().and_then(|s| s.channel.clone()), "sla": a.support.as_ref().and_then(|s| s.sla.clone()),
            "oncall": a.support.as_ref().and_then(|s| s.oncall.clone()), "runbook": a.support.as_ref().and_then(|s| s.runbook.as_ref().and_then(|u| web_link(u.as_str()))),
            "auth": a.auth.as_ref().map(|x| x.kind),
            "scopes": scopes, "scope_links": scopes.iter().map(|s| json!({ "name": s, "slug": slug(s) })).collect::<Vec<_>>(),
            "residency": a.data.residency, "external_transfer": a.data.external_transfer, "justification": a.data.justification,
            "sbom_url": sec.and_then(|s| s.sbom.as_deref()).filter(|s| s.starts_with("https://")).and_then(web_link),
            "sbom_file": sec.and_then(|s| s.sbom_path()).map(str::to_string),
            "sbom_summary": if sbom["parsed"] == true { sbom_summary(&sbom) } else { Value::Null },
            "digest": sec.and_then(|s| s.artifact_digest.clone()),
            "monthly_usd": a.cost.as_ref().and_then(|c| c.monthly_usd),
            "monthly": a.cost.as_ref().and_then(|c| c.monthly_usd).map(money),
            "cost_center": a.cost.as_ref().and_then(|c| c.center.clone()),
            "cost_center_slug": a.cost.as_ref().and_then(|c| c.center.as_deref()).map(slug),
            "last_reviewed": a.lifecycle.last_reviewed, "review_by": a.lifecycle.review_by, "expires": a.lifecycle.expires,
            "deprecation_reason": a.lifecycle.deprecation_reason, "retire_on": a.lifecycle.retire_on, "replacement": replacement,
            "attested_until": a.lifecycle.attested_until, "lifecycle": super::lifecycle::app_state(cat, a, history),
            "risk": v.map_or("unknown", |v| v.risk.as_str()), "required_roles": v.map(|v| v.required_roles.clone()).unwrap_or_default(),
            "warnings": warnings.get(a.id.as_str()).cloned().unwrap_or_default(),
            "trail": history.trails.get(&a.id).cloned().unwrap_or_default(),
            "versions": history.versions.get(&e.dir).cloned().unwrap_or_default(),
            "collections": in_collections,
            "similar": similar,
            "added": history.versions.get(&e.dir).and_then(|v| v.iter().rev().find(|x| x["kind"] == "added")).and_then(|x| x["date"].as_str().map(str::to_string)),
            "usage": super::usage::app_model(&signals, &a.id, today, a.cost.as_ref().and_then(|c| c.monthly_usd)),
        });
        (model, readme)
    })
    .collect();
    apps.sort_by(|a, b| {
        let key = |v: &Value| v["name"].as_str().unwrap_or("").to_lowercase();
        key(&a.0)
            .cmp(&key(&b.0))
            .then(a.0["id"].as_str().cmp(&b.0["id"].as_str()))
    });
    let (mut apps, readmes): (Vec<Value>, Vec<String>) = apps.into_iter().unzip();
    // new: the folder was added within a month of today
    let new_since = (today - chrono::Duration::days(31)).to_string();
    for a in &mut apps {
        let new = a["added"].as_str().is_some_and(|d| d >= new_since.as_str());
        a["new"] = new.into();
    }

    let facets = FACETS
        .iter()
        .map(|def| {
            let mut values: BTreeMap<String, FacetValue> = BTreeMap::new();
            for (i, a) in apps.iter().enumerate() {
                let items: Vec<&str> = match &a[def.field] {
                    Value::Array(xs) => xs.iter().filter_map(Value::as_str).collect(),
                    Value::String(s) => vec![s.as_str()],
                    _ => vec![],
                };
                for item in items {
                    let s = slug(item);
                    let name = if def.field == "team" {
                        team_name(item)
                    } else {
                        item.to_string()
                    };
                    let v = values.entry(s.clone()).or_insert_with(|| FacetValue {
                        url: format!("{}/{s}/", def.prefix),
                        slug: s,
                        name,
                        count: 0,
                        apps: Vec::new(),
                    });
                    v.count += 1;
                    v.apps.push(i);
                }
            }
            Facet { def, values }
        })
        .collect();

    let by_id: BTreeMap<&str, usize> = apps
        .iter()
        .enumerate()
        .map(|(i, a)| (a["id"].as_str().unwrap_or_default(), i))
        .collect();
    let collections = cat
        .collections
        .iter()
        .map(|(k, c)| {
            let members: Vec<usize> = c.apps.iter().filter_map(|id| by_id.get(id.as_str()).copied()).collect();
            json!({ "slug": slug(k), "url": format!("collections/{}/", slug(k)), "name": c.name,
                    "description": c.description, "featured": c.featured, "members": members, "count": members.len() })
        })
        .collect();

    // cost showback: every cost center named by an app or a team
    let mut centers: BTreeMap<String, (String, Vec<usize>, Vec<String>)> = BTreeMap::new();
    for (i, a) in apps.iter().enumerate() {
        if let Some(c) = a["cost_center"].as_str() {
            centers
                .entry(slug(c))
                .or_insert_with(|| (c.to_string(), vec![], vec![]))
                .1
                .push(i);
        }
    }
    for (team_slug, t) in &cat.teams {
        for c in &t.cost_centers {
            centers
                .entry(slug(c))
                .or_insert_with(|| (c.clone(), vec![], vec![]))
                .2
                .push(team_name(team_slug));
        }
    }
    let costs = centers
        .into_iter()
        .map(|(s, (name, members, teams))| {
            // (an empty float sum is -0.0)
            let total: f64 = members
                .iter()
                .filter_map(|i| apps[*i]["monthly_usd"].as_f64())
                .fold(0.0, |a, b| a + b);
            let mut members = members;
            members.sort_by(|a, b| {
                let m = |i: &usize| apps[*i]["monthly_usd"].as_f64().unwrap_or(0.0);
                m(b).total_cmp(&m(a))
            });
            json!({ "slug": s, "url": format!("costs/{s}/"), "name": name, "teams": teams,
                    "members": members, "count": members.len(), "monthly_usd": total, "yearly_usd": total * 12.0,
                    "monthly": money(total), "yearly": money(total * 12.0) })
        })
        .collect();

    let recent = history
        .recent
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Some(e) = cat
                .apps
                .iter()
                .find(|e| Some(e.dir.as_str()) == c["dir"].as_str())
            {
                c["name"] = e.app.name.clone().into();
                c["url"] = app_url(&e.app.id).into();
                if let Some(ev) = history
                    .lifecycle
                    .get(&e.app.id)
                    .and_then(|l| l.iter().find(|x| x["commit"] == c["full_commit"]))
                {
                    c["lifecycle"] = ev.clone();
                }
            } else {
                c["name"] = c["dir"]
                    .as_str()
                    .map(|d| d.rsplit('/').next().unwrap_or(d))
                    .into();
            }
            c
        })
        .collect();

    let mut dashboard = dashboard(&apps, history, today);
    dashboard["duplicates"] = clusters;
    dashboard["lifecycle"] = super::lifecycle::teams(&apps, today);
    dashboard["usage"] = super::usage::dashboard(&apps);
    let mut charts = super::trends::charts(cat, &signals, history, today);
    let open: Vec<(&str, Option<chrono::NaiveDate>)> = checked
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .filter_map(|f| Some((f.app.as_deref()?, f.deadline)))
        .collect();
    let months = super::trends::MONTHS;
    charts.extend(super::timeline::charts(
        cat,
        &history.changes,
        &open,
        today,
        months,
    ));
    dashboard["charts"] = charts.into();
    Model {
        site,
        apps,
        readmes,
        facets,
        collections,
        costs,
        dashboard,
        recent,
    }
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
    let days_left = |a: &Value| {
        a["review_by"]
            .as_str()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(|d| (d - today).num_days())
    };
    let due = |days: i64| {
        apps.iter()
            .filter(|a| days_left(a).is_some_and(|d| d <= days))
            .count()
    };
    let mut soon: Vec<Value> = apps
        .iter()
        .filter_map(|a| {
            let d = days_left(a).filter(|d| *d <= 90)?;
            Some(json!({ "name": a["name"], "url": a["url"], "review_by": a["review_by"], "days": d, "team_name": a["team_name"] }))
        })
        .collect();
    soon.sort_by_key(|v| v["days"].as_i64());
    json!({
        "apps": apps.len(),
        "tiers": count_by("tier"), "classes": count_by("classification"), "statuses": count_by("status"),
        "sbom": { "with": with_sbom, "of": reviewed.len() },
        "due": { "d30": due(30), "d60": due(60), "d90": due(90), "list": soon },
        "warnings": apps.iter().map(|a| a["warnings"].as_array().map_or(0, Vec::len)).sum::<usize>(),
        "median_hours": median(history.lead_hours.clone()).map(|h| (h * 10.0).round() / 10.0),
        "merges": history.lead_hours.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::{money, slug};

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(0.0), "$0");
        assert_eq!(money(-0.0), "$0");
        assert_eq!(money(95.0), "$95");
        assert_eq!(money(1350.0), "$1,350");
        assert_eq!(money(16200.5), "$16,200.50");
        assert_eq!(money(1234567.891), "$1,234,567.89");
    }

    #[test]
    fn slugs_are_folder_names() {
        assert_eq!(slug("calendar:read"), "calendar-read");
        assert_eq!(slug("CC-2200"), "cc-2200");
        assert_eq!(slug("  Ünïcode  "), "n-code");
        assert_eq!(slug("../.."), "_");
    }
}
