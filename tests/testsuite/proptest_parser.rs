//! Property tests of the manifest parsers: random bytes and mutated demo manifests never make
//! them panic, and every finding points inside the file it is about.

use bazaar::diagnostics::{Finding, SourceFile};
use bazaar::manifest::{
    MAX_MANIFEST_BYTES, decode, parse_app, parse_collection, parse_config, parse_team,
};
use proptest::prelude::*;
use proptest::sample::Index;

const APP: &str = include_str!("../../catalog/finance/expense-tracker/app.toml");
const APP_DEPRECATED: &str = include_str!("../../catalog/people/org-chart-classic/app.toml");
const APP_PII: &str = include_str!("../../catalog/people/pto-balance-card/app.toml");
const TEAM: &str = include_str!("../../catalog/finance/team.toml");
const COLLECTION: &str = include_str!("../../catalog/collections/onboarding.toml");
const CONFIG: &str = include_str!("../../bazaar.toml");

pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // print the shrunk case instead of writing proptest-regressions/ into the tree
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Which parser a text goes to.
#[derive(Debug, Clone, Copy)]
enum Kind {
    App,
    Team,
    Collection,
    Config,
}

const KINDS: [Kind; 4] = [Kind::App, Kind::Team, Kind::Collection, Kind::Config];

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::App => "catalog/finance/expense-tracker/app.toml",
            Kind::Team => "catalog/finance/team.toml",
            Kind::Collection => "catalog/collections/onboarding.toml",
            Kind::Config => "bazaar.toml",
        }
    }

    fn parse(self, file: &SourceFile) -> Vec<Finding> {
        match self {
            Kind::App => parse_app(file).findings,
            Kind::Team => parse_team(file).findings,
            Kind::Collection => parse_collection(file).findings,
            Kind::Config => parse_config(file).findings,
        }
    }
}

/// Checks every finding's location against the text it points into.
fn check_locations(
    path: &str,
    text: &str,
    findings: &[Finding],
    char_boundaries: bool,
) -> Result<(), TestCaseError> {
    let lines = text.lines().count();
    for f in findings {
        let Some(l) = &f.location else { continue };
        let ctx = || {
            format!(
                "{} {} at {l:?} (text is {} bytes, {lines} lines)",
                f.code,
                f.message,
                text.len()
            )
        };
        prop_assert_eq!(&l.file, path, "{}", ctx());
        prop_assert!(l.line >= 1 && l.column >= 1, "{}", ctx());
        prop_assert!(l.end_line >= 1 && l.end_column >= 1, "{}", ctx());
        prop_assert!(l.span.start <= l.span.end, "{}", ctx());
        prop_assert!(l.span.end <= text.len(), "{}", ctx());
        prop_assert!(l.line <= lines + 1 && l.end_line <= lines + 1, "{}", ctx());
        prop_assert!(
            (l.end_line, l.end_column) >= (l.line, l.column),
            "end before start: {}",
            ctx()
        );
        // renderers slice the text by the span: it must fall on character boundaries
        if char_boundaries {
            prop_assert!(
                text.is_char_boundary(l.span.start) && text.is_char_boundary(l.span.end),
                "span not on a char boundary: {}",
                ctx()
            );
        }
    }
    Ok(())
}

/// Decodes and parses `bytes` as `kind`, checking every finding.
fn run(kind: Kind, bytes: &[u8]) -> Result<(), TestCaseError> {
    let path = kind.path();
    match decode(path, bytes, MAX_MANIFEST_BYTES) {
        Ok(file) => {
            prop_assert_eq!(file.text.as_bytes(), bytes);
            let findings = kind.parse(&file);
            check_locations(path, &file.text, &findings, true)
        }
        Err(f) => {
            // refused before parsing: the location is in the (lossily decoded) text, and the bad
            // byte it points at is in the input
            let lossy = String::from_utf8_lossy(bytes);
            check_locations(path, &lossy, std::slice::from_ref(&f), true)?;
            if let Some(l) = &f.location {
                prop_assert!(
                    l.span.start <= bytes.len(),
                    "{l:?} past {} bytes",
                    bytes.len()
                );
            }
            Ok(())
        }
    }
}

/// Bytes that look a bit like TOML: keys, punctuation, quotes, newlines, odd characters.
fn tomlish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "a",
        "id",
        "name",
        "x.y",
        "[",
        "]",
        "[[",
        "]]",
        "{",
        "}",
        "=",
        " = ",
        "\"",
        "'",
        "\"\"\"",
        "'''",
        ",",
        ".",
        "#",
        "\n",
        "\r\n",
        "\r",
        "\t",
        " ",
        "\\",
        "\\u00e9",
        "\\U0010FFFF",
        "1",
        "-1",
        "0x1F",
        "1e999",
        "nan",
        "inf",
        "true",
        "2027-03-01",
        "2027-02-30",
        "12:00:00Z",
        "é",
        "😀",
        "\u{FEFF}",
        "\u{0}",
        "\u{7F}",
        "[owner]",
        "[data]",
        "[[apis]]",
        "[lifecycle]",
        "schema_version = 1\n",
    ]);
    prop::collection::vec(pieces, 0..80).prop_map(|v| v.concat().into_bytes())
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes: decode refuses or accepts, and no parser panics.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        for kind in KINDS {
            run(kind, &bytes)?;
        }
    }

    /// Random UTF-8 text reaches the TOML parser.
    #[test]
    fn random_text_never_panics(text in any::<String>()) {
        for kind in KINDS {
            run(kind, text.as_bytes())?;
        }
    }

    /// TOML-shaped noise reaches the field readers.
    #[test]
    fn tomlish_noise_never_panics(bytes in tomlish()) {
        for kind in KINDS {
            run(kind, &bytes)?;
        }
    }
}

/// One edit of a manifest's bytes.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    /// Delete up to `len` bytes from a position.
    Delete(Index, usize),
    /// Insert text at a position.
    Insert(Index, String),
    /// Duplicate a line.
    DupLine(Index),
    /// Swap two lines.
    SwapLines(Index, Index),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    let insert = prop::collection::vec(
        prop::sample::select(vec![
            '"', '\'', '[', ']', '{', '}', '=', ',', '.', '#', '\n', '\r', '\t', ' ', '\\', 'a',
            '1', '-', ':', 'é', '😀', '\u{FEFF}', '\u{0}', '\u{2028}',
        ]),
        1..8,
    )
    .prop_map(|cs| cs.into_iter().collect::<String>());
    prop_oneof![
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<Index>(), insert).prop_map(|(i, s)| Mutation::Insert(i, s)),
        any::<Index>().prop_map(Mutation::DupLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

pub(crate) fn apply(text: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut b = text.to_vec();
    for m in muts {
        match m {
            Mutation::Delete(at, n) => {
                if b.is_empty() {
                    continue;
                }
                let at = at.index(b.len());
                let end = (at + n).min(b.len());
                b.drain(at..end);
            }
            Mutation::Insert(at, s) => {
                let at = at.index(b.len() + 1);
                b.splice(at..at, s.bytes());
            }
            Mutation::DupLine(i) => {
                let mut lines: Vec<Vec<u8>> = b
                    .split_inclusive(|&c| c == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                let i = i.index(lines.len());
                let mut line = lines[i].clone();
                if !line.ends_with(b"\n") {
                    line.push(b'\n');
                }
                lines.insert(i, line);
                b = lines.concat();
            }
            Mutation::SwapLines(x, y) => {
                let mut lines: Vec<Vec<u8>> = b
                    .split_inclusive(|&c| c == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect();
                if lines.is_empty() {
                    continue;
                }
                let (x, y) = (x.index(lines.len()), y.index(lines.len()));
                lines.swap(x, y);
                b = lines.concat();
            }
        }
    }
    b
}

fn source() -> impl Strategy<Value = (Kind, &'static str)> {
    prop::sample::select(vec![
        (Kind::App, APP),
        (Kind::App, APP_DEPRECATED),
        (Kind::App, APP_PII),
        (Kind::Team, TEAM),
        (Kind::Collection, COLLECTION),
        (Kind::Config, CONFIG),
    ])
}

proptest! {
    #![proptest_config(config())]

    /// Demo manifests with bytes deleted, punctuation inserted and lines repeated or swapped:
    /// no panic, and every finding points inside the edited text.
    #[test]
    fn mutated_manifests_never_panic(
        (kind, text) in source(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let bytes = apply(text.as_bytes(), &muts);
        run(kind, &bytes)?;
    }

    /// The same edits, each text read by every parser (an app fed to the team parser…).
    #[test]
    fn mutated_manifests_any_parser(
        (_, text) in source(),
        muts in prop::collection::vec(mutation(), 0..4),
    ) {
        let bytes = apply(text.as_bytes(), &muts);
        for kind in KINDS {
            run(kind, &bytes)?;
        }
    }
}

#[test]
fn demo_manifests_parse_clean() {
    // the starting points of the mutations are valid
    for (kind, text) in [
        (Kind::App, APP),
        (Kind::App, APP_DEPRECATED),
        (Kind::App, APP_PII),
        (Kind::Team, TEAM),
        (Kind::Collection, COLLECTION),
        (Kind::Config, CONFIG),
    ] {
        let file = decode(kind.path(), text.as_bytes(), MAX_MANIFEST_BYTES).unwrap();
        let findings = kind.parse(&file);
        assert!(findings.is_empty(), "{kind:?}: {findings:#?}");
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let mut bytes = APP.as_bytes().to_vec();
    bytes.extend_from_slice(b"\nx = \"");
    bytes.resize(MAX_MANIFEST_BYTES + 1, b'a');
    let f = decode(Kind::App.path(), &bytes, MAX_MANIFEST_BYTES).unwrap_err();
    assert_eq!(f.code.as_str(), "BZ0003");
    let l = f.location.unwrap();
    assert_eq!((l.line, l.column), (1, 1));
}

// BZ0002's span covers the replacement character (3 bytes), so slicing the text by it is safe.
#[test]
fn not_utf8_span_covers_the_replacement_char() {
    for bytes in [
        &b"\x80"[..],
        b"x = \"\xff\"\n",
        b"name = \"caf\xe9\"\n",
        b"a = \"\xe2\x82\"\n",
    ] {
        let f = decode(Kind::App.path(), bytes, MAX_MANIFEST_BYTES).unwrap_err();
        assert_eq!(f.code.as_str(), "BZ0002");
        let l = f.location.unwrap();
        let text = String::from_utf8_lossy(bytes);
        let at = std::str::from_utf8(bytes).unwrap_err().valid_up_to();
        assert_eq!(l.span.start, at, "{bytes:?}");
        assert!(
            text.is_char_boundary(l.span.end),
            "{bytes:?}: span {:?} ends inside a character of {text:?}",
            l.span
        );
        assert_eq!(&text[l.span.clone()], "\u{FFFD}", "{bytes:?}");
        assert_eq!(
            (l.end_line, l.end_column),
            (l.line, l.column + 1),
            "{bytes:?}: {l:?}"
        );
    }
}
