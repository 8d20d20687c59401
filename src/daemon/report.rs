//! What a judged head looks like on the pull request: the check run's output and annotations,
//! the sticky comment and the labels. Pure functions of the evaluation, within GitHub's limits.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::diagnostics::{Finding, Severity, lookup};
use crate::forge::{Annotation, AnnotationLevel, CheckOutput, Conclusion, LabelSpec};

use super::verdict::Evaluation;
use crate::review::state::ApprovalState;

/// The hidden marker that, with the author being Bazaar's bot, finds the sticky comment.
pub const STICKY_MARKER: &str = "<!-- bazaar:sticky -->";
/// GitHub's limit on a check run summary.
pub const MAX_SUMMARY: usize = 65_535;
/// GitHub's limit on a comment (kept well under).
pub const MAX_COMMENT: usize = 65_000;
/// Findings listed by name before the rest are counted.
const MAX_LISTED: usize = 100;
/// Label prefixes Bazaar owns on a pull request.
pub const LABEL_PREFIXES: [&str; 3] = ["risk:", "tier:", "needs:"];

/// Everything reported for one head.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Pass or fail.
    pub conclusion: Conclusion,
    /// The check run's output.
    pub output: CheckOutput,
    /// The sticky comment's body.
    pub comment: String,
    /// The labels the pull request should carry (of Bazaar's prefixes).
    pub labels: Vec<LabelSpec>,
}

/// The marker that stamps a comment with the head it describes.
pub fn head_marker(head: &str) -> String {
    format!("<!-- bazaar:head={head} -->")
}

/// Cuts `s` to at most `max` bytes on a character boundary, marking the cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mark = "…";
    let mut end = max.saturating_sub(mark.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{mark}", &s[..end])
}

fn level(s: Severity) -> AnnotationLevel {
    match s {
        Severity::Error => AnnotationLevel::Failure,
        Severity::Warning => AnnotationLevel::Warning,
        Severity::Info => AnnotationLevel::Notice,
    }
}

fn icon(s: Severity) -> &'static str {
    match s {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
        Severity::Info => "ℹ️",
    }
}

/// A finding as a line annotation, when it points into a file.
pub fn annotation(f: &Finding) -> Option<Annotation> {
    let loc = f.location.as_ref()?;
    let line = loc.line.max(1) as u64;
    let end_line = (loc.end_line as u64).max(line);
    let (start_column, end_column) = if end_line == line {
        let start = loc.column.max(1) as u64;
        // Bazaar's end column is just past the span; GitHub's is its last character.
        let end = (loc.end_column as u64).saturating_sub(1).max(start);
        (Some(start), Some(end))
    } else {
        (None, None)
    };
    let mut message = f.message.clone();
    if let Some(h) = &f.help {
        message.push_str("\n\nhelp: ");
        message.push_str(h);
    }
    message.push_str(&format!(
        "\n\nRun `bazaar explain {}` for more.",
        f.code.as_str()
    ));
    let title = format!("{} {}", f.code.as_str(), f.code.info().title);
    Some(Annotation {
        path: loc.file.clone(),
        start_line: line,
        end_line,
        start_column,
        end_column,
        annotation_level: level(f.severity),
        message: cut(&message, 60_000),
        title: cut(&title, 255),
    })
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}

fn who(members: &[String]) -> String {
    members
        .iter()
        .map(|m| format!("@{}", m.trim_start_matches('@')))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Per required role: who may approve, who has, and every review that does not count and why.
pub fn approvals_section(state: &ApprovalState) -> String {
    let mut body = String::from("#### Approvals\n\n");
    if state.roles.is_empty() {
        body.push_str("No role needs to approve this change.\n\n");
        return body;
    }
    for r in &state.roles {
        let may = if r.may.is_empty() {
            "nobody holds this role in the base's `policies/reviewers.toml`".to_string()
        } else {
            who(&r.may)
        };
        match &r.approval {
            Some(a) => {
                let via = a
                    .team
                    .as_ref()
                    .map(|t| format!(" (through @{t})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    body,
                    "- ✅ **{}**: approved by @{}{via} on `{}`",
                    r.role,
                    a.login,
                    short(&a.head)
                );
            }
            None => {
                let _ = writeln!(body, "- ⏳ **{}**: waiting; may approve: {may}", r.role);
            }
        }
    }
    if !state.ignored.is_empty() {
        let _ = writeln!(body, "\nReviews that do not count:\n");
        for (login, _, why) in &state.ignored {
            let _ = writeln!(body, "- @{login}: {why}");
        }
    }
    for (team, e) in &state.unresolved_teams {
        let _ = writeln!(
            body,
            "\n⚠️ The members of @{team} could not be read ({e}); give the App read access to the organization's members."
        );
    }
    body.push('\n');
    body
}

/// Renders the evaluation of `head` (against `base_ref` at `base`), with its approvals when
/// known.
pub fn render(
    ev: &Evaluation,
    head: &str,
    base_ref: &str,
    base: &str,
    approvals: Option<&ApprovalState>,
) -> Rendered {
    let report = &ev.checked.report;
    let verdict = &ev.checked.verdict;
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let blocks = report.blocks();
    let conclusion = if blocks {
        Conclusion::Failure
    } else {
        Conclusion::Success
    };
    let title = if errors + warnings == 0 {
        "No problems found".to_string()
    } else {
        format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    };

    // The verdict: risk, tier, roles and who may approve each.
    let mut body = String::new();
    let _ = writeln!(
        body,
        "Checked head `{}` against `{base_ref}` at `{}`: {} of {} apps changed.\n",
        short(head),
        short(base),
        report.apps_checked,
        report.apps_total
    );
    let _ = writeln!(body, "| | |\n|---|---|");
    let _ = writeln!(body, "| Risk | **{}** |", verdict.risk.as_str());
    let tiers = if ev.tiers.is_empty() {
        "—".to_string()
    } else {
        ev.tiers.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    let _ = writeln!(body, "| Tier | {tiers} |");
    let roles = if verdict.required_roles.is_empty() {
        "none: auto-approved once checks pass".to_string()
    } else {
        verdict
            .required_roles
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(body, "| Approvals needed | {roles} |\n");
    if let Some(state) = approvals {
        body.push_str(&approvals_section(state));
    } else if !verdict.required_roles.is_empty() {
        let _ = writeln!(body, "#### Who can approve\n");
        for role in &verdict.required_roles {
            let line = match &ev.roster {
                Ok(r) => match r.roles.get(role) {
                    Some(m) if !m.is_empty() => who(m),
                    _ => "nobody holds this role in the base's `policies/reviewers.toml`".into(),
                },
                Err(e) => format!("the base's roster could not be read: {e}"),
            };
            let _ = writeln!(body, "- **{role}**: {line}");
        }
        body.push('\n');
    }

    // What to fix.
    let mut listed = String::new();
    let mut codes: BTreeSet<&str> = BTreeSet::new();
    for f in report.findings.iter().take(MAX_LISTED) {
        let place = f
            .location
            .as_ref()
            .map(|l| format!(" `{}:{}:{}`", l.file, l.line, l.column))
            .unwrap_or_default();
        let _ = writeln!(
            listed,
            "- {} **{}**{place}: {}",
            icon(f.severity),
            f.code.as_str(),
            f.message.replace('\n', " ")
        );
        codes.insert(f.code.as_str());
    }
    if report.findings.len() > MAX_LISTED {
        let _ = writeln!(
            listed,
            "- …and {} more (all of them are annotations on the check run)",
            report.findings.len() - MAX_LISTED
        );
    }
    if !listed.is_empty() {
        let _ = writeln!(body, "#### What to fix\n\n{listed}");
        for code in codes {
            if let Some(info) = lookup(code) {
                let _ = writeln!(
                    body,
                    "<details><summary><code>bazaar explain {code}</code>: {}</summary>\n\n{}\n\n</details>\n",
                    info.title, info.guide
                );
            }
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(body, "#### Notes\n");
        for n in &report.notes {
            let _ = writeln!(body, "- {n}");
        }
    }

    let status = if blocks {
        format!("### ❌ Bazaar: {title}")
    } else {
        format!("### ✅ Bazaar: {title}")
    };
    let header = format!("{STICKY_MARKER}\n{}\n{status}\n\n", head_marker(head));
    let comment = header + &cut(&body, MAX_COMMENT - 200);
    let summary = cut(&body, MAX_SUMMARY);

    let mut labels = vec![risk_label(verdict.risk.as_str())];
    labels.extend(ev.tiers.iter().map(|t| LabelSpec {
        name: format!("tier:{t}"),
        color: "1d76db".into(),
        description: format!("Bazaar: changes a {t}-tier app"),
    }));
    let missing: Vec<&String> = verdict
        .required_roles
        .iter()
        .filter(|r| approvals.is_none_or(|a| a.missing().contains(&r.as_str())))
        .collect();
    labels.extend(missing.into_iter().map(|r| LabelSpec {
        name: format!("needs:{r}"),
        color: "5319e7".into(),
        description: cut(&format!("Bazaar: the {r} role must approve"), 100),
    }));
    Rendered {
        conclusion,
        output: CheckOutput {
            title: cut(&title, 255),
            summary,
            annotations: report.findings.iter().filter_map(annotation).collect(),
        },
        comment,
        labels,
    }
}

fn risk_label(risk: &str) -> LabelSpec {
    let color = match risk {
        "low" => "0e8a16",
        "medium" => "fbca04",
        _ => "d93f0b",
    };
    LabelSpec {
        name: format!("risk:{risk}"),
        color: color.into(),
        description: format!("Bazaar: {risk} risk"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{Code, SourceFile};

    #[test]
    fn columns_only_on_one_line_and_limits_hold() {
        let file = SourceFile::new("catalog/a/b/app.toml", "x = 1\nruntime = \"docker\"\n");
        let f = Finding::new(Code::ADMIN_REQUIRED, "m".repeat(70_000)).at(&file, 16..24);
        let a = annotation(&f).unwrap();
        assert_eq!((a.start_line, a.end_line), (2, 2));
        assert_eq!((a.start_column, a.end_column), (Some(11), Some(18)));
        assert!(a.message.len() <= 60_000 && a.title.len() <= 255);
        let multi = Finding::new(Code::ADMIN_REQUIRED, "m").at(&file, 0..24);
        let a = annotation(&multi).unwrap();
        assert_eq!((a.start_line, a.end_line), (1, 2));
        assert_eq!(a.start_column, None);
        assert!(annotation(&Finding::new(Code::ADMIN_REQUIRED, "m")).is_none());
        assert_eq!(cut("ééé", 5), "é…");
    }
}
