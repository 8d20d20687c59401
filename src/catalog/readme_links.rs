//! A README's own findings in a check: longer than the site shows, too complex to render, or
//! linking to an app page of an app that is not in the catalog.

use std::collections::{BTreeSet, HashMap};

use crate::diagnostics::{Code, Finding, SourceFile};

/// The app a README link points at on the site, when it points at an app page: `../<id>/`
/// (from an app's page), `../../apps/<id>/` or `<base_url>apps/<id>/`. App ids are reverse-DNS
/// names, so other relative links (`../docs/x.md`) are not mistaken for one.
pub fn linked_app<'a>(dest: &'a str, base_url: Option<&str>) -> Option<&'a str> {
    let mut rest = match base_url.and_then(|b| dest.strip_prefix(b)) {
        Some(r) => r.strip_prefix("apps/")?,
        None => {
            let mut r = dest.strip_prefix("./").unwrap_or(dest);
            let mut ups = 0;
            while let Some(x) = r.strip_prefix("../") {
                r = x;
                ups += 1;
            }
            match ups {
                1 => r,
                2 => r.strip_prefix("apps/")?,
                _ => return None,
            }
        }
    };
    rest = rest.split(['/', '#', '?']).next()?;
    let looks_like_id = rest.split('.').count() >= 3
        && rest.split('.').all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
    looks_like_id.then_some(rest)
}

/// The findings of one README: longer than the site shows, too complex to render, or linking to
/// an app that is not in the catalog.
pub(super) fn findings(
    path: &str,
    bytes: &[u8],
    ids: &HashMap<&str, Vec<&str>>,
    broken: &BTreeSet<&str>,
    base_url: Option<&str>,
    out: &mut Vec<(Finding, Vec<String>)>,
) {
    let text = String::from_utf8_lossy(bytes);
    // bytes are at least characters: count only when it can matter
    if text.len() > super::MAX_RENDERED_README_CHARS {
        let chars = text.chars().count();
        if chars > super::MAX_RENDERED_README_CHARS {
            out.push(super::checks::at_path(
                Code::README_TOO_LONG,
                path,
                format!(
                    "README.md has {chars} characters; the site shows the first {} and a note that the rest is cut",
                    super::MAX_RENDERED_README_CHARS
                ),
                "move reference material to the app's own documentation and link it",
            ));
        }
    }
    // a README that would cost the renderer too much is never parsed, here or on the site
    if let Some(excess) = super::readme::too_complex(&text) {
        let file = SourceFile::new(path, &*text);
        out.push((
            Finding::new(
                Code::README_TOO_COMPLEX,
                format!(
                    "README.md is too complex to render safely: {}; the site shows it as plain text",
                    excess.what
                ),
            )
            .help("flatten the nesting or the markup (deeply nested quotes, lists or HTML usually come from a paste or a generator)")
            .at(&file, excess.span),
            vec![path.to_string()],
        ));
        return;
    }
    // most READMEs link to no app page: skip the parse
    if !text.contains("../") && !base_url.is_some_and(|b| text.contains(b)) {
        return;
    }
    let file = SourceFile::new(path, &*text);
    for (ev, range) in pulldown_cmark::Parser::new(&text).into_offset_iter() {
        let pulldown_cmark::Event::Start(pulldown_cmark::Tag::Link { dest_url, .. }) = ev else {
            continue;
        };
        let Some(id) = linked_app(&dest_url, base_url) else {
            continue;
        };
        if ids.contains_key(id) || broken.contains(id) {
            continue;
        }
        out.push((
            Finding::new(
                Code::README_DEAD_APP_LINK,
                format!("README links to app {id:?}, which is not in the catalog"),
            )
            .help("correct the link (app pages are ../<app id>/ from an app's page) or remove it")
            .at(&file, range),
            vec![path.to_string()],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::linked_app;

    #[test]
    fn app_page_links_are_told_from_other_relative_links() {
        let base = Some("https://bazaar.acme.internal/");
        for (link, app) in [
            (
                "../com.acme.people.directory/",
                Some("com.acme.people.directory"),
            ),
            (
                "./../com.acme.people.directory",
                Some("com.acme.people.directory"),
            ),
            ("../../apps/com.acme.a.b/#usage", Some("com.acme.a.b")),
            (
                "https://bazaar.acme.internal/apps/com.acme.a.b/",
                Some("com.acme.a.b"),
            ),
            ("https://bazaar.acme.internal/teams/finance/", None),
            ("https://elsewhere.example/apps/com.acme.a.b/", None),
            ("../docs/setup.md", None),
            ("../../teams/finance/", None),
            ("../../../com.acme.a.b/", None),
            ("../Com.Acme.A.B/", None),
            ("com.acme.a.b/", None),
            ("#section", None),
        ] {
            assert_eq!(linked_app(link, base), app, "{link}");
        }
    }
}
