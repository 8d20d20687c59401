//! Answering requests from the built site: paths cleaned and kept inside it, only regular
//! files, the live-reload script injected into pages, errors as pages.

use super::*;

/// Everything else: a file of the latest published build.
pub(super) async fn site(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut r = response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            Body::from("only GET and HEAD\n"),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = uri.path().to_string();
    let query = uri.query().map(str::to_string);
    tokio::task::spawn_blocking(move || respond(&shared, &path, query.as_deref()))
        .await
        .unwrap_or_else(|_| {
            response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                Body::from("internal error\n"),
            )
        })
}

/// Resolves a request path inside the published build (resolving the link now: it moves with
/// every rebuild) and answers with the file, a redirect to the folder's `/`, or the 404 page.
pub(super) fn respond(shared: &Shared, raw_path: &str, query: Option<&str>) -> Response {
    let segments = match clean_path(raw_path) {
        Ok(s) => s,
        Err(why) => {
            return response(
                StatusCode::BAD_REQUEST,
                "text/plain; charset=utf-8",
                Body::from(format!("bad request: {why}\n")),
            );
        }
    };
    let status = shared.status();
    // while the diagnostics replace the pages, a page that is missing (an app left out for its
    // errors, or the whole site when the first build failed) shows them too
    let page = looks_like_page(&segments, raw_path);
    let missing = |base: Option<&Path>| match &status.overlay {
        Some(_) if page => html(StatusCode::OK, None, &status),
        _ => not_found(base, &status),
    };
    let Ok(base) = std::fs::canonicalize(&shared.out) else {
        return missing(None);
    };
    let mut file = base.clone();
    file.extend(&segments);
    let Some(mut file) = inside(&base, &file) else {
        return missing(Some(&base));
    };
    if file.is_dir() {
        if !raw_path.ends_with('/') {
            // relative links need the trailing slash; `//host` must not become a redirect away
            let mut location = format!("/{}/", raw_path.trim_start_matches('/'));
            if let Some(q) = query {
                location.push('?');
                location.push_str(q);
            }
            if let Ok(location) = HeaderValue::from_str(&location) {
                let mut r = response(
                    StatusCode::PERMANENT_REDIRECT,
                    "text/plain; charset=utf-8",
                    Body::empty(),
                );
                r.headers_mut().insert(header::LOCATION, location);
                return r;
            }
            return missing(Some(&base));
        }
        match inside(&base, &file.join("index.html")) {
            Some(index) => file = index,
            None => return missing(Some(&base)),
        }
    }
    // only regular files (the path is canonical: never a link itself)
    if !std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file()) {
        return missing(Some(&base));
    }
    let Ok(bytes) = std::fs::read(&file) else {
        return missing(Some(&base));
    };
    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "html" {
        return html(
            StatusCode::OK,
            Some(&String::from_utf8_lossy(&bytes)),
            &status,
        );
    }
    response(StatusCode::OK, content_type(ext), Body::from(bytes))
}

/// Whether a request asks for a page (a folder, `.html`, or a name without an extension) rather
/// than an asset.
pub(super) fn looks_like_page(segments: &[String], raw_path: &str) -> bool {
    raw_path.ends_with('/')
        || segments
            .last()
            .is_none_or(|last| last.ends_with(".html") || !last.contains('.'))
}

/// The canonical path of `path` when it exists and lies inside `base` (itself canonical):
/// links that lead out of the build are refused.
pub(super) fn inside(base: &Path, path: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(path).ok()?;
    real.starts_with(base).then_some(real)
}

/// The path's segments, percent-decoded once; `..`, backslashes and NUL are refused so a
/// request can never name anything outside the site. Empty and `.` segments are dropped, so an
/// "absolute" `//etc/passwd` is just `etc/passwd` inside the site.
pub(super) fn clean_path(raw: &str) -> Result<Vec<String>, &'static str> {
    let decoded = percent_decode(raw).ok_or("malformed percent-encoding")?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err("backslash or NUL in path");
    }
    let mut segments = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err("`..` in path"),
            s => segments.push(s.to_string()),
        }
    }
    Ok(segments)
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result is not UTF-8.
pub(super) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The content type of a file by its extension.
pub(super) fn content_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "atom" => "application/atom+xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        // Pagefind's index files, and anything unknown
        _ => "application/octet-stream",
    }
}

/// The site's 404 page (or a plain one), with status 404.
pub(super) fn not_found(base: Option<&Path>, status: &Status) -> Response {
    let page = base
        .and_then(|b| inside(b, &b.join("404.html")))
        .and_then(|p| std::fs::read(p).ok())
        .map(|b| {
            // served at any depth: its relative links are relative to the site's root
            let text = String::from_utf8_lossy(&b).into_owned();
            match find_ignore_case(&text, "<head>", false) {
                Some(i) => format!("{}<base href=\"/\">{}", &text[..i + 6], &text[i + 6..]),
                None => text,
            }
        })
        .unwrap_or_else(|| {
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body><h1>Not found</h1><p><a href=\"/\">Browse all apps</a></p></body></html>".to_string()
        });
    html(StatusCode::NOT_FOUND, Some(&page), status)
}

/// An HTML response: the page (or, while the latest build has errors, the diagnostics page)
/// with the live-reload script before `</body>`.
pub(super) fn html(code: StatusCode, page: Option<&str>, status: &Status) -> Response {
    let page = match (&status.overlay, page) {
        (Some(overlay), _) => overlay.to_string(),
        (None, Some(page)) => page.to_string(),
        (None, None) => String::new(),
    };
    response(
        code,
        content_type("html"),
        Body::from(inject_reload(&page, status.generation)),
    )
}

/// A response with the headers every answer of the preview carries.
pub(super) fn response(code: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut r = (code, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}
