//! Bazaar's on-disk caches (catalog facts by blob id, policy decisions by input hash, app changes
//! by commit id), kept in the repository's Git folder (`.git/bazaar/<name>-<version>/`).
//!
//! Several processes share them (a CLI user beside the daemon, parallel CI jobs), so a cache is
//! never rewritten in place: each save writes its new entries to a temporary file and renames it
//! into place as a new segment, which readers see whole or not at all. When segments pile up, a
//! save writes one merged segment the same way and then removes the segments it had read (a
//! reader that loses one of them mid-read only loses time). Keys name content and the folder
//! names Bazaar's version, so an entry is never stale; damaged lines are ignored, and a cache that
//! cannot be written only costs time on the next run.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Past this many segments, a save merges them into one.
const MAX_SEGMENTS: usize = 16;

/// A cache of `V` by string key.
#[derive(Debug)]
pub struct DiskCache<V> {
    dir: Option<PathBuf>,
    map: HashMap<String, V>,
    added: Vec<String>,
    /// The segments read when opening (the ones a merge may remove).
    read: Vec<PathBuf>,
}

impl<V> Default for DiskCache<V> {
    fn default() -> Self {
        DiskCache {
            dir: None,
            map: HashMap::new(),
            added: Vec::new(),
            read: Vec::new(),
        }
    }
}

/// A name no other writer (process or thread) uses at the same time.
fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl<V: Serialize + DeserializeOwned> DiskCache<V> {
    /// Opens the cache `name` in `dir` (created on the first save).
    pub fn open(dir: &Path, name: &str) -> Self {
        let dir = dir.join(format!("{name}-{}", env!("CARGO_PKG_VERSION")));
        let mut map = HashMap::new();
        let mut read = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut segments: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("seg-") && n.ends_with(".tsv"))
                })
                .collect();
            segments.sort();
            for seg in segments {
                // a segment removed by another process's merge since the listing is skipped
                let Ok(text) = std::fs::read_to_string(&seg) else {
                    continue;
                };
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('\t')
                        && let Ok(v) = serde_json::from_str(v)
                    {
                        map.insert(k.to_string(), v);
                    }
                }
                read.push(seg);
            }
        }
        DiskCache {
            dir: Some(dir),
            map,
            added: Vec::new(),
            read,
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

    /// Writes what was added since opening, as a new segment (or merges every segment read
    /// into one when there are many).
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        if self.added.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(dir)?;
        let merge = self.read.len() + 1 > MAX_SEGMENTS;
        let keys: Vec<&String> = if merge {
            self.map.keys().collect()
        } else {
            self.added.iter().collect()
        };
        let mut out = String::new();
        for k in keys {
            // a key with a tab or newline could not be read back: leave it out
            if k.contains(['\t', '\n', '\r']) {
                continue;
            }
            out.push_str(k);
            out.push('\t');
            out.push_str(&serde_json::to_string(&self.map[k]).map_err(std::io::Error::other)?);
            out.push('\n');
        }
        let name = unique();
        let tmp = dir.join(format!("tmp-{name}"));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(out.as_bytes())?;
            f.sync_data()?;
            std::fs::rename(&tmp, dir.join(format!("seg-{name}.tsv")))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
            return result;
        }
        if merge {
            for seg in self.read.drain(..) {
                let _ = std::fs::remove_file(seg);
            }
        }
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
        c.insert("tab\tkey".into(), vec![9]);
        c.save().unwrap();
        let folder = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let file = std::fs::read_dir(&folder)
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
        assert_eq!(c.get("tab\tkey"), None);
    }

    #[test]
    fn segments_merge_and_nothing_is_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..(MAX_SEGMENTS + 3) {
            let mut c: DiskCache<u32> = DiskCache::open(dir.path(), "t");
            c.insert(format!("k{i}"), i as u32);
            c.save().unwrap();
        }
        let c: DiskCache<u32> = DiskCache::open(dir.path(), "t");
        for i in 0..(MAX_SEGMENTS + 3) {
            assert_eq!(c.get(&format!("k{i}")), Some(&(i as u32)));
        }
        assert!(c.read.len() <= MAX_SEGMENTS, "{} segments", c.read.len());
        let folder = dir.path().join(format!("t-{}", env!("CARGO_PKG_VERSION")));
        assert!(
            std::fs::read_dir(folder).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("tmp-")),
            "no temporary file is left behind"
        );
    }
}
