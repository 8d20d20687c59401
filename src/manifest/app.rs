//! `app.toml`: one app's manifest.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::fields::{Ctx, Table};
use super::validate::{self, https_url, shape, text};
use super::{
    Access, AuthType, Classification, Parsed, Runtime, SCHEMA_VERSION, Spans, Status, Tier,
};
use crate::diagnostics::{Code, SourceFile};

/// One app's manifest, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Bazaar app manifest (app.toml)")]
pub struct App {
    /// Manifest format version; this Bazaar reads 1.
    #[schemars(range(min = 1, max = 1))]
    pub schema_version: u32,
    /// Permanent reverse-DNS id, unique in the catalog, e.g. `com.acme.finance.expense-tracker`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){2,}$"))]
    pub id: String,
    /// Display name.
    #[schemars(length(min = 1, max = 80))]
    pub name: String,
    /// Semantic version of the listed release.
    #[schemars(regex(pattern = r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"))]
    pub version: semver::Version,
    /// One line saying what the app does.
    #[schemars(length(min = 1, max = 160))]
    pub summary: String,
    /// A short paragraph; the long description lives in README.md beside the manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4000))]
    pub description: Option<String>,
    /// The owning team: the name of the team folder the app lives in.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub team: String,
    /// Lowercase slugs for browsing.
    #[serde(default)]
    #[schemars(length(max = 20), inner(regex(pattern = r"^[a-z0-9][a-z0-9-]*$")))]
    pub tags: Vec<String>,
    /// How the app is delivered.
    pub runtime: Runtime,
    /// Who may use it: discover, vetted or enterprise.
    pub tier: Tier,
    /// Where users reach it (https), `app.team.env.<apps domain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<url::Url>,
    /// Who answers for the app.
    pub owner: Owner,
    /// APIs the app calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apis: Vec<Api>,
    /// How users authenticate and which OAuth scopes it asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
    /// What data it touches.
    pub data: Data,
    /// Supply-chain facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    /// How to get help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<Support>,
    /// Who pays and how much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Status and dates.
    pub lifecycle: Lifecycle,
    /// Similar apps this one was compared with, and why it differs from each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar: Option<Similar>,
    /// Where each field sits in the file (not part of the format).
    #[serde(skip)]
    #[schemars(skip)]
    pub spans: Spans,
}

/// Owner and backup owner (forge logins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// The accountable owner's forge login.
    #[schemars(regex(pattern = r"^[A-Za-z0-9](-?[A-Za-z0-9])*$"), length(max = 39))]
    pub primary: String,
    /// A second person who can act when the owner is away; must differ from `primary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9](-?[A-Za-z0-9])*$"), length(max = 39))]
    pub backup: Option<String>,
}

/// An API the app calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// The API's name.
    #[schemars(length(min = 1, max = 120))]
    pub name: String,
    /// Its base URL (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<url::Url>,
    /// Whether the app only reads or also writes.
    pub access: Access,
    /// True when the API is run outside the company.
    #[serde(default)]
    pub third_party: bool,
}

/// Authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The mechanism.
    #[serde(rename = "type")]
    pub kind: AuthType,
    /// OAuth scopes requested; `…:write` scopes raise risk.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Data the app touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Data {
    /// The most sensitive class of data handled.
    pub classification: Classification,
    /// Regions where the data is stored (required for pii/phi).
    #[serde(default)]
    pub residency: Vec<String>,
    /// Why the app needs this access (required for pii/phi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// True when data leaves the company.
    #[serde(default)]
    pub external_transfer: bool,
}

/// Supply-chain facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// CycloneDX SBOM: a path relative to the app folder, or an https URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
    /// Digest of the reviewed artifact, `sha256:<hex>` or `sha512:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$"))]
    pub artifact_digest: Option<String>,
}

impl Security {
    /// The SBOM when it is a file in the app's folder (not a URL).
    pub fn sbom_path(&self) -> Option<&str> {
        self.sbom.as_deref().filter(|s| !s.starts_with("https://"))
    }
}

/// Support.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Support {
    /// Service level, e.g. "99.9% monthly, 4h response in business hours".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<String>,
    /// Runbook URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<url::Url>,
    /// On-call schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oncall: Option<String>,
    /// Chat channel, `#name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// Cost showback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    /// Cost center, `CC-1234`; one of the team's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^CC-[0-9]{4,8}$"))]
    pub center: Option<String>,
    /// Estimated monthly cost in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub monthly_usd: Option<f64>,
}

/// Lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// Current status.
    pub status: Status,
    /// Last time the owners reviewed the listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed: Option<NaiveDate>,
    /// Next review due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_by: Option<NaiveDate>,
    /// When a discover app expires unless renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDate>,
    /// Why it is deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_reason: Option<String>,
    /// Id of the app that replaces it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// When a deprecated app is retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_on: Option<NaiveDate>,
    /// The owner's attestation: the manifest is true until this day; after it the app is due
    /// for review (the sweep reminds the owners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attested_until: Option<NaiveDate>,
}

/// What the contributor says about apps `check` found alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Similar {
    /// Apps compared with this one and found different enough to build it anyway; each one
    /// named here is no longer reported as a likely duplicate (BZ0220).
    #[serde(default)]
    #[schemars(length(max = 20))]
    pub distinct_from: Vec<DistinctFrom>,
}

/// An app this one is not a duplicate of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistinctFrom {
    /// The other app's id.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){2,}$"))]
    pub id: String,
    /// Why this app is needed although that one exists (reviewers read it).
    #[schemars(length(min = 10, max = 500))]
    pub why: String,
}

fn choice<T: Copy>(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    v: Option<Spanned<String>>,
    parse: fn(&str) -> Option<T>,
    choices: String,
) -> Option<T> {
    let v = v?;
    let parsed = parse(v.get_ref());
    if parsed.is_none() {
        ctx.error(
            Code::INVALID_VALUE,
            v.span(),
            format!("`{}` = {:?} is not allowed", t.field(key), v.get_ref()),
            &format!("use one of {choices}"),
        );
    }
    parsed
}

fn opt_text(
    ctx: &mut Ctx<'_>,
    t: &mut Table<'_, '_>,
    key: &'static str,
    max: usize,
    one_line: bool,
) -> Option<String> {
    let v = t.str(ctx, key, false)?;
    text(ctx, &t.field(key), &v, max, one_line);
    Some(v.into_inner())
}

fn login(
    ctx: &mut Ctx<'_>,
    t: &mut Table<'_, '_>,
    key: &'static str,
    required: bool,
) -> Option<String> {
    let v = t.str(ctx, key, required)?;
    shape(
        ctx,
        &t.field(key),
        &v,
        validate::is_login,
        Code::INVALID_NAME,
        "a forge login (letters, digits, hyphens)",
    );
    Some(v.into_inner())
}

fn list(
    ctx: &mut Ctx<'_>,
    t: &mut Table<'_, '_>,
    key: &'static str,
    max: usize,
    ok: fn(&str) -> bool,
    what: &str,
) -> Vec<String> {
    let Some(items) = t.str_list(ctx, key) else {
        return Vec::new();
    };
    if items.len() > max {
        let span = ctx.spans.get(&t.field(key)).unwrap_or(0..0);
        ctx.error(
            Code::INVALID_NUMBER,
            span,
            format!(
                "`{}` has {} entries; at most {max} are allowed",
                t.field(key),
                items.len()
            ),
            "",
        );
    }
    let mut out: Vec<String> = Vec::new();
    for (i, v) in items.into_iter().enumerate() {
        shape(
            ctx,
            &format!("{}[{i}]", t.field(key)),
            &v,
            ok,
            Code::INVALID_NAME,
            what,
        );
        if out.contains(v.get_ref()) {
            ctx.error(
                Code::INVALID_VALUE,
                v.span(),
                format!("`{}` lists {:?} twice", t.field(key), v.get_ref()),
                "remove the repeat",
            );
        }
        out.push(v.into_inner());
    }
    out
}

fn https(ctx: &mut Ctx<'_>, t: &mut Table<'_, '_>, key: &'static str) -> Option<url::Url> {
    let v = t.str(ctx, key, false)?;
    https_url(ctx, &t.field(key), &v)
}

/// Parses and validates an `app.toml`, reporting every problem.
pub fn parse(file: &SourceFile) -> Parsed<App> {
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
    let schema_version = root.int(c, "schema_version", true);
    if let Some(v) = &schema_version
        && *v.get_ref() != SCHEMA_VERSION
    {
        c.error(
            Code::SCHEMA_VERSION,
            v.span(),
            format!("schema_version {} is not supported", v.get_ref()),
            "set schema_version = 1",
        );
    }
    let id = root.str(c, "id", true).filter(|v| {
        shape(
            c,
            "id",
            v,
            validate::is_reverse_dns,
            Code::INVALID_ID,
            "a reverse-DNS id like com.acme.team.app",
        )
    });
    let app_id = id.as_ref().map(|v| v.get_ref().clone());
    let name = root.str(c, "name", true);
    if let Some(v) = &name {
        text(c, "name", v, 80, true);
    }
    let version =
        root.str(c, "version", true)
            .and_then(|v| match semver::Version::parse(v.get_ref()) {
                Ok(ver) => Some(ver),
                Err(e) => {
                    c.error(
                        Code::INVALID_VERSION,
                        v.span(),
                        format!("version {:?} is not semver: {e}", v.get_ref()),
                        "write MAJOR.MINOR.PATCH, e.g. 1.0.0",
                    );
                    None
                }
            });
    let summary = root.str(c, "summary", true);
    if let Some(v) = &summary {
        text(c, "summary", v, 160, true);
    }
    let description = opt_text(c, &mut root, "description", 4000, false);
    let team = root.str(c, "team", true);
    if let Some(v) = &team {
        shape(
            c,
            "team",
            v,
            validate::is_slug,
            Code::INVALID_NAME,
            "a lowercase slug",
        );
    }
    let tags = list(
        c,
        &mut root,
        "tags",
        20,
        validate::is_slug,
        "a lowercase slug",
    );
    let runtime = root.str(c, "runtime", true);
    let runtime = choice(
        c,
        &root,
        "runtime",
        runtime,
        Runtime::parse,
        Runtime::choices(),
    );
    let tier = root.str(c, "tier", true);
    let tier = choice(c, &root, "tier", tier, Tier::parse, Tier::choices());
    let endpoint = https(c, &mut root, "endpoint");

    let owner = root.table(c, "owner", true).map(|mut t| {
        let primary = login(c, &mut t, "primary", true);
        let backup = login(c, &mut t, "backup", false);
        t.finish(c);
        (primary, backup)
    });

    let mut apis = Vec::new();
    let mut apis_ok = true;
    for mut t in root.tables(c, "apis") {
        let name = t.str(c, "name", true);
        if let Some(v) = &name {
            text(c, &t.field("name"), v, 120, true);
        }
        let url = https(c, &mut t, "url");
        let access = t.str(c, "access", true);
        let access = choice(c, &t, "access", access, Access::parse, Access::choices());
        let third_party = t
            .bool(c, "third_party")
            .map(Spanned::into_inner)
            .unwrap_or(false);
        t.finish(c);
        match (name, access) {
            (Some(name), Some(access)) => apis.push(Api {
                name: name.into_inner(),
                url,
                access,
                third_party,
            }),
            _ => apis_ok = false,
        }
    }

    let auth = root.table(c, "auth", false).map(|mut t| {
        let kind = t.str(c, "type", true);
        let kind = choice(c, &t, "type", kind, AuthType::parse, AuthType::choices());
        let scopes = list(
            c,
            &mut t,
            "scopes",
            50,
            validate::is_token,
            "an OAuth scope without spaces",
        );
        t.finish(c);
        kind.map(|kind| Auth { kind, scopes })
    });

    let data = root.table(c, "data", true).map(|mut t| {
        let class = t.str(c, "classification", true);
        let class = choice(
            c,
            &t,
            "classification",
            class,
            Classification::parse,
            Classification::choices(),
        );
        let residency = list(
            c,
            &mut t,
            "residency",
            20,
            validate::is_token,
            "a region name without spaces",
        );
        let justification = opt_text(c, &mut t, "justification", 2000, false);
        let external_transfer = t
            .bool(c, "external_transfer")
            .map(Spanned::into_inner)
            .unwrap_or(false);
        t.finish(c);
        class.map(|classification| Data {
            classification,
            residency,
            justification,
            external_transfer,
        })
    });

    let security = root.table(c, "security", false).map(|mut t| {
        let sbom = t.str(c, "sbom", false).map(|v| {
            let field = t.field("sbom");
            if v.get_ref().contains("://") {
                https_url(c, &field, &v);
            } else if !validate::is_safe_relative_path(v.get_ref()) {
                c.error(Code::UNSAFE_PATH, v.span(), format!("`{field}` = {:?} leaves the app folder or is not a plain relative path", v.get_ref()), "write a path relative to the folder of app.toml, e.g. \"sbom.cdx.json\", or an https:// URL");
            }
            v.into_inner()
        });
        let digest = t.str(c, "artifact_digest", false);
        if let Some(v) = &digest {
            shape(c, &t.field("artifact_digest"), v, validate::is_digest, Code::INVALID_DIGEST, "sha256:<64 hex> or sha512:<128 hex>");
        }
        t.finish(c);
        Security { sbom, artifact_digest: digest.map(Spanned::into_inner) }
    });

    let support = root.table(c, "support", false).map(|mut t| {
        let sla = opt_text(c, &mut t, "sla", 200, true);
        let runbook = https(c, &mut t, "runbook");
        let oncall = opt_text(c, &mut t, "oncall", 120, true);
        let channel = t.str(c, "channel", false);
        if let Some(v) = &channel {
            shape(
                c,
                &t.field("channel"),
                v,
                validate::is_channel,
                Code::INVALID_NAME,
                "a channel like #team-tools",
            );
        }
        t.finish(c);
        Support {
            sla,
            runbook,
            oncall,
            channel: channel.map(Spanned::into_inner),
        }
    });

    let cost = root.table(c, "cost", false).map(|mut t| {
        let center = t.str(c, "center", false);
        if let Some(v) = &center {
            shape(
                c,
                &t.field("center"),
                v,
                validate::is_cost_center,
                Code::INVALID_NAME,
                "a cost center like CC-4100",
            );
        }
        let monthly = t.number(c, "monthly_usd");
        if let Some(v) = &monthly
            && *v.get_ref() < 0.0
        {
            c.error(
                Code::INVALID_NUMBER,
                v.span(),
                "`cost.monthly_usd` must be zero or more",
                "",
            );
        }
        t.finish(c);
        Cost {
            center: center.map(Spanned::into_inner),
            monthly_usd: monthly.map(Spanned::into_inner),
        }
    });

    let lifecycle = root.table(c, "lifecycle", true).map(|mut t| {
        let status = t.str(c, "status", true);
        let status = choice(c, &t, "status", status, Status::parse, Status::choices());
        let last_reviewed = t.date(c, "last_reviewed").map(Spanned::into_inner);
        let review_by = t.date(c, "review_by").map(Spanned::into_inner);
        let expires = t.date(c, "expires").map(Spanned::into_inner);
        let deprecation_reason = opt_text(c, &mut t, "deprecation_reason", 1000, false);
        let replacement = t.str(c, "replacement", false).filter(|v| {
            shape(
                c,
                &t.field("replacement"),
                v,
                validate::is_reverse_dns,
                Code::INVALID_ID,
                "an app id",
            )
        });
        let retire_on = t.date(c, "retire_on").map(Spanned::into_inner);
        let attested_until = t.date(c, "attested_until").map(Spanned::into_inner);
        t.finish(c);
        status.map(|status| Lifecycle {
            status,
            last_reviewed,
            review_by,
            expires,
            deprecation_reason,
            replacement: replacement.map(Spanned::into_inner),
            retire_on,
            attested_until,
        })
    });
    let similar = root.table(c, "similar", false).map(|mut t| {
        let mut out = Vec::new();
        let items = t.tables(c, "distinct_from");
        if items.len() > 20 {
            let span = c.spans.get("similar.distinct_from").unwrap_or(0..0);
            c.error(
                Code::INVALID_NUMBER,
                span,
                format!(
                    "`similar.distinct_from` has {} entries; at most 20 are allowed",
                    items.len()
                ),
                "",
            );
        }
        for mut d in items {
            let id = d.str(c, "id", true).filter(|v| {
                shape(
                    c,
                    &d.field("id"),
                    v,
                    validate::is_reverse_dns,
                    Code::INVALID_ID,
                    "an app id",
                )
            });
            let why = d.str(c, "why", true);
            if let Some(v) = &why {
                text(c, &d.field("why"), v, 500, false);
                if v.get_ref().trim().chars().count() < 10 {
                    c.error(
                        Code::INVALID_TEXT,
                        v.span(),
                        format!(
                            "`{}` is too short to tell reviewers anything",
                            d.field("why")
                        ),
                        "say in a sentence what this app does that the other one does not",
                    );
                }
            }
            d.finish(c);
            if let (Some(id), Some(why)) = (id, why) {
                out.push(DistinctFrom {
                    id: id.into_inner(),
                    why: why.into_inner(),
                });
            }
        }
        t.finish(c);
        Similar { distinct_from: out }
    });
    root.finish(c);

    if let Some((Some(p), Some(b))) = &owner
        && p.eq_ignore_ascii_case(b)
    {
        let span = c.spans.get("owner.backup").unwrap_or(0..0);
        c.error(
            Code::SAME_OWNER,
            span,
            format!("owner.backup is the same person as owner.primary ({p})"),
            "name a different person as backup owner",
        );
    }

    let findings = std::mem::take(&mut ctx.findings);
    let blocked = findings
        .iter()
        .any(|f| f.severity == crate::diagnostics::Severity::Error);
    let value = (|| {
        if blocked || !apis_ok {
            return None;
        }
        let (primary, backup) = owner?;
        Some(App {
            schema_version: u32::try_from(schema_version?.into_inner()).ok()?,
            id: id?.into_inner(),
            name: name?.into_inner(),
            version: version?,
            summary: summary?.into_inner(),
            description,
            team: team?.into_inner(),
            tags,
            runtime: runtime?,
            tier: tier?,
            endpoint,
            owner: Owner {
                primary: primary?,
                backup,
            },
            apis,
            auth: match auth {
                Some(a) => Some(a?),
                None => None,
            },
            data: data??,
            security,
            support,
            cost,
            lifecycle: lifecycle??,
            similar,
            spans: ctx.spans,
        })
    })();
    let findings = findings
        .into_iter()
        .map(|f| match &app_id {
            Some(id) => f.for_app(id.clone()),
            None => f,
        })
        .collect();
    Parsed {
        value,
        findings,
        id: app_id,
    }
}
