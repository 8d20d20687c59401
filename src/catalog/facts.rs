//! What the checks across the catalog need to know about each app, small enough to keep for
//! every app and to cache by Git blob id, so a one-app `--base` check does not re-read and
//! re-parse ten thousand unchanged manifests.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::{App, Parsed, Status};

/// Facts of one app manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppFacts {
    /// The id it declares (also when the manifest has errors).
    pub id: Option<String>,
    /// True when the manifest is valid.
    pub valid: bool,
    /// The endpoint, normalized for comparison (no fragment or trailing slash, lowercase).
    pub endpoint: Option<String>,
    /// Lifecycle status.
    pub status: Option<Status>,
    /// Replacement of a deprecated app.
    pub replacement: Option<String>,
    /// SBOM path inside the app folder.
    pub sbom: Option<String>,
}

/// The form endpoints are compared in.
pub fn endpoint_key(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    u.as_str().trim_end_matches('/').to_lowercase()
}

impl AppFacts {
    /// The facts of a parsed manifest.
    pub fn of(parsed: &Parsed<App>) -> AppFacts {
        match &parsed.value {
            Some(app) => AppFacts {
                id: Some(app.id.clone()),
                valid: true,
                endpoint: app.endpoint.as_ref().map(endpoint_key),
                status: Some(app.lifecycle.status),
                replacement: app.lifecycle.replacement.clone(),
                sbom: app
                    .security
                    .as_ref()
                    .and_then(|s| s.sbom_path())
                    .map(str::to_string),
            },
            None => AppFacts {
                id: parsed.id.clone(),
                valid: false,
                endpoint: None,
                status: None,
                replacement: None,
                sbom: None,
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Line {
    oid: String,
    #[serde(flatten)]
    facts: AppFacts,
}

/// Facts by blob id, kept in the repository's Git folder (`.git/bazaar/facts-<version>.jsonl`).
/// Blob ids name content, so an entry can never be stale; the file name carries Bazaar's version
/// because the parsing rules may change between versions. Unreadable lines are ignored.
#[derive(Debug, Default)]
pub struct FactsCache {
    path: Option<PathBuf>,
    map: HashMap<String, AppFacts>,
    added: Vec<String>,
}

/// The cache file is rewritten from scratch past this size.
const MAX_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl FactsCache {
    /// Opens (or starts) the cache in Bazaar's cache folder (`.git/bazaar/`).
    pub fn open(dir: &Path) -> FactsCache {
        let path = dir.join(format!("facts-{}.jsonl", env!("CARGO_PKG_VERSION")));
        let mut map = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                if let Ok(l) = serde_json::from_str::<Line>(line) {
                    map.insert(l.oid, l.facts);
                }
            }
        }
        FactsCache {
            path: Some(path),
            map,
            added: Vec::new(),
        }
    }

    /// The facts of a blob, if known.
    pub fn get(&self, oid: &str) -> Option<&AppFacts> {
        self.map.get(oid)
    }

    /// Remembers the facts of a blob.
    pub fn insert(&mut self, oid: String, facts: AppFacts) {
        if self.map.insert(oid.clone(), facts).is_none() {
            self.added.push(oid);
        }
    }

    /// Appends what was learned. Failing to write a cache is not an error worth stopping for:
    /// the caller may ignore the result.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.added.is_empty() {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_CACHE_BYTES);
        let mut out = String::new();
        let keys: Vec<&String> = if too_big {
            self.map.keys().collect()
        } else {
            self.added.iter().collect()
        };
        for oid in keys {
            let line = Line {
                oid: oid.clone(),
                facts: self.map[oid].clone(),
            };
            out.push_str(&serde_json::to_string(&line).expect("facts serialize"));
            out.push('\n');
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(!too_big)
            .write(true)
            .truncate(too_big)
            .open(path)?;
        f.write_all(out.as_bytes())?;
        self.added.clear();
        Ok(())
    }
}
