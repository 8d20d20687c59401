//! Contributors' Markdown to safe HTML: pulldown-cmark renders, ammonia removes everything that
//! could run or restyle the page (scripts, event handlers, `javascript:`/`data:` URLs, iframes,
//! forms, styles), links lead only to http(s) addresses (or stay relative), and leave with
//! `rel="noopener noreferrer"`.

use pulldown_cmark::{Options, Parser, html};

/// Longest README text rendered; the rest is cut with a note.
pub const MAX_RENDERED_CHARS: usize = crate::catalog::MAX_RENDERED_README_CHARS;

/// Characters of a README shown as plain text when it is too complex to render.
pub const PLAIN_FALLBACK_CHARS: usize = 20_000;

/// Renders untrusted Markdown to sanitized HTML; a README past the renderer's limits is shown as
/// escaped plain text with a note instead.
pub fn render(markdown: &str) -> String {
    let (text, cut) = match markdown.char_indices().nth(MAX_RENDERED_CHARS) {
        Some((i, _)) => (&markdown[..i], true),
        None => (markdown, false),
    };
    // past the renderer's limits (see `catalog::readme`): shown as text, never parsed
    if let Some(excess) = crate::catalog::readme::too_complex(text) {
        let shown: String = text.chars().take(PLAIN_FALLBACK_CHARS).collect();
        return format!(
            "<p><em>This README is too complex to show here (line {}: {}); it is shown as plain text. The app's repository has the original.</em></p>\n<pre class=\"readme-plain\">{}</pre>",
            excess.line,
            super::xml_escape(&excess.what),
            super::xml_escape(&shown)
        );
    }
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(text, opts));
    let mut clean = ammonia::Builder::default()
        .url_schemes(["https", "http"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(&out)
        .to_string();
    if cut {
        clean.push_str("<p><em>This README is longer than the catalog shows; the rest is in the app's repository.</em></p>");
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_markdown_is_inert() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<iframe src=https://evil.example></iframe>",
            "<form action=https://evil.example><input name=p></form>",
            "<div style=\"position:fixed;top:0\">x</div>",
            "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
            "<svg><script>alert(1)</script></svg>",
            "<style>body{display:none}</style>",
        ];
        for h in hostile {
            let out = render(h).to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onclick",
                "javascript:",
                "data:text",
                "<iframe",
                "<form",
                "<input",
                "style=",
                "<style",
                "<svg",
            ] {
                assert!(!out.contains(bad), "{h:?} rendered {out:?}");
            }
        }
        let ok = render(
            "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://wiki.acme.internal/x)",
        );
        assert!(
            ok.contains("<h1>Title</h1>")
                && ok.contains("<table>")
                && ok.contains("rel=\"noopener noreferrer\""),
            "{ok}"
        );
    }

    /// Finding 4 of issue 15: each of these took seconds to minutes.
    #[test]
    fn rendering_is_bounded_on_hostile_nesting() {
        for (what, text) in [
            ("100k nested blockquotes", ">".repeat(100_000)),
            ("200k nested blockquotes", ">".repeat(200_000)),
            ("40k raw divs", "<div>".repeat(40_000)),
            ("100k nested list items", "- ".repeat(100_000)),
            ("100k emphasis markers", "*a".repeat(100_000)),
            (
                "30k table rows",
                format!("|a|b|\n|-|-|\n{}", "|1|2|\n".repeat(30_000)),
            ),
        ] {
            let t = std::time::Instant::now();
            let out = render(&text);
            let took = t.elapsed();
            // generous for a debug build on a busy machine; release takes milliseconds
            assert!(took < std::time::Duration::from_secs(2), "{what}: {took:?}");
            assert!(out.contains("too complex"), "{what}");
            assert!(
                !out.contains("<div>") && !out.contains("<blockquote>"),
                "{what}"
            );
        }
    }

    #[test]
    fn huge_readmes_are_cut_with_a_note() {
        let big = "word ".repeat(MAX_RENDERED_CHARS);
        let out = render(&big);
        assert!(out.len() < big.len() + 500 && out.contains("longer than the catalog shows"));
    }
}
