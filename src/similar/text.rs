//! Words for comparing apps: lowercase, split on anything that is not a letter or digit, common
//! English words and URL noise dropped, each word reduced to its stem (Snowball English, so
//! "tracking", "tracked" and "tracks" meet), with the first spelling seen kept for explanations.

use std::collections::HashMap;

/// Maps of words: foldhash (seeded per process, as hashbrown's default) rather than SipHash,
/// which was a large part of the time to read every README of a site build.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use rust_stemmers::{Algorithm, Stemmer};

/// Words that say nothing about what an app does.
const STOP: &[&str] = &[
    "a", "about", "acme", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be",
    "been", "before", "but", "by", "can", "com", "do", "does", "each", "every", "example", "for",
    "from", "has", "have", "how", "http", "https", "if", "in", "internal", "into", "is", "it",
    "its", "just", "more", "most", "no", "not", "of", "on", "one", "only", "or", "other", "our",
    "out", "over", "same", "so", "some", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "to", "up", "use", "used", "uses", "using", "via", "was",
    "we", "were", "what", "when", "where", "which", "who", "will", "with", "without", "www", "you",
    "your",
];

/// The longest word of `STOP`: longer words are not looked up.
const MAX_STOP_LEN: usize = {
    let (mut i, mut max) = (0, 0);
    while i < STOP.len() {
        if STOP[i].len() > max {
            max = STOP[i].len();
        }
        i += 1;
    }
    max
};

/// Counts of stems with their first spelling.
#[derive(Debug, Default)]
pub struct Bag {
    /// Stem → (first spelling, weighted count).
    pub terms: Map<String, (String, u32)>,
}

/// A tokenizer with its stemmer and the stems it has already computed (one per thread: words
/// repeat across apps, and stemming is the slow part).
pub struct Words {
    stemmer: Stemmer,
    stems: Map<String, String>,
}

impl Default for Words {
    fn default() -> Self {
        Words {
            stemmer: Stemmer::create(Algorithm::English),
            stems: Map::default(),
        }
    }
}

thread_local! {
    static WORDS: std::cell::RefCell<Words> = std::cell::RefCell::new(Words::default());
}

/// Runs `f` with this thread's tokenizer (rayon's `map_init` would make one per job, losing the
/// stems already computed).
pub fn with_words<R>(f: impl FnOnce(&mut Words) -> R) -> R {
    WORDS.with(|w| f(&mut w.borrow_mut()))
}

impl Words {
    /// Adds the words of `text` to the bag, each counted `weight` times.
    pub fn add(&mut self, bag: &mut Bag, text: &str, weight: u32) {
        let mut lowered;
        for raw in text.split(|c: char| !c.is_alphanumeric()) {
            if raw.len() < 2 || raw.len() > 40 || raw.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            // most words are already lowercase ASCII: no copy for them
            let lower: &str = if raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                raw
            } else {
                lowered = raw.to_lowercase();
                &lowered
            };
            if lower.len() <= MAX_STOP_LEN && STOP.binary_search(&lower).is_ok() {
                continue;
            }
            if !self.stems.contains_key(lower) {
                let s = self.stemmer.stem(lower).into_owned();
                if self.stems.len() >= 200_000 {
                    // a full memo: stem without keeping it
                    add_stem(bag, s, lower, weight);
                    continue;
                }
                self.stems.insert(lower.to_string(), s);
            }
            let stem = &self.stems[lower];
            match bag.terms.get_mut(stem.as_str()) {
                Some(e) => e.1 += weight,
                None => {
                    bag.terms.insert(stem.clone(), (lower.to_string(), weight));
                }
            }
        }
    }
}

fn add_stem(bag: &mut Bag, stem: String, lower: &str, weight: u32) {
    bag.terms
        .entry(stem)
        .or_insert_with(|| (lower.to_string(), 0))
        .1 += weight;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        let mut sorted = STOP.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOP);
        assert_eq!(STOP.iter().map(|w| w.len()).max(), Some(MAX_STOP_LEN));
    }

    #[test]
    fn stems_meet_and_noise_is_dropped() {
        let mut w = Words::default();
        let mut bag = Bag::default();
        w.add(
            &mut bag,
            "Tracks expenses; the Expense tracked (tracking) 2026 https://x.com",
            2,
        );
        assert_eq!(bag.terms["track"].1, 6, "{bag:?}");
        assert_eq!(bag.terms["expens"], ("expenses".to_string(), 4));
        assert!(!bag.terms.contains_key("the") && !bag.terms.contains_key("2026"));
        assert!(!bag.terms.contains_key("https"));
    }
}
