//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the webhook secret, compared in
//! constant time, against every configured secret (so a secret can be rotated).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::forge::Secret;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No header.
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    /// Not `sha256=` and 64 hex digits.
    #[error("X-Hub-Signature-256 is not sha256=<64 hex digits>")]
    Malformed,
    /// No secret produces it.
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Verifies a delivery's signature header against the raw body.
pub fn verify(
    secrets: &[Secret],
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header
        .strip_prefix(b"sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let mut sig = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        sig[i] = hex_value(pair[0]).ok_or(SignatureError::Malformed)? << 4
            | hex_value(pair[1]).ok_or(SignatureError::Malformed)?;
    }
    let mut ok = false;
    // Every secret is tried, so the time taken does not tell which one matched.
    for secret in secrets {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(body);
        ok |= mac.verify_slice(&sig).is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header value for `body` signed with `secret` (tests and the benchmark sign with it).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let mut out = String::with_capacity(71);
    out.push_str("sha256=");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's published example ("Validating webhook deliveries").
    #[test]
    fn githubs_test_vector_verifies() {
        let secret = [Secret::new("It's a Secret to Everybody")];
        let header = b"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(verify(&secret, Some(header), b"Hello, World!"), Ok(()));
        assert_eq!(
            sign("It's a Secret to Everybody", b"Hello, World!").as_bytes(),
            header
        );
        assert_eq!(
            verify(&secret, Some(header), b"Hello, World?"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_missing_malformed_and_wrong_and_accepts_any_configured_secret() {
        let body = b"{}";
        let secrets = [Secret::new("old"), Secret::new("new")];
        assert_eq!(verify(&secrets, None, body), Err(SignatureError::Missing));
        assert_eq!(
            verify(&secrets, Some(b"sha1=abc"), body),
            Err(SignatureError::Malformed)
        );
        let mut bad = sign("new", body).into_bytes();
        bad[10] = b'z';
        assert_eq!(
            verify(&secrets, Some(&bad), body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(&secrets, Some(sign("other", body).as_bytes()), body),
            Err(SignatureError::Mismatch)
        );
        assert!(verify(&secrets, Some(sign("old", body).as_bytes()), body).is_ok());
        assert!(verify(&secrets, Some(sign("new", body).as_bytes()), body).is_ok());
    }
}
