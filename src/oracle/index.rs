//! The built oracle: one Aho-Corasick automaton over every owner's values, the table from a
//! matched pattern to its owner and fields, and the households. Scans bytes; never does I/O.

use super::error::OracleError;
use super::{FieldId, Location, OwnerId, Sighting};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, PatternID, StartKind};
use std::collections::HashMap;
use std::mem::size_of;

/// Owner → household id, for owners that have one.
pub(super) type Households = HashMap<OwnerId, u32>;

/// Which automaton to build. The default is the one measured fastest at population scale that
/// still fits in memory (see the module documentation); tests and measurements pick others.
#[derive(Clone, Copy, Debug)]
pub(super) struct MatcherKind {
    pub(super) kind: Option<AhoCorasickKind>,
    pub(super) prefilter: bool,
}

impl Default for MatcherKind {
    fn default() -> Self {
        MatcherKind {
            kind: None,
            prefilter: true,
        }
    }
}

/// Pattern index → owner and field(s). Patterns are indexed in the order they were first added.
#[derive(Debug, Default)]
pub(super) struct PatternTable {
    owners: Vec<OwnerId>,
    fields: Vec<FieldId>,
    /// Further fields of the same owner that hold the same value (rare: usually empty).
    extra_fields: HashMap<u32, Vec<FieldId>>,
}

impl PatternTable {
    /// Appends a pattern and returns its index.
    pub(super) fn push(&mut self, owner: OwnerId, field: FieldId) -> Result<u32, OracleError> {
        let index = self.owners.len();
        if index >= PatternID::LIMIT {
            return Err(OracleError::TooManyValues {
                owner,
                max: PatternID::LIMIT,
            });
        }
        self.owners.push(owner);
        self.fields.push(field);
        Ok(index as u32)
    }

    pub(super) fn primary(&self, pattern: u32) -> (OwnerId, FieldId) {
        let i = pattern as usize;
        (self.owners[i], self.fields[i])
    }

    /// Records that `pattern` also stands for `field` of its owner.
    pub(super) fn add_field(&mut self, pattern: u32, field: FieldId) {
        if self.fields[pattern as usize] == field {
            return;
        }
        let extra = self.extra_fields.entry(pattern).or_default();
        if !extra.contains(&field) {
            extra.push(field);
        }
    }

    fn extra(&self, pattern: usize) -> &[FieldId] {
        if self.extra_fields.is_empty() {
            return &[];
        }
        self.extra_fields
            .get(&(pattern as u32))
            .map_or(&[], Vec::as_slice)
    }

    fn distinct_owners(&self) -> usize {
        let mut owners = self.owners.clone();
        owners.sort_unstable();
        owners.dedup();
        owners.len()
    }

    fn shrink_to_fit(&mut self) {
        self.owners.shrink_to_fit();
        self.fields.shrink_to_fit();
    }

    fn memory_bytes(&self) -> usize {
        self.owners.capacity() * size_of::<OwnerId>()
            + self.fields.capacity() * size_of::<FieldId>()
            + self.extra_fields.capacity() * (size_of::<u32>() + size_of::<Vec<FieldId>>() + 1)
            + self
                .extra_fields
                .values()
                .map(|v| v.capacity() * size_of::<FieldId>())
                .sum::<usize>()
    }
}

/// Every owner's identifying values, ready to scan responses. Built by
/// [`OracleBuilder`](super::OracleBuilder); immutable and `Sync`, so one oracle serves every
/// simulated user.
#[derive(Debug)]
pub struct Oracle {
    matcher: AhoCorasick,
    table: PatternTable,
    households: Households,
    field_names: Vec<String>,
    field_ids: HashMap<String, FieldId>,
    owners: usize,
}

impl Oracle {
    /// `patterns` must be ASCII-lowercase; pattern `i` belongs to `table`'s entry `i`.
    pub(super) fn new(
        patterns: &[Box<[u8]>],
        kind: MatcherKind,
        mut table: PatternTable,
        mut households: Households,
        field_names: Vec<String>,
        field_ids: HashMap<String, FieldId>,
    ) -> Result<Oracle, OracleError> {
        let matcher = AhoCorasick::builder()
            // Standard semantics are the only ones that report overlapping matches: every
            // value at every position, so a value inside a longer one is still found.
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            // Patterns arrive ASCII-lowercased and scans lowercase the haystack: an automaton
            // built case-insensitively holds both cases of every letter and took about 3.5 times
            // longer to build (see `bench.rs`).
            .ascii_case_insensitive(false)
            .kind(kind.kind)
            .prefilter(kind.prefilter)
            .build(patterns)
            .map_err(|source| OracleError::Matcher {
                patterns: patterns.len(),
                source,
            })?;
        table.shrink_to_fit();
        households.shrink_to_fit();
        let owners = table.distinct_owners();
        Ok(Oracle {
            matcher,
            table,
            households,
            field_names,
            field_ids,
            owners,
        })
    }

    /// Every owner's value found in `haystack` (a response body), in one pass of the automaton.
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
        let lowered = haystack.to_ascii_lowercase();
        let mut found: Vec<(usize, usize, OwnerId, FieldId)> = Vec::new();
        for m in self.matcher.find_overlapping_iter(&lowered) {
            let (start, end) = (m.start(), m.end());
            if !is_delimited(haystack, start, end) {
                continue;
            }
            let pattern = m.pattern().as_usize();
            let owner = self.table.owners[pattern];
            found.push((start, end, owner, self.table.fields[pattern]));
            for &field in self.table.extra(pattern) {
                found.push((start, end, owner, field));
            }
        }
        if found.is_empty() {
            return;
        }
        found.sort_unstable();
        let location = location();
        out.extend(
            found
                .into_iter()
                .map(|(start, end, owner, field)| Sighting {
                    owner,
                    field,
                    location: location.clone(),
                    start,
                    end,
                }),
        );
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
                (self.households.get(&a), self.households.get(&b)),
                (Some(x), Some(y)) if x == y
            )
    }

    /// Distinct owners with at least one indexed value.
    pub fn owners(&self) -> usize {
        self.owners
    }

    /// Distinct values indexed (the automaton's patterns).
    pub fn patterns(&self) -> usize {
        self.table.owners.len()
    }

    /// Approximate heap size of the index: automaton, pattern table, households and field names.
    pub fn memory_bytes(&self) -> usize {
        self.matcher.memory_usage()
            + self.table.memory_bytes()
            + self.households.capacity() * (2 * size_of::<u32>() + 1)
            + self
                .field_names
                .iter()
                .map(|n| 2 * n.capacity())
                .sum::<usize>()
    }

    /// Which automaton was built (for measurements).
    #[cfg(test)]
    pub(super) fn matcher_kind(&self) -> AhoCorasickKind {
        self.matcher.kind()
    }
}

/// The boundary rule: `haystack[start..end]` counts only if the bytes around it are not ASCII
/// alphanumeric, so a value inside a longer number, word or token is not a sighting.
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
