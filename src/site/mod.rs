//! The static site: a page model built from a checked catalog, rendered with Tera (templates
//! from `site-templates/`, embedded as defaults, overridable file by file by the catalog's own
//! folder), README Markdown rendered and sanitized, `catalog.json`, and atomic publishing.

mod charts;
mod feeds;
mod history;
mod lifecycle;
mod markdown;
mod model;
mod news;
mod pages;
mod publish;
mod search;
pub mod serve;
mod similar;
mod timeline;
mod trends;
mod usage;

use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::catalog::Snapshot;
use crate::check::{CheckError, CheckOptions, check_with};
use crate::context::Context;
use crate::diagnostics::Report;

pub use feeds::xml_escape;
/// What Git says about the catalog for the pages (the dashboard's history among it).
pub use history::{History, read as read_history};
pub use markdown::render as render_markdown;

/// Whether a file of a built site is named by a hash of its content (Pagefind's index,
/// fragment, filter and meta files): a new build never changes the bytes behind such a name,
/// so it can be uploaded before anything that refers to it.
pub fn is_content_named(path: &Path) -> bool {
    search::is_hashed(path)
}

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
    /// The run's clock, policy engine and limits.
    pub ctx: Context,
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
    /// The search index could not be built.
    #[error("search index: {0}")]
    Search(String),
    /// Bazaar will not touch something it did not make (a link, folder or state file).
    #[error("{} {reason}", path.display())]
    Refused {
        /// The path.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A file of the catalog's templates is a hard link: its bytes may be any file's.
    #[error(
        "{} is a hard link ({names} names for one file, possibly outside the catalog); Bazaar publishes only files that are their own: replace it with a copy (`cp --remove-destination`)",
        path.display()
    )]
    HardLink {
        /// The path.
        path: PathBuf,
        /// How many names the file has.
        names: u64,
    },
    /// Writing failed.
    #[error("cannot write {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Where a build spent its time, in milliseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Timings {
    /// Reading and checking the catalog.
    pub check: u128,
    /// History and page model.
    pub model: u128,
    /// Rendering and writing pages (while the search index builds).
    pub pages: u128,
    /// Building the search index.
    pub search: u128,
    /// From the start until the new pages were published (with the previous search index when
    /// a site was serving; the new index follows when ready).
    pub published: u128,
    /// The whole build.
    pub total: u128,
}

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    /// HTML pages in the site.
    pub pages: usize,
    /// Pages rendered by this build.
    pub rendered: usize,
    /// Pages taken unchanged from the build it replaced.
    pub reused: usize,
    /// Apps in the search index.
    pub search_records: usize,
    /// Where the time went.
    pub timings_ms: Timings,
    /// The folder the published link now points at.
    pub dir: PathBuf,
    /// The check's findings (apps with errors are left out of the site).
    pub report: Report,
    /// The pages' Content-Security-Policy (a server of the site sends it as a header too).
    pub csp: String,
}

/// The templates (defaults overridden by the catalog's own) and a fingerprint of their text.
fn templates(snap: &Snapshot) -> Result<(tera::Tera, u64), SiteError> {
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
        own_file(snap, path)?;
        if let Ok(Ok(bytes)) = snap.read(path, 1024 * 1024)
            && let Ok(text) = String::from_utf8(bytes)
        {
            files.insert(path["site-templates/".len()..].to_string(), text);
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    files.hash(&mut h);
    let mut t = tera::Tera::default();
    t.autoescape_on(vec![".html", ".xml"]);
    // Templates are catalog content and the build runs with tokens and keys in its
    // environment: no template function may read the environment or the file system.
    t.register_function("get_env", |_: &std::collections::HashMap<String, tera::Value>| {
        Err(tera::Error::msg(
            "get_env is not available to Bazaar's templates: they must not read the build's environment (put the value in bazaar.toml or the template itself)",
        ))
    });
    let list: Vec<(String, String)> = files
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html") || p.ends_with(".xml"))
        .collect();
    t.add_raw_templates(list)
        .map_err(|e| SiteError::Template(error_chain(&e)))?;
    Ok((t, h.finish()))
}

impl From<publish::Refused> for SiteError {
    fn from(r: publish::Refused) -> Self {
        SiteError::Refused {
            path: r.path,
            reason: r.reason,
        }
    }
}

/// Refuses a file of a working tree that is a hard link (more than one name): its bytes may
/// belong to a file anywhere on the machine, and the site would publish them.
fn own_file(snap: &Snapshot, path: &str) -> Result<(), SiteError> {
    #[cfg(unix)]
    if let crate::catalog::snapshot::Origin::Dir(root) = &snap.origin {
        use std::os::unix::fs::MetadataExt;
        let full = root.join(path);
        if let Ok(m) = std::fs::symlink_metadata(&full)
            && m.is_file()
            && m.nlink() > 1
        {
            return Err(SiteError::HardLink {
                path: full,
                names: m.nlink(),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (snap, path);
    Ok(())
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

/// Builds the site into a fresh folder and publishes it atomically at `out`. Pages unchanged
/// since the build being replaced are reused; the search index is built while pages render.
pub fn build(opts: &BuildOptions) -> Result<Built, SiteError> {
    let started = std::time::Instant::now();
    std::thread::scope(|scope| build_in(opts, scope, started))
}

fn build_in<'s>(
    opts: &BuildOptions,
    scope: &'s std::thread::Scope<'s, '_>,
    started: std::time::Instant,
) -> Result<Built, SiteError> {
    // The search index needs only the manifests and READMEs. For a first build it starts as soon
    // as they are read and builds on its own thread while the policies run and the pages render.
    // When a site is serving, the new pages go out first (with the index readers have) and the
    // index is built after them, so that it does not slow them down.
    let ledger = publish::Ledger::of(&opts.root, &opts.out);
    // refused before anything is read or written: a link, folder or state file Bazaar did not
    // make is never followed, reused or removed
    let serving = publish::verify(&opts.out, &ledger)?.is_some();
    let mut search = None;
    let mut readmes: Option<Vec<String>> = None;
    let checked = check_with(
        &opts.ctx,
        &CheckOptions {
            root: opts.root.clone(),
            rev: opts.rev.clone(),
            base: None,
        },
        &mut |snap, cat| {
            let texts = search::read_readmes(snap, cat);
            if !serving {
                let records = search::records(cat, &texts);
                search = Some(scope.spawn(move || {
                    let t = std::time::Instant::now();
                    (search::index(records), t.elapsed().as_millis())
                }));
            }
            readmes = Some(texts);
        },
    )?;
    let readmes = readmes.unwrap_or_default();
    // kept when no index was started early (a site is serving): it is built after publishing
    let readmes_for_search = search.is_none().then(|| readmes.clone());
    let check_ms = started.elapsed().as_millis();
    let (tera, templates_fp) = templates(&checked.head)?;
    let source = match &opts.rev {
        Some(r) => format!("revision {r}"),
        None => "the working tree".to_string(),
    };
    let today = opts.ctx.today();
    // similar apps on their own thread while Git history and signatures are read
    let (history, similar) = std::thread::scope(|s| {
        let similar = s.spawn(|| similar::models(&checked.head, &checked.catalog, &readmes));
        let history = history::read(opts);
        let similar = similar
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (history, similar)
    });
    let model = model::build(&checked, &history, today, &source, readmes, similar);
    let pages = pages::list(&model);
    let model_ms = started.elapsed().as_millis() - check_ms;

    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| SiteError::Io { path: p, source: e }
    };
    if let Some(parent) = opts.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let _lock = ledger.lock().map_err(io(ledger.dir()))?;
    let live = publish::verify(&opts.out, &ledger)?;
    let dir = publish::next_slot(&opts.out, live.as_deref());
    // what the folder holds, as Bazaar's ledger (never the folder itself) says; without a
    // record it is not a whole build (killed, failed or from an older Bazaar): start afresh
    let held = pages::read_state(&ledger.pages_state(&dir));
    if ledger.owns(&dir)? && held.is_empty() {
        ledger.remove(&dir).map_err(io(&dir))?;
    }
    let _ = std::fs::remove_file(ledger.pages_state(&dir));
    if !dir.exists() {
        ledger.create(&dir).map_err(io(&dir))?;
    }
    // a checkout may have planted links in Bazaar's folder: removed before anything is written
    publish::remove_non_files(&dir).map_err(io(&dir))?;
    // the index: the one started early, or built now from the READMEs kept for it
    let index_now = |search: Option<std::thread::ScopedJoinHandle<'s, _>>| match search {
        Some(h) => h
            .join()
            .unwrap_or_else(|_| (Err(anyhow::anyhow!("the search indexer panicked")), 0)),
        None => {
            let records = search::records(
                &checked.catalog,
                readmes_for_search.as_deref().unwrap_or(&[]),
            );
            let t = std::time::Instant::now();
            (search::index(records), t.elapsed().as_millis())
        }
    };
    let staged = (|| {
        let t = std::time::Instant::now();
        let rendered = pages::write(
            &pages,
            &model,
            &tera,
            templates_fp,
            &dir,
            &held,
            live.as_deref()
                .map(|l| (l, pages::read_state(&ledger.pages_state(l)))),
        )?;
        let pages_ms = t.elapsed().as_millis();
        // every file this build puts in the folder (the rest is removed before publishing)
        let mut keep: HashSet<PathBuf> = pages.iter().map(|p| PathBuf::from(&p.path)).collect();
        // files the folder already holds with the same bytes are left alone
        let mut write = |rel: &str, bytes: &[u8]| -> Result<(), SiteError> {
            keep.insert(PathBuf::from(rel));
            let path = dir.join(rel);
            if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64)
                && std::fs::read(&path).is_ok_and(|old| old == bytes)
            {
                return Ok(());
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            pages::replace(&path, bytes).map_err(io(&path))
        };
        // static assets: defaults, then the catalog's overrides
        if let Some(d) = DEFAULT_TEMPLATES.get_dir("static") {
            for f in d.files() {
                write(&f.path().to_string_lossy(), f.contents())?;
            }
        }
        let snap = &checked.head;
        for path in snap
            .entries
            .keys()
            .filter(|p| p.starts_with("site-templates/static/"))
        {
            own_file(snap, path)?;
            if let Ok(Ok(bytes)) = snap.read(path, 8 * 1024 * 1024) {
                write(&path["site-templates/".len()..], &bytes)?;
            }
        }
        let paths: Vec<String> = pages.iter().map(|p| p.path.clone()).collect();
        write("feed.xml", feeds::atom(&model).as_bytes())?;
        write("sitemap.xml", feeds::sitemap(&model, &paths).as_bytes())?;
        write(
            "catalog.json",
            feeds::catalog_json(&checked.catalog, &model).as_bytes(),
        )?;
        Ok::<_, SiteError>((rendered, pages_ms, keep))
    })();
    let fail = |e: SiteError| {
        // a failed build leaves no half-written folder behind; the old site keeps serving
        let _ = ledger.remove(&dir);
        e
    };
    let (rendered, pages_ms, mut keep) = staged.map_err(fail)?;
    // only regular files this build produced are published
    let mut finish = |bundle: Vec<PathBuf>| {
        keep.extend(bundle.into_iter().map(|f| Path::new("pagefind").join(f)));
        publish::keep_only(&dir, &keep)
            .and_then(|()| pages::commit_state(&ledger.pages_state(&dir), &rendered))
    };
    let bundle_dir = dir.join("pagefind");
    let (records, search_ms, published) = match &live {
        // A site is serving: publish the new pages at once with its search index, then put the
        // new index in place when it is ready (readers switch to it with one rename).
        Some(live) => {
            search::mirror_bundle(
                &live.join("pagefind"),
                &ledger.search_list(live),
                &bundle_dir,
                &ledger.search_list(&dir),
            )
            .and_then(&mut finish)
            .map_err(|e| fail(io(&dir)(e)))?;
            publish::swap_in(&opts.out, &dir).map_err(|e| fail(io(&opts.out)(e)))?;
            let published = started.elapsed().as_millis();
            let (bundle, search_ms) = index_now(search.take());
            let bundle = bundle.map_err(|e| {
                SiteError::Search(format!(
                    "{e:#} (the new pages are published with the previous search index)"
                ))
            })?;
            search::update_bundle(&bundle, &bundle_dir, &ledger.search_list(&dir))
                .map_err(io(&bundle_dir))?;
            (bundle.records, search_ms, published)
        }
        // The first build: published whole, search included.
        None => {
            let (bundle, search_ms) = index_now(search.take());
            let bundle = bundle.map_err(|e| fail(SiteError::Search(format!("{e:#}"))))?;
            search::write_bundle(&bundle, &bundle_dir, &ledger.search_list(&dir))
                .and_then(&mut finish)
                .map_err(|e| fail(io(&dir)(e)))?;
            publish::swap_in(&opts.out, &dir).map_err(|e| fail(io(&opts.out)(e)))?;
            (bundle.records, search_ms, started.elapsed().as_millis())
        }
    };
    Ok(Built {
        pages: pages.len(),
        rendered: rendered.rendered,
        reused: rendered.reused,
        search_records: records,
        timings_ms: Timings {
            check: check_ms,
            model: model_ms,
            pages: pages_ms,
            search: search_ms,
            published,
            total: started.elapsed().as_millis(),
        },
        dir,
        report: checked.report,
        csp: model.site["csp"].as_str().unwrap_or_default().to_string(),
    })
}
