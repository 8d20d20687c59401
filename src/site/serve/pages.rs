//! The preview's own pages: the catalog's findings shown in the browser while it has errors,
//! a failed build, and the live-reload hook injected into every page.

use super::*;

/// Inserts the live-reload script (a file of the preview, [`RELOAD_PATH`]) just before the last
/// `</body>` (or at the end). The page reloads when a build newer than the one it was served
/// from is announced, including when it reconnects to a restarted server.
pub fn inject_reload(page: &str, generation: u64) -> String {
    let script =
        format!("<script src=\"{RELOAD_PATH}\" data-generation=\"{generation}\"></script>\n");
    match find_ignore_case(page, "</body>", true) {
        Some(i) => format!("{}{script}{}", &page[..i], &page[i..]),
        None => format!("{page}{script}"),
    }
}

/// Byte offset of an ASCII `needle` in `hay`, ignoring ASCII case; the last one when `last`.
pub(super) fn find_ignore_case(hay: &str, needle: &str, last: bool) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    let mut hits = (0..=h.len() - n.len()).filter(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n));
    if last { hits.next_back() } else { hits.next() }
}

// Escapes text for HTML element content and attribute values (the XML escape is valid HTML).
pub(super) use crate::site::xml_escape as escape_html;

pub(super) const PAGE_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fff7f7;color:#1d1d1f}\
main{max-width:60rem;margin:0 auto;padding:1.5rem}h1{color:#b00020;font-size:1.5rem}\
ol{padding-left:1.25rem}li{margin:0 0 1rem}code,pre{font:14px/1.4 ui-monospace,monospace}\
pre{background:#1d1d1f;color:#f5f5f7;padding:1rem;overflow:auto;border-radius:6px}\
.code{color:#b00020;font-weight:700}.where{margin:0}.help{margin:0;color:#3a3a3c}";

pub(super) fn page_shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<link rel=\"stylesheet\" href=\"{STYLE_PATH}\">\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape_html(title)
    )
}

/// The page shown instead of every page while the catalog has errors: each error's code,
/// message, `file:line:col`, app and help, then the same findings as `bazaar check` prints them.
/// Everything contributors wrote is escaped.
pub fn diagnostics_page(report: &Report) -> String {
    let errors: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect();
    let mut body = format!(
        "<h1>{} error{} in the catalog</h1>\n<p>Apps with errors are left out of the site. \
Fix the files below and save: this page reloads by itself, and shows the site again once the \
catalog builds without errors.</p>\n<ol class=\"findings\">\n",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for f in &errors {
        body.push_str(&format!(
            "<li><p><span class=\"code\">{}</span> <span class=\"message\">{}</span></p>\n",
            escape_html(f.code.as_str()),
            escape_html(&f.message)
        ));
        if let Some(l) = &f.location {
            body.push_str(&format!(
                "<p class=\"where\"><code>{}:{}:{}</code></p>\n",
                escape_html(&l.file),
                l.line,
                l.column
            ));
        }
        if let Some(app) = &f.app {
            body.push_str(&format!(
                "<p class=\"where\">app: <code>{}</code></p>\n",
                escape_html(app)
            ));
        }
        if let Some(help) = &f.help {
            body.push_str(&format!(
                "<p class=\"help\">help: {}</p>\n",
                escape_html(help)
            ));
        }
        body.push_str("</li>\n");
    }
    body.push_str("</ol>\n<h2>As <code>bazaar check</code> shows them</h2>\n<pre>");
    let only_errors = Report {
        findings: errors.clone(),
        sources: report.sources.clone(),
        apps_checked: report.apps_checked,
        apps_total: report.apps_total,
        ..Default::default()
    };
    body.push_str(&escape_html(&render(&only_errors, Format::Human, false)));
    body.push_str("</pre>\n");
    page_shell(
        &format!("{} error(s) — Bazaar preview", errors.len()),
        &body,
    )
}

/// The page shown instead of every page when the site could not be built at all.
pub fn failure_page(message: &str) -> String {
    page_shell(
        "Build failed — Bazaar preview",
        &format!(
            "<h1>The site could not be built</h1>\n<pre>{}</pre>\n<p>Fix the problem and save: \
this page reloads by itself once the site builds again.</p>\n",
            escape_html(message)
        ),
    )
}

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        // transparent wrappers repeat their source's message
        if !s.ends_with(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}
