//! Property tests: over random populations and haystacks, the oracle reports exactly the
//! delimited occurrences a brute-force search finds, and never panics. Test-only; no I/O.

use super::fixtures::{self, VALUES};
use super::{Location, Oracle, OracleBuilder, OwnerId, Sighting, ValueKind};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// An indexed value as the test keeps it, to search for it by brute force.
struct Indexed {
    owner: OwnerId,
    field: u16,
    value: String,
}

/// Builds an oracle from `(owner, field, value)` triples, skipping the ones the builder rejects
/// (duplicates across owners, padded values), and returns what was indexed.
fn build(entries: &[(OwnerId, u16, String)]) -> (Oracle, Vec<Indexed>) {
    let mut builder = OracleBuilder::new();
    let fields: Vec<_> = (0..4)
        .map(|i| builder.field(&format!("field{i}")))
        .collect();
    let mut kept: Vec<Indexed> = Vec::new();
    let mut seen = BTreeSet::new();
    for (owner, field, value) in entries {
        if builder
            .add(*owner, fields[usize::from(*field)], value)
            .is_ok()
            && seen.insert((*owner, *field, value.to_ascii_lowercase()))
        {
            kept.push(Indexed {
                owner: *owner,
                field: *field,
                value: value.clone(),
            });
        }
    }
    (builder.build().expect("random population builds"), kept)
}

fn delimited(haystack: &[u8], start: usize, end: usize) -> bool {
    (start == 0 || !haystack[start - 1].is_ascii_alphanumeric())
        && (end == haystack.len() || !haystack[end].is_ascii_alphanumeric())
}

/// Every delimited, ASCII-case-insensitive occurrence of every indexed value, by brute force.
fn brute_force(kept: &[Indexed], haystack: &[u8]) -> BTreeSet<(usize, usize, OwnerId, u16)> {
    let mut found = BTreeSet::new();
    for indexed in kept {
        let value = indexed.value.as_bytes();
        for start in 0..haystack.len().saturating_sub(value.len() - 1) {
            let end = start + value.len();
            if haystack[start..end].eq_ignore_ascii_case(value) && delimited(haystack, start, end) {
                found.insert((start, end, indexed.owner, indexed.field));
            }
        }
    }
    found
}

fn as_set(sightings: &[Sighting]) -> BTreeSet<(usize, usize, OwnerId, u16)> {
    sightings
        .iter()
        .map(|s| (s.start, s.end, s.owner, s.field.0))
        .collect()
}

/// Random case changes, as pages print e-mails and IBANs in either case.
fn recase(value: &str, flips: u64) -> String {
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if flips >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    /// Alphanumeric values joined by non-alphanumeric separators: the scan names exactly the
    /// (owner, field) pairs whose values were put in, no invented owner, no missed one.
    #[test]
    fn scan_finds_exactly_the_inserted_owner_field_pairs(
        entries in prop::collection::vec((0..40u32, 0..4u16, "[a-z0-9]{5,12}"), 1..60),
        picks in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<u64>(), "[ \t\n<>/\"=:;,.@_&#é-]{1,4}"),
            0..30,
        ),
        lead in "[ <>\"é]{0,2}",
    ) {
        let (oracle, kept) = build(&entries);
        let mut haystack = lead;
        let mut expected = BTreeSet::new();
        for (index, flips, separator) in &picks {
            let indexed = index.get(&kept);
            haystack.push_str(&recase(&indexed.value, *flips));
            haystack.push_str(separator);
            expected.insert((indexed.owner, indexed.field));
        }
        let found: BTreeSet<(OwnerId, u16)> =
            oracle.scan(haystack.as_bytes()).iter().map(|s| (s.owner, s.field.0)).collect();
        prop_assert_eq!(found, expected);
    }

    /// Values with separators inside, from a small alphabet so that they overlap and contain one
    /// another, in haystacks mixing them with random bytes: the scan equals brute force.
    #[test]
    fn scan_equals_brute_force_on_overlapping_values(
        entries in prop::collection::vec(
            (0..10u32, 0..4u16, "[ab1 .@-]{5,8}|[a-z0-9]{5,7}"),
            1..40,
        ),
        chunks in prop::collection::vec(
            prop_oneof![
                (any::<prop::sample::Index>(), any::<u64>()).prop_map(Ok),
                prop::collection::vec(any::<u8>(), 0..6).prop_map(Err),
            ],
            0..40,
        ),
    ) {
        let (oracle, kept) = build(&entries);
        let mut haystack = Vec::new();
        for chunk in &chunks {
            match chunk {
                Ok((index, flips)) if !kept.is_empty() => {
                    haystack.extend(recase(&index.get(&kept).value, *flips).bytes());
                }
                Ok(_) => {}
                Err(bytes) => haystack.extend(bytes),
            }
        }
        let sightings = oracle.scan(&haystack);
        prop_assert_eq!(as_set(&sightings), brute_force(&kept, &haystack));
        prop_assert!(sightings.iter().all(|s| s.location == Location::Body));
        let ordered = sightings.windows(2).all(|w| (w[0].start, w[0].end) <= (w[1].start, w[1].end));
        prop_assert!(ordered);
    }

    /// Arbitrary bytes: no panic, and every owner named has one of its values in the input at
    /// the reported range.
    #[test]
    fn scan_never_panics_nor_names_an_owner_absent_from_arbitrary_bytes(
        haystack in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let oracle = fixtures::oracle();
        for s in oracle.scan(&haystack) {
            prop_assert!(s.start < s.end && s.end <= haystack.len());
            let field = oracle.field_name(s.field);
            let value = VALUES.iter().find(|(o, f, _)| *o == s.owner && *f == field);
            prop_assert!(value.is_some(), "owner {} has no field {}", s.owner, field);
            let (_, _, value) = value.unwrap();
            prop_assert!(haystack[s.start..s.end].eq_ignore_ascii_case(value.as_bytes()));
        }
    }

    /// A header value is scanned like a body: same sightings, at the header's location.
    #[test]
    fn header_value_is_scanned_like_a_body(
        parts in prop::collection::vec(prop_oneof![
            prop::sample::select(VALUES.iter().map(|(_, _, v)| *v).collect::<Vec<_>>())
                .prop_map(str::to_owned),
            "[ ;=,a-f0-9]{0,6}",
        ], 0..10),
    ) {
        let oracle = fixtures::oracle();
        let value = parts.concat();
        let in_body = oracle.scan(value.as_bytes());
        let in_header = oracle.scan_response(&[("X-User", value.as_bytes())], b"");
        let relocated: Vec<Sighting> = in_body
            .into_iter()
            .map(|s| Sighting { location: Location::Header("x-user".into()), ..s })
            .collect();
        prop_assert_eq!(in_header, relocated);
    }
}

// ----- Presentations: values of a kind as real pages print them -----

/// Separators between groups, written independently of `presentation.rs`.
const SEPARATORS: [&str; 24] = [
    " ",
    ".",
    "-",
    "+",
    "\u{a0}",
    "\u{202f}",
    "\u{2009}",
    "&nbsp;",
    "&#160;",
    "&#xa0;",
    "&#XA0;",
    "&#8239;",
    "&#x202f;",
    "&thinsp;",
    "&#8201;",
    "&#x2009;",
    "%20",
    "%C2%A0",
    "%e2%80%af",
    "%E2%80%89",
    "\\u00a0",
    "\\u202F",
    "\\u2009",
    "\\u0020",
];

/// How an e-mail address's `@` and `.` may be written.
const AT: [&str; 7] = [
    "@", "&#64;", "&#x40;", "&#X40;", "%40", "\\u0040", "&commat;",
];
const DOT: [&str; 5] = [".", "&#46;", "&#x2e;", "%2E", "\\u002e"];

/// What may stand between two values on a page.
const DELIMITERS: [&str; 8] = [
    "<td>",
    "</td><td>",
    "\", \"",
    " | ",
    "\n",
    "=",
    "&amp;",
    "\":\"",
];

/// International prefixes of a French number, before its nine national digits.
const PREFIXES: [&str; 9] = [
    "+33",
    "+33 ",
    "+33 (0)",
    "+33(0)",
    "0033 ",
    "0033",
    "%2B33",
    "%2B33%20",
    "+33&nbsp;",
];

fn nir_key(body: &str) -> u64 {
    let n: u64 = body
        .replace("2A", "19")
        .replace("2B", "18")
        .parse()
        .unwrap();
    97 - n % 97
}

fn mod97(digits: &str) -> u64 {
    digits
        .bytes()
        .fold(0u64, |acc, d| (acc * 10 + u64::from(d - b'0')) % 97)
}

/// A value of `kind` from random numbers: a NIR with its key, a French IBAN whose check holds,
/// a mobile number, an e-mail address.
fn value_of(kind: ValueKind, seed: u64, local: &str) -> String {
    let digits = |n: usize, s: u64| -> String {
        let mut x = s | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'0' + (x % 10) as u8)
            })
            .collect()
    };
    match kind {
        ValueKind::Nir => {
            let d = digits(12, seed);
            let place = match seed % 4 {
                0 => "2A".to_owned(),
                1 => "2B".to_owned(),
                _ => format!("{:02}", 1 + seed % 95),
            };
            let month = format!("{:02}", 1 + seed % 12);
            let body = format!("{}{}{month}{place}{}", 1 + seed % 2, &d[..2], &d[2..8]);
            format!("{body}{:02}", nir_key(&body))
        }
        ValueKind::Iban => {
            let bban = digits(23, seed);
            let check = 98 - mod97(&format!("{bban}152700"));
            format!("FR{check:02}{bban}")
        }
        ValueKind::PhoneFr => format!("06{}", digits(8, seed)),
        ValueKind::Email => format!("{local}@{}.fr", &local[..local.len().min(3)]),
        ValueKind::Text => local.to_owned(),
    }
}

/// `text` in groups of `sizes` (then the rest), each gap written as `gap(i)`.
fn layout(text: &str, sizes: &[usize], mut gap: impl FnMut(usize) -> String) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (i, size) in sizes.iter().enumerate() {
        if at >= text.len() {
            break;
        }
        if i > 0 {
            out.push_str(&gap(i));
        }
        let end = (at + size).min(text.len());
        out.push_str(&text[at..end]);
        at = end;
    }
    if at < text.len() {
        out.push_str(&gap(sizes.len()));
        out.push_str(&text[at..]);
    }
    out
}

/// One presentation of `value` (a canonical value of `kind`), chosen by `choice`.
fn present(kind: ValueKind, value: &str, choice: &[u16; 4], flips: u64) -> String {
    let pick = |list: &[&str], c: u16| list[usize::from(c) % list.len()].to_owned();
    // One separator for the whole value, or a different one at each gap.
    let gap = |i: usize| {
        if choice[1] % 3 == 0 {
            pick(&SEPARATORS, choice[2].wrapping_add(i as u16 * 7))
        } else {
            pick(&SEPARATORS, choice[2])
        }
    };
    match kind {
        ValueKind::Nir => {
            let layouts: [&[usize]; 4] = [
                &[1, 2, 2, 2, 3, 3, 2],
                &[1, 2, 2, 3, 2, 3, 2],
                &[13, 2],
                &[15],
            ];
            layout(
                &recase(value, flips),
                layouts[usize::from(choice[0]) % 4],
                gap,
            )
        }
        ValueKind::Iban => layout(&recase(value, flips), &[4; 8], gap),
        ValueKind::PhoneFr => {
            let national = &value[1..];
            match choice[0] % 3 {
                0 => layout(value, &[2; 5], gap),
                1 => format!(
                    "{}{}",
                    pick(&PREFIXES, choice[3]),
                    layout(national, &[1, 2, 2, 2, 2], gap)
                ),
                _ => format!("{}{national}", pick(&PREFIXES, choice[3])),
            }
        }
        ValueKind::Email => {
            let value = recase(value, flips);
            let (local, domain) = value.split_once('@').unwrap();
            format!(
                "{}{}{}",
                local.replace('.', &pick(&DOT, choice[2])),
                pick(&AT, choice[1]),
                domain.replace('.', &pick(&DOT, choice[3]))
            )
        }
        ValueKind::Text => value.to_owned(),
    }
}

const KINDS: [ValueKind; 4] = [
    ValueKind::Nir,
    ValueKind::Iban,
    ValueKind::PhoneFr,
    ValueKind::Email,
];

/// An oracle over owners `0..owners` with one value of each grouped kind and an address; the
/// values kept by owner and kind (duplicates across owners dropped).
fn build_presented(owners: &[(u64, String)]) -> (Oracle, Vec<(OwnerId, usize, String)>) {
    let mut builder = OracleBuilder::new();
    let fields: Vec<_> = KINDS
        .iter()
        .map(|k| builder.field_of_kind(k.name(), *k))
        .collect();
    let mut kept = Vec::new();
    for (owner, (seed, local)) in owners.iter().enumerate() {
        for (k, kind) in KINDS.iter().enumerate() {
            let value = value_of(*kind, seed.wrapping_add(k as u64 * 1_000_003), local);
            if builder.add(owner as OwnerId, fields[k], &value).is_ok() {
                kept.push((owner as OwnerId, k, value));
            }
        }
    }
    (
        builder.build().expect("random presented population builds"),
        kept,
    )
}

proptest! {
    /// Every presentation of every kind, among other owners' values and page delimiters, is
    /// found for its owner and field, and no other owner or field is named.
    #[test]
    fn every_presentation_of_every_kind_is_found(
        owners in prop::collection::vec((any::<u64>(), "[a-z]{2,6}(\\.[a-z]{1,5})?"), 1..12),
        shown in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<[u16; 4]>(), any::<u64>(), 0..DELIMITERS.len()),
            1..16,
        ),
    ) {
        let (oracle, kept) = build_presented(&owners);
        let mut page = String::from("<tr>");
        let mut expected = BTreeSet::new();
        for (index, choice, flips, delimiter) in &shown {
            let (owner, k, value) = index.get(&kept);
            page.push_str(&present(KINDS[*k], value, choice, *flips));
            page.push_str(DELIMITERS[*delimiter]);
            expected.insert((*owner, KINDS[*k].name().to_owned()));
        }
        let found: BTreeSet<(OwnerId, String)> = oracle
            .scan(page.as_bytes())
            .iter()
            .map(|s| (s.owner, oracle.field_name(s.field).to_owned()))
            .collect();
        prop_assert_eq!(found, expected, "{}", page);
    }

    /// Presentations of values no one has (one character changed), cut short, run into digits
    /// or letters, among random bytes: every owner named has its value at the reported range,
    /// bounded by bytes that are no letter or digit.
    #[test]
    fn no_owner_is_named_whose_value_is_absent(
        owners in prop::collection::vec((any::<u64>(), "[a-z]{2,6}(\\.[a-z]{1,5})?"), 1..8),
        parts in prop::collection::vec(
            prop_oneof![
                (any::<prop::sample::Index>(), any::<[u16; 4]>(), any::<u64>(), 0..4usize, any::<u8>())
                    .prop_map(Ok),
                prop::collection::vec(
                    prop::sample::select(b"0123456789 .-+%&#;xX@abAB\\u(0)".to_vec()),
                    0..8,
                ).prop_map(Err),
            ],
            0..24,
        ),
    ) {
        let (oracle, kept) = build_presented(&owners);
        let mut page: Vec<u8> = Vec::new();
        for part in &parts {
            match part {
                Ok((index, choice, flips, damage, at)) => {
                    let (_, k, value) = index.get(&kept);
                    let mut shown = present(KINDS[*k], value, choice, *flips).into_bytes();
                    let at = usize::from(*at) % shown.len();
                    match damage {
                        0 => {}
                        1 => shown[at] = if shown[at] == b'7' { b'8' } else { b'7' },
                        2 => shown.truncate(at.max(1)),
                        _ => shown.insert(at, b'5'),
                    }
                    page.extend(shown);
                }
                Err(bytes) => page.extend(bytes),
            }
        }
        for s in oracle.scan(&page) {
            let field = oracle.field_name(s.field);
            let k = KINDS.iter().position(|k| k.name() == field).unwrap();
            let owned: Vec<&String> = kept
                .iter()
                .filter(|(o, kk, _)| *o == s.owner && *kk == k)
                .map(|(_, _, v)| v)
                .collect();
            prop_assert!(!owned.is_empty());
            let read = KINDS[k].read_back(&page[s.start..s.end]);
            let matches = read.iter().any(|r| {
                owned.iter().any(|v| v.eq_ignore_ascii_case(r) || v[..v.len().min(13)].eq_ignore_ascii_case(r))
            });
            prop_assert!(
                matches,
                "owner {} field {} read {:?} from {:?}",
                s.owner, field, read, String::from_utf8_lossy(&page[s.start..s.end])
            );
            let after_escape = (s.start.saturating_sub(12)..s.start).any(|q| {
                let unit = super::presentation::decode(&page, q);
                matches!(page[q], b'%' | b'\\')
                    && unit.escaped
                    && !unit.ch.is_ascii_alphanumeric()
                    && q + unit.len == s.start
            });
            prop_assert!(
                s.start == 0 || !page[s.start - 1].is_ascii_alphanumeric() || after_escape,
                "{:?} at {}..{} of {:?}", s.owner, s.start, s.end, String::from_utf8_lossy(&page)
            );
            prop_assert!(s.end == page.len() || !page[s.end].is_ascii_alphanumeric());
        }
    }
}
