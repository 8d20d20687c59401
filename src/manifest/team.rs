//! `team.toml` and `catalog/collections/*.toml`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::fields::{Ctx, Table};
use super::validate::{self, shape, text};
use super::{Parsed, SCHEMA_VERSION, Spans};
use crate::diagnostics::{Code, Severity, SourceFile};

/// A team: who owns a folder of apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Bazaar team (team.toml)")]
pub struct Team {
    /// Manifest format version; this Bazaar reads 1.
    #[schemars(range(min = 1, max = 1))]
    pub schema_version: u32,
    /// Display name.
    #[schemars(length(min = 1, max = 80))]
    pub name: String,
    /// A sentence about the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The forge team whose members own the folder, `org/team-slug`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9-]+/[a-z0-9][a-z0-9_-]*$"))]
    pub forge_team: String,
    /// The DNS label the team owns: its apps live at `app.<subdomain>.<env>.<apps domain>`.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub subdomain: String,
    /// Cost centers the team's apps may charge.
    #[schemars(length(min = 1), inner(regex(pattern = r"^CC-[0-9]{4,8}$")))]
    pub cost_centers: Vec<String>,
    /// The team's chat channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Where each field sits in the file.
    #[serde(skip)]
    #[schemars(skip)]
    pub spans: Spans,
}

/// A curated list of apps shown on the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Bazaar collection (catalog/collections/*.toml)")]
pub struct Collection {
    /// Manifest format version; this Bazaar reads 1.
    #[schemars(range(min = 1, max = 1))]
    pub schema_version: u32,
    /// Display name.
    #[schemars(length(min = 1, max = 80))]
    pub name: String,
    /// A sentence about the collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Shown on the front page.
    #[serde(default)]
    pub featured: bool,
    /// App ids, in display order.
    pub apps: Vec<String>,
    /// Where each field sits in the file.
    #[serde(skip)]
    #[schemars(skip)]
    pub spans: Spans,
}

pub(crate) fn schema_version(c: &mut Ctx<'_>, root: &mut Table<'_, '_>) -> Option<u32> {
    let v = root.int(c, "schema_version", true)?;
    if *v.get_ref() != SCHEMA_VERSION {
        c.error(
            Code::SCHEMA_VERSION,
            v.span(),
            format!("schema_version {} is not supported", v.get_ref()),
            "set schema_version = 1",
        );
        return None;
    }
    Some(1)
}

pub(crate) fn finish<T>(ctx: Ctx<'_>, build: impl FnOnce(Spans) -> Option<T>) -> Parsed<T> {
    let blocked = ctx.findings.iter().any(|f| f.severity == Severity::Error);
    let value = if blocked { None } else { build(ctx.spans) };
    Parsed {
        value,
        findings: ctx.findings,
        id: None,
    }
}

/// Parses and validates a `team.toml`.
pub fn parse_team(file: &SourceFile) -> Parsed<Team> {
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
    let name = root.str(c, "name", true);
    if let Some(v) = &name {
        text(c, "name", v, 80, true);
    }
    let description = root.str(c, "description", false);
    if let Some(v) = &description {
        text(c, "description", v, 1000, false);
    }
    let forge_team = root.str(c, "forge_team", true);
    if let Some(v) = &forge_team {
        shape(
            c,
            "forge_team",
            v,
            |s| {
                s.split_once('/').is_some_and(|(o, t)| {
                    validate::is_login(o)
                        && !t.is_empty()
                        && t.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                        })
                })
            },
            Code::INVALID_NAME,
            "a forge team like acme/finance-eng",
        );
    }
    let subdomain = root.str(c, "subdomain", true);
    if let Some(v) = &subdomain {
        shape(
            c,
            "subdomain",
            v,
            validate::is_slug,
            Code::INVALID_NAME,
            "a lowercase DNS label",
        );
    }
    let centers = root.str_list(c, "cost_centers");
    match &centers {
        None => {
            if ctx_missing(c, "cost_centers") {
                c.error(
                    Code::MISSING_FIELD,
                    0..0,
                    "missing required field `cost_centers`",
                    "add `cost_centers = [\"CC-1234\"]`",
                );
            }
        }
        Some(list) if list.is_empty() => {
            let span = c.spans.get("cost_centers").unwrap_or(0..0);
            c.error(
                Code::MISSING_FIELD,
                span,
                "`cost_centers` is empty",
                "list at least one cost center",
            );
        }
        Some(list) => {
            for (i, v) in list.iter().enumerate() {
                shape(
                    c,
                    &format!("cost_centers[{i}]"),
                    v,
                    validate::is_cost_center,
                    Code::INVALID_NAME,
                    "a cost center like CC-4100",
                );
            }
        }
    }
    let channel = root.str(c, "channel", false);
    if let Some(v) = &channel {
        shape(
            c,
            "channel",
            v,
            validate::is_channel,
            Code::INVALID_NAME,
            "a channel like #team",
        );
    }
    root.finish(c);
    finish(ctx, |spans| {
        Some(Team {
            schema_version: sv?,
            name: name?.into_inner(),
            description: description.map(Spanned::into_inner),
            forge_team: forge_team?.into_inner(),
            subdomain: subdomain?.into_inner(),
            cost_centers: centers?.into_iter().map(Spanned::into_inner).collect(),
            channel: channel.map(Spanned::into_inner),
            spans,
        })
    })
}

/// True when the key was never seen (so its absence has not been reported yet).
fn ctx_missing(c: &Ctx<'_>, key: &str) -> bool {
    c.spans.get(key).is_none()
}

/// Parses and validates a collection file.
pub fn parse_collection(file: &SourceFile) -> Parsed<Collection> {
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
    let name = root.str(c, "name", true);
    if let Some(v) = &name {
        text(c, "name", v, 80, true);
    }
    let description = root.str(c, "description", false);
    if let Some(v) = &description {
        text(c, "description", v, 1000, false);
    }
    let featured = root
        .bool(c, "featured")
        .map(Spanned::into_inner)
        .unwrap_or(false);
    let apps = root.str_list(c, "apps");
    match &apps {
        None if ctx_missing(c, "apps") => {
            c.error(
                Code::MISSING_FIELD,
                0..0,
                "missing required field `apps`",
                "add `apps = [\"com.acme.team.app\"]`",
            );
        }
        Some(list) => {
            for (i, v) in list.iter().enumerate() {
                shape(
                    c,
                    &format!("apps[{i}]"),
                    v,
                    validate::is_reverse_dns,
                    Code::INVALID_ID,
                    "an app id",
                );
            }
        }
        None => {}
    }
    root.finish(c);
    finish(ctx, |spans| {
        Some(Collection {
            schema_version: sv?,
            name: name?.into_inner(),
            description: description.map(Spanned::into_inner),
            featured,
            apps: apps?.into_iter().map(Spanned::into_inner).collect(),
            spans,
        })
    })
}
