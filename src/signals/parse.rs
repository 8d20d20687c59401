//! Reading one signals file, CSV (with a header row) or JSON Lines, into rows; every bad line or
//! value is a finding at its line and column, and the rest of the file still counts.

use std::ops::Range;

use chrono::NaiveDate;
use serde_json::Value;

use super::Row;
use crate::diagnostics::{Code, Finding, SourceFile};

/// The columns, in the order a CSV file usually has them.
pub const COLUMNS: &[&str] = &[
    "app",
    "month",
    "active_users",
    "teams",
    "requests",
    "error_rate",
    "uptime",
    "cost_usd",
];

/// What one file gave.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Good rows (a row with a bad number is kept without that number).
    pub rows: Vec<Row>,
    /// Problems found.
    pub findings: Vec<Finding>,
}

struct Ctx<'a> {
    file: &'a SourceFile,
    out: Parsed,
}

impl Ctx<'_> {
    fn finding(&mut self, code: Code, span: Range<usize>, msg: String, help: &str) {
        let mut f = Finding::new(code, msg).at(self.file, span);
        if !help.is_empty() {
            f = f.help(help);
        }
        self.out.findings.push(f);
    }
}

/// A month `YYYY-MM` as the first day of that month.
pub fn month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

/// Checks a number of a column and stores it in the row; a bad one is a finding.
fn set(ctx: &mut Ctx<'_>, row: &mut Row, col: &str, text: &str, span: Range<usize>) {
    let t = text.trim();
    if t.is_empty() {
        return; // unknown this month
    }
    let n: Option<f64> = t.parse::<f64>().ok().filter(|n| n.is_finite());
    let (ok, what) = match col {
        "active_users" | "teams" | "requests" => (
            n.filter(|n| *n >= 0.0 && n.fract() == 0.0),
            "a whole number, zero or more",
        ),
        "error_rate" | "uptime" => (
            n.filter(|n| (0.0..=100.0).contains(n)),
            "a percentage from 0 to 100",
        ),
        "cost_usd" => (n.filter(|n| *n >= 0.0), "US dollars, zero or more"),
        _ => return,
    };
    let Some(v) = ok else {
        ctx.finding(
            Code::SIGNAL_BAD_VALUE,
            span,
            format!("`{col}` = {t:?} is not {what}"),
            "write plain numbers without units or thousands separators, e.g. 1250 or 99.95; leave the cell empty when unknown",
        );
        return;
    };
    match col {
        "active_users" => row.active_users = Some(v as u64),
        "teams" => row.teams = Some(v as u64),
        "requests" => row.requests = Some(v as u64),
        "error_rate" => row.error_rate = Some(v),
        "uptime" => row.uptime = Some(v),
        _ => row.cost_usd = Some(v),
    }
}

fn line_spans(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |l| {
        let s = start;
        start += l.len();
        (s, l.trim_end_matches(['\n', '\r']))
    })
}

/// Splits a CSV line into fields with their byte ranges in the file; `"…"` quotes a field
/// (`""` inside is a quote). `None` when a quote is not closed.
fn fields(line: &str, at: usize) -> Option<Vec<(String, Range<usize>)>> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        let mut value = String::new();
        if b.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                        value.push('"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(_) => {
                        let ch = line[i..].chars().next()?;
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
        } else {
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            value.push_str(&line[start..i]);
        }
        out.push((value, at + start..at + i));
        if i >= b.len() {
            return Some(out);
        }
        i += 1; // the comma
    }
}

/// Reads a CSV signals file.
pub fn csv(file: &SourceFile) -> Parsed {
    let mut ctx = Ctx {
        file,
        out: Parsed::default(),
    };
    let text = &file.text;
    let mut lines = line_spans(text).filter(|(_, l)| !l.trim().is_empty());
    let Some((hat, header)) = lines.next() else {
        return ctx.out;
    };
    let Some(head) = fields(header, hat) else {
        ctx.finding(
            Code::SIGNAL_BAD_ROW,
            hat..hat + header.len(),
            "the header row has a quote that is not closed".into(),
            "",
        );
        return ctx.out;
    };
    let mut cols: Vec<Option<&'static str>> = Vec::new();
    for (name, span) in &head {
        let name = name.trim();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) if cols.contains(&Some(*c)) => {
                ctx.finding(
                    Code::SIGNAL_BAD_ROW,
                    span.clone(),
                    format!("column `{name}` appears twice in the header"),
                    "",
                );
                cols.push(None);
            }
            Some(c) => cols.push(Some(*c)),
            None => {
                ctx.finding(
                    Code::SIGNAL_BAD_ROW,
                    span.clone(),
                    format!("unknown column `{name}`; its values are ignored"),
                    &format!("the columns are {}", COLUMNS.join(", ")),
                );
                cols.push(None);
            }
        }
    }
    for required in ["app", "month"] {
        if !cols.contains(&Some(required)) {
            ctx.finding(
                Code::SIGNAL_BAD_ROW,
                hat..hat + header.len(),
                format!("the header has no `{required}` column, so no row can be read"),
                &format!("start the file with the header {}", COLUMNS.join(",")),
            );
            return ctx.out;
        }
    }
    for (at, line) in lines {
        let Some(cells) = fields(line, at) else {
            ctx.finding(
                Code::SIGNAL_BAD_ROW,
                at..at + line.len(),
                "a quote on this line is not closed; the row is ignored".into(),
                "",
            );
            continue;
        };
        if cells.len() != cols.len() {
            ctx.finding(
                Code::SIGNAL_BAD_ROW,
                at..at + line.len(),
                format!(
                    "this row has {} cells and the header {}; the row is ignored",
                    cells.len(),
                    cols.len()
                ),
                "one cell per header column, empty when unknown",
            );
            continue;
        }
        let cell = |name: &str| {
            cols.iter()
                .position(|c| *c == Some(name))
                .map(|i| cells[i].clone())
        };
        let Some((app, app_span)) = cell("app").filter(|(a, _)| !a.trim().is_empty()) else {
            ctx.finding(
                Code::SIGNAL_BAD_ROW,
                at..at + line.len(),
                "this row names no app; it is ignored".into(),
                "",
            );
            continue;
        };
        let (m, m_span) = cell("month").unwrap_or_default();
        let Some(month) = month(&m) else {
            ctx.finding(
                Code::SIGNAL_BAD_VALUE,
                m_span,
                format!("month {:?} is not YYYY-MM; the row is ignored", m.trim()),
                "write the month as 2026-11",
            );
            continue;
        };
        let mut row = Row::new(app.trim(), month, &file.path, app_span, m_span.clone());
        for (i, c) in cols.iter().enumerate() {
            if let Some(c) = c {
                set(&mut ctx, &mut row, c, &cells[i].0, cells[i].1.clone());
            }
        }
        ctx.out.rows.push(row);
    }
    ctx.out
}

/// Where a key's value sits on a JSON line (the whole line when it cannot be found).
fn key_span(line: &str, at: usize, key: &str) -> Range<usize> {
    let needle = format!("\"{key}\"");
    match line.find(&needle) {
        Some(i) => {
            let rest = &line[i + needle.len()..];
            let skip = rest.len() - rest.trim_start_matches([' ', ':', '\t']).len();
            let start = i + needle.len() + skip;
            let len = rest[skip..].find([',', '}']).unwrap_or(rest.len() - skip);
            at + start..at + start + len.max(1)
        }
        None => at..at + line.len(),
    }
}

/// Reads a JSON Lines signals file: one object per line with the CSV's column names as keys.
pub fn jsonl(file: &SourceFile) -> Parsed {
    let mut ctx = Ctx {
        file,
        out: Parsed::default(),
    };
    for (at, line) in line_spans(&file.text) {
        if line.trim().is_empty() {
            continue;
        }
        let whole = at..at + line.len();
        let obj = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                ctx.finding(
                    Code::SIGNAL_BAD_ROW,
                    whole,
                    "this line is not a JSON object; it is ignored".into(),
                    "",
                );
                continue;
            }
            Err(e) => {
                ctx.finding(
                    Code::SIGNAL_BAD_ROW,
                    whole,
                    format!("this line is not JSON ({e}); it is ignored"),
                    "",
                );
                continue;
            }
        };
        for k in obj.keys().filter(|k| !COLUMNS.contains(&k.as_str())) {
            let span = key_span(line, at, k);
            ctx.finding(
                Code::SIGNAL_BAD_ROW,
                span,
                format!("unknown key `{k}`; its value is ignored"),
                &format!("the keys are {}", COLUMNS.join(", ")),
            );
        }
        let Some(app) = obj
            .get("app")
            .and_then(Value::as_str)
            .filter(|a| !a.trim().is_empty())
        else {
            ctx.finding(
                Code::SIGNAL_BAD_ROW,
                whole,
                "this line names no app (\"app\": \"com.acme.…\"); it is ignored".into(),
                "",
            );
            continue;
        };
        let m_span = key_span(line, at, "month");
        let Some(month) = obj.get("month").and_then(Value::as_str).and_then(month) else {
            ctx.finding(
                Code::SIGNAL_BAD_VALUE,
                m_span,
                format!(
                    "month {} is not \"YYYY-MM\"; the line is ignored",
                    obj.get("month").unwrap_or(&Value::Null)
                ),
                "write the month as \"2026-11\"",
            );
            continue;
        };
        let mut row = Row::new(
            app.trim(),
            month,
            &file.path,
            key_span(line, at, "app"),
            m_span,
        );
        for c in &COLUMNS[2..] {
            if let Some(v) = obj.get(*c).filter(|v| !v.is_null()) {
                let text = match v {
                    Value::Number(n) => n.to_string(),
                    other => format!("{other}"),
                };
                set(&mut ctx, &mut row, c, &text, key_span(line, at, c));
            }
        }
        ctx.out.rows.push(row);
    }
    ctx.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_keep_their_place() {
        let f = fields("a,\"b,c\",,\"d\"\"e\"", 10).unwrap();
        let got: Vec<(&str, Range<usize>)> =
            f.iter().map(|(v, r)| (v.as_str(), r.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("a", 10..11),
                ("b,c", 12..17),
                ("", 18..18),
                ("d\"e", 19..25)
            ]
        );
        assert!(fields("\"open", 0).is_none());
    }

    #[test]
    fn months_are_strict() {
        assert_eq!(month("2026-11"), NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(month("2026-13"), None);
        assert_eq!(month("2026-1"), None);
        assert_eq!(month("Nov 2026"), None);
    }
}
