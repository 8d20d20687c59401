//! Creating things: a new catalog repository (`init`, optionally with synthetic apps) and a new
//! app manifest (`new`).

pub mod org;
mod sample;

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::catalog::{Catalog, Snapshot};
use crate::manifest::{self, Runtime, Tier, is_reverse_dns, is_slug};

static DEFAULT_CATALOG: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/catalog");
static DEFAULT_POLICIES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");
static DEFAULT_TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/site-templates");
static SCHEMAS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/schemas");
static DEFAULT_CONFIG: &str = include_str!("../../bazaar.toml");

/// Why scaffolding failed; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The target folder is in use.
    #[error("{0} exists and is not empty; choose a new folder")]
    NotEmpty(PathBuf),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Git failed.
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    /// Bad arguments to `new`.
    #[error("{0}")]
    Invalid(String),
    /// The catalog could not be read.
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    /// The catalog could not be read.
    #[error(transparent)]
    Snapshot(#[from] crate::catalog::SnapshotError),
}

fn write(path: &Path, contents: &[u8]) -> Result<(), ScaffoldError> {
    let io = |e| ScaffoldError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, contents).map_err(io)
}

fn extract(dir: &Dir<'_>, to: &Path) -> Result<(), ScaffoldError> {
    for f in dir.files() {
        write(&to.join(f.path()), f.contents())?;
    }
    for d in dir.dirs() {
        extract(d, to)?;
    }
    Ok(())
}

/// What `init` made.
#[derive(Debug)]
pub struct InitSummary {
    /// Apps in the new catalog.
    pub apps: usize,
    /// Teams in the new catalog.
    pub teams: usize,
    /// The first commit's id.
    pub commit: String,
}

/// What a new catalog repository holds.
#[derive(Debug, Clone)]
pub enum InitKind {
    /// An organisation's own catalog: no apps, settings from the options.
    Org(org::OrgOptions),
    /// The demo catalog (Acme's 22 apps).
    Demo,
    /// N synthetic apps, for benchmarks.
    Sample(usize),
}

/// Creates a catalog repository at `dir` (which must not exist or be empty), committed as one
/// commit.
pub fn init(
    dir: &Path,
    kind: &InitKind,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<InitSummary, ScaffoldError> {
    if dir.exists() {
        let mut it = std::fs::read_dir(dir).map_err(|e| ScaffoldError::Io {
            path: dir.into(),
            source: e,
        })?;
        if it.next().is_some() {
            return Err(ScaffoldError::NotEmpty(dir.to_path_buf()));
        }
    }
    extract(&DEFAULT_POLICIES, &dir.join("policies"))?;
    // only the note on overriding: copies of the default templates would shadow every later
    // improvement of Bazaar's own (the defaults are embedded in the binary)
    if let Some(note) = DEFAULT_TEMPLATES.get_file("README.md") {
        write(&dir.join("site-templates/README.md"), note.contents())?;
    }
    extract(&SCHEMAS, &dir.join("schemas"))?;
    let (apps, teams) = match kind {
        InitKind::Org(o) => {
            write(&dir.join("bazaar.toml"), org::config(o).as_bytes())?;
            write(
                &dir.join("policies/reviewers.toml"),
                org::roster(o).as_bytes(),
            )?;
            write(
                &dir.join(".github/workflows/bazaar.yml"),
                org::WORKFLOW.as_bytes(),
            )?;
            (0, 0)
        }
        InitKind::Demo => {
            write(&dir.join("bazaar.toml"), DEFAULT_CONFIG.as_bytes())?;
            extract(&DEFAULT_CATALOG, &dir.join("catalog"))?;
            let snap = Snapshot::from_dir(dir)?;
            let cat = Catalog::load(&snap)?;
            (cat.app_dirs.len(), cat.teams.len())
        }
        InitKind::Sample(n) => {
            write(&dir.join("bazaar.toml"), DEFAULT_CONFIG.as_bytes())?;
            progress(&format!("generating {n} synthetic apps…"));
            sample::generate(dir, *n, progress)?
        }
    };
    progress("committing…");
    let commit = commit_all(
        dir,
        match kind {
            InitKind::Sample(_) => "Synthetic catalog for benchmarks",
            InitKind::Demo => "Bazaar's demo catalog",
            InitKind::Org(_) => "New Bazaar catalog",
        },
    )?;
    Ok(InitSummary {
        apps,
        teams,
        commit,
    })
}

/// `git init` (if needed), stage everything and commit. Uses git's configured identity, or
/// Bazaar's when none is set.
pub fn commit_all(dir: &Path, message: &str) -> Result<String, ScaffoldError> {
    let repo = match git2::Repository::open(dir) {
        Ok(r) => r,
        Err(_) => {
            let mut opts = git2::RepositoryInitOptions::new();
            opts.initial_head("main");
            git2::Repository::init_opts(dir, &opts)?
        }
    };
    let mut index = repo.index()?;
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let sig = repo
        .signature()
        .or_else(|_| git2::Signature::now("Bazaar", "bazaar@localhost"))?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    let id = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    Ok(id.to_string())
}

/// Arguments of `bazaar new`.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// Reverse-DNS id.
    pub id: String,
    /// Team folder.
    pub team: String,
    /// Display name.
    pub name: String,
    /// Tier.
    pub tier: Tier,
    /// Runtime.
    pub runtime: Runtime,
    /// Owner's forge login.
    pub owner: String,
    /// Backup owner's forge login.
    pub backup: Option<String>,
    /// SBOM path (in the app folder) or https URL, needed by vetted and enterprise apps.
    pub sbom: Option<String>,
    /// Artifact digest (`sha256:…`), needed by vetted and enterprise apps.
    pub digest: Option<String>,
}

fn login_from(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() { "owner".into() } else { out }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Writes `catalog/TEAM/SLUG/app.toml` and a README stub; returns the paths written.
pub fn new_app(root: &Path, args: &NewApp) -> Result<Vec<PathBuf>, ScaffoldError> {
    let snap = crate::check::snapshot(root, None)?;
    let cat = Catalog::load(&snap)?;
    if !is_reverse_dns(&args.id) {
        return Err(ScaffoldError::Invalid(format!(
            "--id {:?} is not a reverse-DNS id; use lowercase labels like com.acme.{}.my-app",
            args.id, args.team
        )));
    }
    if let Some(other) = cat.app(&args.id) {
        return Err(ScaffoldError::Invalid(format!(
            "id {} is taken by {}; choose another id",
            args.id, other.dir
        )));
    }
    let Some(team) = cat.teams.get(&args.team) else {
        let known: Vec<&str> = cat.teams.keys().map(String::as_str).collect();
        return Err(ScaffoldError::Invalid(format!(
            "team {:?} does not exist; known teams: {} (add catalog/{}/team.toml to create it)",
            args.team,
            known.join(", "),
            args.team
        )));
    };
    let slug = args.id.rsplit('.').next().unwrap_or_default().to_string();
    if !is_slug(&slug) {
        return Err(ScaffoldError::Invalid(format!(
            "the id's last label {slug:?} cannot be a folder name"
        )));
    }
    let dir = root.join("catalog").join(&args.team).join(&slug);
    if dir.exists() {
        return Err(ScaffoldError::Invalid(format!(
            "{} already exists; choose another id",
            dir.display()
        )));
    }
    if args.name.trim().is_empty() || args.name.chars().count() > 80 || args.name.contains('\n') {
        return Err(ScaffoldError::Invalid(
            "--name must be one line of 1 to 80 characters".into(),
        ));
    }
    let config = cat.config.as_ref().ok_or_else(|| {
        ScaffoldError::Invalid("bazaar.toml has errors; run `bazaar check` first".into())
    })?;
    let today = chrono::Local::now().date_naive();
    let days = |n: i64| today + chrono::Duration::days(n);
    let endpoint = match args.runtime {
        Runtime::Automation => format!(
            "# endpoint = \"https://{slug}.{}.prod.{}/\"",
            team.subdomain, config.domains.apps
        ),
        _ => format!(
            "endpoint = {}",
            toml_str(&format!(
                "https://{slug}.{}.prod.{}/",
                team.subdomain, config.domains.apps
            ))
        ),
    };
    let owner = login_from(&args.owner);
    let channel = team
        .channel
        .clone()
        .unwrap_or_else(|| format!("#{}", args.team));
    let mut text = format!(
        r#"#:schema ../../../schemas/app.schema.json
# App manifest. Every key is documented by `bazaar schema app`; `bazaar check` validates it.
schema_version = 1
id = {id}
name = {name}
version = "0.1.0"
summary = {summary}
team = {team}
tags = []
runtime = "{runtime}"   # {runtimes}
tier = "{tier}"   # {tiers}
{endpoint}

[owner]
primary = {owner}
{backup}

[auth]
type = "sso"   # {auths}
scopes = []    # OAuth scopes from bazaar.toml's allow-list; ":write" scopes raise the risk class

[data]
classification = "internal"   # {classes}
# residency = ["eu-central"]  # required for pii/phi
# justification = "why the app needs this data"   # required for pii/phi

[support]
channel = {channel}
# sla = "99.9% monthly, 4h response in business hours"   # required for enterprise
# runbook = "https://…"                                   # required for enterprise
# oncall = "schedule-name"                                # required for enterprise

[lifecycle]
status = "active"
last_reviewed = {today}
review_by = {review}
"#,
        id = toml_str(&args.id),
        name = toml_str(args.name.trim()),
        summary = toml_str(&format!("{} for the {} team.", args.name.trim(), team.name)),
        team = toml_str(&args.team),
        runtime = args.runtime,
        runtimes = Runtime::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        tier = args.tier,
        tiers = Tier::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        auths = manifest::AuthType::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        classes = manifest::Classification::ALL
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        owner = toml_str(&owner),
        backup = match &args.backup {
            Some(b) => format!("backup = {}   # a second person who can act for the app", toml_str(&login_from(b))),
            None => "# backup = \"another-login\"   # a second person who can act for the app (policy requires one)".to_string(),
        },
        channel = toml_str(&channel),
        today = today,
        review = days(180),
    );
    if args.tier == Tier::Discover {
        text.push_str(&format!(
            "expires = {}   # discover apps expire at most {} days after their last review\n",
            days(config.governance.discover_max_days.into()),
            config.governance.discover_max_days
        ));
    } else {
        text.push_str("\n[security]\n# vetted and enterprise apps need both\n");
        match &args.sbom {
            Some(v) => text.push_str(&format!(
                "sbom = {}   # CycloneDX SBOM beside this file, or an https URL\n",
                toml_str(v)
            )),
            None => text.push_str(
                "# sbom = \"sbom.cdx.json\"   # CycloneDX SBOM beside this file, or an https URL\n",
            ),
        }
        match &args.digest {
            Some(v) => text.push_str(&format!(
                "artifact_digest = {}   # digest of the reviewed artifact\n",
                toml_str(v)
            )),
            None => text
                .push_str("# artifact_digest = \"sha256:…\"   # digest of the reviewed artifact\n"),
        }
    }
    let readme = format!(
        "# {}\n\nWhat the app does, who it is for and how to start using it.\n\n## Data\n\nWhat it reads and writes.\n\n## Getting help\n\nAsk in {channel}.\n",
        args.name.trim()
    );
    let manifest = dir.join("app.toml");
    let readme_path = dir.join("README.md");
    write(&manifest, text.as_bytes())?;
    write(&readme_path, readme.as_bytes())?;
    Ok(vec![manifest, readme_path])
}
