//! Stable finding codes and their fix guides (`bazaar explain CODE`).

use serde::{Serialize, Serializer};

use super::Severity;

/// A stable finding code such as `BZ0102`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// What a code means.
#[derive(Debug)]
pub struct CodeInfo {
    /// The code.
    pub code: &'static str,
    /// Short name.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// What it means and how to fix it.
    pub guide: &'static str,
}

impl Code {
    /// The code's text.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The code of a table entry.
    pub fn from_table(info: &'static CodeInfo) -> Code {
        Code(info.code)
    }

    /// Its entry in the table of codes.
    pub fn info(self) -> &'static CodeInfo {
        lookup(self.0).expect("every Code constant has a table entry")
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal, $sev:ident, $title:literal, $guide:literal;)*) => {
        impl Code {
            $(#[doc = $title] pub const $name: Code = Code($code);)*
        }
        static TABLE: &[CodeInfo] = &[
            $(CodeInfo { code: $code, title: $title, severity: Severity::$sev, guide: $guide },)*
        ];
    };
}

codes! {
    TOML_SYNTAX = "BZ0001", Error, "TOML syntax error",
        "The file is not valid TOML, so nothing in it could be read.\n\nFix: correct the syntax at the position shown (a missing quote, `=` or closing bracket is typical). `taplo check` or any TOML-aware editor shows the same problem as you type.";
    NOT_UTF8 = "BZ0002", Error, "file is not UTF-8",
        "Catalog files must be UTF-8 text. The file contains bytes that are not valid UTF-8 (often a file saved as Latin-1 or UTF-16).\n\nFix: re-save the file as UTF-8, e.g. `iconv -f latin1 -t utf-8 app.toml > app.toml.new && mv app.toml.new app.toml`.";
    TOO_LARGE = "BZ0003", Error, "file too large",
        "The file is larger than Bazaar reads (manifests 256 KiB, READMEs 1 MiB, SBOMs 8 MiB). Huge files are refused before parsing so that one submission cannot stall the catalog.\n\nFix: keep the manifest to its facts; move long text to README.md and large documents to a URL.";
    BOM = "BZ0004", Error, "byte-order mark",
        "The file starts with a UTF-8 byte-order mark (BOM), which TOML does not allow at the start of a document and which some tools treat as part of the first key.\n\nFix: save the file as UTF-8 without BOM (in VS Code: 'Save with Encoding' → 'UTF-8').";
    SYMLINK = "BZ0005", Error, "symbolic link refused",
        "The catalog contains a symbolic link. Bazaar never follows links: a link could make the catalog read files outside the repository or show different content than reviewers saw.\n\nFix: replace the link with a regular file (copy the content) or remove it.";
    SUBMODULE = "BZ0006", Error, "submodule refused",
        "The catalog contains a Git submodule (gitlink). Its content is not part of the reviewed tree, so Bazaar refuses it.\n\nFix: remove the submodule (`git rm PATH`) and commit the files themselves.";
    SPECIAL_FILE = "BZ0007", Error, "special file refused",
        "The catalog folder contains a named pipe, socket or device. Bazaar never reads them: reading a pipe can block forever.\n\nFix: remove it; the catalog holds only regular files.";
    UNKNOWN_KEY = "BZ0101", Error, "unknown key",
        "The manifest has a key Bazaar does not know. Unknown keys are errors because a typo (e.g. `clasification`) would otherwise silently drop a governance fact.\n\nFix: correct the spelling or remove the key. `bazaar schema app` prints every allowed key; editors that read the `#:schema` line complete them for you.";
    MISSING_FIELD = "BZ0102", Error, "missing required field",
        "A required field is absent. Every app needs schema_version, id, name, version, summary, team, runtime, tier, [owner] primary, [data] classification and [lifecycle] status.\n\nFix: add the field named in the message. `bazaar new` writes a complete, commented manifest you can copy from.";
    WRONG_TYPE = "BZ0103", Error, "wrong type",
        "A value has the wrong TOML type, e.g. a number where a string is expected, a string where a list is expected, or a quoted date.\n\nFix: use the type named in the message. Strings are quoted, lists use [ ], tables use [name] headers or { }, dates are written bare: review_by = 2027-03-01.";
    INVALID_VALUE = "BZ0104", Error, "value not allowed",
        "The value is not one of those allowed for the field (e.g. runtime = \"docker\").\n\nFix: use one of the values listed in the message.";
    INVALID_ID = "BZ0105", Error, "invalid app id",
        "App ids are reverse-DNS names: at least three lowercase labels separated by dots, each starting with a letter and made of letters, digits and hyphens, e.g. com.acme.finance.expense-tracker. Ids are permanent: they name the app in links, collections and approvals.\n\nFix: write the id as com.<company>.<team>.<app>.";
    INVALID_VERSION = "BZ0106", Error, "invalid version",
        "`version` must be a semantic version (MAJOR.MINOR.PATCH, optionally with -pre-release and +build), e.g. 1.4.0.\n\nFix: write the version as three numbers separated by dots.";
    INVALID_URL = "BZ0107", Error, "invalid URL",
        "The value must be an absolute https:// URL (http is refused: catalog links are followed by every employee).\n\nFix: write the full URL including https://.";
    INVALID_DATE = "BZ0108", Error, "invalid date",
        "Dates are TOML local dates (RFC 3339 full-date) written without quotes, e.g. review_by = 2027-03-01.\n\nFix: remove the quotes or the time part, and use YYYY-MM-DD.";
    SCHEMA_VERSION = "BZ0109", Error, "unsupported schema_version",
        "schema_version tells Bazaar which manifest format the file uses. This version of Bazaar reads schema_version = 1.\n\nFix: set schema_version = 1, or upgrade Bazaar if the catalog uses a newer format.";
    UNSAFE_PATH = "BZ0110", Error, "unsafe path",
        "A path field (e.g. security.sbom) is absolute, contains `..`, a backslash or an empty segment. Paths are relative to the app's folder and must stay inside it.\n\nFix: write the path relative to the folder holding app.toml, e.g. sbom = \"sbom.cdx.json\", or use an https:// URL.";
    INVALID_NAME = "BZ0111", Error, "invalid name",
        "The value must be a lowercase slug (letters, digits, hyphens; starting with a letter or digit), a forge login, a channel (#name), a cost center (CC-1234) or a DNS label, as the message says.\n\nFix: rewrite the value in the form shown.";
    INVALID_TEXT = "BZ0112", Error, "text empty or too long",
        "A text field is empty, has leading or trailing spaces, spans several lines where one is expected, or is longer than its limit (name 80, summary 160, description 4000 characters).\n\nFix: shorten or fill the text; long explanations belong in README.md.";
    INVALID_DIGEST = "BZ0113", Error, "invalid artifact digest",
        "artifact_digest pins the exact artifact that was reviewed. It must be sha256: or sha512: followed by the lowercase hex digest (64 or 128 characters).\n\nFix: copy the digest your registry shows, e.g. `docker inspect --format '{{.RepoDigests}}'` or `sha256sum artifact`.";
    INVALID_NUMBER = "BZ0114", Error, "number out of range",
        "The number is outside the allowed range (costs are zero or more; lists have a maximum length).\n\nFix: use a value in the range named in the message.";
    PLACEHOLDER = "BZ0116", Warning, "setting still a placeholder",
        "`bazaar init` writes the settings it was not given as placeholders: addresses under the reserved `.invalid` domain (which never resolves) and `OWNER/REPO`. Until they are filled, links on the site, endpoint checks and signed commits would carry them.\n\nFix: edit bazaar.toml: `[site] base_url` (where the site is served), `[forge] repository` (the catalog's GitHub repository), `[domains] apps` (the domain app endpoints live under) and `[signing] email` (the committer of Bazaar's signed commits).";
    UNSAFE_TEXT = "BZ0115", Error, "invisible or unsafe character in text",
        "A text field (an app's name, summary or description, a team's or collection's name, the site title, …) contains a character that can make text lie or break the site's feeds: a control character, a Unicode noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF and the last two code points of every plane; XML does not allow them, so the Atom feed would be invalid) or a bidi control (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), which reorders how the text is displayed, so a name can look like another one (Trojan Source). The finding points at the character's line and column.\n\nFix: retype the text without the character; most editors show it with \"show invisibles\", or find it with `grep -nP '[\\x{202A}-\\x{202E}\\x{2066}-\\x{2069}\\x{200E}\\x{200F}\\x{061C}]' FILE`.";
    DUPLICATE_ID = "BZ0201", Error, "duplicate app id",
        "Two manifests declare the same id. Ids must be unique across the whole catalog, all teams included.\n\nFix: give the new app its own id; if it replaces the other app, deprecate the old one with `replacement`.";
    DUPLICATE_ENDPOINT = "BZ0202", Error, "duplicate endpoint",
        "Two apps declare the same endpoint URL, so users could not tell which app they are reaching.\n\nFix: give each app its own host, following app.team.env.<apps domain>.";
    UNKNOWN_TEAM = "BZ0203", Error, "unknown team",
        "The app's folder is under catalog/<team>/ but there is no catalog/<team>/team.toml, so nobody is accountable for it.\n\nFix: add team.toml for the team (see `bazaar schema team`) or move the app under an existing team.";
    TEAM_MISMATCH = "BZ0204", Error, "team does not match folder",
        "The manifest's `team` differs from the team folder it lives in. The folder decides ownership on the forge (CODEOWNERS), so both must agree.\n\nFix: set team to the folder name, or move the app folder to the right team.";
    SAME_OWNER = "BZ0205", Error, "owner and backup are the same",
        "owner.primary and owner.backup name the same person. A backup owner exists so the app is not orphaned when one person leaves.\n\nFix: name a different person as backup.";
    UNKNOWN_APP_REF = "BZ0206", Error, "reference to an unknown app",
        "A collection (or another manifest) names an app id that is not in the catalog.\n\nFix: correct the id or remove it from the list.";
    MISSING_REPLACEMENT = "BZ0207", Error, "replacement does not exist",
        "A deprecated app names a replacement that is not in the catalog, so its users would be sent nowhere.\n\nFix: set lifecycle.replacement to the id of an existing app.";
    RETIRED_REPLACEMENT = "BZ0208", Error, "replacement is retired",
        "A deprecated app names a replacement that is itself retired or deprecated.\n\nFix: point lifecycle.replacement at an active app.";
    BAD_PATH_NAME = "BZ0209", Error, "folder or file name not allowed",
        "Team and app folders, and collection files, are lowercase slugs ([a-z0-9][a-z0-9-]*); they become URLs on the site and must mean the same thing on every file system.\n\nFix: rename the folder, e.g. `git mv catalog/Finance catalog/finance`.";
    CASE_COLLISION = "BZ0210", Error, "paths differ only in case",
        "Two paths in the catalog differ only in upper/lower case. They collide on macOS and Windows checkouts, where one would silently overwrite the other.\n\nFix: rename or remove one of them.";
    LAYOUT = "BZ0211", Error, "file in an unexpected place",
        "The catalog has a fixed layout: catalog/<team>/team.toml, catalog/<team>/<app>/app.toml (with README.md and an optional SBOM beside it) and catalog/collections/*.toml. A file elsewhere would be ignored, which usually means a mistake.\n\nFix: move the file to where the layout expects it, or remove it.";
    MISSING_FILE = "BZ0212", Error, "referenced file missing",
        "A path field names a file that is not in the app's folder.\n\nFix: add the file (committed, not ignored) or correct the path.";
    NOT_A_CATALOG = "BZ0213", Error, "not a catalog",
        "The tree has no bazaar.toml or no catalog/ folder.\n\nFix: run Bazaar from the catalog repository's root or pass --root; create a new catalog with `bazaar init DIR`.";
    POLICY_DENY = "BZ0300", Error, "denied by policy",
        "A policy in policies/*.rego denied the app (a `deny` rule without its own code).\n\nFix: do what the message says; `bazaar policy test` runs the policies' own tests, and the policy file names the rule.";
    BACKUP_OWNER = "BZ0301", Error, "backup owner missing",
        "Every app names a backup owner different from its owner, so it is not orphaned when one person leaves.\n\nFix: set owner.backup to another person's forge login.";
    SUPPORT_CHANNEL = "BZ0302", Error, "support channel missing",
        "Every app names a chat channel where users get help.\n\nFix: set support.channel = \"#your-channel\".";
    SBOM_MISSING = "BZ0303", Error, "SBOM missing",
        "Vetted and enterprise apps carry a software bill of materials (CycloneDX), so security can see what they are built from.\n\nFix: generate one (e.g. `syft . -o cyclonedx-json > sbom.cdx.json` or `cdxgen`), keep it beside app.toml and set security.sbom = \"sbom.cdx.json\", or point security.sbom at an https URL.";
    DIGEST_MISSING = "BZ0304", Error, "artifact digest missing",
        "Vetted and enterprise apps pin the exact artifact that was reviewed.\n\nFix: set security.artifact_digest = \"sha256:<hex>\" from your registry or `sha256sum`.";
    ENTERPRISE_OPS = "BZ0305", Error, "enterprise operations incomplete",
        "Enterprise (production) apps need an SLA, a runbook, an on-call schedule, a cost center and a monthly budget estimate.\n\nFix: fill in the [support] and [cost] fields named in the message.";
    JUSTIFICATION = "BZ0306", Error, "access justification missing",
        "Apps that handle pii or phi say why they need that data.\n\nFix: set data.justification to one or two sentences reviewers can judge.";
    RESIDENCY = "BZ0307", Error, "data residency missing or not allowed",
        "Apps that handle pii or phi list where the data is stored, from the regions allowed in bazaar.toml (governance.allowed_regions).\n\nFix: set data.residency to allowed regions, or ask the platform team to allow a new one.";
    SCOPE_NOT_ALLOWED = "BZ0308", Error, "OAuth scope not allowed",
        "OAuth scopes come from the allow-list in bazaar.toml (governance.allowed_scopes).\n\nFix: request only listed scopes, or ask the platform team to add the scope (a change to bazaar.toml needs the admin role).";
    ENDPOINT_SHAPE = "BZ0309", Error, "endpoint outside the team's subdomain",
        "Endpoints follow <app-folder>.<team subdomain>.<environment>.<apps domain>, so each team serves only from its own subdomain.\n\nFix: use the host shown in the message.";
    DISCOVER_EXPIRY = "BZ0310", Error, "discover app expiry missing or too late",
        "Discover (experimental) apps expire at most governance.discover_max_days (default 90) after their last review unless renewed.\n\nFix: set lifecycle.last_reviewed and lifecycle.expires within the limit, or promote the app to vetted.";
    DEPRECATION = "BZ0311", Error, "deprecation incomplete",
        "A deprecated app says why, names its replacement and when it will be retired, so users can move.\n\nFix: set lifecycle.deprecation_reason, lifecycle.replacement and lifecycle.retire_on.";
    SBOM_INVALID = "BZ0312", Error, "SBOM is not CycloneDX",
        "The SBOM kept beside the manifest must be CycloneDX JSON (bomFormat \"CycloneDX\", specVersion 1.x, components).\n\nFix: regenerate it with a CycloneDX tool (syft, cdxgen, cyclonedx-cli).";
    SBOM_VULNERABLE = "BZ0313", Error, "SBOM lists a high or critical vulnerability",
        "The SBOM reports a vulnerability rated high or critical. It blocks vetted and enterprise apps and warns for discover apps.\n\nFix: upgrade the affected component and regenerate the SBOM, or record the analysis (not affected) in the SBOM's vulnerability entry.";
    COST_CENTER = "BZ0314", Error, "cost center not the team's",
        "Apps charge one of their team's cost centers (team.toml cost_centers).\n\nFix: use one of the team's cost centers, or add it to team.toml.";
    POLICY_ERROR = "BZ0390", Error, "policy could not be evaluated",
        "A Rego policy has a syntax error, failed at run time, ran past the time limit or returned a value of the wrong shape. Until it is fixed nothing can pass, so a broken policy never lets a submission through.\n\nFix: correct the policy at the file and line shown; run `bazaar policy test` locally.";
    UNKNOWN_ROLE = "BZ0391", Error, "policy requires an unknown role",
        "required_roles named a role that policies/reviewers.toml does not define, so nobody could ever approve.\n\nFix: add the role to reviewers.toml or correct the policy.";
    ROSTER = "BZ0392", Error, "invalid reviewer roster",
        "policies/reviewers.toml maps roles to forge logins and @org/team entries under [roles].\n\nFix: correct the entry shown.";
    ADMIN_REQUIRED = "BZ0393", Info, "governance change needs admin",
        "The submission changes policies/, the roster, allowed_signers or bazaar.toml. Whatever else it changes, an admin must approve it.\n\nFix: nothing to fix; ask a catalog admin to review.";
    POLICY_IMPACT = "BZ0394", Info, "impact of new policies",
        "The submission changes the policies. Its own apps are judged by the base branch's policies; this note shows what the new policies would do to the whole catalog, for the admins who review it.\n\nFix: nothing to fix; read the numbers before approving.";
    POLICY_LIMIT = "BZ0395", Error, "policies exceed their resource limits",
        "The submission changes the policies, and running the new policies over the catalog (the policy-impact report) exhausted the memory policies may use (1 GiB by default), crashed, or produced an answer too large to read. Merged, these policies would break every later check. Bazaar runs a submission's own policies in a separate, memory-limited process, so nothing else is affected.\n\nFix: bound what the rules build (a `numbers.range` over a huge span, a `sprintf` with a huge width, a set of every pair of apps) and how many findings a rule emits per app (at most 100); run `bazaar policy test` locally.";
    POLICY_WARN = "BZ0399", Warning, "policy warning",
        "A policy `warn` rule: the submission passes, but the problem must be fixed before the deadline shown, after which the app is flagged maintenance-required.\n\nFix: do what the message says before the deadline.";
    README_TOO_LONG = "BZ0214", Warning, "README very long",
        "README.md is longer than the site renders in full (200,000 characters); the rest is cut on the app page.\n\nFix: move reference material to the app's own documentation and link it.";
    LIKELY_DUPLICATE = "BZ0220", Info, "looks like an app the catalog already has",
        "The app being added looks like one or more apps already in the catalog: their words (name, summary, description, README, tags) are alike and they call the same APIs, ask for the same scopes or carry the same tags. The note names the app and the evidence, e.g. \"looks like com.acme.finance.expense-tracker (Expense Tracker): same API host expenses.finance.acme.internal, 4 shared tags, text 0.81 alike\". Duplicates cost twice to run, to secure and to review; reusing or extending the existing app is usually cheaper. This note never blocks.\n\nFix: reuse the existing app (ask its owners in their channel), extend it, or say in the manifest why this one differs:\n\n  [similar]\n  distinct_from = [{ id = \"com.acme.finance.expense-tracker\", why = \"tracks card spend in real time; the tracker is month-end only\" }]\n\nThat silences the note for the apps named, and reviewers read the reason. `bazaar similar <id or folder>` lists the apps alike with their evidence; the thresholds are `[similar]` in bazaar.toml.";
    SIGNAL_UNKNOWN_APP = "BZ0221", Warning, "signals row for an unknown app",
        "A row in signals/*.csv or signals/*.jsonl names an app id the catalog does not have (a typo, or an app that was removed). The row is ignored; the other rows still count. Signals are committed by the platform's telemetry and billing export, so this never blocks a submission.\n\nFix: correct the id in the export, or stop exporting rows for apps removed from the catalog.";
    SIGNAL_BAD_VALUE = "BZ0222", Warning, "signals value not a number or month",
        "A cell of a signals row is not what its column holds: month is YYYY-MM; active_users, teams and requests are whole numbers, zero or more; error_rate and uptime are percentages from 0 to 100; cost_usd is US dollars, zero or more. Write plain numbers (1250, 99.95), without units, currency signs or thousands separators; leave a cell empty when it is unknown. A bad number is ignored (the rest of the row counts); a bad month drops the row.\n\nFix: correct the value at the line and column shown, in the export that writes the file.";
    SIGNAL_DUPLICATE = "BZ0223", Warning, "second signals row for the same app and month",
        "Each app has at most one row per month across all signals files, so that usage and cost are never counted twice. The second row is ignored; the finding names the first.\n\nFix: remove one of the rows (or merge them), usually by re-running the export for that month.";
    SIGNAL_BAD_ROW = "BZ0224", Warning, "signals file or row cannot be read",
        "A signals file or row is not in the expected shape: CSV files start with a header row naming their columns (app, month, active_users, teams, requests, error_rate, uptime, cost_usd; app and month are required) and have one cell per column on every row; JSON Lines files have one object per line with those keys. Files in signals/ are .csv or .jsonl, UTF-8, at most 32 MiB. What cannot be read is ignored; everything else still counts.\n\nFix: correct the file at the line shown, or the export that writes it.";
    COST_OVERRUN = "BZ0315", Warning, "actual cost over the forecast",
        "The app's actual cost in its last complete month (from signals/) is over its forecast (cost.monthly_usd) by 25% or more; the warning names the threshold crossed (25%, 50% or 100%). Small apps multiply: an app that costs twice its forecast should be looked at before the bill grows.\n\nFix: bring the cost down, or update cost.monthly_usd to a realistic forecast and have the budget approved.";
    README_DEAD_APP_LINK = "BZ0215", Warning, "README links to a missing app",
        "README.md links to the catalog page of an app (`../<app id>/`, `../../apps/<app id>/` or the site's own address) that is not in the catalog: the link would be broken on the site.\n\nFix: correct the app id in the link, or remove the link if the app was retired and removed.";
    MERGE_CONFLICT = "BZ0216", Error, "the submission cannot be merged into its base",
        "A submission is judged on the tree that merging it into the base branch produces, because that tree (and nothing else) is what gets signed and published. Here Git cannot produce it: the same lines of a file changed on both sides (a conflict), or the submission's branch shares no history with the base.\n\nFix: bring the branch up to date with the base (`git fetch && git rebase origin/main`, or merge main into it), resolve the conflicts, and push again; the check then runs on the merge result. A branch made from scratch must be re-created from the base branch.";
    COMMITTED_OUTPUT = "BZ0217", Error, "build output committed",
        "The repository tracks what `bazaar build` or `bazaar serve` writes: the published link (`public`), a build folder (`.<out>.build-a`, `.<out>.build-b`) or Bazaar's private state (`.bazaar-serve/`, `.bazaar-state/`). A submission that commits them could make a build trust, follow or delete files it never made, so Bazaar refuses such folders; and the site is generated, not reviewed.\n\nFix: remove them from Git and ignore them: `git rm -r --cached PATH`, then add the path to `.gitignore` (e.g. `/public` and `/.public.*`).";
    README_TOO_COMPLEX = "BZ0218", Error, "README too complex to render",
        "README.md goes past one of the limits that keep rendering fast: at most 32 nested quotes or lists opened on one line, 2,000 raw HTML tags, 64 table columns and 40,000 markup characters (`*`, `_`, backquotes, `|`, `[`). Deeper nesting makes the Markdown and HTML parsers' work grow with the square of the depth (100,000 nested `>` took a minute), so one README could stall every build. The site shows such a README as plain, escaped text with a note; the finding points at the first line past a limit.\n\nFix: flatten the nesting or the markup at that line; long generated HTML belongs in the app's own documentation, linked from the README.";
}

/// The table entry for a code, if it exists (case-insensitive).
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    TABLE.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

/// All codes in order.
pub fn explain() -> &'static [CodeInfo] {
    TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in TABLE {
            assert!(seen.insert(c.code), "duplicate {}", c.code);
            assert!(c.code.len() == 6 && c.code.starts_with("BZ"), "{}", c.code);
            assert!(c.guide.contains("Fix:"), "{} has no fix", c.code);
        }
        assert_eq!(lookup("bz0102").unwrap().title, "missing required field");
    }
}
