//! What the checks across the catalog need to know about each app, small enough to keep for
//! every app and to cache by Git blob id, so a one-app `--base` check does not re-read and
//! re-parse ten thousand unchanged manifests.

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

/// Facts by blob id.
pub type FactsCache = crate::cache::DiskCache<AppFacts>;
