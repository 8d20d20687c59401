//! Broken, hostile and surprising input: every case is a temporary copy of the demo catalog with
//! one thing wrong. Each test asserts the exit code, the finding code(s) and where the finding
//! points, and that Bazaar never panics.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// `bazaar check --root DIR --format json EXTRA…`: exit code, parsed report, stderr. Also runs
/// the human and GitHub formats. Fails the test when the binary panicked.
fn check(root: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = check_args(root, extra);
    let r = bazaar(&args);
    assert!(
        !r.stderr.contains("panicked"),
        "bazaar panicked:\n{}",
        r.stderr
    );
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("json ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    // the other renderers see the same findings (snippets of odd spans) and must not panic either
    for format in ["human", "github"] {
        args[4] = format;
        let o = bazaar(&args);
        assert!(
            !o.stderr.contains("panicked"),
            "bazaar --format {format} panicked:\n{}",
            o.stderr
        );
        assert_eq!(o.code, r.code, "--format {format}: {}", o.stderr);
    }
    (r.code, v, r.stderr)
}

/// A run that could not check anything (exit 2, no report); returns stderr.
fn check_fails(root: &Path, extra: &[&str]) -> String {
    let r = bazaar(&check_args(root, extra));
    assert!(
        !r.stderr.contains("panicked"),
        "bazaar panicked:\n{}",
        r.stderr
    );
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r.stderr
}

/// Findings with a code.
fn with_code<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// Findings with a code in a file.
fn in_file<'a>(v: &'a Value, code: &str, file: &str) -> Vec<&'a Value> {
    with_code(v, code)
        .into_iter()
        .filter(|f| f["location"]["file"] == file)
        .collect()
}

/// Codes of the findings located in one file.
fn codes_in(v: &Value, file: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["file"] == file)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// The line of a finding's location.
fn line(f: &Value) -> u64 {
    f["location"]["line"]
        .as_u64()
        .unwrap_or_else(|| panic!("finding without a line: {f:#}"))
}

/// Asserts that there is a finding `code` in `file` starting on `line`, and returns it.
#[track_caller]
fn expect_at<'a>(v: &'a Value, code: &str, file: &str, at: u64) -> &'a Value {
    let hits = in_file(v, code, file);
    hits.iter()
        .copied()
        .find(|f| line(f) == at)
        .unwrap_or_else(|| {
            panic!(
                "no {code} in {file} at line {at}; {code} findings there: {hits:#?}\nall: {:#}",
                v["findings"]
            )
        })
}

/// Asserts that there is a finding `code` pointing at `file` (a path-level finding), returns it.
#[track_caller]
fn expect_file<'a>(v: &'a Value, code: &str, file: &str) -> &'a Value {
    in_file(v, code, file)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {code} for {file}; all: {:#}", v["findings"]))
}

/// 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> u64 {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}")) as u64
        + 1
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap()
}

fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const PTO: &str = "catalog/people/pto-balance-card/app.toml";
const ORG_CHART: &str = "catalog/people/org-chart-classic/app.toml";
const ONBOARDING: &str = "catalog/collections/onboarding.toml";

#[test]
fn demo_copy_is_clean() {
    // the baseline every other case breaks one thing of
    let d = demo_copy();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 0, "{v:#}");
    assert!(errors(&v).is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------------------------
// TOML syntax and encoding

#[test]
fn malformed_toml_unclosed_string() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(&p, "name = \"Expense Tracker\"", "name = \"Expense Tracker");
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0001", EXPENSE, 4);
    assert!(f["location"]["column"].as_u64().unwrap() >= 1);
    // nothing else of the file is checked until it parses
    for c in codes(&v) {
        if c != "BZ0001" {
            assert!(
                with_code(&v, &c)
                    .iter()
                    .all(|f| f["location"]["file"] != EXPENSE),
                "{c} reported for a file that does not parse: {v:#}"
            );
        }
    }
}

#[test]
fn malformed_toml_two_errors_are_reported_from_the_first_line() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(&p, "name = \"Expense Tracker\"", "name = \"Expense Tracker");
    edit(&p, "tier = \"vetted\"", "tier = \"vetted");
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let errs = in_file(&v, "BZ0001", EXPENSE);
    assert!(!errs.is_empty(), "{v:#}");
    // findings are sorted by position: the first syntax error is on line 4
    assert_eq!(line(errs[0]), 4, "{errs:#?}");
    if errs.len() > 1 {
        // the parser recovered: the second one is on the `tier` line
        assert!(errs.iter().any(|f| line(f) == 11), "{errs:#?}");
    }
}

#[test]
fn malformed_toml_missing_bracket_in_team_file() {
    let d = demo_copy();
    let team = "catalog/finance/team.toml";
    edit(
        &d.path().join(team),
        "cost_centers = [\"CC-4100\", \"CC-4110\"]",
        "cost_centers = [\"CC-4100\", \"CC-4110\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let errs = in_file(&v, "BZ0001", team);
    assert!(!errs.is_empty(), "{v:#}");
    let at = line_of(&read(d.path(), team), "cost_centers");
    // the error is at the unclosed array or just after it (the next line)
    assert!(
        line(errs[0]) == at || line(errs[0]) == at + 1,
        "BZ0001 at line {} (cost_centers is line {at}): {errs:#?}",
        line(errs[0])
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    let mut bytes = std::fs::read(&p).unwrap();
    let at = bytes
        .windows(b"Expense Tracker\"".len())
        .position(|w| w == b"Expense Tracker\"")
        .unwrap();
    bytes[at + 3] = 0xFF; // "Exp\xFFnse Tracker" on line 4
    std::fs::write(&p, &bytes).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0002", EXPENSE, 4);
    // `name = "Exp` is 11 characters: the bad byte is column 12
    assert_eq!(f["location"]["column"], 12, "{f:#}");
    assert!(in_file(&v, "BZ0001", EXPENSE).is_empty());
}

// The BZ0002 location covers the bad byte (the lossy text's U+FFFD), not an empty span.
#[test]
fn invalid_utf8_location_covers_the_bad_byte() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    let text = std::fs::read_to_string(&p).unwrap();
    let bytes = text.replacen("Expense Tracker\"", "Exp\u{FFFD}nse Tracker\"", 1);
    let bytes = bytes.as_bytes().to_vec();
    // swap the 3-byte U+FFFD for the single bad byte 0xFF
    let at = bytes
        .windows(3)
        .position(|w| w == "\u{FFFD}".as_bytes())
        .unwrap();
    let mut bad = bytes[..at].to_vec();
    bad.push(0xFF);
    bad.extend_from_slice(&bytes[at + 3..]);
    std::fs::write(&p, bad).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0002", EXPENSE, 4);
    let l = &f["location"];
    assert_eq!((&l["line"], &l["column"]), (&4.into(), &12.into()), "{f:#}");
    assert_eq!(
        (&l["end_line"], &l["end_column"]),
        (&4.into(), &13.into()),
        "{f:#}"
    );
}

#[test]
fn latin1_team_file_is_refused() {
    let d = demo_copy();
    let team = "catalog/finance/team.toml";
    let text = read(d.path(), team).replace("Finance Engineering", "Finance Ing\u{e9}nierie");
    // the same text as Latin-1: é is the single byte 0xE9
    let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
    write(d.path(), team, bytes);
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0002", team, line_of(&text, "name ="));
}

#[test]
fn byte_order_mark_is_refused() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(&p).unwrap());
    std::fs::write(&p, bytes).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0004", EXPENSE, 1);
    assert_eq!(f["location"]["column"], 1, "{f:#}");
}

#[test]
fn byte_order_mark_in_bazaar_toml_is_refused() {
    let d = demo_copy();
    let p = d.path().join("bazaar.toml");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(&p).unwrap());
    std::fs::write(&p, bytes).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0004", "bazaar.toml", 1);
}

#[test]
fn fifty_megabyte_manifest_is_refused_before_parsing() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    // valid TOML start, then 50 MB of an unterminated string: parsing it would be slow and wrong
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.extend_from_slice(b"\nx = \"");
    bytes.resize(50 * 1024 * 1024, b'a');
    std::fs::write(&p, bytes).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0003", EXPENSE, 1);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&(50 * 1024 * 1024).to_string()),
        "{f:#}"
    );
    // refused, not parsed: no syntax error for the unterminated string
    assert!(in_file(&v, "BZ0001", EXPENSE).is_empty(), "{v:#}");
}

#[test]
fn fifty_megabyte_manifest_in_a_revision_is_refused_before_parsing() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes.extend_from_slice(b"\nx = \"");
    bytes.resize(50 * 1024 * 1024, b'a');
    std::fs::write(&p, bytes).unwrap();
    git_init_commit(d.path());
    let (code, v, _) = check(d.path(), &["--rev", "HEAD"]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0003", EXPENSE, 1);
    assert!(in_file(&v, "BZ0001", EXPENSE).is_empty(), "{v:#}");
}

// ---------------------------------------------------------------------------------------------
// Types, keys and required fields

#[test]
fn wrong_types_are_all_reported() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(&p, "name = \"Expense Tracker\"", "name = 5");
    edit(
        &p,
        "tags = [\"expenses\", \"reimbursement\", \"finance\"]",
        "tags = \"x\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0103", EXPENSE, 4);
    assert!(f["message"].as_str().unwrap().contains("name"), "{f:#}");
    assert_eq!(f["location"]["column"], 8, "points at the value: {f:#}");
    let f = expect_at(&v, "BZ0103", EXPENSE, 9);
    assert!(f["message"].as_str().unwrap().contains("tags"), "{f:#}");
    assert_eq!(in_file(&v, "BZ0103", EXPENSE).len(), 2, "{v:#}");
}

#[test]
fn wrong_types_in_nested_tables_and_dates() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(
        &p,
        "classification = \"confidential\"",
        "classification = [\"confidential\"]",
    );
    edit(&p, "review_by = 2027-03-14", "review_by = \"2027-03-14\"");
    edit(&p, "monthly_usd = 120", "monthly_usd = \"120\"");
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let text = read(d.path(), EXPENSE);
    expect_at(&v, "BZ0103", EXPENSE, line_of(&text, "classification"));
    let f = expect_at(&v, "BZ0103", EXPENSE, line_of(&text, "review_by"));
    assert!(
        f["message"].as_str().unwrap().contains("without quotes"),
        "{f:#}"
    );
    expect_at(&v, "BZ0103", EXPENSE, line_of(&text, "monthly_usd"));
    assert_eq!(in_file(&v, "BZ0103", EXPENSE).len(), 3, "{v:#}");
}

#[test]
fn unknown_key_at_root() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(
        &p,
        "tier = \"vetted\"\n",
        "tier = \"vetted\"\ncolour = \"green\"\n",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0101", EXPENSE, 12);
    assert_eq!(f["location"]["column"], 1, "points at the key: {f:#}");
    assert!(f["message"].as_str().unwrap().contains("colour"), "{f:#}");
    // only the unknown key in the file (an invalid app also drops out of the collections that
    // list it, so BZ0206 follows there)
    assert_eq!(codes_in(&v, EXPENSE), ["BZ0101"], "{v:#}");
}

#[test]
fn unknown_key_in_nested_table_is_a_typo() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(
        &p,
        "classification = \"confidential\"",
        "clasification = \"confidential\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0101", EXPENSE, 28);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("data.clasification"),
        "{f:#}"
    );
    assert!(
        f["help"]
            .as_str()
            .unwrap_or_default()
            .contains("classification"),
        "suggests the right key: {f:#}"
    );
    // and the real key is missing
    let missing = in_file(&v, "BZ0102", EXPENSE);
    assert_eq!(missing.len(), 1, "{v:#}");
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("data.classification")
    );
}

#[test]
fn unknown_key_added_to_nested_table() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(
        &p,
        "classification = \"confidential\"\n",
        "classification = \"confidential\"\nretention_days = 30\n",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0101", EXPENSE, 29);
    // only the unknown key in the file (an invalid app also drops out of the collections that
    // list it, so BZ0206 follows there)
    assert_eq!(codes_in(&v, EXPENSE), ["BZ0101"], "{v:#}");
}

#[test]
fn unknown_key_in_inline_table() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(
        &p,
        "[owner]\nprimary = \"maria-lopez\"\nbackup = \"tom-chen\"\n",
        "owner = { primary = \"a-b\", bakup = \"c\" }\n",
    );
    // the inline table must sit among the root keys, before the first [table]
    let text = read(d.path(), EXPENSE);
    let text = text.replace("owner = { primary = \"a-b\", bakup = \"c\" }\n", "");
    let text = text.replace(
        "tier = \"vetted\"\n",
        "tier = \"vetted\"\nowner = { primary = \"a-b\", bakup = \"c\" }\n",
    );
    write(d.path(), EXPENSE, &text);
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let at = line_of(&text, "owner = {");
    assert_eq!(at, 12);
    let f = expect_at(&v, "BZ0101", EXPENSE, at);
    assert!(
        f["message"].as_str().unwrap().contains("owner.bakup"),
        "{f:#}"
    );
    // column of `bakup` inside the line
    let col = "owner = { primary = \"a-b\", ".len() as u64 + 1;
    assert_eq!(f["location"]["column"], col, "{f:#}");
    assert!(
        f["help"]
            .as_str()
            .unwrap_or_default()
            .contains("owner.backup"),
        "{f:#}"
    );
}

#[test]
fn unknown_key_in_team_collection_and_config() {
    let d = demo_copy();
    let team = "catalog/finance/team.toml";
    edit(
        &d.path().join(team),
        "channel = ",
        "chanel = \"#x\"\nchannel = ",
    );
    edit(
        &d.path().join(ONBOARDING),
        "featured = true",
        "featured = true\nsticky = true",
    );
    edit(
        &d.path().join("bazaar.toml"),
        "[site]\n",
        "[site]\nlogo = \"x.png\"\n",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0101", team, line_of(&read(d.path(), team), "chanel"));
    expect_at(
        &v,
        "BZ0101",
        ONBOARDING,
        line_of(&read(d.path(), ONBOARDING), "sticky"),
    );
    expect_at(
        &v,
        "BZ0101",
        "bazaar.toml",
        line_of(&read(d.path(), "bazaar.toml"), "logo"),
    );
    assert_eq!(with_code(&v, "BZ0101").len(), 3, "{v:#}");
}

#[test]
fn missing_required_fields_are_all_reported() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(&p, "id = \"com.acme.finance.expense-tracker\"\n", "");
    edit(
        &p,
        "[lifecycle]\nstatus = \"active\"\nlast_reviewed = 2026-09-14\nreview_by = 2027-03-14\n",
        "",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let missing = in_file(&v, "BZ0102", EXPENSE);
    assert_eq!(missing.len(), 2, "{v:#}");
    let msgs: Vec<&str> = missing
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("`id`")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("lifecycle")), "{msgs:?}");
    // root-level absences point at the top of the file
    for f in missing {
        assert_eq!(line(f), 1, "{f:#}");
    }
}

#[test]
fn missing_field_in_a_table_points_at_its_header() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    edit(&p, "primary = \"maria-lopez\"\n", "");
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0102", EXPENSE, 14);
    assert!(
        f["message"].as_str().unwrap().contains("owner.primary"),
        "{f:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Links, submodules, paths

#[test]
fn symlinked_manifest_is_refused() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &p).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0005", EXPENSE);
    // never followed: nothing was parsed from /etc/passwd
    assert!(in_file(&v, "BZ0001", EXPENSE).is_empty(), "{v:#}");
    assert!(
        !v.to_string().contains("root:"),
        "content of the link target leaked: {v:#}"
    );
}

#[test]
fn symlinked_team_folder_is_refused() {
    let d = demo_copy();
    let outside = tempfile::tempdir().unwrap();
    copy(
        &d.path().join("catalog/finance"),
        &outside.path().join("finance"),
    );
    std::os::unix::fs::symlink(
        outside.path().join("finance"),
        d.path().join("catalog/marketing"),
    )
    .unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0005", "catalog/marketing");
    // not followed: the linked apps are not read (which would also duplicate ids)
    assert!(with_code(&v, "BZ0201").is_empty(), "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["location"]["file"]
                .as_str()
                .unwrap_or_default()
                .starts_with("catalog/marketing/")),
        "{v:#}"
    );
}

#[test]
fn symlinks_committed_to_git_are_refused() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &p).unwrap();
    std::os::unix::fs::symlink("finance", d.path().join("catalog/marketing")).unwrap();
    git_init_commit(d.path());
    // git stores them as links (mode 120000)
    let ls = git(d.path(), &["ls-tree", "HEAD", "catalog/marketing", EXPENSE]);
    assert_eq!(
        ls.lines().filter(|l| l.starts_with("120000")).count(),
        2,
        "{ls}"
    );
    let (code, v, _) = check(d.path(), &["--rev", "HEAD"]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0005", EXPENSE);
    expect_file(&v, "BZ0005", "catalog/marketing");
    assert!(with_code(&v, "BZ0201").is_empty(), "{v:#}");
    assert!(in_file(&v, "BZ0001", EXPENSE).is_empty(), "{v:#}");
}

#[test]
fn submodule_in_a_revision_is_refused() {
    let d = demo_copy();
    git_init_commit(d.path());
    git(
        d.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,0123456789abcdef0123456789abcdef01234567,catalog/finance/vendored",
        ],
    );
    // not `commit_all`: `git add -A` would drop the gitlink, which has no folder on disk
    git(d.path(), &["commit", "-q", "-m", "add submodule"]);
    let (code, v, _) = check(d.path(), &["--rev", "HEAD"]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0006", "catalog/finance/vendored");
    assert_eq!(errors(&v), ["BZ0006"], "{v:#}");
}

#[test]
fn nested_repository_in_the_working_tree_is_refused() {
    let d = demo_copy();
    let nested = d.path().join("catalog/finance/vendored");
    std::fs::create_dir_all(nested.join(".git")).unwrap();
    std::fs::write(nested.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(nested.join("app.toml"), "not = [toml").unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0006", "catalog/finance/vendored");
    // its content is not read
    assert_eq!(errors(&v), ["BZ0006"], "{v:#}");
}

#[test]
fn sbom_path_leaving_the_app_folder() {
    let d = demo_copy();
    edit(
        &d.path().join(EXPENSE),
        "sbom = \"sbom.cdx.json\"",
        "sbom = \"../../../etc/passwd\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0110", EXPENSE, 31);
    assert_eq!(f["location"]["column"], 8, "points at the value: {f:#}");
}

#[test]
fn sbom_absolute_path() {
    let d = demo_copy();
    edit(
        &d.path().join(EXPENSE),
        "sbom = \"sbom.cdx.json\"",
        "sbom = \"/etc/passwd\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0110", EXPENSE, 31);
}

#[test]
fn sbom_path_missing_file() {
    let d = demo_copy();
    edit(
        &d.path().join(EXPENSE),
        "sbom = \"sbom.cdx.json\"",
        "sbom = \"missing.cdx.json\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0212", EXPENSE, 31);
    assert!(
        f["message"].as_str().unwrap().contains("missing.cdx.json"),
        "{f:#}"
    );
    // the catalog check and the SBOM policy both see it
    assert_eq!(errors(&v), ["BZ0212", "BZ0303"], "{v:#}");
}

// ---------------------------------------------------------------------------------------------
// Checks across files and the layout

#[test]
fn duplicate_id_across_teams_is_reported_for_both_files() {
    let d = demo_copy();
    let copy_dir = "catalog/people/expense-tracker";
    copy(
        &d.path().join("catalog/finance/expense-tracker"),
        &d.path().join(copy_dir),
    );
    let copied = format!("{copy_dir}/app.toml");
    let cp = d.path().join(&copied);
    edit(&cp, "team = \"finance\"", "team = \"people\"");
    // own endpoint, so only the id collides
    edit(
        &cp,
        "expense-tracker.finance.prod",
        "expense-tracker.people.prod",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let a = expect_at(&v, "BZ0201", EXPENSE, 3);
    assert!(a["message"].as_str().unwrap().contains(&copied), "{a:#}");
    let b = expect_at(&v, "BZ0201", &copied, 3);
    assert!(b["message"].as_str().unwrap().contains(EXPENSE), "{b:#}");
    assert_eq!(with_code(&v, "BZ0201").len(), 2, "{v:#}");
    assert!(with_code(&v, "BZ0202").is_empty(), "{v:#}");
}

#[test]
fn duplicate_endpoint() {
    let d = demo_copy();
    edit(
        &d.path().join(PTO),
        "https://pto-balance-card.people.prod.apps.acme.internal/",
        // same endpoint modulo case and trailing slash
        "https://Expense-Tracker.finance.prod.apps.acme.internal",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_at(&v, "BZ0202", EXPENSE, 12);
    expect_at(&v, "BZ0202", PTO, line_of(&read(d.path(), PTO), "endpoint"));
}

#[test]
fn team_mismatch() {
    let d = demo_copy();
    edit(
        &d.path().join(EXPENSE),
        "team = \"finance\"",
        "team = \"people\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(&v, "BZ0204", EXPENSE, 8);
    assert_eq!(f["location"]["column"], 8, "{f:#}");
}

#[test]
fn app_in_team_folder_without_team_toml() {
    let d = demo_copy();
    copy(
        &d.path().join("catalog/finance/expense-tracker"),
        &d.path().join("catalog/marketing/expense-tracker"),
    );
    std::fs::remove_dir_all(d.path().join("catalog/finance/expense-tracker")).unwrap();
    let moved = "catalog/marketing/expense-tracker/app.toml";
    edit(
        &d.path().join(moved),
        "team = \"finance\"",
        "team = \"marketing\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_file(&v, "BZ0203", moved);
    assert!(
        f["message"].as_str().unwrap().contains("marketing"),
        "{f:#}"
    );
    assert_eq!(line(f), 1);
}

#[test]
fn team_without_team_toml() {
    let d = demo_copy();
    std::fs::remove_file(d.path().join("catalog/support/team.toml")).unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0203", "catalog/support/macro-library/app.toml");
    expect_file(&v, "BZ0203", "catalog/support/status-banner/app.toml");
    assert_eq!(with_code(&v, "BZ0203").len(), 2, "{v:#}");
}

#[test]
fn uppercase_app_folder_name() {
    let d = demo_copy();
    std::fs::rename(
        d.path().join("catalog/finance/invoice-ocr"),
        d.path().join("catalog/finance/Invoice-OCR"),
    )
    .unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0209", "catalog/finance/Invoice-OCR/app.toml");
}

#[test]
fn uppercase_team_folder_name() {
    let d = demo_copy();
    std::fs::rename(
        d.path().join("catalog/sales"),
        d.path().join("catalog/Sales"),
    )
    .unwrap();
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0209", "catalog/Sales");
    assert_eq!(
        with_code(&v, "BZ0209")
            .iter()
            .filter(|f| f["location"]["file"] == "catalog/Sales")
            .count(),
        1,
        "one finding per folder: {v:#}"
    );
}

#[test]
fn paths_differing_only_in_case() {
    let d = demo_copy();
    copy(
        &d.path().join("catalog/finance/expense-tracker"),
        &d.path().join("catalog/finance/Expense-Tracker"),
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let collisions = with_code(&v, "BZ0210");
    assert!(!collisions.is_empty(), "{v:#}");
    let f = collisions
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("app.toml"))
        .unwrap_or_else(|| panic!("no collision for app.toml: {collisions:#?}"));
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(EXPENSE) && msg.contains("catalog/finance/Expense-Tracker/app.toml"),
        "{msg}"
    );
    let file = f["location"]["file"].as_str().unwrap();
    assert!(
        file == EXPENSE || file == "catalog/finance/Expense-Tracker/app.toml",
        "{f:#}"
    );
    expect_file(&v, "BZ0209", "catalog/finance/Expense-Tracker/app.toml");
}

#[test]
fn stray_file_in_catalog() {
    let d = demo_copy();
    write(d.path(), "catalog/notes.txt", "todo\n");
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    expect_file(&v, "BZ0211", "catalog/notes.txt");
    assert_eq!(errors(&v), ["BZ0211"], "{v:#}");
}

#[test]
fn deprecated_app_with_missing_replacement() {
    let d = demo_copy();
    edit(
        &d.path().join(ORG_CHART),
        "replacement = \"com.acme.people.employee-directory\"",
        "replacement = \"com.acme.people.nope\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(
        &v,
        "BZ0207",
        ORG_CHART,
        line_of(&read(d.path(), ORG_CHART), "replacement"),
    );
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("com.acme.people.nope"),
        "{f:#}"
    );
}

#[test]
fn deprecated_app_with_retired_replacement() {
    let d = demo_copy();
    edit(
        &d.path().join(ORG_CHART),
        "replacement = \"com.acme.people.employee-directory\"",
        "replacement = \"com.acme.sales.territory-planner\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let f = expect_at(
        &v,
        "BZ0208",
        ORG_CHART,
        line_of(&read(d.path(), ORG_CHART), "replacement"),
    );
    assert!(f["message"].as_str().unwrap().contains("retired"), "{f:#}");
}

#[test]
fn collection_listing_an_unknown_id() {
    let d = demo_copy();
    edit(
        &d.path().join(ONBOARDING),
        "\"com.acme.people.pto-balance-card\"",
        "\"com.acme.people.pto-balance-card\", \"com.acme.people.ghost\"",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 1);
    let text = read(d.path(), ONBOARDING);
    let f = expect_at(&v, "BZ0206", ONBOARDING, line_of(&text, "apps ="));
    let apps_line = text.lines().find(|l| l.starts_with("apps =")).unwrap();
    let col = apps_line.find("\"com.acme.people.ghost\"").unwrap() as u64 + 1;
    assert_eq!(f["location"]["column"], col, "points at the id: {f:#}");
    assert_eq!(errors(&v), ["BZ0206"], "{v:#}");
}

// ---------------------------------------------------------------------------------------------
// Could not run (exit 2)

#[test]
fn revision_that_does_not_exist() {
    let d = demo_copy();
    git_init_commit(d.path());
    let stderr = check_fails(d.path(), &["--rev", "no-such-branch"]);
    assert!(stderr.contains("no-such-branch"), "{stderr}");
}

#[test]
fn revision_without_a_repository() {
    let d = demo_copy();
    let stderr = check_fails(d.path(), &["--rev", "HEAD"]);
    assert!(stderr.to_lowercase().contains("git"), "{stderr}");
}

#[test]
fn empty_folder_is_not_a_catalog() {
    let d = tempfile::tempdir().unwrap();
    let stderr = check_fails(d.path(), &[]);
    assert!(stderr.contains("not a Bazaar catalog"), "{stderr}");
}

#[test]
fn root_that_does_not_exist() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nope");
    let stderr = check_fails(&missing, &[]);
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn root_that_is_a_file() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("file");
    std::fs::write(&f, "x").unwrap();
    let stderr = check_fails(&f, &[]);
    assert!(!stderr.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Special files

/// Runs `bazaar check` on `root`, giving up (and killing it) after `secs` seconds: `None` when it
/// did not finish.
fn check_with_deadline(root: &Path, secs: u64) -> Option<(i32, Value, String)> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_bazaar"))
        .args([
            "check",
            "--root",
            root.to_str().unwrap(),
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bazaar");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!stderr.contains("panicked"), "bazaar panicked:\n{stderr}");
            let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "json ({e}): {}\n{stderr}",
                    String::from_utf8_lossy(&out.stdout)
                )
            });
            return Some((out.status.code().unwrap(), v, stderr));
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

// A FIFO (named pipe) must be refused, never opened: opening it for reading blocks forever.
#[test]
fn fifo_manifest_does_not_hang() {
    let d = demo_copy();
    let p = d.path().join(EXPENSE);
    std::fs::remove_file(&p).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let Some((code, v, _)) = check_with_deadline(d.path(), 15) else {
        panic!("bazaar check did not finish within 15 s on a FIFO app.toml");
    };
    assert_eq!(code, 1, "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["location"]["file"] == EXPENSE && f["code"] == "BZ0007"),
        "{v:#}"
    );
}
