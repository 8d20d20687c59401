//! The apps to compare, as [`Doc`]s: from the manifests a check read in full, and for the others
//! from a cache by manifest and README blob ids (`.git/bazaar/similar-*.tsv`), so a one-app
//! `check --base` on a large catalog does not re-read ten thousand manifests and READMEs; and the
//! other apps of such a check already as ids ([`prepared`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::index::{Doc, Prepared};
use super::text::{Bag, Words, with_words};
use crate::cache::DiskCache;
use crate::catalog::{Catalog, MAX_README_BYTES, Snapshot};
use crate::manifest::{self, App, MAX_MANIFEST_BYTES, Status};

/// README characters compared: the start of a README says what the app is.
const MAX_README_CHARS: usize = 3_000;
/// Words kept per app, the most weighted first (name and summary words weigh most): enough to
/// say what an app does, small enough to keep for 10,000 apps.
const MAX_TERMS: usize = 48;

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An app as the finder sees it. Name and summary weigh three times a README word, the
/// description twice.
pub fn doc_of(app: &App, dir: &str, readme: &str, words: &mut Words) -> Doc {
    let mut bag = Bag::default();
    words.add(&mut bag, &app.name, 3);
    words.add(&mut bag, &app.summary, 3);
    if let Some(d) = &app.description {
        words.add(&mut bag, d, 2);
    }
    for t in &app.tags {
        words.add(&mut bag, t, 1);
    }
    words.add(&mut bag, cut(readme, MAX_README_CHARS), 1);
    let mut terms: Vec<(String, String, u32)> = bag
        .terms
        .into_iter()
        .map(|(stem, (spelled, n))| {
            let spelled = if spelled == stem {
                String::new()
            } else {
                spelled
            };
            (stem, spelled, n)
        })
        .collect();
    // the heaviest words, ties by the longer (rarer-looking) word, then alphabetically
    terms.sort_unstable_by(|a, b| {
        b.2.cmp(&a.2)
            .then(b.0.len().cmp(&a.0.len()))
            .then(a.0.cmp(&b.0))
    });
    terms.truncate(MAX_TERMS);
    terms.sort_unstable();
    let mut hosts = Vec::new();
    let mut apis = Vec::new();
    for url in app.apis.iter().filter_map(|a| a.url.as_ref()) {
        if let Some(h) = url.host_str() {
            let h = h.to_lowercase();
            apis.push(format!("{h}{}", url.path().trim_end_matches('/')));
            hosts.push(h);
        }
    }
    hosts.sort();
    hosts.dedup();
    apis.sort();
    apis.dedup();
    Doc {
        id: app.id.clone(),
        name: app.name.clone(),
        dir: dir.to_string(),
        retired: app.lifecycle.status == Status::Retired,
        terms,
        tags: app.tags.clone(),
        hosts,
        apis,
        scopes: app
            .auth
            .as_ref()
            .map(|a| a.scopes.clone())
            .unwrap_or_default(),
        distinct_from: app
            .similar
            .as_ref()
            .map(|s| {
                s.distinct_from
                    .iter()
                    .map(|d| (d.id.clone(), d.why.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The docs of a fully loaded catalog, given its READMEs in the catalog's order (the site).
pub fn docs_of(catalog: &Catalog, readmes: &[String]) -> Vec<Doc> {
    catalog
        .apps
        .par_iter()
        .enumerate()
        // this thread's tokenizer keeps the stems it computed for earlier apps
        .map(|(i, e)| {
            with_words(|w| doc_of(&e.app, &e.dir, readmes.get(i).map_or("", String::as_str), w))
        })
        .collect()
}

/// [`docs_of`] through the same cache as [`corpus`] (by manifest and README blob ids): a site
/// rebuilt after a merge tokenizes only the apps that changed.
pub fn docs_cached(snap: &Snapshot, catalog: &Catalog, readmes: &[String]) -> Vec<Doc> {
    let Some(dir) = snap.cache_dir().filter(|_| snap.git_dir().is_some()) else {
        return docs_of(catalog, readmes);
    };
    let mut cache: DiskCache<Option<Doc>> = DiskCache::open(&dir, "similar-docs");
    let keys: Vec<Option<String>> = catalog.apps.par_iter().map(|e| key(snap, &e.dir)).collect();
    let docs: Vec<(Doc, bool)> = catalog
        .apps
        .par_iter()
        .zip(&keys)
        .enumerate()
        .map(
            |(i, (e, k))| match k.as_deref().and_then(|k| cache.get(k)) {
                Some(Some(d)) if d.dir == e.dir => (d.clone(), false),
                _ => {
                    let readme = readmes.get(i).map_or("", String::as_str);
                    (with_words(|w| doc_of(&e.app, &e.dir, readme, w)), true)
                }
            },
        )
        .collect();
    for ((d, fresh), k) in docs.iter().zip(keys) {
        if let (true, Some(k)) = (fresh, k) {
            cache.insert(k, Some(d.clone()));
        }
    }
    // a cache that cannot be written only costs time next run
    let _ = cache.save();
    docs.into_iter().map(|(d, _)| d).collect()
}

/// An app folder's cache key: its manifest's and README's blob ids (`None` outside Git).
fn key(snap: &Snapshot, dir: &str) -> Option<String> {
    let oid = |p: String| snap.entries.get(&p).and_then(|e| e.oid.clone());
    Some(format!(
        "{}:{}",
        oid(format!("{dir}/app.toml"))?,
        oid(format!("{dir}/README.md")).unwrap_or_default()
    ))
}

/// One app folder as a [`Doc`]: from the catalog when it read the app, else parsed now.
fn read_doc(snap: &Snapshot, catalog: &Catalog, dir: &str) -> Option<Doc> {
    let readme = read_text(snap, &format!("{dir}/README.md"), MAX_README_BYTES).unwrap_or_default();
    match catalog.app_in(dir) {
        Some(e) => Some(with_words(|w| doc_of(&e.app, dir, &readme, w))),
        None => {
            let path = format!("{dir}/app.toml");
            snap.read(&path, MAX_MANIFEST_BYTES)
                .ok()
                .and_then(Result::ok)
                .and_then(|b| manifest::decode(&path, &b, MAX_MANIFEST_BYTES).ok())
                .and_then(|f| manifest::parse_app(&f).value)
                .map(|app| with_words(|w| doc_of(&app, dir, &readme, w)))
        }
    }
}

fn read_text(snap: &Snapshot, path: &str, max: usize) -> Option<String> {
    if !snap.is_file(path) {
        return None;
    }
    let bytes = snap.read(path, max).ok()?.ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Every valid app of the snapshot: those the catalog read in full, the others from the cache or
/// read now. Apps whose manifest does not load are left out.
pub fn corpus(snap: &Snapshot, catalog: &Catalog) -> Vec<Doc> {
    let mut cache: DiskCache<Option<Doc>> = snap
        .cache_dir()
        .filter(|_| snap.git_dir().is_some())
        .map(|d| DiskCache::open(&d, "similar-docs"))
        .unwrap_or_default();
    let key = |dir: &str| key(snap, dir);
    let mut docs: Vec<Doc> = Vec::with_capacity(catalog.app_dirs.len());
    let mut todo: Vec<(&str, Option<String>)> = Vec::new();
    for dir in &catalog.app_dirs {
        let k = key(dir);
        match k.as_deref().and_then(|k| cache.get(k)) {
            Some(Some(d)) if d.dir == *dir => docs.push(d.clone()),
            Some(None) if catalog.app_in(dir).is_none() => {}
            _ => todo.push((dir, k)),
        }
    }
    let read: Vec<(Option<String>, Option<Doc>)> = todo
        .par_iter()
        .map(|(dir, k)| (k.clone(), read_doc(snap, catalog, dir)))
        .collect();
    for (k, doc) in read {
        if let Some(k) = k {
            cache.insert(k, doc.clone());
        }
        docs.extend(doc);
    }
    // a cache that cannot be written only costs time next run
    let _ = cache.save();
    docs.sort_by(|a, b| a.dir.cmp(&b.dir));
    docs
}

/// Prepared bases kept; older ones are removed.
const BASES_KEPT: usize = 4;

/// The snapshot's apps as ids for a check of a submission that adds the folders `added`: the
/// other apps (the base) come prepared from `.git/bazaar/similar-base-*/`, by the blob ids of
/// all their files, so that only the added apps are read and tokenized; a base not seen before
/// is prepared from [`corpus`] and kept.
pub fn prepared(snap: &Snapshot, catalog: &Catalog, added: &BTreeSet<&str>) -> Prepared {
    let Some(folder) = snap
        .cache_dir()
        .filter(|_| snap.git_dir().is_some())
        .map(|d| d.join(format!("similar-base-{}", env!("CARGO_PKG_VERSION"))))
    else {
        return Prepared::new(corpus(snap, catalog));
    };
    let mut h = Sha256::new();
    let keys: Option<Vec<String>> = catalog
        .app_dirs
        .par_iter()
        .filter(|d| !added.contains(d.as_str()))
        .map(|dir| Some(format!("{dir}\t{}\n", key(snap, dir)?)))
        .collect();
    let Some(keys) = keys else {
        return Prepared::new(corpus(snap, catalog));
    };
    keys.iter().for_each(|k| h.update(k));
    let file = folder.join(format!("{:x}.bin", h.finalize()));
    if let Some(mut p) = std::fs::read(&file)
        .ok()
        .and_then(|b| Prepared::from_bytes(&b))
    {
        let mut new: Vec<Doc> = added
            .par_iter()
            .filter_map(|dir| read_doc(snap, catalog, dir))
            .collect();
        new.sort_by(|a, b| a.dir.cmp(&b.dir));
        p.insert(new);
        return p;
    }
    let (new, base): (Vec<Doc>, Vec<Doc>) = corpus(snap, catalog)
        .into_iter()
        .partition(|d| added.contains(d.dir.as_str()));
    let mut p = Prepared::new(base);
    // a base that cannot be kept only costs time next run
    let _ = keep(&folder, &file, &p.to_bytes());
    p.insert(new);
    p
}

/// Writes a prepared base whole (a temporary file renamed into place) and removes the oldest
/// beyond [`BASES_KEPT`].
fn keep(folder: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, file)?;
    let mut bases: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(folder)?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "bin"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    bases.sort();
    let extra = bases.len().saturating_sub(BASES_KEPT);
    for (_, p) in bases.into_iter().take(extra) {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}
