//! Operational signals: what the platform's telemetry and billing say about each app, one row
//! per app and month (active users, teams using it, requests, error rate, uptime, actual cost),
//! in `signals/*.csv` (with a header row) or `signals/*.jsonl`. An automated job commits them;
//! they are not governed, so a bad row is a warning at its line and column (BZ0221–BZ0224) and
//! never blocks. Policies see each app's last complete month (the cost warning, BZ0315), the site
//! shows usage, trends and reuse.

mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Catalog, Snapshot};
use crate::diagnostics::{Code, Finding, SourceFile};

pub use parse::COLUMNS;

/// The folder signals live in.
pub const FOLDER: &str = "signals/";

/// Largest signals file read.
pub const MAX_SIGNALS_BYTES: usize = 32 * 1024 * 1024;

/// One app's numbers for one month (absent when unknown).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// App id.
    pub app: String,
    /// First day of the month.
    #[serde(serialize_with = "ser_month")]
    pub month: NaiveDate,
    /// People who used it in the month.
    pub active_users: Option<u64>,
    /// Teams whose people used it.
    pub teams: Option<u64>,
    /// Requests served.
    pub requests: Option<u64>,
    /// Failed requests, percent.
    pub error_rate: Option<f64>,
    /// Time up, percent.
    pub uptime: Option<f64>,
    /// What it cost, US dollars.
    pub cost_usd: Option<f64>,
    /// The file it came from.
    #[serde(skip)]
    pub file: String,
    #[serde(skip)]
    app_span: Range<usize>,
    #[serde(skip)]
    month_span: Range<usize>,
}

fn ser_month<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&month_text(*d))
}

/// `YYYY-MM`.
pub fn month_text(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

impl Row {
    fn new(
        app: &str,
        month: NaiveDate,
        file: &str,
        app_span: Range<usize>,
        month_span: Range<usize>,
    ) -> Row {
        Row {
            app: app.to_string(),
            month,
            active_users: None,
            teams: None,
            requests: None,
            error_rate: None,
            uptime: None,
            cost_usd: None,
            file: file.to_string(),
            app_span,
            month_span,
        }
    }
}

/// Every signal of a catalog.
#[derive(Debug, Default)]
pub struct Signals {
    /// Rows by app id, oldest month first.
    pub by_app: BTreeMap<String, Vec<Row>>,
    /// Problems with the files, each at its line and column.
    pub findings: Vec<Finding>,
    /// The files read.
    pub sources: BTreeMap<String, SourceFile>,
}

/// Reads `signals/*.csv` and `signals/*.jsonl`. `known` holds the catalog's app ids (rows for
/// other ids are reported and dropped).
pub fn load(snap: &Snapshot, known: &BTreeSet<&str>) -> Signals {
    load_only(snap, known, None)
}

/// [`load`] for the policies of a few apps (a submission's): only the rows that can name one of
/// `ids` are parsed, which gives those apps the rows [`load`] gives them (the findings are not
/// the whole file's).
pub fn load_for(snap: &Snapshot, known: &BTreeSet<&str>, ids: &BTreeSet<&str>) -> Signals {
    load_only(snap, known, Some(ids))
}

/// The lines of a signals file that can hold a row of one of `ids`: a CSV's header, and every
/// line that spells one of them (or, in JSON Lines, may escape it).
fn lines_for(text: &str, csv: bool, ids: &BTreeSet<&str>) -> String {
    let mut lines = text.split_inclusive('\n');
    let mut out = String::new();
    if csv {
        // the header: the first line that is not blank (the parser skips blank lines)
        out.extend(lines.by_ref().find(|l| !l.trim().is_empty()));
    }
    for line in lines {
        if ids.iter().any(|id| line.contains(id)) || (!csv && line.contains('\\')) {
            out.push_str(line);
        }
    }
    out
}

fn load_only(snap: &Snapshot, known: &BTreeSet<&str>, only: Option<&BTreeSet<&str>>) -> Signals {
    let mut out = Signals::default();
    let paths: Vec<&String> = snap
        .entries
        .keys()
        .filter(|p| p.starts_with(FOLDER))
        .collect();
    let mut first: BTreeMap<(String, NaiveDate), (String, usize)> = BTreeMap::new();
    for path in paths {
        let csv = path.ends_with(".csv");
        if !csv && !path.ends_with(".jsonl") {
            if !path.ends_with("README.md") {
                out.findings.push(Finding::new(
                    Code::SIGNAL_BAD_ROW,
                    format!("{path} is neither a .csv nor a .jsonl signals file; it is ignored"),
                ).help("keep only signals/*.csv (with a header row) and signals/*.jsonl in signals/"));
            }
            continue;
        }
        if !snap.is_file(path) {
            continue; // links and the like are refused by the catalog's layout check
        }
        let file = match snap.read(path, MAX_SIGNALS_BYTES) {
            Ok(Ok(bytes)) => match String::from_utf8(bytes) {
                Ok(t) => match only {
                    Some(ids) => SourceFile::new(path.as_str(), lines_for(&t, csv, ids)),
                    None => SourceFile::new(path.as_str(), t),
                },
                Err(_) => {
                    out.findings.push(Finding::new(
                        Code::SIGNAL_BAD_ROW,
                        format!("{path} is not UTF-8 text; it is ignored"),
                    ));
                    continue;
                }
            },
            Ok(Err(size)) => {
                out.findings.push(Finding::new(
                    Code::SIGNAL_BAD_ROW,
                    format!("{path} is {size} bytes, more than the {MAX_SIGNALS_BYTES} read; it is ignored"),
                ).help("split it, e.g. one file per month"));
                continue;
            }
            Err(e) => {
                out.findings.push(Finding::new(
                    Code::SIGNAL_BAD_ROW,
                    format!("{path} cannot be read: {e}"),
                ));
                continue;
            }
        };
        let parsed = if csv {
            parse::csv(&file)
        } else {
            parse::jsonl(&file)
        };
        out.findings.extend(parsed.findings);
        for row in parsed.rows {
            if !known.contains(row.app.as_str()) {
                out.findings.push(
                    Finding::new(
                        Code::SIGNAL_UNKNOWN_APP,
                        format!(
                            "no app in the catalog has the id {:?}; the row is ignored",
                            row.app
                        ),
                    )
                    .help("correct the id, or drop rows of apps that were removed from the catalog")
                    .at(&file, row.app_span.clone()),
                );
                continue;
            }
            let key = (row.app.clone(), row.month);
            if let Some((other, line)) = first.get(&key) {
                out.findings.push(
                    Finding::new(
                        Code::SIGNAL_DUPLICATE,
                        format!("{} has a second row for {} (the first is {other}:{line}); this one is ignored", row.app, month_text(row.month)),
                    )
                    .help("keep one row per app and month")
                    .at(&file, row.month_span.clone()),
                );
                continue;
            }
            first.insert(key, (path.clone(), file.line_col(row.month_span.start).0));
            out.by_app.entry(row.app.clone()).or_default().push(row);
        }
        out.sources.insert(path.clone(), file);
    }
    for rows in out.by_app.values_mut() {
        rows.sort_by_key(|r| r.month);
    }
    out
}

/// The catalog's app ids (every app folder with a readable id, valid or not).
pub fn known_ids(catalog: &Catalog) -> BTreeSet<&str> {
    catalog
        .facts
        .values()
        .filter_map(|f| f.id.as_deref())
        .collect()
}

/// The first day of the month before `today`'s: the last month whose numbers are complete.
pub fn last_complete_month(today: NaiveDate) -> NaiveDate {
    let this = today.with_day(1).expect("day 1 exists");
    (this - chrono::Duration::days(1))
        .with_day(1)
        .expect("day 1 exists")
}

impl Signals {
    /// An app's row for its last complete month (before `today`'s month), if any.
    pub fn latest(&self, id: &str, today: NaiveDate) -> Option<&Row> {
        let last = last_complete_month(today);
        self.by_app.get(id)?.iter().rev().find(|r| r.month <= last)
    }

    /// What policies see per app id (`input.signals`): the last complete month's numbers and
    /// how many months are known.
    pub fn policy_input(&self, today: NaiveDate) -> BTreeMap<String, Value> {
        self.by_app
            .iter()
            .filter_map(|(id, rows)| {
                let r = self.latest(id, today)?;
                let mut v = serde_json::to_value(r).expect("row serializes");
                v["months"] = rows.iter().filter(|x| x.month <= r.month).count().into();
                // the day the month's numbers were complete: deadlines run from it
                let next = (r.month + chrono::Duration::days(32))
                    .with_day(1)
                    .expect("day 1");
                v["complete_since"] = next.to_string().into();
                Some((id.clone(), v))
            })
            .collect()
    }

    /// The signals findings a check reports: all of them, or on a submission only those in the
    /// signals files it changed.
    pub fn findings_for(&self, changed: Option<&BTreeSet<String>>) -> Vec<Finding> {
        self.findings
            .iter()
            .filter(|f| match (changed, f.file()) {
                (None, _) => true,
                (Some(c), Some(file)) => c.contains(file),
                (Some(c), None) => c.iter().any(|p| p.starts_with(FOLDER)),
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests;
