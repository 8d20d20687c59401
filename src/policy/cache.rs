//! Policy decisions cached by content: the key hashes the policies' fingerprint and the whole
//! input document, so a hit is exactly what evaluating again would give. Kept beside the facts
//! cache in the repository's Git folder; damaged lines are ignored.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use regorus::Value;

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

/// Decisions by key.
#[derive(Debug, Default)]
pub struct VerdictCache {
    path: Option<PathBuf>,
    map: HashMap<String, String>,
    added: Vec<String>,
}

const MAX_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl VerdictCache {
    /// Opens the cache in `dir` (created on save).
    pub fn open(dir: &Path) -> VerdictCache {
        let path = dir.join(format!("verdicts-{}.tsv", env!("CARGO_PKG_VERSION")));
        let mut map = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('\t')
                    && k.len() == 32
                    && serde_json::from_str::<serde_json::Value>(v).is_ok()
                {
                    map.insert(k.to_string(), v.to_string());
                }
            }
        }
        VerdictCache {
            path: Some(path),
            map,
            added: Vec::new(),
        }
    }

    /// The cached decisions for a key.
    pub fn get(&self, key: &str) -> Option<Value> {
        Value::from_json_str(self.map.get(key)?).ok()
    }

    /// Remembers decisions (JSON without newlines).
    pub fn insert(&mut self, key: String, json: String) {
        let json = json.replace('\n', " ");
        if self.map.insert(key.clone(), json).is_none() {
            self.added.push(key);
        }
    }

    /// Appends what was learned.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.added.is_empty() {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_CACHE_BYTES);
        let keys: Vec<&String> = if too_big {
            self.map.keys().collect()
        } else {
            self.added.iter().collect()
        };
        let mut out = String::new();
        for k in keys {
            out.push_str(k);
            out.push('\t');
            out.push_str(&self.map[k]);
            out.push('\n');
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(!too_big)
            .write(true)
            .truncate(too_big)
            .open(path)?;
        f.write_all(out.as_bytes())?;
        self.added.clear();
        Ok(())
    }
}
