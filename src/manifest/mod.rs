//! The catalog's files as typed values: apps (`app.toml`), teams (`team.toml`), collections
//! (`catalog/collections/*.toml`) and the catalog settings (`bazaar.toml`).
//!
//! Parsing goes through an unvalidated, spanned TOML tree (`toml::de::DeTable`) and collects
//! **every** problem of a file, each pointing at its line and column, before a validated value is
//! produced.

mod app;
mod config;
mod fields;
mod team;
mod validate;

use std::collections::BTreeMap;
use std::ops::Range;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnostics::{Code, Finding, SourceFile};

pub use app::{
    Api, App, Auth, Cost, Data, DistinctFrom, Lifecycle, Owner, Security, Similar, Support,
    parse as parse_app,
};
pub use config::{
    Config, Csp, Domains, Forge, Governance, Signing, SimilarSettings, SiteSettings, parse_config,
};
pub use team::{Collection, Team, parse_collection, parse_team};
pub use validate::{is_login, is_reverse_dns, is_slug, unsafe_char};

/// The manifest format version this Bazaar reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Largest manifest read (bytes); larger files are refused before parsing.
pub const MAX_MANIFEST_BYTES: usize = 256 * 1024;

/// Where each field of a parsed file sits: dotted path (`data.classification`, `apis[0].name`)
/// to byte span of its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans(BTreeMap<String, Range<usize>>);

impl Spans {
    pub(crate) fn insert(&mut self, path: String, span: Range<usize>) {
        self.0.insert(path, span);
    }

    /// The span of a field, or of its closest parent that has one (`data.residency[2]` falls back
    /// to `data.residency`, then `data`).
    pub fn get(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path;
        loop {
            if let Some(s) = self.0.get(p) {
                return Some(s.clone());
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),* }
        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The value as written in TOML.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),* } }
            /// Parses the TOML spelling.
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$v),)* _ => None } }
            /// The allowed spellings, for messages.
            pub fn choices() -> String {
                [$(concat!("\"", $s, "\"")),*].join(", ")
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

choice!(
    /// How the app is delivered.
    Runtime {
        /// Embedded as an iframe.
        Iframe = "iframe",
        /// A custom element loaded into host pages.
        WebComponent = "web-component",
        /// A function on the serverless platform.
        Serverless = "serverless",
        /// A long-running container.
        Container = "container",
        /// A WebAssembly module.
        Wasm = "wasm",
        /// A bot or scheduled automation without a UI.
        Automation = "automation",
    }
);

choice!(
    /// Who may use the app (maturity).
    Tier {
        /// Experimental, small audience, expires unless renewed.
        Discover = "discover",
        /// Pre-production: SBOM and security sign-off.
        Vetted = "vetted",
        /// Production: SLA, runbook, on-call, budget.
        Enterprise = "enterprise",
    }
);

choice!(
    /// The most sensitive data the app touches.
    Classification {
        /// Public information.
        Public = "public",
        /// Internal, not sensitive.
        Internal = "internal",
        /// Confidential business data.
        Confidential = "confidential",
        /// Personally identifiable information.
        Pii = "pii",
        /// Protected health information.
        Phi = "phi",
    }
);

choice!(
    /// Where the app is in its life.
    Status {
        /// In use and maintained.
        Active = "active",
        /// Flagged: owner left, review overdue or warnings past their deadline.
        MaintenanceRequired = "maintenance-required",
        /// Still available, to be retired; has a replacement.
        Deprecated = "deprecated",
        /// No longer available.
        Retired = "retired",
    }
);

choice!(
    /// How users authenticate to the app.
    AuthType {
        /// No authentication.
        None = "none",
        /// Company single sign-on session.
        Sso = "sso",
        /// OpenID Connect.
        Oidc = "oidc",
        /// OAuth 2.0 with scopes.
        Oauth2 = "oauth2",
        /// Static API key.
        ApiKey = "api-key",
        /// Mutual TLS.
        Mtls = "mtls",
    }
);

choice!(
    /// What an app does with an API.
    Access {
        /// Reads only.
        Read = "read",
        /// Writes or changes data.
        Write = "write",
    }
);

/// The result of parsing one file: the value when it is valid, and every finding.
#[derive(Debug)]
pub struct Parsed<T> {
    /// The validated value; `None` when any error was found.
    pub value: Option<T>,
    /// All findings of the file.
    pub findings: Vec<Finding>,
    /// The id the file declares, even when the file has errors (apps only).
    pub id: Option<String>,
}

/// The finding for a file refused by size.
pub fn too_large(path: &str, size: u64, max: usize) -> Finding {
    Finding::new(
        Code::TOO_LARGE,
        format!("{path} is {size} bytes; the limit is {max}"),
    )
    .help("shrink the file; long text belongs in README.md, large documents behind a URL")
    .in_file(&SourceFile::new(path, ""))
}

/// Turns raw bytes into text, refusing what is too large, not UTF-8 or starts with a BOM.
pub fn decode(path: &str, bytes: &[u8], max: usize) -> Result<SourceFile, Box<Finding>> {
    if bytes.len() > max {
        return Err(Box::new(too_large(path, bytes.len() as u64, max)));
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        let file = SourceFile::new(path, String::from_utf8_lossy(bytes).into_owned());
        return Err(Finding::new(
            Code::BOM,
            format!("{path} starts with a UTF-8 byte-order mark"),
        )
        .help("save the file as UTF-8 without BOM")
        .at(&file, 0..3)
        .into());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(e) => {
            let file = SourceFile::new(path, String::from_utf8_lossy(bytes).into_owned());
            let at = e.valid_up_to();
            // the lossy text has the same bytes up to `at`, then U+FFFD for the bad byte(s)
            Err(
                Finding::new(Code::NOT_UTF8, format!("{path} is not valid UTF-8"))
                    .help("re-save the file as UTF-8")
                    .at(&file, at..at + '\u{FFFD}'.len_utf8())
                    .into(),
            )
        }
    }
}

/// Parses TOML into a spanned tree, reporting every syntax error.
pub(crate) fn parse_toml<'i>(
    file: &'i SourceFile,
) -> Result<toml::Spanned<toml::de::DeTable<'i>>, Vec<Finding>> {
    let (table, errors) = toml::de::DeTable::parse_recoverable(&file.text);
    if errors.is_empty() {
        return Ok(table);
    }
    Err(errors
        .into_iter()
        .map(|e| {
            let span = e.span().unwrap_or(0..0);
            Finding::new(
                Code::TOML_SYNTAX,
                format!("invalid TOML: {}", e.message().trim()),
            )
            .help("fix the syntax here; nothing else in this file is checked until it parses")
            .at(file, span)
        })
        .collect())
}

/// Exported JSON Schemas of each file kind.
pub fn schema(kind: SchemaKind) -> serde_json::Value {
    let mut s = match kind {
        SchemaKind::App => schemars::schema_for!(App),
        SchemaKind::Team => schemars::schema_for!(Team),
        SchemaKind::Collection => schemars::schema_for!(Collection),
        SchemaKind::Config => schemars::schema_for!(Config),
    }
    .to_value();
    s["$id"] = format!("https://bazaar.dev/schema/{}.schema.json", kind.name()).into();
    s
}

/// Which file a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// `catalog/<team>/<app>/app.toml`.
    App,
    /// `catalog/<team>/team.toml`.
    Team,
    /// `catalog/collections/*.toml`.
    Collection,
    /// `bazaar.toml`.
    Config,
}

impl SchemaKind {
    /// The short name (`app`, `team`, `collection`, `config`).
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::App => "app",
            SchemaKind::Team => "team",
            SchemaKind::Collection => "collection",
            SchemaKind::Config => "config",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_fall_back_to_parent() {
        let mut s = Spans::default();
        s.insert("data".into(), 10..50);
        s.insert("data.residency".into(), 20..30);
        assert_eq!(s.get("data.residency[2]"), Some(20..30));
        assert_eq!(s.get("data.justification"), Some(10..50));
        assert_eq!(s.get("owner.primary"), None);
    }

    #[test]
    fn decode_refuses_bom_non_utf8_and_size() {
        assert_eq!(
            decode("a", b"\xEF\xBB\xBFx=1", 100).unwrap_err().code,
            Code::BOM
        );
        let e = decode("a", b"x = \"\xff\"", 100).unwrap_err();
        assert_eq!(e.code, Code::NOT_UTF8);
        assert_eq!(e.location.unwrap().column, 6);
        assert_eq!(
            decode("a", &[b' '; 101], 100).unwrap_err().code,
            Code::TOO_LARGE
        );
        assert!(decode("a", b"x = 1", 100).is_ok());
    }
}
