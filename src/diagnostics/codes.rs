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
    README_TOO_LONG = "BZ0214", Warning, "README very long",
        "README.md is longer than the site renders in full (200,000 characters); the rest is cut on the app page.\n\nFix: move reference material to the app's own documentation and link it.";
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
