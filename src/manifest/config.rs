//! `bazaar.toml`: the catalog's settings.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::fields::{Ctx, Table};
use super::team::{finish, schema_version};
use super::validate::{self, https_url, shape, text};
use super::{Parsed, Spans};
use crate::diagnostics::{Code, SourceFile};

/// The catalog's settings (`bazaar.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Bazaar catalog settings (bazaar.toml)")]
pub struct Config {
    /// Format version; this Bazaar reads 1.
    #[schemars(range(min = 1, max = 1))]
    pub schema_version: u32,
    /// The static site.
    pub site: SiteSettings,
    /// The forge hosting the catalog repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<Forge>,
    /// The identity that signs merges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<Signing>,
    /// Where apps are served.
    pub domains: Domains,
    /// Governance settings the policies read.
    #[serde(default)]
    pub governance: Governance,
    /// When apps count as alike (app pages) and as likely duplicates (`check`, dashboard).
    #[serde(default)]
    pub similar: SimilarSettings,
    /// Where each field sits in the file.
    #[serde(skip)]
    #[schemars(skip)]
    pub spans: Spans,
}

/// Site settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    /// Title shown on every page.
    pub title: String,
    /// Public URL the site is served at (https).
    pub base_url: url::Url,
    /// What the pages' Content-Security-Policy allows besides the site's own files: https
    /// addresses per kind of resource. Empty by default: only the site's own scripts run.
    #[serde(default, skip_serializing_if = "Csp::is_empty")]
    pub csp: Csp,
}

/// Sources a catalog adds to its pages' Content-Security-Policy (`[site.csp]`), each an https
/// origin or address prefix such as `https://cdn.acme.example/widgets/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Csp {
    /// Scripts (`script-src`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script_src: Vec<String>,
    /// Style sheets (`style-src`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub style_src: Vec<String>,
    /// Images (`img-src`; any https image is already allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub img_src: Vec<String>,
    /// Fonts (`font-src`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub font_src: Vec<String>,
    /// What scripts may fetch (`connect-src`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connect_src: Vec<String>,
    /// Frames the pages may embed (`frame-src`; none by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frame_src: Vec<String>,
}

impl Csp {
    /// No source added.
    pub fn is_empty(&self) -> bool {
        self.script_src.is_empty()
            && self.style_src.is_empty()
            && self.img_src.is_empty()
            && self.font_src.is_empty()
            && self.connect_src.is_empty()
            && self.frame_src.is_empty()
    }
}

/// Reads `[site.csp]`: every source an https address without query, fragment or characters
/// that could end a directive.
fn csp(c: &mut Ctx<'_>, t: &mut Table<'_, '_>) -> Csp {
    let Some(mut ct) = t.table(c, "csp", false) else {
        return Csp::default();
    };
    let mut list = |c: &mut Ctx<'_>, key: &'static str| -> Vec<String> {
        let mut out = Vec::new();
        for (i, v) in ct.str_list(c, key).unwrap_or_default().iter().enumerate() {
            let field = format!("site.csp.{key}[{i}]");
            let Some(u) = https_url(c, &field, v) else {
                continue;
            };
            let text = u.to_string();
            if u.query().is_some()
                || u.fragment().is_some()
                || text.contains([';', ',', '\'', '"', '*', ' '])
            {
                c.error(
                    Code::INVALID_URL,
                    v.span(),
                    format!("`{field}` must be an https origin or address prefix, without query, fragment, wildcard or quote"),
                    "write e.g. \"https://cdn.acme.example\" or \"https://cdn.acme.example/widgets/\"",
                );
                continue;
            }
            out.push(text);
        }
        out
    };
    let out = Csp {
        script_src: list(c, "script_src"),
        style_src: list(c, "style_src"),
        img_src: list(c, "img_src"),
        font_src: list(c, "font_src"),
        connect_src: list(c, "connect_src"),
        frame_src: list(c, "frame_src"),
    };
    ct.finish(c);
    out
}

/// The forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Forge {
    /// Forge kind; `github` for now.
    #[serde(rename = "type")]
    pub kind: String,
    /// `owner/name` of the catalog repository.
    pub repository: String,
    /// API base URL (GitHub Enterprise); defaults to https://api.github.com.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<url::Url>,
}

/// The committer identity of signed merges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// Committer name.
    pub name: String,
    /// Committer email; also the principal in `policies/allowed_signers`.
    pub email: String,
}

/// Domains apps are served under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domains {
    /// The apps domain: endpoints are `app.team.env.<apps>`.
    pub apps: String,
    /// Allowed environment labels.
    pub environments: Vec<String>,
}

/// Governance settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    /// OAuth scopes apps may request.
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
    /// Regions pii/phi data may reside in.
    #[serde(default)]
    pub allowed_regions: Vec<String>,
    /// Days a `warn` finding may stay unfixed.
    #[serde(default = "default_warn_days")]
    pub warn_deadline_days: u32,
    /// Longest life of a discover app after its last review.
    #[serde(default = "default_discover_days")]
    pub discover_max_days: u32,
    /// Days before an app's `review_by` when the lifecycle sweep reminds its owners.
    #[serde(default = "default_reminder_days")]
    pub reminder_days: Vec<u32>,
    /// Oldest an SBOM (its `metadata.timestamp`) may be, in days, before the sweep flags the app
    /// maintenance-required.
    #[serde(default = "default_sbom_max_age_days")]
    pub sbom_max_age_days: u32,
}

fn default_warn_days() -> u32 {
    30
}
fn default_discover_days() -> u32 {
    90
}
fn default_reminder_days() -> Vec<u32> {
    vec![90, 60, 30]
}
fn default_sbom_max_age_days() -> u32 {
    365
}

impl Default for Governance {
    fn default() -> Self {
        Governance {
            allowed_scopes: Vec::new(),
            allowed_regions: Vec::new(),
            warn_deadline_days: default_warn_days(),
            discover_max_days: default_discover_days(),
            reminder_days: default_reminder_days(),
            sbom_max_age_days: default_sbom_max_age_days(),
        }
    }
}

/// Thresholds of the similar-apps finder. Scores run from 0 (nothing in common) to 1 (same
/// words and same APIs, scopes and tags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimilarSettings {
    /// From this score an app page lists the other app as similar.
    #[serde(default = "default_related_at")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub related_at: f64,
    /// From this score an added app gets a likely-duplicate note (BZ0220) and the dashboard
    /// groups the apps as likely duplicates.
    #[serde(default = "default_duplicate_at")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub duplicate_at: f64,
    /// Most similar apps listed per app.
    #[serde(default = "default_max_listed")]
    #[schemars(range(min = 1, max = 50))]
    pub max_listed: usize,
}

fn default_related_at() -> f64 {
    0.3
}
fn default_duplicate_at() -> f64 {
    0.5
}
fn default_max_listed() -> usize {
    5
}

impl Default for SimilarSettings {
    fn default() -> Self {
        SimilarSettings {
            related_at: default_related_at(),
            duplicate_at: default_duplicate_at(),
            max_listed: default_max_listed(),
        }
    }
}

fn score(c: &mut Ctx<'_>, t: &mut Table<'_, '_>, key: &'static str, default: f64) -> f64 {
    match t.number(c, key) {
        Some(v) if (0.0..=1.0).contains(v.get_ref()) => *v.get_ref(),
        Some(v) => {
            c.error(
                Code::INVALID_NUMBER,
                v.span(),
                format!("`{}` must be between 0 and 1", t.field(key)),
                "scores run from 0 (nothing alike) to 1 (the same app)",
            );
            default
        }
        None => default,
    }
}

fn is_domain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').count() >= 2 && s.split('.').all(validate::is_slug)
}

fn days(c: &mut Ctx<'_>, t: &mut Table<'_, '_>, key: &'static str, default: u32) -> u32 {
    match t.int(c, key, false) {
        Some(v) if (1..=3650).contains(v.get_ref()) => *v.get_ref() as u32,
        Some(v) => {
            c.error(
                Code::INVALID_NUMBER,
                v.span(),
                format!("`{}` must be between 1 and 3650 days", t.field(key)),
                "",
            );
            default
        }
        None => default,
    }
}

/// Parses and validates `bazaar.toml`.
pub fn parse_config(file: &SourceFile) -> Parsed<Config> {
    let doc = match super::parse_toml(file) {
        Ok(d) => d,
        Err(findings) => {
            return Parsed {
                value: None,
                findings,
                id: None,
            };
        }
    };
    let mut ctx = Ctx::new(file);
    let c = &mut ctx;
    let mut root = Table::root(&doc);
    let sv = schema_version(c, &mut root);
    let site = root.table(c, "site", true).and_then(|mut t| {
        let title = t.str(c, "title", true);
        if let Some(v) = &title {
            text(c, "site.title", v, 80, true);
        }
        let base = t
            .str(c, "base_url", true)
            .and_then(|v| match url::Url::parse(v.get_ref()) {
                Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Some(u),
                _ => https_url(c, "site.base_url", &v),
            });
        let csp = csp(c, &mut t);
        t.finish(c);
        Some(SiteSettings {
            title: title?.into_inner(),
            base_url: base?,
            csp,
        })
    });
    let forge = root.table(c, "forge", false).and_then(|mut t| {
        let kind = t.str(c, "type", true);
        if let Some(v) = &kind
            && v.get_ref() != "github"
        {
            c.error(
                Code::INVALID_VALUE,
                v.span(),
                format!("forge type {:?} is not supported", v.get_ref()),
                "use \"github\"",
            );
        }
        let repo = t.str(c, "repository", true);
        if let Some(v) = &repo {
            shape(
                c,
                "forge.repository",
                v,
                |s| {
                    s.split_once('/').is_some_and(|(o, n)| {
                        validate::is_login(o)
                            && !n.is_empty()
                            && n.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                    })
                },
                Code::INVALID_NAME,
                "owner/name",
            );
        }
        let api = t
            .str(c, "api_url", false)
            .and_then(|v| https_url(c, "forge.api_url", &v));
        t.finish(c);
        Some(Forge {
            kind: kind?.into_inner(),
            repository: repo?.into_inner(),
            api_url: api,
        })
    });
    let signing = root.table(c, "signing", false).and_then(|mut t| {
        let name = t.str(c, "name", true);
        let email = t.str(c, "email", true);
        if let Some(v) = &email {
            shape(
                c,
                "signing.email",
                v,
                |s| {
                    s.split_once('@').is_some_and(|(a, b)| {
                        !a.is_empty() && b.contains('.') && !s.contains(char::is_whitespace)
                    })
                },
                Code::INVALID_NAME,
                "an email address",
            );
        }
        t.finish(c);
        Some(Signing {
            name: name?.into_inner(),
            email: email?.into_inner(),
        })
    });
    let domains = root.table(c, "domains", true).and_then(|mut t| {
        let apps = t.str(c, "apps", true);
        if let Some(v) = &apps {
            shape(
                c,
                "domains.apps",
                v,
                is_domain,
                Code::INVALID_NAME,
                "a lowercase DNS domain",
            );
        }
        let envs = t.str_list(c, "environments");
        if let Some(list) = &envs {
            for (i, v) in list.iter().enumerate() {
                shape(
                    c,
                    &format!("domains.environments[{i}]"),
                    v,
                    validate::is_slug,
                    Code::INVALID_NAME,
                    "a DNS label",
                );
            }
        }
        t.finish(c);
        Some(Domains {
            apps: apps?.into_inner(),
            environments: envs
                .unwrap_or_default()
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
        })
    });
    let governance = root
        .table(c, "governance", false)
        .map(|mut t| {
            let scopes = t.str_list(c, "allowed_scopes").unwrap_or_default();
            let regions = t.str_list(c, "allowed_regions").unwrap_or_default();
            let warn = days(c, &mut t, "warn_deadline_days", default_warn_days());
            let discover = days(c, &mut t, "discover_max_days", default_discover_days());
            let reminders = t
                .int_list(c, "reminder_days")
                .map(|list| {
                    list.into_iter()
                        .filter_map(|d| {
                            if (1..=3650).contains(d.get_ref()) {
                                Some(*d.get_ref() as u32)
                            } else {
                                c.error(
                                    Code::INVALID_NUMBER,
                                    d.span(),
                                    "`governance.reminder_days` values must be between 1 and 3650 days"
                                        .to_string(),
                                    "",
                                );
                                None
                            }
                        })
                        .collect()
                })
                .unwrap_or_else(default_reminder_days);
            let sbom_age = days(c, &mut t, "sbom_max_age_days", default_sbom_max_age_days());
            t.finish(c);
            Governance {
                allowed_scopes: scopes.into_iter().map(Spanned::into_inner).collect(),
                allowed_regions: regions.into_iter().map(Spanned::into_inner).collect(),
                warn_deadline_days: warn,
                discover_max_days: discover,
                reminder_days: reminders,
                sbom_max_age_days: sbom_age,
            }
        })
        .unwrap_or_default();
    let similar = root
        .table(c, "similar", false)
        .map(|mut t| {
            let related_at = score(c, &mut t, "related_at", default_related_at());
            let duplicate_at = score(c, &mut t, "duplicate_at", default_duplicate_at());
            let max_listed = match t.int(c, "max_listed", false) {
                Some(v) if (1..=50).contains(v.get_ref()) => *v.get_ref() as usize,
                Some(v) => {
                    c.error(
                        Code::INVALID_NUMBER,
                        v.span(),
                        "`similar.max_listed` must be between 1 and 50",
                        "",
                    );
                    default_max_listed()
                }
                None => default_max_listed(),
            };
            t.finish(c);
            SimilarSettings {
                related_at,
                duplicate_at,
                max_listed,
            }
        })
        .unwrap_or_default();
    root.finish(c);
    finish(ctx, |spans| {
        Some(Config {
            schema_version: sv?,
            site: site?,
            forge,
            signing,
            domains: domains?,
            governance,
            similar,
            spans,
        })
    })
}
