//! The similarity index: each app as two sparse, unit-length TF-IDF vectors, one of its words
//! and one of its structure (tags, API hosts, API host and path, OAuth scopes), with inverted
//! lists so that an app is compared only with the apps that share something with it.
//!
//! Words are weighted `(1 + ln tf) · ln(1 + N / df)`, so a word every app uses counts for
//! little and a word two apps share counts for a lot; structure features the same way, times a
//! weight per kind (the same API path says more than the same tag). The two cosines are joined
//! as independent evidence, `1 − (1 − text)(1 − structure²)`: either one alone can make two
//! apps alike, and both together more so.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use super::prepared::Prepared;

/// One app as the finder sees it (cached by manifest and README blob ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    /// App id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Folder.
    pub dir: String,
    /// True for retired apps: they are never offered for reuse.
    #[serde(default)]
    pub retired: bool,
    /// Stems with their first spelling (empty when the same as the stem) and weighted count.
    pub terms: Vec<(String, String, u32)>,
    /// Tags.
    pub tags: Vec<String>,
    /// API hosts.
    pub hosts: Vec<String>,
    /// API host and path, `host/path`.
    pub apis: Vec<String>,
    /// OAuth scopes.
    pub scopes: Vec<String>,
    /// Ids the manifest says it differs from, with why.
    #[serde(default)]
    pub distinct_from: Vec<(String, String)>,
}

/// Weights of structure features by kind.
const TAG: f32 = 1.0;
const SCOPE: f32 = 1.0;
const HOST: f32 = 2.0;
const API: f32 = 3.0;

/// Query terms used to find candidates (the heaviest of the app's words); the best candidates
/// are then scored on every word.
const QUERY_TERMS: usize = 24;
/// Candidates scored in full per app.
const RESCORED: usize = 24;

type Sparse = Vec<(u32, f32)>;

/// Apps with their vectors and inverted lists.
pub struct Index {
    /// The apps.
    pub docs: Vec<Doc>,
    text: Vec<Sparse>,
    feat: Vec<Sparse>,
    text_post: Vec<Vec<(u32, f32)>>,
    feat_post: Vec<Vec<(u32, f32)>>,
    /// Term id → stem.
    stems: Vec<String>,
    /// Term id → first spelling, empty when the same as the stem.
    spelling: Vec<String>,
    /// Lists longer than this are not used to find candidates (words nearly every app has).
    cap: usize,
}

/// A pair's scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The other app (index into `docs`).
    pub doc: usize,
    /// Joined score.
    pub score: f64,
    /// Cosine of the words.
    pub text: f64,
    /// Cosine of the structure.
    pub structure: f64,
}

pub(super) fn features(d: &Doc) -> Vec<(String, f32)> {
    let mut out = Vec::new();
    out.extend(d.tags.iter().map(|t| (format!("t:{t}"), TAG)));
    out.extend(d.scopes.iter().map(|s| (format!("s:{s}"), SCOPE)));
    out.extend(d.hosts.iter().map(|h| (format!("h:{h}"), HOST)));
    out.extend(d.apis.iter().map(|a| (format!("a:{a}"), API)));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn idf(n: usize, df: u32) -> f32 {
    (1.0 + n as f32 / df.max(1) as f32).ln()
}

fn normalize(mut v: Sparse) -> Sparse {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut v {
            *w /= norm;
        }
    }
    v.sort_unstable_by_key(|(t, _)| *t);
    v
}

/// Dot product of two sorted sparse vectors.
fn dot(a: &Sparse, b: &Sparse) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s.min(1.0)
}

/// Joins the two cosines as independent evidence. Structure counts squared: sharing one
/// common API or two tags is what unrelated apps of one company do, while the same API paths,
/// scopes and tags together are rare.
pub fn join(text: f64, structure: f64) -> f64 {
    1.0 - (1.0 - text) * (1.0 - structure * structure)
}

/// Ids for strings in a fixed order, so that results do not depend on hashing.
pub(super) fn ids<'a>(df: &HashMap<&'a str, u32>) -> (Vec<&'a str>, HashMap<&'a str, u32>) {
    let mut keys: Vec<&'a str> = df.keys().copied().collect();
    keys.par_sort_unstable();
    let map = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u32))
        .collect();
    (keys, map)
}

/// Ids for strings, counting in how many documents each appears.
pub(super) fn vocabulary<'a>(
    lists: impl ParallelIterator<Item = Vec<&'a str>>,
) -> HashMap<&'a str, u32> {
    lists
        .fold(HashMap::new, |mut m: HashMap<&str, u32>, keys| {
            for k in keys {
                *m.entry(k).or_default() += 1;
            }
            m
        })
        .reduce(HashMap::new, |mut a, b| {
            if a.len() < b.len() {
                return merge(b, a);
            }
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        })
}

fn merge<'a>(mut a: HashMap<&'a str, u32>, b: HashMap<&'a str, u32>) -> HashMap<&'a str, u32> {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
    a
}

impl Index {
    /// Builds the index of a catalog's apps.
    pub fn build(docs: Vec<Doc>) -> Index {
        Index::from_prepared(Prepared::new(docs))
    }

    /// Builds the index from apps already turned into ids: only weights and lists are left.
    pub fn from_prepared(p: Prepared) -> Index {
        let n = p.docs.len();
        let df = |lists: &[Vec<(u32, f32)>], terms: usize| {
            let mut df = vec![0u32; terms];
            for l in lists {
                for (t, _) in l {
                    df[*t as usize] += 1;
                }
            }
            df
        };
        // weights, then lists by term (each sized by its document frequency)
        let side = |lists: &[Vec<(u32, f32)>], terms: usize| -> (Vec<Sparse>, Vec<Sparse>) {
            let df = df(lists, terms);
            let idf: Vec<f32> = df.iter().map(|d| idf(n, *d)).collect();
            let vecs: Vec<Sparse> = lists
                .par_iter()
                .map(|l| normalize(l.iter().map(|(t, w)| (*t, w * idf[*t as usize])).collect()))
                .collect();
            let mut post: Vec<Sparse> =
                df.iter().map(|d| Vec::with_capacity(*d as usize)).collect();
            for (d, v) in vecs.iter().enumerate() {
                for (t, w) in v {
                    post[*t as usize].push((d as u32, *w));
                }
            }
            (vecs, post)
        };
        let ((text, text_post), (feat, feat_post)) = rayon::join(
            || side(&p.text, p.text_keys.len()),
            || side(&p.feat, p.feat_keys.len()),
        );
        Index {
            docs: p.docs,
            text,
            feat,
            text_post,
            feat_post,
            stems: p.text_keys,
            spelling: p.spelling.into_iter().map(|(s, _)| s).collect(),
            cap: (n / 50).max(200),
        }
    }

    /// The apps most like app `q` with a joined score of at least `min`, best first, at most
    /// `max` of them. Retired apps are left out.
    pub fn query(&self, q: usize, min: f64, max: usize) -> Vec<Scored> {
        let mut acc: HashMap<u32, (f32, f32)> = HashMap::new();
        let mut terms: Vec<&(u32, f32)> = self.text[q].iter().collect();
        terms.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
        for (t, w) in terms.into_iter().take(QUERY_TERMS) {
            let list = &self.text_post[*t as usize];
            if list.len() > self.cap {
                continue;
            }
            for (d, w2) in list {
                acc.entry(*d).or_default().0 += w * w2;
            }
        }
        for (f, w) in &self.feat[q] {
            let list = &self.feat_post[*f as usize];
            if list.len() > self.cap {
                continue;
            }
            for (d, w2) in list {
                acc.entry(*d).or_default().1 += w * w2;
            }
        }
        let mut rough: Vec<(u32, f64)> = acc
            .into_iter()
            .filter(|(d, _)| *d as usize != q && !self.docs[*d as usize].retired)
            .map(|(d, (t, s))| (d, join(t as f64, s as f64)))
            .collect();
        if rough.len() > RESCORED {
            // ties by position, so the candidates do not depend on hashing
            rough.select_nth_unstable_by(RESCORED, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            rough.truncate(RESCORED);
        }
        let mut out: Vec<Scored> = rough
            .into_iter()
            .map(|(d, _)| self.score(q, d as usize))
            .filter(|s| s.score >= min)
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.docs[a.doc].id.cmp(&self.docs[b.doc].id))
        });
        out.truncate(max);
        out
    }

    /// The full scores of a pair.
    pub fn score(&self, a: usize, b: usize) -> Scored {
        let text = round(dot(&self.text[a], &self.text[b]) as f64);
        let structure = round(dot(&self.feat[a], &self.feat[b]) as f64);
        Scored {
            doc: b,
            score: round(join(text, structure)),
            text,
            structure,
        }
    }

    /// The words that make a pair alike, heaviest first.
    pub fn shared_words(&self, a: usize, b: usize, max: usize) -> Vec<&str> {
        let weights: HashMap<u32, f32> = self.text[b].iter().copied().collect();
        let mut shared: Vec<(u32, f32)> = self.text[a]
            .iter()
            .filter_map(|(t, w)| weights.get(t).map(|w2| (*t, w * w2)))
            .collect();
        shared.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        shared
            .into_iter()
            .take(max)
            .map(|(t, _)| match self.spelling[t as usize].as_str() {
                "" => self.stems[t as usize].as_str(),
                s => s,
            })
            .collect()
    }

    /// The position of an app by id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.docs.iter().position(|d| d.id == id)
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
