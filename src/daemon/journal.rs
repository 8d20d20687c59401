//! The delivery journal: every accepted delivery is appended to a file and fsync'd before it is
//! answered, and marked done when its work ends. On start, deliveries without a done mark are
//! worked again and every journaled id counts as seen (duplicates are dropped).
//!
//! Each record is a JSON line, followed for an accepted delivery by its raw body. Appends from all requests go through one writer thread that writes
//! whatever has queued up and fsyncs once for the lot (group commit), so the cost of an fsync is
//! shared by the deliveries that arrived meanwhile.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

/// Past this many records the journal is compacted on start.
#[cfg(not(test))]
const COMPACT_ABOVE: usize = 50_000;
#[cfg(test)]
const COMPACT_ABOVE: usize = 100;
/// Done deliveries kept by a compaction (for `replay` and duplicate detection).
#[cfg(not(test))]
const KEEP_DONE: usize = 10_000;
#[cfg(test)]
const KEEP_DONE: usize = 20;

/// One accepted delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Delivery`.
    pub id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// The raw (verified) body.
    pub body: Arc<str>,
}

enum Record {
    Accepted {
        id: String,
        event: String,
        at: i64,
        body: String,
    },
    Done {
        id: String,
        outcome: String,
    },
}

enum Op {
    Write(
        Vec<u8>,
        Option<tokio::sync::oneshot::Sender<io::Result<()>>>,
    ),
}

/// What the journal held on start.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Accepted and not done, in the order they were accepted.
    pub pending: Vec<Delivery>,
    /// Every delivery id in the journal.
    pub seen: HashSet<String>,
}

/// The journal's writer.
#[derive(Debug, Clone)]
pub struct Journal {
    tx: mpsc::Sender<Op>,
}

fn path_in(dir: &Path) -> PathBuf {
    dir.join("journal.jsonl")
}

/// A record's first line. An accepted delivery's raw body follows it (`len` bytes and a
/// newline), so bodies are written as received, without escaping.
#[derive(Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Header {
    Accepted {
        id: String,
        event: String,
        at: i64,
        len: usize,
    },
    Done {
        id: String,
        outcome: String,
    },
}

/// Reads the records; a torn last record (a crash mid-write) ends the list, and its offset is
/// returned so it can be cut off.
fn read_records(path: &Path) -> io::Result<(Vec<Record>, Option<u64>)> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), None)),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let Some(nl) = bytes[pos..].iter().position(|b| *b == b'\n') else {
            return Ok((out, Some(pos as u64)));
        };
        let header = match serde_json::from_slice::<Header>(&bytes[pos..pos + nl]) {
            Ok(h) => h,
            Err(_) => return Ok((out, Some(pos as u64))),
        };
        let next = pos + nl + 1;
        match header {
            Header::Done { id, outcome } => {
                out.push(Record::Done { id, outcome });
                pos = next;
            }
            Header::Accepted { id, event, at, len } => {
                let end = next + len;
                let body = bytes
                    .get(next..end)
                    .filter(|_| bytes.get(end) == Some(&b'\n'))
                    .and_then(|b| std::str::from_utf8(b).ok());
                let Some(body) = body else {
                    return Ok((out, Some(pos as u64)));
                };
                out.push(Record::Accepted {
                    id,
                    event,
                    at,
                    body: body.to_string(),
                });
                pos = end + 1;
            }
        }
    }
    Ok((out, None))
}

fn line(r: &Record) -> Vec<u8> {
    let (header, body) = match r {
        Record::Accepted {
            id,
            event,
            at,
            body,
        } => (
            Header::Accepted {
                id: id.clone(),
                event: event.clone(),
                at: *at,
                len: body.len(),
            },
            Some(body),
        ),
        Record::Done { id, outcome } => (
            Header::Done {
                id: id.clone(),
                outcome: outcome.clone(),
            },
            None,
        ),
    };
    let mut v = serde_json::to_vec(&header).expect("records serialize");
    v.push(b'\n');
    if let Some(b) = body {
        v.extend_from_slice(b.as_bytes());
        v.push(b'\n');
    }
    v
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, compacting it when it grew large.
    pub fn open(dir: &Path) -> io::Result<(Journal, Recovered)> {
        std::fs::create_dir_all(dir)?;
        let path = path_in(dir);
        let (records, torn) = read_records(&path)?;
        if let Some(at) = torn {
            OpenOptions::new().write(true).open(&path)?.set_len(at)?;
        }
        let mut done: HashSet<&str> = HashSet::new();
        for r in &records {
            if let Record::Done { id, .. } = r {
                done.insert(id);
            }
        }
        let mut recovered = Recovered::default();
        let mut pending_ids = HashSet::new();
        for r in &records {
            if let Record::Accepted {
                id, event, body, ..
            } = r
            {
                recovered.seen.insert(id.clone());
                if !done.contains(id.as_str()) && pending_ids.insert(id.clone()) {
                    recovered.pending.push(Delivery {
                        id: id.clone(),
                        event: event.clone(),
                        body: Arc::from(body.as_str()),
                    });
                }
            }
        }
        if records.len() > COMPACT_ABOVE {
            compact(dir, &records, &done)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        sync_dir(dir)?;
        let (tx, rx) = mpsc::channel::<Op>();
        std::thread::Builder::new()
            .name("bazaar-journal".into())
            .spawn(move || writer(file, rx))?;
        Ok((Journal { tx }, recovered))
    }

    /// Appends an accepted delivery and returns once it is on disk.
    pub async fn accept(&self, d: &Delivery) -> io::Result<()> {
        let rec = Record::Accepted {
            id: d.id.clone(),
            event: d.event.clone(),
            at: chrono::Utc::now().timestamp_millis(),
            body: d.body.to_string(),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Op::Write(line(&rec), Some(tx)))
            .map_err(|_| io::Error::other("the journal's writer stopped"))?;
        rx.await
            .map_err(|_| io::Error::other("the journal's writer stopped"))?
    }

    /// Marks a delivery done (written with the next batch).
    pub fn done(&self, id: &str, outcome: &str) {
        let rec = Record::Done {
            id: id.to_string(),
            outcome: outcome.to_string(),
        };
        let _ = self.tx.send(Op::Write(line(&rec), None));
    }

    /// Waits until everything sent so far is on disk.
    pub async fn flush(&self) -> io::Result<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Op::Write(Vec::new(), Some(tx)))
            .map_err(|_| io::Error::other("the journal's writer stopped"))?;
        rx.await
            .map_err(|_| io::Error::other("the journal's writer stopped"))?
    }

    /// Finds a journaled delivery by id (for `bazaar daemon replay`).
    pub fn find(dir: &Path, id: &str) -> io::Result<Option<Delivery>> {
        let (records, _) = read_records(&path_in(dir))?;
        Ok(records.into_iter().rev().find_map(|r| match r {
            Record::Accepted {
                id: rid,
                event,
                body,
                ..
            } if rid == id => Some(Delivery {
                id: rid,
                event,
                body: Arc::from(body.as_str()),
            }),
            _ => None,
        }))
    }
}

fn writer(mut file: File, rx: mpsc::Receiver<Op>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let mut buf = Vec::new();
        let mut waiting = Vec::new();
        for Op::Write(bytes, ack) in batch {
            buf.extend_from_slice(&bytes);
            waiting.extend(ack);
        }
        let result = file.write_all(&buf).and_then(|()| file.sync_data());
        for ack in waiting {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            });
        }
    }
}

/// Rewrites the journal with the pending deliveries and the newest done ones.
fn compact(dir: &Path, records: &[Record], done: &HashSet<&str>) -> io::Result<()> {
    let mut accepted_done: Vec<&str> = records
        .iter()
        .filter_map(|r| match r {
            Record::Accepted { id, .. } if done.contains(id.as_str()) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let keep_from = accepted_done.len().saturating_sub(KEEP_DONE);
    let kept: HashSet<&str> = accepted_done.drain(keep_from..).collect();
    let mut outcomes: HashMap<&str, &Record> = HashMap::new();
    for r in records {
        if let Record::Done { id, .. } = r {
            outcomes.insert(id, r);
        }
    }
    let tmp = dir.join("journal.jsonl.tmp");
    let mut f = File::create(&tmp)?;
    for r in records {
        if let Record::Accepted { id, .. } = r {
            let is_done = done.contains(id.as_str());
            if !is_done || kept.contains(id.as_str()) {
                f.write_all(&line(r))?;
                if let Some(d) = outcomes.get(id.as_str()).filter(|_| is_done) {
                    f.write_all(&line(d))?;
                }
            }
        }
    }
    f.sync_all()?;
    std::fs::rename(&tmp, path_in(dir))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str) -> Delivery {
        Delivery {
            id: id.into(),
            event: "pull_request".into(),
            body: Arc::from("{\"a\":\"line\\nbreak\"}"),
        }
    }

    #[tokio::test]
    async fn undone_deliveries_come_back_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (j, r) = Journal::open(dir.path()).unwrap();
            assert!(r.pending.is_empty());
            j.accept(&d("1")).await.unwrap();
            j.accept(&d("2")).await.unwrap();
            j.done("1", "ok");
            j.flush().await.unwrap();
        }
        // A crash in the middle of a write.
        let mut f = OpenOptions::new()
            .append(true)
            .open(path_in(dir.path()))
            .unwrap();
        f.write_all(
            b"{\"t\":\"accepted\",\"id\":\"3\",\"event\":\"x\",\"at\":1,\"len\":50}\n{\"a\"",
        )
        .unwrap();
        drop(f);
        let (j, r) = Journal::open(dir.path()).unwrap();
        assert_eq!(r.pending, vec![d("2")]);
        assert_eq!(r.seen, HashSet::from(["1".to_string(), "2".to_string()]));
        j.accept(&d("4")).await.unwrap();
        let (_, r) = Journal::open(dir.path()).unwrap();
        assert_eq!(r.pending, vec![d("2"), d("4")]);
        assert_eq!(Journal::find(dir.path(), "1").unwrap(), Some(d("1")));
        assert_eq!(Journal::find(dir.path(), "9").unwrap(), None);
    }

    #[tokio::test]
    async fn compaction_keeps_pending_and_recent() {
        let dir = tempfile::tempdir().unwrap();
        let (j, _) = Journal::open(dir.path()).unwrap();
        for i in 0..(COMPACT_ABOVE / 2 + 10) {
            j.accept(&d(&i.to_string())).await.unwrap();
            if i != 5 {
                j.done(&i.to_string(), "ok");
            }
        }
        j.flush().await.unwrap();
        drop(j);
        let (_, r) = Journal::open(dir.path()).unwrap();
        assert_eq!(r.pending, vec![d("5")]);
        let (_, r) = Journal::open(dir.path()).unwrap();
        assert_eq!(r.pending, vec![d("5")]);
        assert_eq!(r.seen.len(), KEEP_DONE + 1);
    }
}
