//! One finding type for everything Bazaar reports, and the renderers that show findings to
//! humans, machines and GitHub.

mod codes;
mod render;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

pub use codes::{Code, CodeInfo, explain, lookup};
pub use render::{Format, render};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational: never blocks.
    Info,
    /// Passes, but should be fixed (policy `warn`).
    Warning,
    /// Blocks the submission (policy `deny`, parse and catalog errors).
    Error,
}

impl Severity {
    /// The word used in human and machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A place in a file: 1-based line and column (in characters) of the start and end of a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Repository-relative path with `/` separators.
    pub file: String,
    /// 1-based line of the start.
    pub line: usize,
    /// 1-based column (characters) of the start.
    pub column: usize,
    /// 1-based line of the end.
    pub end_line: usize,
    /// 1-based column (characters) just past the end.
    pub end_column: usize,
    /// Byte range in the file.
    #[serde(skip)]
    pub span: Range<usize>,
}

/// One thing Bazaar has to say about a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Whether it blocks.
    pub severity: Severity,
    /// Stable code, e.g. `BZ0102`; `bazaar explain CODE` says more.
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where, when it is about a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The app the finding is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// For warnings: the day by which the problem must be fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<chrono::NaiveDate>,
}

impl Finding {
    /// A finding with the code's default severity and no location.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Finding {
            severity: code.info().severity,
            code,
            message: message.into(),
            help: None,
            location: None,
            app: None,
            deadline: None,
        }
    }

    /// Adds the help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Points the finding at a file without a span (the whole file).
    pub fn in_file(mut self, file: &SourceFile) -> Self {
        self.location = Some(file.location(0..0));
        self
    }

    /// Points the finding at a span of a file.
    pub fn at(mut self, file: &SourceFile, span: Range<usize>) -> Self {
        self.location = Some(file.location(span));
        self
    }

    /// Sets the severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Names the app the finding is about.
    pub fn for_app(mut self, id: impl Into<String>) -> Self {
        self.app = Some(id.into());
        self
    }

    /// The file the finding points at, if any.
    pub fn file(&self) -> Option<&str> {
        self.location.as_ref().map(|l| l.file.as_str())
    }
}

/// A file's path and text, kept so findings can be located and shown with a snippet.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Repository-relative path with `/` separators.
    pub path: Arc<str>,
    /// The text (lossily decoded when the file was not UTF-8).
    pub text: Arc<str>,
    line_starts: Arc<[usize]>,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(path: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and character column of a byte offset (clamped into the file).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let col = self.text[self.line_starts[line]..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// A location for a byte span of this file.
    pub fn location(&self, span: Range<usize>) -> Location {
        let start = span.start.min(self.text.len());
        let end = span.end.clamp(start, self.text.len());
        let (line, column) = self.line_col(start);
        let (end_line, end_column) = self.line_col(end);
        Location {
            file: self.path.to_string(),
            line,
            column,
            end_line,
            end_column,
            span: start..end,
        }
    }
}

/// Findings plus the files they point into, ready to render.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// All findings, in a stable order (file, position, code).
    pub findings: Vec<Finding>,
    /// Sources for snippets, by path.
    pub sources: BTreeMap<String, SourceFile>,
    /// How many apps were checked in full.
    pub apps_checked: usize,
    /// Total apps in the catalog.
    pub apps_total: usize,
    /// Extra top-level fields of the JSON output (e.g. `changes` with `--base`).
    pub context: serde_json::Map<String, serde_json::Value>,
    /// Lines shown to humans before the summary (risk, required approvals).
    pub notes: Vec<String>,
}

impl Report {
    /// True when some finding blocks.
    pub fn blocks(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// Number of findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Sorts findings: by file, then position, then code, so output is stable.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            let key = |f: &Finding| {
                (
                    f.location.as_ref().map(|l| l.file.clone()),
                    f.location.as_ref().map(|l| l.span.start),
                    f.code,
                    f.message.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        self.findings.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let f = SourceFile::new("a.toml", "x = 1\nname = \"é\" # z\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(6), (2, 1));
        // byte offset of '#': "name = \"é\" " is 12 bytes (é is 2) => 11 chars
        let hash = f.text.find('#').unwrap();
        assert_eq!(f.line_col(hash), (2, 12));
        // past the end clamps inside the file
        assert_eq!(f.line_col(10_000).0, 3);
    }
}
