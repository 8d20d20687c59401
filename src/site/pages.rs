//! The pages of the site and their incremental rendering. Every page is a template plus a JSON
//! context; its fingerprint is a hash of both (and of the README it renders, and of the
//! templates). A build renders only the pages whose fingerprint changed since the build it
//! replaces, and hard-links the others from that build's folder: a new folder is still written
//! whole, so publishing stays atomic, but an edit to one app re-renders only its page and the
//! lists it appears in.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::{Value, json};

use super::model::{FACETS, Model};
use super::{SiteError, error_chain, markdown};

/// Apps per list page; longer lists continue on `2/`, `3/`…
pub const PER_PAGE: usize = 200;

/// One page to render.
pub struct Page {
    /// Its file, from the site root (`apps/x/index.html`).
    pub path: String,
    /// The template.
    pub template: &'static str,
    /// What the template reads (besides `site` and `root`).
    pub ctx: Value,
    /// The app the page shows: the template reads it as `app`, with its rendered README as
    /// `app.readme_html`.
    pub app: Option<usize>,
}

/// What the card of an app in a list shows.
fn card(a: &Value) -> Value {
    json!({
        "name": a["name"], "url": a["url"], "summary": a["summary"], "tier": a["tier"], "status": a["status"],
        "team_name": a["team_name"], "runtime": a["runtime"], "classification": a["classification"], "risk": a["risk"],
        "monthly_usd": a["monthly_usd"], "new": a["new"],
        "users": a["usage"]["active_users"], "teams": a["usage"]["teams"],
    })
}

/// Up to `n` apps with the highest `key` (a number in the card), highest first, ties by name.
fn top(cards: &[Value], key: &str, min: u64, n: usize) -> Vec<Value> {
    let mut v: Vec<&Value> = cards
        .iter()
        .filter(|c| c[key].as_u64().is_some_and(|x| x >= min))
        .collect();
    v.sort_by(|a, b| b[key].as_u64().cmp(&a[key].as_u64()));
    v.into_iter().take(n).cloned().collect()
}

/// A list of app indexes kept in the model's JSON.
fn indexes(v: &Value) -> Vec<usize> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i.as_u64().map(|i| i as usize))
        .collect()
}

/// `dir/`, `dir/2/`, … for a list of `n` items.
fn paginate(dir: &str, n: usize) -> Vec<(usize, String)> {
    let pages = n.div_ceil(PER_PAGE).max(1);
    (0..pages)
        .map(|i| {
            let path = if i == 0 {
                dir.to_string()
            } else {
                format!("{dir}{}/", i + 1)
            };
            (i, path)
        })
        .collect()
}

/// List pages of apps (paginated) with a heading and an optional intro.
fn app_lists(
    out: &mut Vec<Page>,
    cards: &[Value],
    dir: &str,
    heading: &str,
    intro: Value,
    members: &[usize],
    extra: Value,
) {
    let pages = paginate(dir, members.len());
    let total = pages.len();
    for (i, path) in &pages {
        let slice = &members[i * PER_PAGE..((i + 1) * PER_PAGE).min(members.len())];
        out.push(Page {
            path: format!("{path}index.html"),
            template: "list.html",
            ctx: json!({
                "heading": heading, "intro": intro, "extra": extra, "total": members.len(),
                "apps": slice.iter().map(|j| cards[*j].clone()).collect::<Vec<_>>(),
                "page": { "number": i + 1, "of": total,
                          "prev": (*i > 0).then(|| pages[i - 1].1.clone()),
                          "next": pages.get(i + 1).map(|p| p.1.clone()) },
            }),
            app: None,
        });
    }
}

/// Every page of the site.
pub fn list(model: &Model) -> Vec<Page> {
    let mut out = Vec::new();
    let cards: Vec<Value> = model.apps.par_iter().map(card).collect();
    let facets: Vec<Value> = model
        .facets
        .iter()
        .map(|f| json!({ "title": f.def.title, "prefix": f.def.prefix, "values": f.values.values().collect::<Vec<_>>() }))
        .collect();
    let featured: Vec<Value> = model
        .collections
        .iter()
        .filter(|c| c["featured"] == true)
        .map(|c| {
            let mut c = c.clone();
            c["apps"] = indexes(&c["members"])
                .into_iter()
                .map(|i| cards[i].clone())
                .collect();
            c
        })
        .collect();
    out.push(Page {
        path: "index.html".into(),
        template: "index.html",
        ctx: json!({
            "count": model.apps.len(), "teams": model.facets[0].values.len(), "facets": facets,
            "collections": featured, "recent": model.recent.iter().take(12).collect::<Vec<_>>(),
            "filters": FACETS.iter().map(|f| f.filter).collect::<Vec<_>>(),
            "most_used": top(&cards, "users", 1, 6), "most_reused": top(&cards, "teams", 2, 6),
            "new_apps": cards.iter().filter(|c| c["new"] == true).take(6).collect::<Vec<_>>(),
        }),
        app: None,
    });
    out.push(Page {
        path: "404.html".into(),
        template: "404.html",
        ctx: json!({}),
        app: None,
    });
    for (i, a) in model.apps.iter().enumerate() {
        out.push(Page {
            path: format!("{}index.html", a["url"].as_str().unwrap_or_default()),
            template: "app.html",
            ctx: json!({}),
            app: Some(i),
        });
    }
    let all: Vec<usize> = (0..model.apps.len()).collect();
    app_lists(
        &mut out,
        &cards,
        "apps/",
        "All apps",
        Value::Null,
        &all,
        Value::Null,
    );
    for f in &model.facets {
        out.push(Page {
            path: format!("{}/index.html", f.def.prefix),
            template: "list.html",
            ctx: json!({ "heading": f.def.title, "groups": f.values.values().collect::<Vec<_>>() }),
            app: None,
        });
        // the value pages of a facet are many (tags): made in parallel
        let values: Vec<&super::model::FacetValue> = f.values.values().collect();
        let made: Vec<Vec<Page>> = values
            .par_iter()
            .map(|v| {
                let heading = match f.def.filter {
                    "tag" => format!("#{}", v.name),
                    "team" => v.name.clone(),
                    _ => format!("{}: {}", f.def.title, v.name),
                };
                let intro = if f.def.filter == "team" {
                    model.apps[v.apps[0]]["team_description"].clone()
                } else {
                    Value::Null
                };
                let mut pages = Vec::new();
                app_lists(
                    &mut pages,
                    &cards,
                    &v.url,
                    &heading,
                    intro,
                    &v.apps,
                    Value::Null,
                );
                pages
            })
            .collect();
        out.extend(made.into_iter().flatten());
    }
    out.push(Page {
        path: "collections/index.html".into(),
        template: "list.html",
        ctx: json!({ "heading": "Collections", "groups": model.collections }),
        app: None,
    });
    for c in &model.collections {
        let members = indexes(&c["members"]);
        app_lists(
            &mut out,
            &cards,
            c["url"].as_str().unwrap_or_default(),
            c["name"].as_str().unwrap_or_default(),
            c["description"].clone(),
            &members,
            Value::Null,
        );
    }
    out.push(Page {
        path: "costs/index.html".into(),
        template: "costs.html",
        ctx: json!({
            "centers": model.costs,
            "monthly": super::model::money(model.costs.iter().filter_map(|c| c["monthly_usd"].as_f64()).fold(0.0, |a, b| a + b)),
        }),
        app: None,
    });
    for c in &model.costs {
        let members = indexes(&c["members"]);
        app_lists(
            &mut out,
            &cards,
            c["url"].as_str().unwrap_or_default(),
            &format!("Cost center {}", c["name"].as_str().unwrap_or_default()),
            Value::Null,
            &members,
            json!({ "cost": c }),
        );
    }
    out.push(Page {
        path: "dashboard/index.html".into(),
        template: "dashboard.html",
        ctx: json!({ "dashboard": model.dashboard }),
        app: None,
    });
    out
}

/// The fingerprints of a finished build, from its state file in Bazaar's ledger (see
/// `publish`). Paths that would leave the build folder are dropped.
pub fn read_state(file: &Path) -> HashMap<String, u64> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (h, p) = l.split_once('\t')?;
            super::publish::safe_relative(p)
                .then(|| Some((p.to_string(), u64::from_str_radix(h, 16).ok()?)))?
        })
        .collect()
}

/// What rendering did.
#[derive(Debug, Default, Clone)]
pub struct Rendered {
    /// Pages rendered by Tera.
    pub rendered: usize,
    /// Pages left as they were (or linked from the published build).
    pub reused: usize,
    /// The fingerprints to record (`STATE_FILE`).
    state: String,
}

/// Feeds what is written to a hasher.
struct HashWriter(std::collections::hash_map::DefaultHasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How deep a page is: its `root` is that many `../`.
fn depth(path: &str) -> usize {
    path.matches('/').count()
}

/// Replaces a file without touching its old inode (which another build folder may share
/// through a hard link).
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::write(path, bytes)
}

/// Renders the pages into `dir`, the build folder being updated: a page whose fingerprint is the
/// one `dir` already holds is left alone; one that the published folder `live` holds (with its
/// fingerprints) is hard-linked from it; the rest are rendered. Pages `dir` held that the site
/// no longer has are removed. `dir`'s fingerprints must have been read (and its state file
/// removed) by the caller.
pub fn write(
    pages: &[Page],
    model: &Model,
    tera: &tera::Tera,
    templates_fp: u64,
    dir: &Path,
    held: &HashMap<String, u64>,
    live: Option<(&Path, HashMap<String, u64>)>,
) -> Result<Rendered, SiteError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| SiteError::Io { path: p, source: e }
    };
    let (live, live_state) = match live {
        Some((l, s)) => (Some(l), s),
        None => (None, HashMap::new()),
    };
    let parents: BTreeSet<PathBuf> = pages
        .iter()
        .filter_map(|p| dir.join(&p.path).parent().map(Path::to_path_buf))
        .collect();
    for p in &parents {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    let results: Vec<Result<(u64, bool), SiteError>> = pages
        .par_iter()
        .map(|page| {
            // the JSON is streamed into the hasher, never built as a string; in blocks, as
            // the hasher takes a few bytes at a time slowly (the same bytes: the same hash)
            let mut h = HashWriter(std::collections::hash_map::DefaultHasher::new());
            templates_fp.hash(&mut h.0);
            page.template.hash(&mut h.0);
            let mut json = std::io::BufWriter::with_capacity(16 * 1024, &mut h);
            let _ = serde_json::to_writer(&mut json, &page.ctx);
            let _ = serde_json::to_writer(&mut json, &model.site);
            if let Some(i) = page.app {
                let _ = serde_json::to_writer(&mut json, &model.apps[i]);
            }
            let _ = std::io::Write::flush(&mut json);
            drop(json);
            if let Some(i) = page.app {
                model.readmes[i].hash(&mut h.0);
            }
            let fp = h.0.finish();
            let target = dir.join(&page.path);
            if held.get(&page.path) == Some(&fp)
                && std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_file())
            {
                return Ok((fp, false));
            }
            if let Some(live) = live
                && live_state.get(&page.path) == Some(&fp)
            {
                let from = live.join(&page.path);
                let _ = std::fs::remove_file(&target);
                // only a regular file is linked (a link would be linked as a link)
                if std::fs::symlink_metadata(&from).is_ok_and(|m| m.is_file())
                    && (std::fs::hard_link(&from, &target).is_ok()
                        || std::fs::copy(&from, &target).is_ok())
                {
                    return Ok((fp, false));
                }
            }
            // the context as one JSON object, moved into Tera's (`Context::insert` would
            // serialize each value again)
            let mut values = match &page.ctx {
                serde_json::Value::Object(m) => m.clone(),
                _ => {
                    return Err(SiteError::Template(format!(
                        "{}: a page's context must be a JSON object",
                        page.path
                    )));
                }
            };
            values.insert("site".into(), model.site.clone());
            values.insert("root".into(), "../".repeat(depth(&page.path)).into());
            if let Some(i) = page.app {
                let mut app = model.apps[i].clone();
                app["readme_html"] = markdown::render(&model.readmes[i]).into();
                values.insert("app".into(), app);
            }
            let ctx = tera::Context::from_value(serde_json::Value::Object(values))
                .map_err(|e| SiteError::Template(error_chain(&e)))?;
            let html = tera
                .render(page.template, &ctx)
                .map_err(|e| SiteError::Template(format!("{}: {}", page.path, error_chain(&e))))?;
            replace(&target, html.as_bytes()).map_err(io(&target))?;
            Ok((fp, true))
        })
        .collect();
    let mut state = String::with_capacity(pages.len() * 48);
    let mut stats = Rendered::default();
    let mut now: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (page, r) in pages.iter().zip(results) {
        let (fp, rendered) = r?;
        if rendered {
            stats.rendered += 1;
        } else {
            stats.reused += 1;
        }
        now.insert(page.path.as_str());
        state.push_str(&format!("{fp:016x}\t{}\n", page.path));
    }
    // pages of apps, tags or teams that are gone
    for gone in held
        .keys()
        .filter(|p| !now.contains(p.as_str()) && super::publish::safe_relative(p))
    {
        let path = dir.join(gone);
        let _ = std::fs::remove_file(&path);
        if let Some(parent) = path.parent() {
            let _ = std::fs::remove_dir(parent); // only when empty
        }
    }
    stats.state = state;
    Ok(stats)
}

/// Records the fingerprints of a [`write`] in the ledger's `file`: called once everything else
/// of the build is in place, so a folder with a state file always holds a whole build.
pub fn commit_state(file: &Path, rendered: &Rendered) -> std::io::Result<()> {
    super::publish::write_atomic(file, rendered.state.as_bytes())
}
