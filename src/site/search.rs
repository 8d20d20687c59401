//! Full-text search with Pagefind, used as a library: one custom record per app (what readers
//! search: name, summary, description, tags, team, scopes and the README's text; none of the page
//! chrome), with a filter per facet. Pagefind writes its standard bundle (index chunks, fragments,
//! filters, its WebAssembly and its UI) into `pagefind/`; the index page mounts the UI.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, Parser, TagEnd};

use super::model::{FACETS, app_url};
use crate::catalog::{AppEntry, Catalog, Snapshot, team_of};

/// Characters of README text indexed per app: the start of a README says what the app is, and
/// the index stays small.
pub const MAX_INDEXED_README_CHARS: usize = 20_000;

/// A search bundle: files relative to `pagefind/`.
pub struct Bundle {
    /// The files.
    pub files: Vec<(std::path::PathBuf, Vec<u8>)>,
    /// Records indexed.
    pub records: usize,
}

/// The words of a README, without markup (HTML in it is dropped, not indexed).
pub fn plain_text(markdown: &str, max: usize) -> String {
    // past the renderer's limits (see `catalog::readme`): indexed as it is, never parsed
    if crate::catalog::readme::too_complex(markdown).is_some() {
        let mut cut = max.min(markdown.len());
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        return markdown[..cut].to_string();
    }
    let mut out = String::with_capacity(markdown.len().min(max));
    for ev in Parser::new(markdown) {
        match ev {
            Event::Text(t) | Event::Code(t) => {
                out.push_str(&t);
            }
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) => out.push('\n'),
            _ => {}
        }
        if out.len() >= max {
            let mut cut = max;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            break;
        }
    }
    out
}

/// One app's search record: its page, text, meta (title, summary) and filters.
pub struct Record {
    url: String,
    text: String,
    meta: BTreeMap<String, String>,
    filters: BTreeMap<String, Vec<String>>,
}

/// The record of an app: the facts readers search for, and a filter per facet (the same values
/// the facet pages list).
fn record(e: &AppEntry, team_name: &str, readme: &str) -> Record {
    let a = &e.app;
    let scopes: Vec<String> = a
        .auth
        .as_ref()
        .map(|x| x.scopes.clone())
        .unwrap_or_default();
    let mut text = String::new();
    for s in [Some(&a.name), Some(&a.summary), a.description.as_ref()]
        .into_iter()
        .flatten()
        .chain([&team_name.to_string()])
    {
        text.push_str(s);
        text.push_str(".\n");
    }
    for items in [&a.tags, &scopes] {
        if !items.is_empty() {
            text.push_str(&items.join(", "));
            text.push_str(".\n");
        }
    }
    text.push_str(&plain_text(readme, MAX_INDEXED_README_CHARS));
    let mut meta = BTreeMap::new();
    meta.insert("title".to_string(), a.name.clone());
    let mut filters = BTreeMap::new();
    for f in FACETS {
        let values: Vec<String> = match f.filter {
            "team" => vec![team_name.to_string()],
            "tag" => a.tags.clone(),
            "tier" => vec![a.tier.as_str().to_string()],
            "lifecycle" => vec![a.lifecycle.status.as_str().to_string()],
            "runtime" => vec![a.runtime.as_str().to_string()],
            "data" => vec![a.data.classification.as_str().to_string()],
            "scope" => scopes.clone(),
            _ => vec![],
        };
        let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
        if !values.is_empty() {
            filters.insert(f.filter.to_string(), values);
        }
    }
    Record {
        url: app_url(&a.id),
        text,
        meta,
        filters,
    }
}

/// Every app's README (empty when it has none or it cannot be read), in the catalog's order,
/// read in parallel.
pub fn read_readmes(snap: &Snapshot, cat: &Catalog) -> Vec<String> {
    let paths: Vec<String> = cat
        .apps
        .iter()
        .map(|e| format!("{}/README.md", e.dir))
        .collect();
    let present: Vec<usize> = (0..paths.len())
        .filter(|i| snap.is_file(&paths[*i]))
        .collect();
    let wanted: Vec<&str> = present.iter().map(|i| paths[*i].as_str()).collect();
    let mut texts = vec![String::new(); paths.len()];
    for (i, r) in present
        .iter()
        .zip(snap.read_many(&wanted, crate::catalog::MAX_README_BYTES))
    {
        if let Ok(Ok(b)) = r {
            texts[*i] = String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
    }
    texts
}

/// The records of every app of a catalog, given its READMEs in the catalog's order.
pub fn records(cat: &Catalog, readmes: &[String]) -> Vec<Record> {
    use rayon::prelude::*;
    cat.apps
        .par_iter()
        .zip(readmes.par_iter())
        .map(|(e, readme)| {
            let team = team_of(&e.dir);
            let team_name = cat.teams.get(team).map_or(team, |t| t.name.as_str());
            record(e, team_name, readme)
        })
        .collect()
}

/// Indexes the records and returns Pagefind's bundle.
pub fn index(records: Vec<Record>) -> anyhow::Result<Bundle> {
    let n = records.len();
    // Pagefind's API is async. Its runtime lives on a thread of its own, so indexing works the
    // same when the caller is itself inside a tokio runtime (the daemon, `serve`), where
    // starting or dropping a runtime would panic.
    let files = std::thread::scope(|s| {
        s.spawn(
            move || -> anyhow::Result<Vec<(std::path::PathBuf, Vec<u8>)>> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                index_on(&rt, records)
            },
        )
        .join()
        .map_err(|_| anyhow::anyhow!("the search indexer stopped unexpectedly"))?
    })?;
    Ok(Bundle {
        files: files.into_iter().collect(),
        records: n,
    })
}

fn index_on(
    rt: &tokio::runtime::Runtime,
    records: Vec<Record>,
) -> anyhow::Result<Vec<(std::path::PathBuf, Vec<u8>)>> {
    rt.block_on(async move {
        let options = pagefind::options::PagefindServiceConfig::builder()
            .force_language("en".to_string())
            .build();
        let mut index = pagefind::api::PagefindIndex::new(Some(options))?;
        // all at once: fossicked in parallel, with no copy of each result (vendor/README.md)
        let records = records
            .into_iter()
            .map(|r| {
                let mut sort = BTreeMap::new();
                sort.insert("name".to_string(), r.meta["title"].to_lowercase());
                pagefind::api::CustomRecord {
                    url: r.url,
                    content: r.text,
                    language: "en".into(),
                    meta: Some(r.meta),
                    filters: Some(r.filters),
                    sort: Some(sort),
                }
            })
            .collect();
        index.add_custom_records(records).await?;
        Ok(index
            .into_files()
            .await?
            .into_iter()
            .map(|f| (f.filename, f.contents))
            .collect())
    })
}

/// Writes a bundle into `dir` (the build folder's `pagefind/`), touching only what changed:
/// Pagefind names its index, fragment, filter and meta files by a hash of their content, so one
/// that exists is already right; the few fixed names are compared; stale files are removed.
/// The bundle's files are listed in `list` (in Bazaar's ledger) and returned.
pub fn write_bundle(
    bundle: &Bundle,
    dir: &std::path::Path,
    list: &std::path::Path,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    use rayon::prelude::*;
    use std::collections::{BTreeSet, HashSet};
    let keep: HashSet<std::path::PathBuf> = bundle
        .files
        .iter()
        .map(|(name, _)| dir.join(name))
        .collect();
    let parents: BTreeSet<&std::path::Path> = keep.iter().filter_map(|p| p.parent()).collect();
    for p in parents {
        std::fs::create_dir_all(p)?;
    }
    // some ten thousand small files: written in parallel
    bundle.files.par_iter().try_for_each(|(name, bytes)| {
        let path = dir.join(name);
        if holds(&path, name, bytes) {
            Ok(())
        } else {
            super::pages::replace(&path, bytes)
        }
    })?;
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if !e.file_type().is_dir() && !keep.contains(e.path()) {
            std::fs::remove_file(e.path())?;
        }
    }
    let names: Vec<std::path::PathBuf> = bundle.files.iter().map(|(n, _)| n.clone()).collect();
    write_manifest(list, &names)?;
    Ok(names)
}

/// Makes `to` hold the bundle `from` holds (the published site's, whose files its ledger list
/// `from_list` names): files with the same name and size are kept (Pagefind names index files
/// by their content), others are hard-linked from `from`, and files `from` lacks are removed.
/// Lists the files in `to_list` and returns them.
pub fn mirror_bundle(
    from: &std::path::Path,
    from_list: &std::path::Path,
    to: &std::path::Path,
    to_list: &std::path::Path,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    use std::collections::HashSet;
    // the files of the current index only: the previous index's files left for late readers
    // are not carried over
    let names: Vec<std::path::PathBuf> = read_manifest(from_list).unwrap_or_default();
    let mut keep: HashSet<std::path::PathBuf> = HashSet::new();
    for rel in &names {
        let source = from.join(rel);
        let target = to.join(rel);
        keep.insert(target.clone());
        let Ok(meta) = std::fs::symlink_metadata(&source) else {
            continue;
        };
        if !meta.is_file() {
            continue; // only regular files are carried over
        }
        let same = match std::fs::symlink_metadata(&target) {
            Ok(b) if b.is_file() => {
                meta.len() == b.len()
                    && (is_hashed(rel)
                        || std::fs::read(&source).ok() == std::fs::read(&target).ok())
            }
            _ => false,
        };
        if same {
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let _ = std::fs::remove_file(&target);
        if std::fs::hard_link(&source, &target).is_err() {
            std::fs::copy(&source, &target)?;
        }
    }
    if to.is_dir() {
        for e in walkdir::WalkDir::new(to).into_iter().filter_map(Result::ok) {
            if !e.file_type().is_dir() && !keep.contains(e.path()) {
                std::fs::remove_file(e.path())?;
            }
        }
    }
    write_manifest(to_list, &names)?;
    Ok(names)
}

/// Puts a new bundle into the `pagefind/` of the site being served, so that no reader sees a
/// mix: new content-named files first, then the fixed names, `pagefind-entry.json` (which
/// names the index readers load) last, each by one rename. Files of the previous index stay for
/// readers who loaded it; the next build into this folder removes them.
pub fn update_bundle(
    bundle: &Bundle,
    dir: &std::path::Path,
    list: &std::path::Path,
) -> std::io::Result<()> {
    let mut files: Vec<&(std::path::PathBuf, Vec<u8>)> = bundle.files.iter().collect();
    // content-named files, then fixed names, the entry file last
    files.sort_by_key(|(name, _)| (name.as_os_str() == "pagefind-entry.json", !is_hashed(name)));
    for (name, bytes) in files {
        let path = dir.join(name);
        if holds(&path, name, bytes) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_file_name(format!(
            ".{}.tmp-{}",
            name.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
    }
    let names: Vec<std::path::PathBuf> = bundle.files.iter().map(|(n, _)| n.clone()).collect();
    write_manifest(list, &names)
}

/// Lists the files of a build folder's current search bundle in `list`, Bazaar's ledger (its
/// `pagefind/` may also hold the previous index's files for a while: readers who loaded it
/// still fetch them).
fn write_manifest(list: &std::path::Path, names: &[std::path::PathBuf]) -> std::io::Result<()> {
    if let Some(parent) = list.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text: String = names
        .iter()
        .map(|n| format!("{}\n", n.to_string_lossy()))
        .collect();
    super::publish::write_atomic(list, text.as_bytes())
}

/// The files of a folder's current bundle, when its list exists; names that would leave the
/// bundle's folder are dropped.
fn read_manifest(list: &std::path::Path) -> Option<Vec<std::path::PathBuf>> {
    let text = std::fs::read_to_string(list).ok()?;
    Some(
        text.lines()
            .filter(|l| super::publish::safe_relative(l))
            .map(std::path::PathBuf::from)
            .collect(),
    )
}

/// Whether `path` already holds a bundle file: a content-named one by its size, the others
/// by their bytes.
fn holds(path: &std::path::Path, name: &std::path::Path, bytes: &[u8]) -> bool {
    if is_hashed(name) {
        std::fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64)
    } else {
        std::fs::read(path).is_ok_and(|old| old == bytes)
    }
}

/// Pagefind names its index, fragment, filter and meta files by a hash of their content.
pub(super) fn is_hashed(name: &std::path::Path) -> bool {
    name.extension()
        .is_some_and(|x| x.to_string_lossy().starts_with("pf_"))
}
