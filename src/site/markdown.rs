//! Contributors' Markdown to safe HTML: pulldown-cmark renders, ammonia removes everything that
//! could run or restyle the page (scripts, event handlers, `javascript:`/`data:` URLs, iframes,
//! forms, styles), and links leave with `rel="noopener noreferrer"`.

use pulldown_cmark::{Options, Parser, html};

/// Longest README text rendered; the rest is cut with a note.
pub const MAX_RENDERED_CHARS: usize = crate::catalog::MAX_RENDERED_README_CHARS;

/// Renders untrusted Markdown to sanitized HTML.
pub fn render(markdown: &str) -> String {
    let (text, cut) = match markdown.char_indices().nth(MAX_RENDERED_CHARS) {
        Some((i, _)) => (&markdown[..i], true),
        None => (markdown, false),
    };
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(text, opts));
    let mut clean = ammonia::Builder::default()
        .url_schemes(["https", "http", "mailto"].into_iter().collect())
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

    #[test]
    fn huge_readmes_are_cut_with_a_note() {
        let big = "word ".repeat(MAX_RENDERED_CHARS);
        let out = render(&big);
        assert!(out.len() < big.len() + 500 && out.contains("longer than the catalog shows"));
    }
}
