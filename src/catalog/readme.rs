//! Limits on the work a README may ask of the Markdown renderer, checked in one linear pass
//! before any parsing. pulldown-cmark re-checks every open container on each line and
//! html5ever (under ammonia) every open element on each tag, so deep nesting costs time
//! quadratic in its depth: 100,000 nested blockquotes took about a minute to render, 40,000
//! raw `<div>`s several seconds. A README past a limit is reported by `check` (BZ0218) and
//! shown by the site as escaped text with a note, never rendered.

/// Containers (blockquote `>` and list markers) one line may open.
pub const MAX_NESTING: usize = 32;
/// Raw HTML tags in one README.
pub const MAX_HTML_TAGS: usize = 2_000;
/// Columns of one table.
pub const MAX_TABLE_COLUMNS: usize = 64;
/// Markup characters (`*`, `_`, `` ` ``, `|`, `[`) in one README: each may open an element,
/// and the sanitizer's cost grows with the elements (100,000 `*a` took seconds).
pub const MAX_MARKUP: usize = 40_000;

/// Where a README goes past a limit, and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excess {
    /// Byte range (in the README) of the line that goes past it.
    pub span: std::ops::Range<usize>,
    /// The 1-based line.
    pub line: usize,
    /// What is past which limit.
    pub what: String,
}

/// Containers a line opens: `>` and list markers (`-`, `*`, `+`, `1.`, `1)`) at its start.
fn containers(line: &str) -> usize {
    let b = line.as_bytes();
    let mut i = 0;
    let mut n = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() {
            return n;
        }
        match b[i] {
            b'>' => i += 1,
            b'-' | b'*' | b'+' if b.get(i + 1).is_some_and(|c| *c == b' ' || *c == b'\t') => i += 2,
            b'0'..=b'9' => {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() && i - start < 9 {
                    i += 1;
                }
                if matches!(b.get(i), Some(b'.' | b')'))
                    && b.get(i + 1).is_some_and(|c| *c == b' ' || *c == b'\t')
                {
                    i += 2;
                } else {
                    return n;
                }
            }
            _ => return n,
        }
        n += 1;
    }
}

/// Columns of a table's delimiter row (`| --- | :-: |`), or 0 when the line is not one.
fn delimiter_columns(line: &str) -> usize {
    let t = line.trim();
    if !t.contains('-') || !t.contains('|') {
        return 0;
    }
    if !t
        .bytes()
        .all(|c| matches!(c, b'|' | b'-' | b':' | b' ' | b'\t'))
    {
        return 0;
    }
    t.split('|').filter(|cell| cell.contains('-')).count()
}

/// The first place where `text` goes past a limit, if any. Linear in the text's length.
pub fn too_complex(text: &str) -> Option<Excess> {
    let mut tags = 0usize;
    let mut markup = 0usize;
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        let span = offset..offset + line.len();
        offset += raw.len();
        let excess = |what: String| Excess {
            span: span.clone(),
            line: i + 1,
            what,
        };
        let depth = containers(line);
        if depth > MAX_NESTING {
            return Some(excess(format!(
                "{depth} nested quotes or lists (the limit is {MAX_NESTING})"
            )));
        }
        let columns = delimiter_columns(line);
        if columns > MAX_TABLE_COLUMNS {
            return Some(excess(format!(
                "a table of {columns} columns (the limit is {MAX_TABLE_COLUMNS})"
            )));
        }
        let b = line.as_bytes();
        tags += b
            .windows(2)
            .filter(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/'))
            .count();
        markup += b
            .iter()
            .filter(|c| matches!(c, b'*' | b'_' | b'`' | b'|' | b'['))
            .count();
        if markup > MAX_MARKUP {
            return Some(excess(format!(
                "more than {MAX_MARKUP} markup characters (* _ ` | [)"
            )));
        }
        if tags > MAX_HTML_TAGS {
            return Some(excess(format!(
                "more than {MAX_HTML_TAGS} HTML tags (the limit is {MAX_HTML_TAGS})"
            )));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_readmes_pass() {
        let text = "# Expense Tracker\n\n> A quote\n> > nested\n\n- a\n  - b\n    1. c\n\n| a | b |\n|---|:-:|\n| 1 | 2 |\n\n<details><summary>More</summary>\n\nText\n</details>\n";
        assert_eq!(too_complex(text), None);
        assert_eq!(too_complex(&"word ".repeat(100_000)), None);
    }

    #[test]
    fn each_limit_names_its_line() {
        let deep = format!("ok\n\n{}x\n", "> ".repeat(MAX_NESTING + 1));
        let e = too_complex(&deep).unwrap();
        assert_eq!(e.line, 3);
        assert!(e.what.contains("nested"), "{e:?}");
        assert_eq!(&deep[e.span.clone()], deep.lines().nth(2).unwrap());
        let lists = format!("{}x", "- ".repeat(MAX_NESTING + 1));
        assert_eq!(too_complex(&lists).unwrap().line, 1);
        let tags = format!("a\nb\n{}", "<div>".repeat(MAX_HTML_TAGS + 1));
        assert_eq!(too_complex(&tags).unwrap().line, 3);
        let marks = format!("ok\n{}", "*a".repeat(MAX_MARKUP + 1));
        assert_eq!(too_complex(&marks).unwrap().line, 2);
        let wide = format!("{}\n{}\n", "|a".repeat(100), "|-".repeat(100));
        assert!(too_complex(&wide).unwrap().what.contains("columns"));
        // exactly at the limits is fine
        let at = format!("{}x\n", ">".repeat(MAX_NESTING));
        assert_eq!(too_complex(&at), None);
    }
}
