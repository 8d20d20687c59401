//! Credentials: a secret type that never prints, a personal/installation token, or a GitHub App's
//! key that signs the short-lived JWTs exchanged for installation tokens.

use std::time::{SystemTime, UNIX_EPOCH};

/// A secret value (token, webhook secret, private key). `Debug` and `Display` print
/// `[redacted]`, so it can sit in any value that is logged or shown in an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A GitHub App's id and private key (PEM, RSA).
#[derive(Debug, Clone)]
pub struct AppCredentials {
    /// The App's id.
    pub app_id: u64,
    /// Its private key, PEM.
    pub key_pem: Secret,
}

#[derive(serde::Serialize)]
struct Claims {
    iat: u64,
    exp: u64,
    iss: String,
}

impl AppCredentials {
    /// Checks that the key is an RSA private key jsonwebtoken can sign with.
    pub fn validate(&self) -> Result<(), String> {
        jsonwebtoken::EncodingKey::from_rsa_pem(self.key_pem.expose().as_bytes())
            .map(|_| ())
            .map_err(|e| format!("not an RSA private key in PEM: {e}"))
    }

    /// An RS256 JWT for the App: issued 60 s in the past (clock drift), valid 9 minutes (GitHub
    /// takes at most 10).
    pub fn jwt(&self, now: SystemTime) -> Result<String, String> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.key_pem.expose().as_bytes())
            .map_err(|e| format!("the App's private key is not an RSA key in PEM: {e}"))?;
        let claims = Claims {
            iat: now - 60,
            exp: now + 9 * 60,
            iss: self.app_id.to_string(),
        };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &key,
        )
        .map_err(|e| format!("signing the App's JWT failed: {e}"))
    }
}

/// How Bazaar authenticates with the forge.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A token (personal access token or a fixed installation token).
    Token(Secret),
    /// A GitHub App: installation tokens are made from JWTs and refreshed before they expire.
    App(AppCredentials),
}
