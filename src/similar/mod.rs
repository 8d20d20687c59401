//! Similar apps: for each app, the apps most like it, from their words (name, summary,
//! description, README, tags: TF-IDF over the catalog's own vocabulary, stemmed) and their
//! structure (same API hosts and paths, scopes, tags), each match with the evidence in words.
//! `check` notes likely duplicates of an added app (BZ0220, never blocking), `bazaar similar`
//! lists them, and the site shows them on app pages and as clusters on the dashboard.

mod corpus;
mod index;
mod prepared;
mod text;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::catalog::{AppChange, Catalog, Diff, Snapshot};
use crate::diagnostics::{Code, Finding};
use crate::manifest::{App, Config, SimilarSettings};

pub use corpus::{corpus, doc_of, docs_cached, docs_of, prepared};
pub use index::{Doc, Index, Prepared, Scored};

/// One similar app with the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its folder.
    pub dir: String,
    /// How alike, 0 to 1.
    pub score: f64,
    /// How alike their words are (cosine), 0 to 1.
    pub text: f64,
    /// How alike their APIs, scopes and tags are (cosine), 0 to 1.
    pub structure: f64,
    /// The evidence, e.g. "same API host expenses.finance.acme.internal".
    pub reasons: Vec<String>,
    /// At or above the duplicate threshold.
    pub likely_duplicate: bool,
    /// Why the app differs, when one of the two manifests says so (`[similar] distinct_from`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct: Option<String>,
}

/// The settings in force (defaults without `bazaar.toml`).
pub fn settings(config: Option<&Config>) -> SimilarSettings {
    config.map(|c| c.similar.clone()).unwrap_or_default()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn shared<'a>(a: &'a [String], b: &[String]) -> Vec<&'a str> {
    let b: BTreeSet<&str> = b.iter().map(String::as_str).collect();
    let mut out: Vec<&str> = a
        .iter()
        .map(String::as_str)
        .filter(|x| b.contains(x))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The evidence that app `b` is like app `a`, strongest first.
pub fn reasons(index: &Index, a: usize, s: &Scored) -> Vec<String> {
    let (da, db) = (&index.docs[a], &index.docs[s.doc]);
    let mut out = Vec::new();
    let apis = shared(&da.apis, &db.apis);
    let hosts = shared(&da.hosts, &db.hosts);
    if !apis.is_empty() {
        out.push(format!(
            "same API {}",
            apis.iter().take(2).copied().collect::<Vec<_>>().join(", ")
        ));
    }
    let other_hosts: Vec<&str> = hosts
        .into_iter()
        .filter(|h| !apis.iter().any(|a| a.starts_with(&format!("{h}/"))))
        .collect();
    if !other_hosts.is_empty() {
        out.push(format!(
            "same API host {}",
            other_hosts
                .iter()
                .take(2)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let scopes = shared(&da.scopes, &db.scopes);
    if !scopes.is_empty() {
        out.push(format!(
            "{} ({})",
            plural(scopes.len(), "shared scope", "shared scopes"),
            scopes.join(", ")
        ));
    }
    let tags = shared(&da.tags, &db.tags);
    if !tags.is_empty() {
        out.push(format!(
            "{} ({})",
            plural(tags.len(), "shared tag", "shared tags"),
            tags.join(", ")
        ));
    }
    if s.text >= 0.05 {
        let words = index.shared_words(a, s.doc, 4);
        out.push(if words.is_empty() {
            format!("text {:.2} alike", s.text)
        } else {
            format!("text {:.2} alike ({})", s.text, words.join(", "))
        });
    }
    out
}

/// Why two apps differ, when either manifest says so.
fn distinct(index: &Index, a: usize, b: usize) -> Option<String> {
    let (da, db) = (&index.docs[a], &index.docs[b]);
    da.distinct_from
        .iter()
        .find(|(id, _)| *id == db.id)
        .or_else(|| db.distinct_from.iter().find(|(id, _)| *id == da.id))
        .map(|(_, why)| why.clone())
}

/// The apps like app `q`, from the `related_at` threshold, best first.
pub fn matches(index: &Index, q: usize, s: &SimilarSettings) -> Vec<Match> {
    index
        .query(q, s.related_at, s.max_listed)
        .into_iter()
        .map(|m| to_match(index, q, &m, s))
        .collect()
}

fn to_match(index: &Index, q: usize, m: &Scored, s: &SimilarSettings) -> Match {
    let d = &index.docs[m.doc];
    Match {
        id: d.id.clone(),
        name: d.name.clone(),
        dir: d.dir.clone(),
        score: m.score,
        text: m.text,
        structure: m.structure,
        reasons: reasons(index, q, m),
        likely_duplicate: m.score >= s.duplicate_at,
        distinct: distinct(index, q, m.doc),
    }
}

/// The similar apps of every app, in the index's order.
pub fn all(index: &Index, s: &SimilarSettings) -> Vec<Vec<Match>> {
    use rayon::prelude::*;
    (0..index.docs.len())
        .into_par_iter()
        .map(|q| matches(index, q, s))
        .collect()
}

/// Groups of likely duplicates (apps joined by a score at or above `duplicate_at` that neither
/// manifest explains), largest first; each group lists index positions.
pub fn clusters(index: &Index, all: &[Vec<Match>]) -> Vec<Vec<usize>> {
    let n = index.docs.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let pos: std::collections::HashMap<&str, usize> = index
        .docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut joined = vec![false; n];
    for (a, list) in all.iter().enumerate() {
        for m in list
            .iter()
            .filter(|m| m.likely_duplicate && m.distinct.is_none())
        {
            if let Some(&b) = pos.get(m.id.as_str()) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                parent[ra] = rb;
                joined[a] = true;
                joined[b] = true;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in (0..n).filter(|i| joined[*i]) {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let mut out: Vec<Vec<usize>> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then_with(|| index.docs[a[0]].id.cmp(&index.docs[b[0]].id))
    });
    out
}

/// `check --base`: a note (BZ0220) for each added app that looks like an app the catalog
/// already has, unless its manifest names that app in `[similar] distinct_from`.
pub fn findings_for_added(
    snap: &Snapshot,
    catalog: &Catalog,
    diff: Option<&Diff>,
    config: Option<&Config>,
) -> Vec<Finding> {
    let Some(diff) = diff else {
        return Vec::new();
    };
    let added: Vec<&App> = diff
        .apps
        .iter()
        .filter_map(|c| match c {
            AppChange::Added { dir } => catalog.app_in(dir).map(|e| &e.app),
            _ => None,
        })
        .collect();
    if added.is_empty() {
        return Vec::new();
    }
    let s = settings(config);
    let added_dirs: BTreeSet<&str> = diff
        .apps
        .iter()
        .filter_map(|c| match c {
            AppChange::Added { dir } => Some(dir.as_str()),
            _ => None,
        })
        .collect();
    let index = Index::from_prepared(prepared(snap, catalog, &added_dirs));
    let new_ids: BTreeSet<&str> = added.iter().map(|a| a.id.as_str()).collect();
    let mut out = Vec::new();
    for app in added {
        let Some(q) = index.position(&app.id) else {
            continue;
        };
        let dups: Vec<Match> = index
            .query(q, s.duplicate_at, s.max_listed)
            .iter()
            .map(|m| to_match(&index, q, m, &s))
            // apps added by the same submission are not "already in the catalog"
            .filter(|m| m.distinct.is_none() && !new_ids.contains(m.id.as_str()))
            .collect();
        let Some(best) = dups.first() else { continue };
        let file = catalog
            .sources
            .get(&format!("{}/app.toml", index.docs[q].dir));
        let mut f = Finding::new(
            Code::LIKELY_DUPLICATE,
            format!(
                "looks like {} ({}): {} (score {:.2}){}",
                best.id,
                best.name,
                best.reasons.join(", "),
                best.score,
                match dups.len() {
                    1 => String::new(),
                    n => format!(
                        "; also like {}",
                        dups[1..n]
                            .iter()
                            .map(|m| format!("{} ({:.2})", m.id, m.score))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            ),
        )
        .help(format!(
            "reuse it, extend it, or say in the manifest why this one differs: [similar] distinct_from = [{{ id = \"{}\", why = \"…\" }}]",
            best.id
        ))
        .for_app(app.id.clone());
        if let Some(file) = file {
            let span = app.spans.get("name").unwrap_or(0..0);
            f = f.at(file, span);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests;

/// What `bazaar similar` shows: the app asked about and the apps like it.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The app's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its folder.
    pub dir: String,
    /// The apps like it, best first.
    pub similar: Vec<Match>,
}

/// The apps like one app, named by id or by folder (`catalog/team/app`, with or without
/// `/app.toml`). `None` when no valid app has that id or folder.
pub fn listing(snap: &Snapshot, catalog: &Catalog, target: &str) -> Option<Listing> {
    let s = settings(catalog.config.as_ref());
    let index = Index::build(corpus(snap, catalog));
    let folder = target
        .trim_start_matches("./")
        .trim_end_matches('/')
        .trim_end_matches("/app.toml")
        .trim_end_matches('/');
    let q = index
        .position(target)
        .or_else(|| index.docs.iter().position(|d| d.dir == folder))?;
    let d = &index.docs[q];
    Some(Listing {
        id: d.id.clone(),
        name: d.name.clone(),
        dir: d.dir.clone(),
        similar: matches(&index, q, &s),
    })
}

/// `bazaar similar`'s human output.
pub fn render(l: &Listing) -> String {
    let mut out = format!("apps like {} ({}), {}:\n", l.id, l.name, l.dir);
    if l.similar.is_empty() {
        out.push_str("  none above the related_at threshold ([similar] in bazaar.toml)\n");
    }
    for (i, m) in l.similar.iter().enumerate() {
        out.push_str(&format!(
            "{:>3}. {:.2}  {} ({}){}\n       {}\n",
            i + 1,
            m.score,
            m.id,
            m.name,
            if m.likely_duplicate {
                "  likely duplicate"
            } else {
                ""
            },
            m.reasons.join(", ")
        ));
        if let Some(why) = &m.distinct {
            out.push_str(&format!("       differs: {why}\n"));
        }
    }
    out
}
