//! Full-text search with Pagefind, used as a library: one custom record per app (what readers
//! search: name, summary, description, tags, team, scopes and the README's text; none of the page
//! chrome), with a filter per facet. Pagefind writes its standard bundle (index chunks, fragments,
//! filters, its WebAssembly and its UI) into `pagefind/`; the index page mounts the UI.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, Parser, TagEnd};
use serde_json::Value;

use super::model::{FACETS, Model};

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

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(xs) => xs
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

/// One record's text, meta and filters.
type Record = (
    String,
    String,
    BTreeMap<String, String>,
    BTreeMap<String, Vec<String>>,
);

fn record(a: &Value, readme: &str) -> Record {
    let mut text = String::new();
    for key in ["name", "summary", "description", "team_name"] {
        if let Some(s) = a[key].as_str() {
            text.push_str(s);
            text.push_str(".\n");
        }
    }
    for key in ["tags", "scopes"] {
        let items = strings(&a[key]);
        if !items.is_empty() {
            text.push_str(&items.join(", "));
            text.push_str(".\n");
        }
    }
    text.push_str(&plain_text(readme, MAX_INDEXED_README_CHARS));
    let mut meta = BTreeMap::new();
    meta.insert("title".to_string(), strings(&a["name"]).concat());
    meta.insert("summary".to_string(), strings(&a["summary"]).concat());
    let mut filters = BTreeMap::new();
    for f in FACETS {
        let field = if f.filter == "team" {
            "team_name"
        } else {
            f.field
        };
        let values = strings(&a[field]);
        if !values.is_empty() {
            filters.insert(f.filter.to_string(), values);
        }
    }
    (
        a["url"].as_str().unwrap_or_default().to_string(),
        text,
        meta,
        filters,
    )
}

/// Indexes every app and returns Pagefind's bundle.
pub fn index(model: &Model) -> anyhow::Result<Bundle> {
    use rayon::prelude::*;
    // the text extraction is ours and parallel; Pagefind then takes the records one by one
    let records: Vec<Record> = model
        .apps
        .par_iter()
        .zip(model.readmes.par_iter())
        .map(|(a, r)| record(a, r))
        .collect();
    let n = records.len();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let files = rt.block_on(async move {
        let options = pagefind::options::PagefindServiceConfig::builder()
            .force_language("en".to_string())
            .build();
        let mut index = pagefind::api::PagefindIndex::new(Some(options))?;
        for (url, text, meta, filters) in records {
            let mut sort = BTreeMap::new();
            sort.insert("name".to_string(), meta["title"].to_lowercase());
            index
                .add_custom_record(
                    url,
                    text,
                    "en".into(),
                    Some(meta),
                    Some(filters),
                    Some(sort),
                )
                .await?;
        }
        index.get_files().await
    })?;
    Ok(Bundle {
        files: files
            .into_iter()
            .map(|f| (f.filename, f.contents))
            .collect(),
        records: n,
    })
}

/// Writes a bundle into `dir` (the build folder's `pagefind/`), touching only what changed:
/// Pagefind names its index, fragment, filter and meta files by a hash of their content, so one
/// that exists is already right; the few fixed names are compared; stale files are removed.
pub fn write_bundle(bundle: &Bundle, dir: &std::path::Path) -> std::io::Result<()> {
    use std::collections::HashSet;
    let mut keep: HashSet<std::path::PathBuf> = HashSet::new();
    for (name, bytes) in &bundle.files {
        let path = dir.join(name);
        keep.insert(path.clone());
        let hashed = name
            .extension()
            .is_some_and(|x| x.to_string_lossy().starts_with("pf_"));
        let same = if hashed {
            std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64)
        } else {
            std::fs::read(&path).is_ok_and(|old| old == *bytes)
        };
        if same {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        super::pages::replace(&path, bytes)?;
    }
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_type().is_file() && !keep.contains(e.path()) {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}
