//! Publishing to an S3-compatible bucket through `object_store`, changed files only.
//!
//! Bazaar keeps a manifest of what the bucket serves, `<prefix>/.bazaar/published.json`
//! (path → SHA-256 and size), written after every object it lists, so it only ever describes
//! a whole site. A publish compares the built folder with it and uploads in an order that keeps
//! every reference resolvable while it runs: content-named search files (Pagefind's
//! `*.pf_*`, which only the new index names) first, then other assets, then pages, then the
//! entry files (`pagefind/pagefind-entry.json`, `index.html`), then the manifest, and only then
//! deletes what the site no longer has. Before the first upload it records in
//! `.bazaar/pending.json` every object it may write or delete; a publish that is killed leaves
//! that list, and the next one re-uploads those objects whatever the manifest says and deletes
//! the ones its site does not have. A reader meanwhile sees the old whole site, with some pages
//! already new (each one complete, its assets in place).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, ObjectStore, PutOptions, PutPayload, RetryConfig, aws::AmazonS3Builder,
};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::{
    OnProgress, Progress, PublishError, PublishTimings, Published, SiteFile, ms, site_files,
};

/// Uploads in flight at once.
pub const PARALLEL: usize = 16;

/// The manifest's path under the prefix.
pub const MANIFEST: &str = ".bazaar/published.json";
/// The list of objects an unfinished publish may have written or left.
pub const PENDING: &str = ".bazaar/pending.json";

/// An access key for the bucket. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// A session token, for temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An S3-compatible bucket and the prefix the site lives under.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// The bucket's name.
    pub name: String,
    /// The folder inside the bucket (no leading or trailing `/`; empty for the bucket's root).
    pub prefix: String,
    /// The S3 endpoint, e.g. `http://127.0.0.1:9000` (`None`: AWS itself).
    pub endpoint: Option<String>,
    /// The region (`us-east-1` when `None`).
    pub region: Option<String>,
    /// Whether a plain `http://` endpoint is allowed.
    pub allow_http: bool,
    /// The access key; required.
    pub credentials: Option<Credentials>,
}

impl Bucket {
    /// Parses `s3://BUCKET[/PREFIX]`; endpoint, region and credentials start empty.
    pub fn from_url(url: &str) -> Result<Bucket, PublishError> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            PublishError::BadTarget(format!("{url:?}: a bucket is s3://BUCKET/PREFIX"))
        })?;
        let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let name_ok = (3..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !name_ok {
            return Err(PublishError::BadTarget(format!(
                "{url:?}: {name:?} is not a bucket name (3 to 63 lower-case letters, digits, `-` and `.`); use s3://BUCKET/PREFIX"
            )));
        }
        if !prefix.is_empty() && Key::parse(prefix).is_err() {
            return Err(PublishError::BadTarget(format!(
                "{url:?}: the prefix {prefix:?} is not a valid object path (no empty parts, `.` or `..`)"
            )));
        }
        Ok(Bucket {
            name: name.to_string(),
            prefix: prefix.to_string(),
            endpoint: None,
            region: None,
            allow_http: false,
            credentials: None,
        })
    }

    /// `s3://BUCKET/PREFIX`.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.name)
        } else {
            format!("s3://{}/{}", self.name, self.prefix)
        }
    }

    /// The object store client for this bucket.
    pub fn store(&self) -> Result<Arc<dyn ObjectStore>, PublishError> {
        let creds = self.credentials.as_ref().ok_or_else(|| {
            PublishError::BadTarget(format!(
                "{}: no credentials; give an access key id and secret access key (the CLI reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                self.url()
            ))
        })?;
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&self.name)
            .with_region(self.region.as_deref().unwrap_or("us-east-1"))
            .with_access_key_id(&creds.access_key_id)
            .with_secret_access_key(&creds.secret_access_key)
            .with_allow_http(self.allow_http)
            .with_retry(RetryConfig {
                max_retries: 4,
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            });
        if let Some(t) = &creds.session_token {
            b = b.with_token(t);
        }
        if let Some(e) = &self.endpoint {
            b = b.with_endpoint(e);
        }
        let store = b.build().map_err(|e| PublishError::Store {
            what: format!("cannot set up {}", self.url()),
            help: "check the bucket URL, endpoint and region".into(),
            detail: e.to_string(),
        })?;
        Ok(Arc::new(store))
    }
}

/// One file's entry in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// What the bucket serves: Bazaar's manifest.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// The manifest format (1).
    pub format: u32,
    /// Files by path relative to the prefix.
    pub files: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Pending {
    format: u32,
    /// Objects that may hold bytes the manifest does not describe.
    dirty: BTreeSet<String>,
}

/// The order a file is uploaded in: content-named search files, other assets, pages, entries.
pub fn phase(rel: &str) -> u8 {
    if crate::site::is_content_named(Path::new(rel)) {
        0
    } else if rel == "index.html" || rel == "pagefind/pagefind-entry.json" {
        3
    } else if rel.ends_with(".html") {
        2
    } else {
        1
    }
}

/// The Content-Type a browser needs for a file of the site.
pub fn content_type(rel: &str) -> &'static str {
    let ext = rel.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" if rel.ends_with("feed.xml") => "application/atom+xml",
        "atom" => "application/atom+xml",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        "csv" => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn key(prefix: &str, rel: &str) -> Result<Key, PublishError> {
    let full = if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    };
    Key::parse(&full).map_err(|e| PublishError::Refused {
        path: rel.into(),
        reason: format!("cannot be an object name ({e}); rename it"),
    })
}

/// Turns an object store failure into an error that says what to do.
fn store_error(what: String, url: &str, e: object_store::Error) -> PublishError {
    let mut text = format!("{e}");
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    let help = if text.contains("NoSuchBucket") || matches!(e, object_store::Error::NotFound { .. })
    {
        format!(
            "the bucket of {url} does not exist at this endpoint: create it (e.g. `aws s3 mb`) or fix the name and --endpoint"
        )
    } else if matches!(
        e,
        object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. }
    ) || [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "403",
    ]
    .iter()
    .any(|s| text.contains(s))
    {
        "the bucket refused the credentials: check the access key id and secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and that they may write this bucket".to_string()
    } else if [
        "error sending request",
        "connect",
        "Connection refused",
        "dns",
        "timed out",
    ]
    .iter()
    .any(|s| text.contains(s))
    {
        "the endpoint could not be reached: check --endpoint (AWS_ENDPOINT_URL), the network, and that the server runs".to_string()
    } else {
        "the site the bucket served is still whole; publish again to complete it".to_string()
    };
    PublishError::Store {
        what,
        help,
        detail: detail(&text),
    }
}

/// One line of an object store error: S3's error code, or the innermost cause.
fn detail(text: &str) -> String {
    if let Some(code) = text
        .split("<Code>")
        .nth(1)
        .and_then(|r| r.split("</Code>").next())
    {
        return format!("S3 error {code}");
    }
    let last = text.rsplit(": ").next().unwrap_or(text).trim();
    last.lines().next().unwrap_or(last).to_string()
}

async fn read_json<T: serde::de::DeserializeOwned>(
    store: &dyn ObjectStore,
    at: &Key,
    url: &str,
) -> Result<Option<T>, PublishError> {
    match store.get(at).await {
        Ok(r) => {
            let bytes = r
                .bytes()
                .await
                .map_err(|e| store_error(format!("cannot read {at}"), url, e))?;
            // an unreadable record describes nothing: the publish then uploads everything
            Ok(serde_json::from_slice(&bytes).ok())
        }
        Err(object_store::Error::NotFound { source, .. })
            if !format!("{source}").contains("NoSuchBucket") =>
        {
            Ok(None)
        }
        Err(e) => Err(store_error(format!("cannot read {at}"), url, e)),
    }
}

async fn put(
    store: &dyn ObjectStore,
    at: &Key,
    bytes: Vec<u8>,
    ctype: &str,
    url: &str,
) -> Result<(), PublishError> {
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, ctype.to_string().into());
    let opts = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    store
        .put_opts(at, PutPayload::from(bytes), opts)
        .await
        .map(|_| ())
        .map_err(|e| store_error(format!("cannot upload {at}"), url, e))
}

fn hash_files(files: &[SiteFile]) -> Result<Vec<Entry>, PublishError> {
    files
        .par_iter()
        .map(|f| {
            let bytes = std::fs::read(&f.path).map_err(|source| PublishError::Io {
                path: f.path.clone(),
                source,
            })?;
            Ok(Entry {
                sha256: format!("{:x}", Sha256::digest(&bytes)),
                size: bytes.len() as u64,
            })
        })
        .collect()
}

/// Publishes the site in `built` to `store` under `prefix`; `url` names the target in reports
/// and errors. Public so that tests can wrap the store (fault injection).
pub async fn publish_to(
    store: Arc<dyn ObjectStore>,
    prefix: &str,
    url: &str,
    built: &Path,
    progress: OnProgress<'_>,
) -> Result<Published, PublishError> {
    let started = Instant::now();
    let dir = built.to_path_buf();
    let (files, hashes) = tokio::task::spawn_blocking(move || {
        let files = site_files(&dir)?;
        let hashes = hash_files(&files)?;
        Ok::<_, PublishError>((files, hashes))
    })
    .await
    .map_err(|e| PublishError::Io {
        path: built.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })??;
    let scan = ms(started);

    let t = Instant::now();
    let manifest_key = key(prefix, MANIFEST)?;
    let pending_key = key(prefix, PENDING)?;
    let old: Manifest = read_json(store.as_ref(), &manifest_key, url)
        .await?
        .unwrap_or_default();
    let pending: Pending = read_json(store.as_ref(), &pending_key, url)
        .await?
        .unwrap_or_default();
    let mut new = Manifest {
        format: 1,
        files: BTreeMap::new(),
    };
    let mut uploads: Vec<(u8, &SiteFile)> = Vec::new();
    for (f, h) in files.iter().zip(hashes) {
        if old.files.get(&f.rel) != Some(&h) || pending.dirty.contains(&f.rel) {
            uploads.push((phase(&f.rel), f));
        }
        new.files.insert(f.rel.clone(), h);
    }
    let deletes: BTreeSet<String> = old
        .files
        .keys()
        .chain(pending.dirty.iter())
        .filter(|k| !new.files.contains_key(*k))
        .cloned()
        .collect();
    let compare = ms(t);
    progress(Progress::Planned {
        upload: uploads.len(),
        delete: deletes.len(),
    });

    let t = Instant::now();
    let uploaded_bytes: u64 = uploads.iter().map(|(_, f)| f.size).sum();
    if !uploads.is_empty() || !deletes.is_empty() {
        // what a crash from here on may leave that the old manifest does not describe
        let dirty: BTreeSet<String> = pending
            .dirty
            .iter()
            .cloned()
            .chain(uploads.iter().map(|(_, f)| f.rel.clone()))
            .chain(deletes.iter().cloned())
            .collect();
        let record = Pending { format: 1, dirty };
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        put(store.as_ref(), &pending_key, bytes, "application/json", url).await?;
    }
    uploads.sort_by(|a, b| (a.0, &a.1.rel).cmp(&(b.0, &b.1.rel)));
    let total = uploads.len();
    let done = AtomicUsize::new(0);
    for phase_no in 0..=3u8 {
        // owned items: a stream of borrowed ones makes the future lose `Send` for a spawned task
        let batch: Vec<SiteFile> = uploads
            .iter()
            .filter(|(p, _)| *p == phase_no)
            .map(|(_, f)| (*f).clone())
            .collect();
        futures_util::stream::iter(batch)
            .map(|f| {
                let store = store.clone();
                let done = &done;
                async move {
                    let at = key(prefix, &f.rel)?;
                    let bytes =
                        tokio::fs::read(&f.path)
                            .await
                            .map_err(|source| PublishError::Io {
                                path: f.path.clone(),
                                source,
                            })?;
                    put(store.as_ref(), &at, bytes, content_type(&f.rel), url).await?;
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress::Uploaded { done: n, of: total });
                    Ok::<(), PublishError>(())
                }
            })
            .buffer_unordered(PARALLEL)
            .try_collect::<Vec<()>>()
            .await?;
    }
    if !uploads.is_empty() || !deletes.is_empty() || old.files.is_empty() {
        let bytes = serde_json::to_vec(&new).unwrap_or_default();
        put(
            store.as_ref(),
            &manifest_key,
            bytes,
            "application/json",
            url,
        )
        .await?;
    }
    let upload = ms(t);

    let t = Instant::now();
    futures_util::stream::iter(deletes.iter().cloned())
        .map(|rel: String| {
            let store = store.clone();
            async move {
                let at = key(prefix, &rel)?;
                match store.delete(&at).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(store_error(format!("cannot delete {at}"), url, e)),
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    if !uploads.is_empty() || !deletes.is_empty() {
        match store.delete(&pending_key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_error(format!("cannot delete {pending_key}"), url, e)),
        }
    }
    let delete = ms(t);
    Ok(Published {
        target: url.to_string(),
        files: files.len(),
        uploaded: total,
        uploaded_bytes,
        deleted: deletes.len(),
        kept: files.len() - total,
        commit: None,
        pushed: false,
        timings_ms: PublishTimings {
            scan,
            compare,
            upload,
            delete,
            total: ms(started),
        },
    })
}
