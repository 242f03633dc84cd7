//! The built oracle: the value index (start filter, value table), the field sets and owners its
//! payloads stand for, and the households. Scans bytes; never does I/O.

use super::builder::ValueRecords;
use super::scan::ValueIndex;
use super::{FieldId, Location, OwnerId, Sighting};
use std::collections::HashMap;
use std::mem::size_of;

#[cfg(test)]
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, StartKind};

/// Owner → household id, as the builder gathers them.
pub(super) type Households = HashMap<OwnerId, u32>;

/// Which reference automaton to build (tests and measurements only): the Aho-Corasick matcher
/// the oracle used before its hash index, kept to check the index against and to compare costs.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub(super) struct MatcherKind {
    pub(super) kind: Option<AhoCorasickKind>,
    pub(super) prefilter: bool,
}

#[cfg(test)]
impl Default for MatcherKind {
    fn default() -> Self {
        MatcherKind {
            kind: None,
            prefilter: true,
        }
    }
}

/// Every owner's identifying values, ready to scan responses. Built by
/// [`OracleBuilder`](super::OracleBuilder); immutable and `Sync`, so one oracle serves every
/// simulated user.
#[derive(Debug)]
pub struct Oracle {
    matcher: Matcher,
    /// A payload is `owner | field_set << owner_bits`.
    owner_bits: u32,
    field_sets: FieldSets,
    households: HouseholdTable,
    field_names: Vec<String>,
    field_ids: HashMap<String, FieldId>,
    owners: usize,
    patterns: usize,
}

#[derive(Debug)]
// The reference variant exists in tests only, so only test builds have a variant smaller than the
// index; boxing the index would cost a pointer chase per scan.
#[cfg_attr(test, allow(clippy::large_enum_variant))]
enum Matcher {
    Index(ValueIndex),
    /// The reference: one Aho-Corasick automaton over the lowercased values, pattern `i`'s
    /// payload at `payloads[i]`.
    #[cfg(test)]
    Automaton {
        automaton: AhoCorasick,
        payloads: Vec<u64>,
    },
}

impl Oracle {
    /// The oracle over `values`: builds the value index (in parallel for large populations).
    pub(super) fn new(
        values: ValueRecords,
        households: Households,
        field_names: Vec<String>,
        field_ids: HashMap<String, FieldId>,
    ) -> Oracle {
        let layout = PayloadLayout::new(&values, field_names.len());
        let matcher = Matcher::Index(ValueIndex::build(
            values.keys,
            values.shapes,
            &values.a,
            &values.b,
            |i| layout.payload(&values.owners, &values.fields, i),
            layout.max_payload,
        ));
        Oracle {
            matcher,
            owner_bits: layout.owner_bits,
            owners: distinct(&values.owners),
            patterns: values.a.len(),
            field_sets: layout.field_sets,
            households: HouseholdTable::new(households),
            field_names,
            field_ids,
        }
    }

    /// The oracle over `values` with the reference automaton instead of the index.
    #[cfg(test)]
    pub(super) fn reference(
        values: ValueRecords,
        kind: MatcherKind,
        households: Households,
        field_names: Vec<String>,
        field_ids: HashMap<String, FieldId>,
    ) -> Result<Oracle, super::OracleError> {
        let layout = PayloadLayout::new(&values, field_names.len());
        let patterns = values
            .bytes
            .as_ref()
            .expect("the builder kept the values for the reference automaton");
        let automaton = AhoCorasick::builder()
            // Standard semantics are the only ones that report overlapping matches: every
            // value at every position, so a value inside a longer one is still found.
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            // Patterns are lowercased and scans lowercase the haystack: an automaton built
            // case-insensitively holds both cases of every letter and builds about 3.5 times
            // slower.
            .ascii_case_insensitive(false)
            .kind(kind.kind)
            .prefilter(kind.prefilter)
            .build(patterns)
            .map_err(|source| super::OracleError::Matcher {
                patterns: patterns.len(),
                source,
            })?;
        let payloads = (0..values.a.len())
            .map(|i| layout.payload(&values.owners, &values.fields, i))
            .collect();
        Ok(Oracle {
            matcher: Matcher::Automaton {
                automaton,
                payloads,
            },
            owner_bits: layout.owner_bits,
            owners: distinct(&values.owners),
            patterns: values.a.len(),
            field_sets: layout.field_sets,
            households: HouseholdTable::new(households),
            field_names,
            field_ids,
        })
    }

    /// Every owner's value found in `haystack` (a response body), in one pass.
    ///
    /// A match counts only when the bytes just before and just after it are not ASCII
    /// alphanumeric (or are the haystack's ends). Every occurrence is kept, in order of
    /// `start`, then `end`, owner and field; all carry [`Location::Body`].
    pub fn scan(&self, haystack: &[u8]) -> Vec<Sighting> {
        let mut sightings = Vec::new();
        self.scan_into(haystack, || Location::Body, &mut sightings);
        sightings
    }

    /// [`scan`](Self::scan) over a whole response: each header value (`(name, value)` pairs, in
    /// the order given, offsets into that value, [`Location::Header`] with the lowercased name),
    /// then the body. Header names are not scanned. The body must already be decompressed.
    pub fn scan_response(&self, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<Sighting> {
        let mut sightings = Vec::new();
        for (name, value) in headers {
            self.scan_into(
                value,
                || Location::Header(name.to_ascii_lowercase()),
                &mut sightings,
            );
        }
        self.scan_into(body, || Location::Body, &mut sightings);
        sightings
    }

    /// Appends the sightings in `haystack`, all at the location `location` builds (called only
    /// when there is at least one), sorted by position.
    fn scan_into(
        &self,
        haystack: &[u8],
        location: impl FnOnce() -> Location,
        out: &mut Vec<Sighting>,
    ) {
        let from = out.len();
        let owner_mask = (1u64 << self.owner_bits) - 1;
        // Straight into `out`, room for a dozen or so made at the first: a page shows its
        // viewer's own values.
        let mut location = (Some(location), None);
        let mut hit = |start: usize, end: usize, payload: u64| {
            let owner = (payload & owner_mask) as OwnerId;
            let location: &Location = match &mut location {
                (_, Some(made)) => made,
                (make, made) => {
                    out.reserve(16);
                    made.insert(make.take().expect("built once")())
                }
            };
            for &field in self.field_sets.get((payload >> self.owner_bits) as usize) {
                out.push(Sighting {
                    owner,
                    field,
                    location: location.clone(),
                    start,
                    end,
                });
            }
        };
        match &self.matcher {
            // The index reports by position, except that a presentation read back to its
            // canonical form may end before an exact match from the same start.
            Matcher::Index(index) => index.scan(haystack, &mut hit),
            #[cfg(test)]
            Matcher::Automaton {
                automaton,
                payloads,
            } => {
                let lowered = haystack.to_ascii_lowercase();
                for m in automaton.find_overlapping_iter(&lowered) {
                    if is_delimited(haystack, m.start(), m.end()) {
                        hit(m.start(), m.end(), payloads[m.pattern().as_usize()]);
                    }
                }
            }
        }
        let found = &mut out[from..];
        let by_place = |s: &Sighting| (s.start, s.end, s.owner, s.field);
        if !found.is_sorted_by_key(by_place) {
            found.sort_unstable_by_key(by_place);
        }
    }

    /// The name `f` was interned under, or `"<unknown field>"` for an id another builder issued.
    pub fn field_name(&self, f: FieldId) -> &str {
        self.field_names
            .get(f.index())
            .map_or("<unknown field>", String::as_str)
    }

    /// The id the builder interned `name` under, if it did.
    pub fn field_id(&self, name: &str) -> Option<FieldId> {
        self.field_ids.get(name).copied()
    }

    /// Whether `a` may see `b`'s data: the same owner, or two owners given the same household.
    pub fn same_household(&self, a: OwnerId, b: OwnerId) -> bool {
        a == b
            || matches!(
                (self.households.get(a), self.households.get(b)),
                (Some(x), Some(y)) if x == y
            )
    }

    /// Distinct owners with at least one indexed value.
    pub fn owners(&self) -> usize {
        self.owners
    }

    /// Distinct values indexed.
    pub fn patterns(&self) -> usize {
        self.patterns
    }

    /// Heap size of the index: value table, start filter, field sets, households and field
    /// names.
    pub fn memory_bytes(&self) -> usize {
        let matcher = match &self.matcher {
            Matcher::Index(index) => index.memory_bytes(),
            #[cfg(test)]
            Matcher::Automaton {
                automaton,
                payloads,
            } => automaton.memory_usage() + payloads.capacity() * size_of::<u64>(),
        };
        matcher
            + self.field_sets.memory_bytes()
            + self.households.memory_bytes()
            + self
                .field_names
                .iter()
                .map(|n| 2 * n.capacity())
                .sum::<usize>()
            + self.field_ids.capacity() * (size_of::<String>() + size_of::<FieldId>() + 1)
    }

    /// Which automaton was built (reference oracles only).
    #[cfg(test)]
    pub(super) fn matcher_kind(&self) -> AhoCorasickKind {
        match &self.matcher {
            Matcher::Automaton { automaton, .. } => automaton.kind(),
            Matcher::Index(_) => panic!("this oracle has a hash index, not an automaton"),
        }
    }

    /// The value index (for measurements).
    #[cfg(test)]
    pub(super) fn value_index(&self) -> Option<&ValueIndex> {
        match &self.matcher {
            Matcher::Index(index) => Some(index),
            Matcher::Automaton { .. } => None,
        }
    }
}

/// How payloads pack an owner and a field set, and the field sets themselves.
struct PayloadLayout {
    owner_bits: u32,
    max_payload: u64,
    field_sets: FieldSets,
    /// Each value's field set, when some value was added under more than one field (else empty,
    /// and a value's set is its field's): read for every value as the table is built, so an
    /// array rather than a map.
    sets: Vec<u32>,
}

impl PayloadLayout {
    fn new(values: &ValueRecords, fields: usize) -> PayloadLayout {
        let max_owner = values.owners.iter().copied().max().unwrap_or(0);
        let owner_bits = 32 - max_owner.leading_zeros();
        let mut field_sets = FieldSets::singletons(fields);
        let mut interned: HashMap<Vec<FieldId>, u32> = HashMap::new();
        let mut sets = Vec::new();
        if !values.extra_fields.is_empty() {
            sets = values.fields.iter().map(|f| u32::from(f.0)).collect();
        }
        for (&pattern, extra) in &values.extra_fields {
            let mut set = extra.clone();
            set.push(values.fields[pattern as usize]);
            set.sort_unstable();
            set.dedup();
            let id = *interned
                .entry(set)
                .or_insert_with_key(|set| field_sets.push(set));
            sets[pattern as usize] = id;
        }
        let set_count = field_sets.len() as u64;
        let max_payload = ((1u64 << owner_bits) - 1) | set_count.saturating_sub(1) << owner_bits;
        PayloadLayout {
            owner_bits,
            max_payload,
            field_sets,
            sets,
        }
    }

    fn payload(&self, owners: &[OwnerId], fields: &[FieldId], i: usize) -> u64 {
        let set = self.sets.get(i).copied().unwrap_or(u32::from(fields[i].0));
        u64::from(owners[i]) | u64::from(set) << self.owner_bits
    }
}

/// Sets of fields one value stands for: set `f` is `{f}` for every interned field `f`, then the
/// sets of values added under several fields of their owner. Each set is sorted.
#[derive(Debug)]
struct FieldSets {
    /// `fields[starts[s]..starts[s + 1]]` is set `s`.
    starts: Vec<u32>,
    fields: Vec<FieldId>,
}

impl FieldSets {
    fn singletons(fields: usize) -> FieldSets {
        FieldSets {
            starts: (0..=fields as u32).collect(),
            fields: (0..fields as u16).map(FieldId).collect(),
        }
    }

    fn push(&mut self, set: &[FieldId]) -> u32 {
        self.fields.extend_from_slice(set);
        self.starts.push(self.fields.len() as u32);
        self.len() as u32 - 1
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn get(&self, set: usize) -> &[FieldId] {
        &self.fields[self.starts[set] as usize..self.starts[set + 1] as usize]
    }

    fn memory_bytes(&self) -> usize {
        self.starts.capacity() * size_of::<u32>() + self.fields.capacity() * size_of::<FieldId>()
    }
}

/// Owner → household id: a table indexed by owner id when ids are dense (4 bytes and a bit per
/// owner), else a sorted list.
#[derive(Debug)]
enum HouseholdTable {
    Dense {
        household: Vec<u32>,
        present: Vec<u64>,
    },
    Sparse(Vec<(OwnerId, u32)>),
}

impl HouseholdTable {
    fn new(households: Households) -> HouseholdTable {
        let max = households.keys().copied().max().unwrap_or(0) as usize;
        if max < 2 * households.len() + 1024 {
            let mut household = vec![0u32; max + 1];
            let mut present = vec![0u64; (max + 1).div_ceil(64)];
            for (owner, id) in households {
                household[owner as usize] = id;
                present[owner as usize / 64] |= 1 << (owner % 64);
            }
            HouseholdTable::Dense { household, present }
        } else {
            let mut list: Vec<(OwnerId, u32)> = households.into_iter().collect();
            list.sort_unstable();
            HouseholdTable::Sparse(list)
        }
    }

    fn get(&self, owner: OwnerId) -> Option<u32> {
        match self {
            HouseholdTable::Dense { household, present } => {
                let i = owner as usize;
                (present.get(i / 64)? >> (i % 64) & 1 == 1).then(|| household[i])
            }
            HouseholdTable::Sparse(list) => list
                .binary_search_by_key(&owner, |&(o, _)| o)
                .ok()
                .map(|i| list[i].1),
        }
    }

    fn memory_bytes(&self) -> usize {
        match self {
            HouseholdTable::Dense { household, present } => {
                household.capacity() * size_of::<u32>() + present.capacity() * size_of::<u64>()
            }
            HouseholdTable::Sparse(list) => list.capacity() * size_of::<(OwnerId, u32)>(),
        }
    }
}

/// Distinct owners in `owners`.
fn distinct(owners: &[OwnerId]) -> usize {
    let max = owners.iter().copied().max().unwrap_or(0) as usize;
    if max < 64 * owners.len() + 4096 {
        let mut seen = vec![0u64; (max + 1).div_ceil(64)];
        for &owner in owners {
            seen[owner as usize / 64] |= 1 << (owner % 64);
        }
        seen.iter().map(|w| w.count_ones() as usize).sum()
    } else {
        let mut sorted = owners.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.len()
    }
}

/// The boundary rule: `haystack[start..end]` counts only if the bytes around it are not ASCII
/// alphanumeric, so a value inside a longer number, word or token is not a sighting.
#[cfg(test)]
fn is_delimited(haystack: &[u8], start: usize, end: usize) -> bool {
    (start == 0 || !haystack[start - 1].is_ascii_alphanumeric())
        && (end == haystack.len() || !haystack[end].is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{oracle, JEAN, LUCIE, MARIE, PIERRE};
    use super::super::{Location, OracleBuilder, Sighting};
    use super::*;

    fn owners_fields(oracle: &Oracle, sightings: &[Sighting]) -> Vec<(OwnerId, String)> {
        sightings
            .iter()
            .map(|s| (s.owner, oracle.field_name(s.field).to_owned()))
            .collect()
    }

    #[test]
    fn scan_reports_owner_field_and_byte_range() {
        let oracle = oracle();
        let body = b"<td>IBAN</td><td>FR7630006000011234567890189</td>";
        let sightings = oracle.scan(body);
        assert_eq!(
            owners_fields(&oracle, &sightings),
            [(JEAN, "iban".to_owned())]
        );
        let s = &sightings[0];
        assert_eq!(s.location, Location::Body);
        assert_eq!(&body[s.start..s.end], b"FR7630006000011234567890189");
    }

    #[test]
    fn value_split_by_html_markup_is_not_a_sighting() {
        let oracle = oracle();
        assert!(oracle.scan(b"<p>Tel: <b>06 39</b> 98 12 34</p>").is_empty());
        assert!(oracle
            .scan(b"<p>FR76300060000<wbr>11234567890189</p>")
            .is_empty());
    }

    #[test]
    fn value_in_a_header_is_a_header_sighting_with_the_lowercased_name() {
        let oracle = oracle();
        let headers: &[(&str, &[u8])] = &[
            ("Content-Type", b"text/html"),
            (
                "Set-Cookie",
                b"user=marie.curie@example.fr; Path=/; HttpOnly",
            ),
            ("X-User", b"185057800608436"),
        ];
        let sightings = oracle.scan_response(headers, b"<p>Jean Dupont</p>");
        let located: Vec<(OwnerId, Location)> = sightings
            .iter()
            .map(|s| (s.owner, s.location.clone()))
            .collect();
        assert_eq!(
            located,
            [
                (MARIE, Location::Header("set-cookie".into())),
                (JEAN, Location::Header("x-user".into())),
                (JEAN, Location::Body),
            ]
        );
        assert_eq!((sightings[0].start, sightings[0].end), (5, 27));
        assert_eq!((sightings[1].start, sightings[1].end), (0, 15));
    }

    #[test]
    fn value_inside_a_longer_digit_run_is_not_a_sighting() {
        let oracle = oracle();
        assert!(oracle.scan(b"ref 912345678 and 12345678").is_empty());
        assert!(oracle.scan(b"amount 01234567").is_empty());
        assert_eq!(oracle.scan(b"ref 1234567.").len(), 1);
    }

    #[test]
    fn nir_prefix_inside_the_full_nir_is_not_a_sighting() {
        let oracle = oracle();
        let sightings = oracle.scan(b"NIR: 185057800608436");
        assert_eq!(
            owners_fields(&oracle, &sightings),
            [(JEAN, "nir".to_owned())]
        );
        let sightings = oracle.scan(b"NIR: 1850578006084 36");
        assert_eq!(
            owners_fields(&oracle, &sightings),
            [(LUCIE, "nir_without_key".to_owned())]
        );
    }

    #[test]
    fn digits_inside_a_hex_session_token_are_not_a_sighting() {
        let oracle = oracle();
        assert!(oracle
            .scan(b"Set-Cookie: sid=af1234567e0639981234c; Path=/")
            .is_empty());
        assert!(oracle.scan(b"sid=0639981234abcdef").is_empty());
    }

    #[test]
    fn value_at_the_very_start_or_end_of_the_haystack_is_a_sighting() {
        let oracle = oracle();
        assert_eq!(oracle.scan(b"1234567").len(), 1);
        let start = oracle.scan(b"0639981234 is the phone");
        assert_eq!((start[0].start, start[0].end), (0, 10));
        let end = oracle.scan(b"phone: 0639981234");
        assert_eq!((end[0].start, end[0].end), (7, 17));
    }

    #[test]
    fn email_matches_ignoring_ascii_case() {
        let oracle = oracle();
        let sightings = oracle.scan(br#"{"email":"Jean.DUPONT@Example.FR"}"#);
        assert_eq!(
            owners_fields(&oracle, &sightings),
            [(JEAN, "email".to_owned())]
        );
    }

    #[test]
    fn value_inside_a_longer_value_is_found_too() {
        let mut builder = OracleBuilder::new();
        let name = builder.field("name");
        builder.add(10, name, "Paul Martin").unwrap();
        builder.add(11, name, "Jean-Paul Martin").unwrap();
        builder.add(12, name, "Jean Martin").unwrap();
        builder.add(13, name, "Jean Martin-Dupont").unwrap();
        let oracle = builder.build().unwrap();
        let owners: Vec<OwnerId> = oracle
            .scan(b"<h1>Jean-Paul Martin</h1>")
            .iter()
            .map(|s| s.owner)
            .collect();
        assert_eq!(owners, [11, 10]);
        let owners: Vec<OwnerId> = oracle
            .scan(b"Jean Martin-Dupontel")
            .iter()
            .map(|s| s.owner)
            .collect();
        assert_eq!(owners, [12]);
    }

    #[test]
    fn repeated_value_is_kept_at_every_position_in_order() {
        let oracle = oracle();
        let sightings = oracle.scan(b"Marie Curie, Pierre Curie, Marie Curie");
        let found: Vec<(OwnerId, usize)> = sightings.iter().map(|s| (s.owner, s.start)).collect();
        assert_eq!(found, [(MARIE, 0), (PIERRE, 13), (MARIE, 27)]);
    }

    #[test]
    fn same_value_under_two_fields_of_one_owner_is_sighted_for_both() {
        let mut builder = OracleBuilder::new();
        let email = builder.field("email");
        let login = builder.field("login");
        builder.add(1, email, "jean.dupont@example.fr").unwrap();
        builder.add(1, login, "Jean.Dupont@example.fr").unwrap();
        builder.add(1, email, "jean.dupont@example.fr").unwrap();
        let oracle = builder.build().unwrap();
        assert_eq!(oracle.patterns(), 1);
        let fields: Vec<FieldId> = oracle
            .scan(b"jean.dupont@example.fr")
            .iter()
            .map(|s| s.field)
            .collect();
        assert_eq!(fields, [email, login]);
    }

    #[test]
    fn one_oracle_can_be_shared_by_every_simulated_user() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Oracle>();
    }

    #[test]
    fn lookups_and_counts_describe_the_population() {
        let oracle = oracle();
        assert_eq!(oracle.owners(), 4);
        assert_eq!(oracle.patterns(), super::super::fixtures::VALUES.len());
        let nir = oracle.field_id("nir").unwrap();
        assert_eq!(oracle.field_name(nir), "nir");
        assert_eq!(oracle.field_id("favourite_colour"), None);
        assert_eq!(oracle.field_name(FieldId(999)), "<unknown field>");
        assert!(oracle.same_household(MARIE, PIERRE));
        assert!(oracle.same_household(JEAN, JEAN));
        assert!(!oracle.same_household(JEAN, MARIE));
        assert!(!oracle.same_household(JEAN, LUCIE));
        assert!(oracle.memory_bytes() > 0);
    }

    #[test]
    fn every_matcher_kind_finds_the_same_sightings() {
        let page = b"Jean Dupont 0639981234 MARIE.CURIE@example.fr 1850578006084 36";
        let expected = oracle().scan(page);
        assert_eq!(expected.len(), 4);
        for kind in [
            AhoCorasickKind::DFA,
            AhoCorasickKind::ContiguousNFA,
            AhoCorasickKind::NoncontiguousNFA,
        ] {
            for prefilter in [false, true] {
                let mut builder = OracleBuilder::new();
                for &(owner, field, value) in super::super::fixtures::VALUES {
                    let field = builder.field(field);
                    builder.add(owner, field, value).unwrap();
                }
                let oracle = builder
                    .build_with(MatcherKind {
                        kind: Some(kind),
                        prefilter,
                    })
                    .unwrap();
                assert_eq!(oracle.matcher_kind(), kind);
                assert_eq!(
                    oracle.scan(page),
                    expected,
                    "{kind:?}, prefilter {prefilter}"
                );
            }
        }
    }
}
