//! SSH signatures over Git commits, as git makes them with `gpg.format=ssh`: an SSHSIG
//! (namespace `git`, SHA-512) over the commit without its `gpgsig` header, armored, stored in
//! that header. Stock `git verify-commit` with `gpg.ssh.allowedSignersFile` accepts what this
//! module signs, and [`verify`] checks the same things git does.

mod allowed;

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use ssh_key::{HashAlg, LineEnding, PrivateKey, SshSig};

pub use allowed::{AllowedSigner, AllowedSigners, AllowedSignersError, glob};

/// The namespace git signs commits in.
pub const NAMESPACE: &str = "git";

/// Why a key could not be used; never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read signing key {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Readable by others, as ssh refuses too.
    #[error(
        "signing key {path} is readable by group or others (mode {mode:o}); run `chmod 600 {path}`"
    )]
    Permissions {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Not an OpenSSH private key.
    #[error(
        "{path} is not an OpenSSH private key ({reason}); create one with `ssh-keygen -t ed25519 -N '' -f {path}`"
    )]
    Format {
        /// The file.
        path: String,
        /// The parser's words.
        reason: String,
    },
    /// Passphrase-protected.
    #[error(
        "signing key {path} is encrypted; the signer runs unattended, so give it an unencrypted key kept in its secret store"
    )]
    Encrypted {
        /// The file.
        path: String,
    },
    /// Not ed25519.
    #[error(
        "signing key {path} is {algorithm}; Bazaar signs with ed25519 keys (`ssh-keygen -t ed25519`)"
    )]
    Algorithm {
        /// The file.
        path: String,
        /// What it is.
        algorithm: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The algorithm named in an unencrypted OpenSSH private key file (its public key's type),
/// read without parsing the key: for naming keys this build cannot load.
fn key_algorithm(text: &str) -> Option<String> {
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.trim().chars())
        .collect();
    let bytes = base64_decode(&body)?;
    let rest = bytes.strip_prefix(b"openssh-key-v1\0".as_slice())?;
    // ciphername, kdfname, kdfoptions (strings), number of keys (u32), public key (string)
    let mut at = 0usize;
    let string = |at: &mut usize| -> Option<&[u8]> {
        let len = u32::from_be_bytes(rest.get(*at..*at + 4)?.try_into().ok()?) as usize;
        let s = rest.get(*at + 4..*at + 4 + len)?;
        *at += 4 + len;
        Some(s)
    };
    for _ in 0..3 {
        string(&mut at)?;
    }
    at += 4;
    let public = string(&mut at)?;
    let len = u32::from_be_bytes(public.get(..4)?.try_into().ok()?) as usize;
    let name = public.get(4..4 + len)?;
    std::str::from_utf8(name).ok().map(str::to_string)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    Some(out)
}

/// Why the base does not trust a signing key.
#[derive(Debug, thiserror::Error)]
pub enum Untrusted {
    /// The file lists keys, but not this one for this committer.
    #[error(
        "the signing key ({key}) is not trusted for {email} by policies/allowed_signers on the base, so `bazaar audit` would reject the commit; add the key for that principal in a reviewed change first, or use the key it lists"
    )]
    NotListed {
        /// The public key.
        key: String,
        /// The committer's email.
        email: String,
    },
    /// The file cannot be read.
    #[error("the base's policies/allowed_signers cannot be read: {0}")]
    Unreadable(String),
}

/// Checks that the base's `policies/allowed_signers` trusts `signer` for `email` at `when`, as
/// the audit will check the commit. A base whose file lists no key yet (genesis) trusts
/// nothing, so any key may start the history.
pub fn trusted_by(
    base: &crate::source::Snapshot,
    signer: &Signer,
    email: &str,
    when: chrono::DateTime<chrono::Utc>,
) -> Result<(), Untrusted> {
    const SIGNERS: &str = "policies/allowed_signers";
    let Ok(Ok(bytes)) = base.read(SIGNERS, 1024 * 1024) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&bytes);
    let signers =
        AllowedSigners::parse(SIGNERS, &text).map_err(|e| Untrusted::Unreadable(e.to_string()))?;
    if signers.signers.is_empty()
        || signers
            .find(signer.key_data(), email, NAMESPACE, when.fixed_offset())
            .is_some()
    {
        return Ok(());
    }
    Err(Untrusted::NotListed {
        key: signer.public_key_openssh(),
        email: email.to_string(),
    })
}

/// A private key ready to sign commits.
pub struct Signer {
    key: PrivateKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never print key material
        f.debug_struct("Signer")
            .field("public_key", &self.public_key_openssh())
            .finish()
    }
}

impl Signer {
    /// Loads an unencrypted ed25519 OpenSSH private key, refusing a file that group or others
    /// can read.
    pub fn from_file(path: &Path) -> Result<Signer, KeyError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| KeyError::Io {
            path: shown.clone(),
            source: e,
        })?;
        // a pipe or device would block or never end; only a regular file is a key
        if !meta.is_file() {
            return Err(KeyError::Io {
                path: shown,
                source: std::io::Error::other(
                    "not a regular file; pass the path of the private key file itself",
                ),
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions { path: shown, mode });
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: shown.clone(),
            source: e,
        })?;
        let key = PrivateKey::from_openssh(&text).map_err(|e| match key_algorithm(&text) {
            // a key of a type this build cannot parse (ECDSA, RSA, FIDO) is named as such
            Some(algorithm) if algorithm != "ssh-ed25519" => KeyError::Algorithm {
                path: shown.clone(),
                algorithm,
            },
            _ => KeyError::Format {
                path: shown.clone(),
                reason: e.to_string(),
            },
        })?;
        if key.is_encrypted() {
            return Err(KeyError::Encrypted { path: shown });
        }
        if key.algorithm() != ssh_key::Algorithm::Ed25519 {
            return Err(KeyError::Algorithm {
                path: shown,
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(Signer { key })
    }

    /// The public key's data, to find it in `allowed_signers`.
    pub fn key_data(&self) -> &ssh_key::public::KeyData {
        self.key.public_key().key_data()
    }

    /// The public key in OpenSSH form (`ssh-ed25519 AAAA…`), for `allowed_signers`.
    pub fn public_key_openssh(&self) -> String {
        self.key.public_key().to_openssh().unwrap_or_default()
    }

    /// Signs a commit payload; returns the armored signature for the `gpgsig` header.
    pub fn sign(&self, payload: &[u8]) -> Result<String, KeyError> {
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, payload)
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        sig.to_pem(LineEnding::LF)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `gpgsig` header.
    #[error("the commit is not signed")]
    Unsigned,
    /// The header is not an SSH signature.
    #[error("the signature is not an SSH signature: {0}")]
    Malformed(String),
    /// Signed for another purpose.
    #[error("the signature is for namespace {0:?}, not \"git\"")]
    Namespace(String),
    /// The key is not trusted at all.
    #[error("signed by a key that allowed_signers does not list ({0})")]
    UnknownKey(String),
    /// The key is listed, but not for this principal, namespace or time.
    #[error("the key is in allowed_signers but not for {principal} at {when}")]
    NotAllowed {
        /// The committer email.
        principal: String,
        /// The commit time.
        when: String,
    },
    /// The content does not match the signature.
    #[error("the signature does not match the commit: its content was changed after signing")]
    BadSignature,
}

/// A verified signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signer's key, OpenSSH form.
    pub key: String,
    /// Line of the matching `allowed_signers` entry.
    pub line: usize,
}

/// Verifies an armored SSH signature over `payload` for `principal` (the committer's email) at
/// `when` (the commit time), against `signers`.
pub fn verify(
    armored: &str,
    payload: &[u8],
    signers: &AllowedSigners,
    principal: &str,
    when: DateTime<FixedOffset>,
) -> Result<Verified, VerifyError> {
    let sig = SshSig::from_pem(armored.trim().as_bytes())
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if sig.namespace() != NAMESPACE {
        return Err(VerifyError::Namespace(sig.namespace().to_string()));
    }
    let key = ssh_key::PublicKey::from(sig.public_key().clone());
    let shown = key.to_openssh().unwrap_or_default();
    let entry = match signers.find(sig.public_key(), principal, NAMESPACE, when) {
        Some(e) => e,
        None if signers.knows_key(sig.public_key()) => {
            return Err(VerifyError::NotAllowed {
                principal: principal.to_string(),
                when: when.to_rfc3339(),
            });
        }
        None => return Err(VerifyError::UnknownKey(shown)),
    };
    key.verify(NAMESPACE, payload, &sig)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(Verified {
        key: shown,
        line: entry.line,
    })
}
