//! Machine-readable outputs: the Atom feed of app changes (`feed.xml`), `sitemap.xml`, and
//! `catalog.json` (every app, shape version 1; documented in `site-templates/README.md`).

use serde_json::json;

use super::model::Model;

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // characters XML 1.0 does not allow (controls, U+FFFE, U+FFFF), and those that only
            // disguise text (other noncharacters, bidi controls): `check` refuses them in
            // manifests (BZ0115); text from elsewhere (commit subjects) is cleaned here
            c if crate::manifest::unsafe_char(c).is_some() => {}
            c => out.push(c),
        }
    }
    out
}

/// The site's absolute base (with a trailing slash), when the catalog configures one.
fn base(model: &Model) -> Option<String> {
    model.site["base_url"].as_str().map(|b| {
        if b.ends_with('/') {
            b.to_string()
        } else {
            format!("{b}/")
        }
    })
}

/// The Atom feed of the newest app changes. Links are absolute when the catalog has a
/// `site.base_url`, relative to the feed otherwise.
pub fn atom(model: &Model) -> String {
    let base = base(model).unwrap_or_default();
    let title = xml_escape(model.site["title"].as_str().unwrap_or("App catalog"));
    let updated = model
        .recent
        .first()
        .and_then(|c| c["time"].as_str())
        .unwrap_or("1970-01-01T00:00:00+00:00");
    let id = if base.is_empty() {
        "urn:bazaar:catalog".to_string()
    } else {
        base.clone()
    };
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{title}: app changes</title>\n<id>{}</id>\n<updated>{updated}</updated>\n<link rel=\"alternate\" href=\"{}\"/>\n<link rel=\"self\" href=\"{}feed.xml\"/>\n<generator>Bazaar</generator>\n",
        xml_escape(&id),
        xml_escape(if base.is_empty() { "./" } else { &base }),
        xml_escape(&base)
    );
    for c in &model.recent {
        let name = c["name"].as_str().unwrap_or_default();
        let kind = c["kind"].as_str().unwrap_or("changed");
        let version = c["version"]
            .as_str()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        // a lifecycle sweep's change says what it did
        let (kind, version) = match c["lifecycle"]["to"].as_str() {
            Some(to) => (format!("is now {to}"), String::new()),
            None => (kind.to_string(), version),
        };
        let summary = match (
            c["lifecycle"]["from"].as_str(),
            c["lifecycle"]["rule"].as_str(),
        ) {
            (Some(from), Some(rule)) => format!(
                "Lifecycle sweep: {from} to {} by the rule {rule}",
                c["lifecycle"]["to"].as_str().unwrap_or_default()
            ),
            _ => c["subject"].as_str().unwrap_or_default().to_string(),
        };
        let link = c["url"]
            .as_str()
            .map(|u| format!("<link href=\"{}\"/>", xml_escape(&format!("{base}{u}"))))
            .unwrap_or_default();
        out.push_str(&format!(
            "<entry>\n<title>{}{} {kind}</title>\n<id>urn:bazaar:{}:{}</id>\n<updated>{}</updated>\n{link}\n<author><name>{}</name></author>\n<summary>{}</summary>\n</entry>\n",
            xml_escape(name),
            xml_escape(&version),
            xml_escape(c["full_commit"].as_str().unwrap_or_default()),
            xml_escape(c["dir"].as_str().unwrap_or_default()),
            xml_escape(c["time"].as_str().unwrap_or(updated)),
            xml_escape(c["author"].as_str().unwrap_or("unknown")),
            xml_escape(&summary),
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// `sitemap.xml` of every page (the sitemap protocol wants absolute URLs: without a
/// `site.base_url` it lists them relative to the site root).
pub fn sitemap(model: &Model, pages: &[String]) -> String {
    let base = base(model).unwrap_or_default();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for p in pages {
        if p == "404.html" {
            continue;
        }
        let url = p.strip_suffix("index.html").unwrap_or(p);
        out.push_str(&format!(
            "<url><loc>{}</loc></url>\n",
            xml_escape(&format!("{base}{url}"))
        ));
    }
    out.push_str("</urlset>\n");
    out
}

/// `catalog.json`: every app as its manifest says, plus its page (apps serialized in parallel).
pub fn catalog_json(cat: &crate::catalog::Catalog, model: &Model) -> String {
    use rayon::prelude::*;
    #[derive(serde::Serialize)]
    struct Listed<'a> {
        #[serde(flatten)]
        app: &'a crate::manifest::App,
        url: String,
    }
    let apps: Vec<String> = cat
        .apps
        .par_iter()
        .map(|e| {
            serde_json::to_string(&Listed {
                app: &e.app,
                url: super::model::app_url(&e.app.id),
            })
            .unwrap_or_else(|_| "null".into())
        })
        .collect();
    let head = serde_json::to_string(&json!({ "version": 1, "title": model.site["title"] }))
        .unwrap_or_else(|_| "{}".into());
    // {"title":…,"version":1} + "apps"
    let mut out =
        String::with_capacity(apps.iter().map(String::len).sum::<usize>() + apps.len() + 64);
    out.push_str(head.trim_end_matches('}'));
    out.push_str(",\"apps\":[");
    out.push_str(&apps.join(","));
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_is_always_well_formed_xml() {
        let hostile = "a\u{0}\u{1}\u{8}\u{B}\u{C}\u{1F}\u{7F}\u{85}\u{FFFE}\u{FFFF}\u{FDD0}\u{FDEF}\u{1FFFE}\u{10FFFF}\u{202E}\u{2066}<&>\"'\u{D7FF}\u{E000}b";
        let doc = format!("<r a=\"{0}\">{0}</r>", xml_escape(hostile));
        let parsed = roxmltree::Document::parse(&doc).unwrap_or_else(|e| panic!("{e}: {doc:?}"));
        let text = parsed.root_element().text().unwrap_or_default();
        assert!(
            text.starts_with('a') && text.ends_with('b') && text.contains("<&>"),
            "{text:?}"
        );
        for gone in ['\u{FFFE}', '\u{FFFF}', '\u{1}', '\u{FDD0}', '\u{202E}'] {
            assert!(!text.contains(gone), "{gone:?} kept");
        }
    }
}
