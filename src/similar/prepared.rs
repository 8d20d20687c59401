//! Apps turned into ids, the part of building an index that reads strings: the vocabulary of
//! words and of structure features (each sorted, so ids follow the words' order), each app's
//! words and features as ids with their weights before IDF, and the first spelling of each word.
//!
//! Kept on disk in a compact binary form, it lets `check --base` build the index of a large
//! catalog plus an added app without reading or hashing every app's words again: the added app
//! is inserted where it sorts, the ids are renumbered, and weighting the lists is left. An index
//! built that way is the one [`Prepared::new`] over all the apps gives (a test holds it to that).

use std::collections::BTreeSet;

use rayon::prelude::*;

use super::index::{Doc, features, ids, vocabulary};

/// Each list holds (id, weight before IDF), sorted by id.
type Lists = Vec<Vec<(u32, f32)>>;

/// The catalog's apps as ids (apps sorted as given; their `terms` are moved into `text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// The apps, without their words.
    pub docs: Vec<Doc>,
    pub(super) text: Lists,
    pub(super) feat: Lists,
    pub(super) text_keys: Vec<String>,
    pub(super) feat_keys: Vec<String>,
    /// Per word: its first spelling (in the apps' order; empty when the same as the word) and
    /// the app it came from.
    pub(super) spelling: Vec<(String, u32)>,
}

fn tf_weight(tf: u32) -> f32 {
    1.0 + (tf as f32).ln()
}

impl Prepared {
    /// Turns apps into ids.
    pub fn new(mut docs: Vec<Doc>) -> Prepared {
        let feats: Vec<Vec<(String, f32)>> = docs.par_iter().map(features).collect();
        let text_df = vocabulary(
            docs.par_iter()
                .map(|d| d.terms.iter().map(|t| t.0.as_str()).collect()),
        );
        let feat_df = vocabulary(
            feats
                .par_iter()
                .map(|f| f.iter().map(|(k, _)| k.as_str()).collect()),
        );
        let (text_keys, text_ids) = ids(&text_df);
        let (feat_keys, feat_ids) = ids(&feat_df);
        let text: Lists = docs
            .par_iter()
            .map(|d| {
                d.terms
                    .iter()
                    .map(|(s, _, tf)| (text_ids[s.as_str()], tf_weight(*tf)))
                    .collect()
            })
            .collect();
        let feat: Lists = feats
            .par_iter()
            .map(|f| f.iter().map(|(k, w)| (feat_ids[k.as_str()], *w)).collect())
            .collect();
        let mut spelling = vec![(String::new(), u32::MAX); text_keys.len()];
        for (i, d) in docs.iter().enumerate() {
            for (stem, spelled, _) in &d.terms {
                let slot = &mut spelling[text_ids[stem.as_str()] as usize];
                if slot.1 == u32::MAX {
                    *slot = (first_spelling(stem, spelled), i as u32);
                }
            }
        }
        let text_keys = text_keys.into_iter().map(str::to_string).collect();
        let feat_keys = feat_keys.into_iter().map(str::to_string).collect();
        for d in &mut docs {
            d.terms = Vec::new();
        }
        Prepared {
            docs,
            text,
            feat,
            text_keys,
            feat_keys,
            spelling,
        }
    }

    /// Adds apps, each where its folder sorts (the apps must be sorted by folder).
    pub fn insert(&mut self, new: Vec<Doc>) {
        if new.is_empty() {
            return;
        }
        let feats: Vec<Vec<(String, f32)>> = new.iter().map(features).collect();
        // new words and features join the vocabularies in order; old ids are renumbered
        let text_new: BTreeSet<&str> = new
            .iter()
            .flat_map(|d| d.terms.iter().map(|t| t.0.as_str()))
            .collect();
        let feat_new: BTreeSet<&str> = feats
            .iter()
            .flat_map(|f| f.iter().map(|(k, _)| k.as_str()))
            .collect();
        let text_map = merge_keys(&mut self.text_keys, &text_new);
        let feat_map = merge_keys(&mut self.feat_keys, &feat_new);
        let renumber = |lists: &mut Lists, map: &Option<Vec<u32>>| {
            if let Some(map) = map {
                lists.par_iter_mut().for_each(|l| {
                    for (t, _) in l.iter_mut() {
                        *t = map[*t as usize];
                    }
                });
            }
        };
        renumber(&mut self.text, &text_map);
        renumber(&mut self.feat, &feat_map);
        if let Some(map) = &text_map {
            let mut spelling = vec![(String::new(), u32::MAX); self.text_keys.len()];
            for (old, s) in std::mem::take(&mut self.spelling).into_iter().enumerate() {
                spelling[map[old] as usize] = s;
            }
            self.spelling = spelling;
        }
        let text_id = |k: &str| self.text_keys.binary_search_by(|x| x.as_str().cmp(k));
        let feat_id = |k: &str| self.feat_keys.binary_search_by(|x| x.as_str().cmp(k));
        let mut placed = Vec::with_capacity(new.len());
        for (mut d, f) in new.into_iter().zip(feats) {
            let text: Vec<(u32, f32)> = d
                .terms
                .iter()
                .filter_map(|(s, _, tf)| Some((text_id(s).ok()? as u32, tf_weight(*tf))))
                .collect();
            let feat: Vec<(u32, f32)> = f
                .iter()
                .filter_map(|(k, w)| Some((feat_id(k).ok()? as u32, *w)))
                .collect();
            let terms = std::mem::take(&mut d.terms);
            placed.push((d, text, feat, terms));
        }
        for (d, text, feat, terms) in placed {
            let at = self.docs.partition_point(|x| x.dir < d.dir);
            for s in &mut self.spelling {
                if s.1 != u32::MAX && s.1 >= at as u32 {
                    s.1 += 1;
                }
            }
            for ((stem, spelled, _), (id, _)) in terms.iter().zip(&text) {
                let slot = &mut self.spelling[*id as usize];
                if slot.1 == u32::MAX || slot.1 > at as u32 {
                    *slot = (first_spelling(stem, spelled), at as u32);
                }
            }
            self.docs.insert(at, d);
            self.text.insert(at, text);
            self.feat.insert(at, feat);
        }
    }
}

fn first_spelling(stem: &str, spelled: &str) -> String {
    if spelled == stem {
        String::new()
    } else {
        spelled.to_string()
    }
}

/// Merges `new` into the sorted `keys`; the old ids' new numbers when any key was added.
fn merge_keys(keys: &mut Vec<String>, new: &BTreeSet<&str>) -> Option<Vec<u32>> {
    let added: Vec<&str> = new
        .iter()
        .copied()
        .filter(|k| keys.binary_search_by(|x| x.as_str().cmp(k)).is_err())
        .collect();
    if added.is_empty() {
        return None;
    }
    let old = std::mem::take(keys);
    let mut map = Vec::with_capacity(old.len());
    let mut merged = Vec::with_capacity(old.len() + added.len());
    let mut a = added.into_iter().peekable();
    for k in old {
        while a.peek().is_some_and(|x| *x < k.as_str()) {
            merged.push(a.next().unwrap_or_default().to_string());
        }
        map.push(merged.len() as u32);
        merged.push(k);
    }
    merged.extend(a.map(str::to_string));
    *keys = merged;
    Some(map)
}

/// The binary form's first bytes (its version with them).
const MAGIC: &[u8] = b"bazaar-similar-2\n";

struct Out(Vec<u8>);

impl Out {
    fn n(&mut self, x: usize) {
        self.0.extend_from_slice(&(x as u32).to_le_bytes());
    }
    fn s(&mut self, x: &str) {
        self.n(x.len());
        self.0.extend_from_slice(x.as_bytes());
    }
    fn strings(&mut self, v: &[String]) {
        self.n(v.len());
        v.iter().for_each(|x| self.s(x));
    }
    fn lists(&mut self, v: &Lists) {
        self.n(v.len());
        for l in v {
            self.n(l.len());
            for (t, w) in l {
                self.n(*t as usize);
                self.0.extend_from_slice(&w.to_le_bytes());
            }
        }
    }
}

struct In<'a>(&'a [u8]);

impl<'a> In<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = b;
        Some(a)
    }
    fn n(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?) as usize)
    }
    fn f(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }
    fn s(&mut self) -> Option<String> {
        let n = self.n()?;
        String::from_utf8(self.bytes(n)?.to_vec()).ok()
    }
    /// A count, refused when larger than the bytes left could hold.
    fn len(&mut self) -> Option<usize> {
        self.n().filter(|n| *n <= self.0.len())
    }
    fn strings(&mut self) -> Option<Vec<String>> {
        (0..self.len()?).map(|_| self.s()).collect()
    }
    fn lists(&mut self) -> Option<Lists> {
        (0..self.len()?)
            .map(|_| {
                (0..self.len()?)
                    .map(|_| Some((self.n()? as u32, self.f()?)))
                    .collect()
            })
            .collect()
    }
}

impl Prepared {
    /// The binary form kept in the cache: four sections (apps, lists, vocabularies, spellings),
    /// each after its length, so that they are read in parallel.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut docs = Out(Vec::new());
        docs.n(self.docs.len());
        for d in &self.docs {
            docs.s(&d.id);
            docs.s(&d.name);
            docs.s(&d.dir);
            docs.n(usize::from(d.retired));
            for v in [&d.tags, &d.hosts, &d.apis, &d.scopes] {
                docs.strings(v);
            }
            docs.n(d.distinct_from.len());
            for (id, why) in &d.distinct_from {
                docs.s(id);
                docs.s(why);
            }
        }
        let mut lists = Out(Vec::new());
        lists.lists(&self.text);
        lists.lists(&self.feat);
        let mut keys = Out(Vec::new());
        keys.strings(&self.text_keys);
        keys.strings(&self.feat_keys);
        let mut spelling = Out(Vec::new());
        for (s, at) in &self.spelling {
            spelling.s(s);
            spelling.n(*at as usize);
        }
        let mut o = Out(MAGIC.to_vec());
        for part in [docs, lists, keys, spelling] {
            o.n(part.0.len());
            o.0.extend(part.0);
        }
        o.0
    }

    /// Reads the binary form; `None` when it is damaged or from another version.
    pub fn from_bytes(b: &[u8]) -> Option<Prepared> {
        let mut i = In(b.strip_prefix(MAGIC)?);
        let mut parts = Vec::with_capacity(4);
        for _ in 0..4 {
            let n = i.len()?;
            parts.push(In(i.bytes(n)?));
        }
        if !i.0.is_empty() {
            return None;
        }
        let [mut d, mut l, mut k, mut sp] = <[In<'_>; 4]>::try_from(parts).ok()?;
        let read_docs = move || -> Option<Vec<Doc>> {
            let docs = (0..d.len()?)
                .map(|_| {
                    Some(Doc {
                        id: d.s()?,
                        name: d.s()?,
                        dir: d.s()?,
                        retired: d.n()? == 1,
                        terms: Vec::new(),
                        tags: d.strings()?,
                        hosts: d.strings()?,
                        apis: d.strings()?,
                        scopes: d.strings()?,
                        distinct_from: (0..d.len()?)
                            .map(|_| Some((d.s()?, d.s()?)))
                            .collect::<Option<_>>()?,
                    })
                })
                .collect::<Option<Vec<Doc>>>()?;
            d.0.is_empty().then_some(docs)
        };
        let read_lists = move || -> Option<(Lists, Lists)> {
            let v = (l.lists()?, l.lists()?);
            l.0.is_empty().then_some(v)
        };
        let read_keys = move || -> Option<(Vec<String>, Vec<String>)> {
            let v = (k.strings()?, k.strings()?);
            k.0.is_empty().then_some(v)
        };
        let read_spelling = move || -> Option<Vec<(String, u32)>> {
            let mut v = Vec::new();
            while !sp.0.is_empty() {
                v.push((sp.s()?, sp.n()? as u32));
            }
            Some(v)
        };
        let ((docs, lists), (keys, spelling)) = rayon::join(
            || rayon::join(read_docs, read_lists),
            || rayon::join(read_keys, read_spelling),
        );
        let (docs, (text, feat), (text_keys, feat_keys), spelling) =
            (docs?, lists?, keys?, spelling?);
        let (nt, nf) = (text_keys.len() as u32, feat_keys.len() as u32);
        let fits = |l: &Lists, n: u32| l.iter().flatten().all(|(t, _)| *t < n);
        (text.len() == docs.len()
            && feat.len() == docs.len()
            && spelling.len() == text_keys.len()
            && fits(&text, nt)
            && fits(&feat, nf))
        .then_some(Prepared {
            docs,
            text,
            feat,
            text_keys,
            feat_keys,
            spelling,
        })
    }
}
