//! Checks of single values (ids, names, URLs, paths) used by the parsers.

use toml::Spanned;

use crate::diagnostics::Code;

use super::fields::Ctx;

/// Reverse-DNS id: at least three dot-separated labels of `[a-z][a-z0-9-]*`, no label ending in
/// a hyphen, at most 200 characters.
pub fn is_reverse_dns(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 200
        && labels.len() >= 3
        && labels.iter().all(|l| {
            l.len() <= 63
                && l.starts_with(|c: char| c.is_ascii_lowercase())
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Lowercase slug: `[a-z0-9][a-z0-9-]*`, at most 63 characters, not ending in `-`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A forge login: letters, digits and single hyphens, 1–39 characters (GitHub's rule).
pub fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 39
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A text field: not empty, no surrounding whitespace, within `max` characters, one line when
/// `single_line`.
/// Why a character may not appear in text fields: a control character (line breaks and tabs
/// aside), a Unicode noncharacter (XML forbids U+FFFE and U+FFFF; none is meant for
/// interchange) or a bidi control, which reorders how text is displayed.
pub fn unsafe_char(c: char) -> Option<&'static str> {
    let u = c as u32;
    if matches!(u, 0x202A..=0x202E | 0x2066..=0x2069 | 0x200E | 0x200F | 0x061C) {
        Some("a bidi control character")
    } else if (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE {
        Some("a Unicode noncharacter")
    } else if c.is_control() && !matches!(c, '\n' | '\t' | '\r') {
        Some("a control character")
    } else {
        None
    }
}

pub(crate) fn text(
    ctx: &mut Ctx<'_>,
    field: &str,
    v: &Spanned<String>,
    max: usize,
    single_line: bool,
) {
    let s = v.get_ref();
    let problem = if s.trim().is_empty() {
        Some("is empty".to_string())
    } else if s.trim() != s && single_line {
        Some("has leading or trailing whitespace".to_string())
    } else if single_line && s.contains(['\n', '\r']) {
        Some("must be one line".to_string())
    } else if s.chars().count() > max {
        Some(format!(
            "is {} characters long; the limit is {max}",
            s.chars().count()
        ))
    } else {
        None
    };
    if let Some((c, why)) = s.chars().find_map(|c| unsafe_char(c).map(|why| (c, why))) {
        // the character itself in the file when it is written as is (not as an escape)
        let span = v.span();
        let raw = ctx.file.text.get(span.clone()).unwrap_or_default();
        let at = match raw.char_indices().find(|(_, r)| *r == c) {
            Some((j, _)) => span.start + j..span.start + j + c.len_utf8(),
            None => span,
        };
        ctx.error(
            Code::UNSAFE_TEXT,
            at,
            format!("`{field}` contains {why} (U+{:04X})", c as u32),
            "remove the character (`bazaar explain BZ0115` says why and how to find it)",
        );
    }
    if let Some(p) = problem {
        ctx.error(Code::INVALID_TEXT, v.span(), format!("`{field}` {p}"), "");
    }
}

/// Checks a value against a predicate, reporting `code` with `what` (e.g. "a lowercase slug").
pub(crate) fn shape(
    ctx: &mut Ctx<'_>,
    field: &str,
    v: &Spanned<String>,
    ok: fn(&str) -> bool,
    code: Code,
    what: &str,
) -> bool {
    if ok(v.get_ref()) {
        return true;
    }
    ctx.error(
        code,
        v.span(),
        format!("`{field}` = {:?} is not {what}", v.get_ref()),
        "",
    );
    false
}

/// An absolute https URL.
pub(crate) fn https_url(ctx: &mut Ctx<'_>, field: &str, v: &Spanned<String>) -> Option<url::Url> {
    match url::Url::parse(v.get_ref()) {
        Ok(u)
            if u.scheme() == "https"
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none() =>
        {
            Some(u)
        }
        Ok(u) if u.scheme() != "https" => {
            ctx.error(
                Code::INVALID_URL,
                v.span(),
                format!("`{field}` must use https, not {}", u.scheme()),
                "write an https:// URL",
            );
            None
        }
        Ok(_) => {
            ctx.error(
                Code::INVALID_URL,
                v.span(),
                format!("`{field}` must have a host and no user or password"),
                "",
            );
            None
        }
        Err(e) => {
            ctx.error(
                Code::INVALID_URL,
                v.span(),
                format!("`{field}` is not a URL: {e}"),
                "write the full URL including https://",
            );
            None
        }
    }
}

/// A path relative to the app's folder that stays inside it.
pub fn is_safe_relative_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains(':')
        && p.split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !p.chars().any(char::is_control)
}

/// A digest `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase.
pub fn is_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A chat channel: `#` and a slug-like name.
pub fn is_channel(s: &str) -> bool {
    s.strip_prefix('#').is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 80
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
    })
}

/// A cost center: `CC-` and four to eight digits.
pub fn is_cost_center(s: &str) -> bool {
    s.strip_prefix("CC-")
        .is_some_and(|n| (4..=8).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

/// An OAuth scope or region name: printable, no spaces, at most 100 characters.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_reverse_dns("com.acme.finance.expense-tracker"));
        assert!(is_reverse_dns("io.x.y"));
        for bad in [
            "com.acme",
            "Com.acme.x",
            "com..acme.x",
            "com.acme.x-",
            "com.acme.1x",
            "com.acme.x_y",
            "",
        ] {
            assert!(!is_reverse_dns(bad), "{bad}");
        }
    }

    #[test]
    fn paths_stay_inside() {
        assert!(is_safe_relative_path("sbom.cdx.json"));
        assert!(is_safe_relative_path("docs/sbom.json"));
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "C:\\x",
            "a\\b",
            "./a",
            "",
        ] {
            assert!(!is_safe_relative_path(bad), "{bad}");
        }
    }

    #[test]
    fn digests_logins_channels() {
        assert!(is_digest(&format!("sha256:{}", "a1".repeat(32))));
        assert!(!is_digest(&format!("sha256:{}", "A1".repeat(32))));
        assert!(!is_digest("md5:abc"));
        assert!(is_login("maria-lopez") && !is_login("-x") && !is_login("a--b"));
        assert!(is_channel("#finance-tools") && !is_channel("finance"));
        assert!(is_cost_center("CC-4100") && !is_cost_center("CC-41"));
    }
}
