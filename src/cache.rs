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
//!
//! Content that changes every day (a policy input holds the day) would grow a cache without end,
//! and every run reads it whole: a merge keeps what the merging run used or added, and of the
//! rest only the newest, up to as many again (at least [`MIN_KEPT`]).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Past this many segments, a save merges them into one.
const MAX_SEGMENTS: usize = 16;

/// Entries a merge keeps at least when the run used fewer.
pub const MIN_KEPT: usize = 20_000;

/// One entry: its value, the segment it was read from (in reading order; added ones last) and
/// whether this run used it.
#[derive(Debug)]
struct Entry<V> {
    value: V,
    segment: u32,
    used: AtomicBool,
}

/// A cache of `V` by string key.
#[derive(Debug)]
pub struct DiskCache<V> {
    dir: Option<PathBuf>,
    map: HashMap<String, Entry<V>>,
    added: Vec<String>,
    /// The segments read when opening (the ones a merge may remove).
    read: Vec<PathBuf>,
    /// Entries a merge keeps at least ([`MIN_KEPT`]).
    min_kept: usize,
}

impl<V> Default for DiskCache<V> {
    fn default() -> Self {
        DiskCache {
            dir: None,
            map: HashMap::new(),
            added: Vec::new(),
            read: Vec::new(),
            min_kept: MIN_KEPT,
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
            segments.sort_by_key(|p| {
                let modified = std::fs::metadata(p).and_then(|m| m.modified()).ok();
                (modified, p.clone())
            });
            for (i, seg) in segments.into_iter().enumerate() {
                // a segment removed by another process's merge since the listing is skipped
                let Ok(text) = std::fs::read_to_string(&seg) else {
                    continue;
                };
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once('\t')
                        && let Ok(value) = serde_json::from_str(v)
                    {
                        let segment = i as u32;
                        let used = AtomicBool::new(false);
                        map.insert(
                            k.to_string(),
                            Entry {
                                value,
                                segment,
                                used,
                            },
                        );
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
            min_kept: MIN_KEPT,
        }
    }

    /// The value of a key (which the next merge then keeps).
    pub fn get(&self, key: &str) -> Option<&V> {
        let e = self.map.get(key)?;
        e.used.store(true, Ordering::Relaxed);
        Some(&e.value)
    }

    /// Remembers a value.
    pub fn insert(&mut self, key: String, value: V) {
        let entry = Entry {
            value,
            segment: u32::MAX,
            used: AtomicBool::new(true),
        };
        if self.map.insert(key.clone(), entry).is_none() {
            self.added.push(key);
        }
    }

    /// The keys a merge writes: every entry this run used or added, and of the others the
    /// newest, up to as many again (at least `min_kept` in all).
    fn kept(&self) -> Vec<&String> {
        let (mut kept, mut rest): (Vec<_>, Vec<_>) = self
            .map
            .iter()
            .partition(|(_, e)| e.used.load(Ordering::Relaxed));
        let room = kept.len().max(self.min_kept.saturating_sub(kept.len()));
        rest.sort_by_key(|(_, e)| std::cmp::Reverse(e.segment));
        kept.extend(rest.into_iter().take(room));
        kept.into_iter().map(|(k, _)| k).collect()
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
            self.kept()
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
            out.push_str(
                &serde_json::to_string(&self.map[k].value).map_err(std::io::Error::other)?,
            );
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

    #[test]
    fn a_merge_keeps_what_the_run_used_and_the_newest_of_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        // a day's worth of entries per segment, oldest first (mtimes apart)
        for day in 0..MAX_SEGMENTS {
            let mut c: DiskCache<u32> = DiskCache::open(dir.path(), "t");
            for i in 0..10 {
                c.insert(format!("d{day}-{i}"), i);
            }
            c.save().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(15));
        }
        let mut c: DiskCache<u32> = DiskCache::open(dir.path(), "t");
        c.min_kept = 30;
        // this run uses five of the oldest day's entries and adds one: the merge happens now
        for i in 0..5 {
            assert_eq!(c.get(&format!("d0-{i}")), Some(&i));
        }
        c.insert("today".into(), 7);
        c.save().unwrap();
        let c: DiskCache<u32> = DiskCache::open(dir.path(), "t");
        assert_eq!(c.read.len(), 1, "merged into one segment");
        assert_eq!(
            c.map.len(),
            30,
            "6 used or added, then the newest 24 of the rest"
        );
        assert_eq!(c.get("today"), Some(&7));
        for i in 0..5 {
            assert!(c.get(&format!("d0-{i}")).is_some(), "used entries are kept");
        }
        let last = MAX_SEGMENTS - 1;
        assert!(
            c.get(&format!("d{last}-9")).is_some(),
            "the newest are kept"
        );
        assert!(c.get("d1-0").is_none(), "old unused entries are dropped");
        assert!(c.get("d0-9").is_none(), "unused entries of an old day too");
    }
}
