//! Property tests: over random populations and haystacks, the oracle reports exactly the
//! delimited occurrences a brute-force search finds, and never panics. Test-only; no I/O.

use super::fixtures::{self, VALUES};
use super::{Location, Oracle, OracleBuilder, OwnerId, Sighting};
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
