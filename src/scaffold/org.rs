//! A new organisation's own catalog (`bazaar init DIR`): the default policies and templates, no
//! apps, settings from the options, and a GitHub Actions workflow for catalogs that run Bazaar in
//! CI rather than as a daemon. Settings the options did not give are placeholders under the
//! reserved `.invalid` domain (or `OWNER/REPO`), which `check` reports until they are filled.

/// What to put in a new organisation's catalog.
#[derive(Debug, Clone, Default)]
pub struct OrgOptions {
    /// The organisation's name (the site's title).
    pub org: Option<String>,
    /// The domain app endpoints live under (`apps.acme.internal`).
    pub apps_domain: Option<String>,
    /// The catalog's repository on the forge (`acme/app-catalog`).
    pub repository: Option<String>,
    /// Forge logins that hold the `admin` role.
    pub admins: Vec<String>,
}

/// Placeholders `check` reports in `bazaar.toml` (BZ0116).
pub const PLACEHOLDERS: &[&str] = &[".invalid", "OWNER/REPO"];

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `bazaar.toml` for the options.
pub fn config(o: &OrgOptions) -> String {
    let org = o.org.clone().unwrap_or_else(|| "Our".into());
    let host = o
        .org
        .as_deref()
        .map(slug)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "example".into());
    let apps = o
        .apps_domain
        .clone()
        .unwrap_or_else(|| "apps.example.invalid".into());
    let repo = o.repository.clone().unwrap_or_else(|| "OWNER/REPO".into());
    format!(
        r#"#:schema schemas/config.schema.json
# Settings of this catalog. `bazaar schema config` documents every key; `bazaar check` reports
# the placeholders left (values under .invalid, OWNER/REPO) until they are filled.
schema_version = 1

[site]
title = {title}
base_url = "https://bazaar.{host}.invalid/"

[forge]
type = "github"
repository = {repo}

[signing]
name = "Bazaar"
email = "bazaar@{host}.invalid"

[domains]
# Endpoints follow <app>.<team subdomain>.<environment>.<apps domain>.
apps = {apps}
environments = ["prod", "staging", "dev"]

[governance]
allowed_scopes = ["profile", "email"]
allowed_regions = ["eu-west-1", "us-east-1"]
"#,
        title = toml_str(&format!("{org} App Bazaar")),
        repo = toml_str(&repo),
        apps = toml_str(&apps),
    )
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `policies/reviewers.toml`: the admins given, and every other role empty until filled.
pub fn roster(o: &OrgOptions) -> String {
    let list = |v: &[String]| v.iter().map(|s| toml_str(s)).collect::<Vec<_>>().join(", ");
    format!(
        "# Who holds which reviewer role (forge logins or \"@org/team\"). Read from the base branch,\n\
         # never from the submission under review. Fill the empty roles before medium- and high-risk\n\
         # apps can be approved.\n\
         [roles]\n\
         security = []\n\
         product-owner = []\n\
         legal = []\n\
         compliance = []\n\
         admin = [{}]\n",
        list(&o.admins)
    )
}

/// `.github/workflows/bazaar.yml`: `check --base` on pull requests (annotations and a SARIF
/// upload for code scanning) and the site built and deployed to GitHub Pages on pushes to main.
pub const WORKFLOW: &str = r#"# Bazaar in GitHub Actions, for catalogs that do not run the Bazaar daemon: every pull request
# gets `bazaar check --base` (annotations on the manifests and a code-scanning upload), and every
# push to main builds the site and deploys it to GitHub Pages (Settings > Pages > Source: GitHub
# Actions). Set BAZAAR_GIT below to where your Bazaar sources live.
name: Bazaar

on:
  pull_request:
  push:
    branches: [main]

permissions:
  contents: read

env:
  BAZAAR_GIT: https://github.com/OWNER/bazaar

concurrency:
  group: bazaar-${{ github.ref }}
  cancel-in-progress: true

jobs:
  check:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - name: Install Bazaar
        run: cargo install --locked --git "$BAZAAR_GIT" bazaar
      - name: Check the submission, judged on its merge into the base branch
        env:
          BASE: origin/${{ github.base_ref }}
        run: bazaar check --base "$BASE" --rev HEAD --format github
      - name: Findings for code scanning
        if: always()
        env:
          BASE: origin/${{ github.base_ref }}
        run: bazaar check --base "$BASE" --rev HEAD --format sarif > bazaar.sarif || true
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
        with:
          sarif_file: bazaar.sarif

  site:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{ steps.deploy.outputs.page_url }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - name: Install Bazaar
        run: cargo install --locked --git "$BAZAAR_GIT" bazaar
      - name: Build the site
        run: bazaar build --rev HEAD --out public
      - uses: actions/upload-pages-artifact@v3
        with:
          path: public
      - id: deploy
        uses: actions/deploy-pages@v4
"#;
