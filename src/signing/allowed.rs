//! `allowed_signers` in git's (ssh-keygen's) format: which keys may sign as which principals.
//!
//! Each line: `principals [options] key-type base64-key [comment]`. Principals are
//! comma-separated patterns (`*` and `?` wildcards); options are `namespaces="…"`,
//! `valid-after="…"` and `valid-before="…"` (YYYYMMDD[HHMM[SS]], `Z` for UTC, else local time).
//! `cert-authority` and unknown options are refused with a clear error, never ignored.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ssh_key::PublicKey;

/// One allowed signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedSigner {
    /// Principal patterns.
    pub principals: Vec<String>,
    /// Namespaces the key may sign for (`None`: any).
    pub namespaces: Option<Vec<String>>,
    /// Not valid before this instant.
    pub valid_after: Option<DateTime<Utc>>,
    /// Not valid after this instant.
    pub valid_before: Option<DateTime<Utc>>,
    /// The key.
    pub key: PublicKey,
    /// 1-based line in the file.
    pub line: usize,
}

/// A problem with a line of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct AllowedSignersError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// The parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedSigners {
    /// Entries in file order.
    pub signers: Vec<AllowedSigner>,
}

/// Splits a line into whitespace-separated tokens, keeping double-quoted parts together.
fn tokens(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Splits on commas outside quotes.
fn split_commas(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-sha2-") || t.starts_with("sk-")
}

/// Parses `YYYYMMDD[HHMM[SS]][Z]`.
fn timestamp(v: &str) -> Option<DateTime<Utc>> {
    let (digits, utc) = match v.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (v, false),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive: NaiveDateTime = match digits.len() {
        8 => NaiveDate::parse_from_str(digits, "%Y%m%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?,
        12 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M").ok()?,
        14 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()?,
        _ => return None,
    };
    if utc {
        Some(Utc.from_utc_datetime(&naive))
    } else {
        chrono::Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
    }
}

/// `*` and `?` glob match, as ssh's match_pattern.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

impl AllowedSigners {
    /// Parses the file's text; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<AllowedSigners, AllowedSignersError> {
        let mut signers = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| AllowedSignersError {
                path: path.to_string(),
                line,
                message,
            };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let toks = tokens(trimmed).map_err(|e| err(format!("{e}; close the quotes")))?;
            if toks.len() < 3 {
                return Err(err("expected `principals [options] key-type base64-key`; e.g. bazaar@acme.example namespaces=\"git\" ssh-ed25519 AAAA…".into()));
            }
            let principals: Vec<String> = split_commas(&toks[0])
                .into_iter()
                .map(|p| p.trim_matches('"').to_string())
                .collect();
            if principals.iter().any(String::is_empty) {
                return Err(err(
                    "an empty principal; list principals separated by commas without spaces".into(),
                ));
            }
            let (opts, key_at) = if is_key_type(&toks[1]) {
                (None, 1)
            } else {
                (Some(&toks[1]), 2)
            };
            let mut namespaces = None;
            let mut valid_after = None;
            let mut valid_before = None;
            if let Some(opts) = opts {
                for opt in split_commas(opts) {
                    let (name, value) = match opt.split_once('=') {
                        Some((n, v)) => (
                            n.to_ascii_lowercase(),
                            Some(v.trim_matches('"').to_string()),
                        ),
                        None => (opt.to_ascii_lowercase(), None),
                    };
                    match (name.as_str(), value) {
                        ("namespaces", Some(v)) => namespaces = Some(v.split(',').map(str::to_string).collect()),
                        ("valid-after", Some(v)) => valid_after = Some(timestamp(&v).ok_or_else(|| err(format!("valid-after={v:?} is not YYYYMMDD[HHMM[SS]][Z]")))?),
                        ("valid-before", Some(v)) => valid_before = Some(timestamp(&v).ok_or_else(|| err(format!("valid-before={v:?} is not YYYYMMDD[HHMM[SS]][Z]")))?),
                        ("cert-authority", _) => return Err(err("cert-authority lines are not supported by Bazaar's audit; list each signing key itself".into())),
                        (other, _) => return Err(err(format!("option {other:?} is not supported; use namespaces=, valid-after= or valid-before="))),
                    }
                }
            }
            if toks.len() < key_at + 2 {
                return Err(err(
                    "the key is missing: add `key-type base64-key` (as in the .pub file)".into(),
                ));
            }
            let key_text = format!("{} {}", toks[key_at], toks[key_at + 1]);
            let key = PublicKey::from_openssh(&key_text).map_err(|e| {
                err(format!(
                    "cannot read the {} key: {e}; copy the line from the key's .pub file",
                    toks[key_at]
                ))
            })?;
            signers.push(AllowedSigner {
                principals,
                namespaces,
                valid_after,
                valid_before,
                key,
                line,
            });
        }
        Ok(AllowedSigners { signers })
    }

    /// The entry that lets `key` sign as `principal` in `namespace` at `when`, if any.
    pub fn find(
        &self,
        key: &ssh_key::public::KeyData,
        principal: &str,
        namespace: &str,
        when: DateTime<FixedOffset>,
    ) -> Option<&AllowedSigner> {
        let when = when.with_timezone(&Utc);
        self.signers.iter().find(|s| {
            s.key.key_data() == key
                && s.principals.iter().any(|p| glob(p, principal))
                && s.namespaces
                    .as_ref()
                    .is_none_or(|ns| ns.iter().any(|n| glob(n, namespace)))
                && s.valid_after.is_none_or(|a| when >= a)
                && s.valid_before.is_none_or(|b| when <= b)
        })
    }

    /// True when some entry has this key (for telling "unknown key" from "wrong principal").
    pub fn knows_key(&self, key: &ssh_key::public::KeyData) -> bool {
        self.signers.iter().any(|s| s.key.key_data() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEnj77+tswvF2r/rqz7KZsfk2qsas8mITAAtaJtLrVOt";

    #[test]
    fn parses_options_and_quotes() {
        let text = format!(
            "# comment\n\nbazaar@acme.example,\"ops@acme.example\" namespaces=\"git,file\",valid-after=\"20260101\",valid-before=\"20271231235959Z\" {KEY} bazaar\n*@acme.example {KEY}\n"
        );
        let s = AllowedSigners::parse("allowed_signers", &text).unwrap();
        assert_eq!(s.signers.len(), 2);
        assert_eq!(
            s.signers[0].principals,
            ["bazaar@acme.example", "ops@acme.example"]
        );
        assert_eq!(s.signers[0].namespaces.as_deref().unwrap(), ["git", "file"]);
        assert_eq!(s.signers[0].line, 3);
        assert!(
            s.signers[0]
                .valid_before
                .unwrap()
                .to_rfc3339()
                .starts_with("2027-12-31T23:59:59")
        );
        assert!(
            glob("*@acme.example", "erin@acme.example")
                && !glob("*@acme.example", "erin@evil.example")
        );
    }

    #[test]
    fn refuses_what_it_does_not_support_with_the_line() {
        for (text, want) in [
            (format!("a@b cert-authority {KEY}"), "cert-authority"),
            (format!("a@b restrict {KEY}"), "not supported"),
            (format!("a@b valid-after=\"tomorrow\" {KEY}"), "valid-after"),
            ("a@b ssh-ed25519 AAAAnotbase64".to_string(), "cannot read"),
            ("a@b namespaces=\"git\"".to_string(), "expected"),
            (format!("a@b namespaces=\"git {KEY}"), "quote"),
        ] {
            let e = AllowedSigners::parse("policies/allowed_signers", &format!("\n{text}\n"))
                .unwrap_err();
            assert_eq!(e.line, 2, "{text}");
            assert!(
                e.to_string().contains(want)
                    && e.to_string().starts_with("policies/allowed_signers:2:"),
                "{e}"
            );
        }
    }
}
