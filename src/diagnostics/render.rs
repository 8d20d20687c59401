//! Renderers: human (rustc-style snippets), JSON, GitHub workflow annotations, SARIF 2.1.0.

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use serde_json::json;

use super::{Finding, Report, Severity, lookup};

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style messages with source snippets.
    Human,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
}

/// Renders a report. `color` only affects the human format.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    match format {
        Format::Human => human(report, color),
        Format::Json => serde_json::to_string_pretty(&json_value(report)).expect("json") + "\n",
        Format::Github => github(report),
        Format::Sarif => serde_json::to_string_pretty(&sarif(report)).expect("json") + "\n",
    }
}

fn level(sev: Severity) -> Level<'static> {
    match sev {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

fn human(report: &Report, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for f in &report.findings {
        let title = level(f.severity)
            .primary_title(f.message.as_str())
            .id(f.code.as_str());
        let mut group = Group::with_title(title);
        if let Some(loc) = &f.location {
            match report.sources.get(&loc.file) {
                Some(src) if !loc.span.is_empty() || loc.span.start > 0 => {
                    let label = f.code.info().title;
                    group = group.element(
                        Snippet::source(&*src.text)
                            .path(loc.file.as_str())
                            .fold(true)
                            .annotation(
                                AnnotationKind::Primary.span(loc.span.clone()).label(label),
                            ),
                    );
                }
                _ => {
                    group = group.element(
                        Origin::path(loc.file.as_str())
                            .line(loc.line)
                            .char_column(loc.column),
                    );
                }
            }
        }
        if let Some(app) = &f.app {
            group = group.element(Level::NOTE.message(format!("app: {app}")));
        }
        if let Some(help) = &f.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        group = group.element(
            Level::NOTE.message(format!("run `bazaar explain {}` for a fix guide", f.code)),
        );
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    for n in &report.notes {
        out.push_str(n);
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// The one-line summary printed after human output.
pub fn summary_line(report: &Report) -> String {
    let (e, w) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    let verdict = if e > 0 { "blocked" } else { "ok" };
    format!(
        "{verdict}: {e} error{}, {w} warning{} in {} of {} app{} checked",
        plural(e),
        plural(w),
        report.apps_checked,
        report.apps_total,
        plural(report.apps_total)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The JSON document of `check --format json` (shape version 1).
pub fn json_value(report: &Report) -> serde_json::Value {
    let mut v = json!({
        "version": 1,
        "ok": !report.blocks(),
        "summary": {
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
            "apps_checked": report.apps_checked,
            "apps_total": report.apps_total,
        },
        "findings": report.findings,
    });
    for (k, val) in &report.context {
        v[k] = val.clone();
    }
    v
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(l) = &f.location {
            props.push(format!("file={}", escape_property(&l.file)));
            props.push(format!("line={}", l.line));
            props.push(format!("col={}", l.column));
            props.push(format!("endLine={}", l.end_line));
            props.push(format!("endColumn={}", l.end_column));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {}", f.code, f.code.info().title))
        ));
        let mut msg = f.message.clone();
        if let Some(h) = &f.help {
            msg.push_str("\nhelp: ");
            msg.push_str(h);
        }
        out.push_str(&format!(
            "::{cmd} {}::{}\n",
            props.join(","),
            escape_data(&msg)
        ));
    }
    // risk and required approvals, as notices on the run
    for n in &report.notes {
        out.push_str(&format!(
            "::notice title=Bazaar verdict::{}\n",
            escape_data(n)
        ));
    }
    out
}

fn finding_sarif_level(f: &Finding) -> &'static str {
    match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn sarif(report: &Report) -> serde_json::Value {
    let mut rule_ids: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<_> = rule_ids
        .iter()
        .map(|id| {
            let info = lookup(id).expect("known code");
            let (what, fix) = info.guide.split_once("\n\nFix: ").unwrap_or((info.guide, ""));
            json!({
                "id": id,
                "name": info.title.replace(' ', "-"),
                "shortDescription": { "text": info.title },
                "fullDescription": { "text": what },
                "help": { "text": format!("Fix: {fix}"), "markdown": format!("**Fix:** {fix}") },
                "defaultConfiguration": { "level": match info.severity {
                    Severity::Error => "error", Severity::Warning => "warning", Severity::Info => "note" } },
            })
        })
        .collect();
    let results: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(h) = &f.help {
                text.push_str(" Help: ");
                text.push_str(h);
            }
            let mut r = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": rule_ids.binary_search(&f.code.as_str()).expect("indexed"),
                "level": finding_sarif_level(f),
                "message": { "text": text },
            });
            if let Some(l) = &f.location {
                r["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": l.file, "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": l.line, "startColumn": l.column,
                            "endLine": l.end_line, "endColumn": l.end_column.max(if l.end_line == l.line { l.column } else { 1 }),
                        }
                    }
                }]);
            }
            if let Some(app) = &f.app {
                r["properties"] = json!({ "app": app });
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "bazaar",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/acme/bazaar",
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The catalog repository root." } } },
            "results": results,
            "properties": report.context.iter()
                .filter(|(k, _)| ["risk", "required_roles", "apps"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<serde_json::Map<_, _>>(),
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_newlines_commas_and_colons() {
        assert_eq!(escape_data("50%\na"), "50%25%0Aa");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
