//! Bazaar's on-disk caches (catalog facts by blob id, policy decisions by input hash): one
//! append-only file of `key<TAB>json` lines per cache in the repository's Git folder
//! (`.git/bazaar/`). Keys name content, so an entry is never stale; file names carry Bazaar's
//! version because its rules may change between releases. Damaged lines are ignored, and a cache
//! that cannot be written only costs time on the next run.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Past this size the file is rewritten from what is in memory instead of appended to.
const MAX_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// A cache of `V` by string key.
#[derive(Debug)]
pub struct DiskCache<V> {
    path: Option<PathBuf>,
    map: HashMap<String, V>,
    added: Vec<String>,
}

impl<V> Default for DiskCache<V> {
    fn default() -> Self {
        DiskCache {
            path: None,
            map: HashMap::new(),
            added: Vec::new(),
        }
    }
}

impl<V: Serialize + DeserializeOwned> DiskCache<V> {
    /// Opens the cache `name` in `dir` (the file is created on save).
    pub fn open(dir: &Path, name: &str) -> Self {
        let path = dir.join(format!("{name}-{}.tsv", env!("CARGO_PKG_VERSION")));
        let mut map = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                if let Some((k, v)) = line.split_once('\t')
                    && let Ok(v) = serde_json::from_str(v)
                {
                    map.insert(k.to_string(), v);
                }
            }
        }
        DiskCache {
            path: Some(path),
            map,
            added: Vec::new(),
        }
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    /// Remembers a value.
    pub fn insert(&mut self, key: String, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.added.push(key);
        }
    }

    /// Writes what was added since opening.
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
        let rewrite = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_CACHE_BYTES);
        let keys: Vec<&String> = if rewrite {
            self.map.keys().collect()
        } else {
            self.added.iter().collect()
        };
        let mut out = String::new();
        for k in keys {
            out.push_str(k);
            out.push('\t');
            out.push_str(&serde_json::to_string(&self.map[k]).map_err(std::io::Error::other)?);
            out.push('\n');
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(!rewrite)
            .write(true)
            .truncate(rewrite)
            .open(path)?;
        f.write_all(out.as_bytes())?;
        self.added.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_damage_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut c: DiskCache<Vec<u32>> = DiskCache::open(dir.path(), "t");
        c.insert("a".into(), vec![1, 2]);
        c.insert("b\u{1}".into(), vec![]);
        c.save().unwrap();
        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, format!("garbage\nx\t{{not json\n{text}c\t[3")).unwrap();
        let c: DiskCache<Vec<u32>> = DiskCache::open(dir.path(), "t");
        assert_eq!(c.get("a"), Some(&vec![1, 2]));
        assert_eq!(c.get("x"), None);
        assert_eq!(c.get("c"), None);
    }
}
