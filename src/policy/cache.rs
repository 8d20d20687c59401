//! Policy decisions cached by content: the key hashes the policies' fingerprint and the whole
//! input document, so a hit is exactly what evaluating again would give. Kept beside the facts
//! cache in the repository's Git folder; damaged lines are ignored.

use std::hash::{Hash, Hasher};

/// A 128-bit hash of some strings (two SipHash runs with different seeds; the cache file is
/// versioned by Bazaar's release, so the hasher's stability across Rust releases does not matter).
pub fn hash128(parts: &[&str]) -> u128 {
    let mut out = 0u128;
    for seed in [0x5bd1_e995u64, 0x9e37_79b9] {
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(seed, !seed);
        for p in parts {
            p.hash(&mut h);
        }
        out = (out << 64) | u128::from(h.finish());
    }
    out
}

/// The cache key of one evaluation.
pub fn key(fingerprint: u128, input: &serde_json::Value) -> String {
    let text = input.to_string();
    format!("{:032x}", hash128(&[&format!("{fingerprint:032x}"), &text]))
}

/// Decisions (as JSON text) by key.
pub type VerdictCache = crate::cache::DiskCache<String>;
