//! Collects every owner's identifying values and households, rejects the ones that could not be
//! attributed (duplicates across owners, too short), and builds the [`Oracle`]. No I/O.
//!
//! The builder keeps no value bytes: each value is fingerprinted once as it is added, and its
//! fingerprint, owner and field are all the index needs. Duplicates are found by fingerprint
//! (128 bits: two distinct values of a million owners share one with a probability near 2^-82).

use super::error::{mask, OracleError, MIN_VALUE_CHARS};
use super::fingerprint::{Fingerprint, Keys};
use super::index::{Households, Oracle};
use super::kind::ValueKind;
use super::scan::ValueShapes;
use super::{FieldId, OwnerId};
use std::borrow::Cow;
use std::collections::HashMap;

#[cfg(test)]
use super::index::MatcherKind;

/// The most distinct field names one builder interns (one `u16` value is kept as a marker for
/// "too many").
const MAX_FIELDS: usize = u16::MAX as usize;

/// The most distinct values one oracle holds (the reference automaton's limit, kept so both
/// refuse the same populations).
const MAX_VALUES: usize = aho_corasick::PatternID::LIMIT;

/// Gathers `(owner, field, value)` triples and households, then [`build`](Self::build)s the
/// [`Oracle`]. Values are compared ASCII-case-insensitively, as the oracle matches them.
#[derive(Debug, Default)]
pub struct OracleBuilder {
    field_names: Vec<String>,
    /// Each field's kind, by field id.
    kinds: Vec<ValueKind>,
    field_ids: HashMap<String, FieldId>,
    too_many_fields: bool,
    values: ValueRecords,
    dedup: Dedup,
    households: Households,
    household_conflict: Option<(OwnerId, u32, u32)>,
}

/// Every distinct value added, by index in order of first addition: its fingerprint, owner and
/// first field (further fields of the same owner in `extra_fields`), and what the index's filters
/// need to know.
#[derive(Debug)]
pub(super) struct ValueRecords {
    pub(super) keys: Keys,
    pub(super) a: Vec<u64>,
    pub(super) b: Vec<u64>,
    pub(super) owners: Vec<OwnerId>,
    pub(super) fields: Vec<FieldId>,
    /// Further fields of the same owner that hold the same value (rare: usually empty).
    pub(super) extra_fields: HashMap<u32, Vec<FieldId>>,
    pub(super) shapes: ValueShapes,
    /// The lowercased values, for the reference automaton (tests only).
    #[cfg(test)]
    pub(super) bytes: Option<Vec<Box<[u8]>>>,
}

impl Default for ValueRecords {
    fn default() -> Self {
        ValueRecords {
            keys: Keys::random(),
            a: Vec::new(),
            b: Vec::new(),
            owners: Vec::new(),
            fields: Vec::new(),
            extra_fields: HashMap::new(),
            shapes: ValueShapes::default(),
            #[cfg(test)]
            bytes: Some(Vec::new()),
        }
    }
}

impl ValueRecords {
    fn len(&self) -> usize {
        self.a.len()
    }

    fn push(
        &mut self,
        fp: Fingerprint,
        owner: OwnerId,
        field: FieldId,
        kind: ValueKind,
        value: &[u8],
    ) {
        self.a.push(fp.a);
        self.b.push(fp.b);
        self.owners.push(owner);
        self.fields.push(field);
        self.shapes.add(value);
        self.shapes.add_presented(kind, value);
        #[cfg(test)]
        if let Some(bytes) = &mut self.bytes {
            bytes.push(value.to_ascii_lowercase().into_boxed_slice());
        }
    }

    /// Records that value `index` also stands for `field` of its owner.
    fn add_field(&mut self, index: u32, field: FieldId) {
        if self.fields[index as usize] == field {
            return;
        }
        let extra = self.extra_fields.entry(index).or_default();
        if !extra.contains(&field) {
            extra.push(field);
        }
    }
}

impl OracleBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a field name (`"nir"`, `"iban"`, `"written_iban"`, ...): the same name always
    /// gives the same id. Past 65,535 distinct names the builder remembers the overflow and
    /// [`build`](Self::build) fails with [`OracleError::TooManyFields`].
    pub fn field(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.field_ids.get(name) {
            return id;
        }
        if self.field_names.len() >= MAX_FIELDS {
            self.too_many_fields = true;
            return FieldId(u16::MAX);
        }
        let id = FieldId(self.field_names.len() as u16);
        self.field_names.push(name.to_owned());
        self.kinds.push(ValueKind::Text);
        self.field_ids.insert(name.to_owned(), id);
        id
    }

    /// [`field`](Self::field), and the kind of its values: the oracle indexes each value's
    /// canonical forms ([`ValueKind::canonical`]) and finds them in every presentation of the
    /// kind. A field is [`ValueKind::Text`] (exact) until given another kind.
    pub fn field_of_kind(&mut self, name: &str, kind: ValueKind) -> FieldId {
        let id = self.field(name);
        if let Some(slot) = self.kinds.get_mut(id.index()) {
            *slot = kind;
        }
        id
    }

    /// Makes room for `values` more values, so adding a large population grows no table on the
    /// way (each growth copies every record and rehashes the duplicate check).
    pub fn reserve(&mut self, values: usize) {
        let records = &mut self.values;
        records.a.reserve(values);
        records.b.reserve(values);
        records.owners.reserve(values);
        records.fields.reserve(values);
        records.shapes.spans.reserve(values);
        self.dedup.reserve(records.len() + values, &records.a);
    }

    /// Indexes `value` as `owner`'s `field`.
    ///
    /// The same value (ASCII case aside) added again for the same owner is ignored, except that a
    /// new field is remembered, so a sighting of the value counts for every field it was added
    /// under (a `must_show` of either is satisfied). The same value for two owners is an error:
    /// a sighting of it could not be attributed. Values that are empty, shorter than
    /// [`MIN_VALUE_CHARS`] characters, or padded with whitespace are errors too.
    ///
    /// A value of a field with a kind other than text is indexed in its canonical forms, and
    /// one that is not of the kind is an error.
    pub fn add(&mut self, owner: OwnerId, field: FieldId, value: &str) -> Result<(), OracleError> {
        self.check_value(owner, field, value)?;
        for form in self.forms(owner, field, value)? {
            let fp = self.values.keys.fingerprint(form.as_bytes());
            self.add_checked(owner, field, &form, fp)?;
        }
        Ok(())
    }

    /// The forms of `value` the index holds: itself for text and e-mail, else its canonical
    /// forms.
    fn forms<'v>(
        &self,
        owner: OwnerId,
        field: FieldId,
        value: &'v str,
    ) -> Result<Vec<Cow<'v, str>>, OracleError> {
        let kind = self.kinds[field.index()];
        if matches!(kind, ValueKind::Text | ValueKind::Email) && kind.canonical(value).is_some() {
            return Ok(vec![Cow::Borrowed(value)]);
        }
        let forms = kind
            .canonical(value)
            .ok_or_else(|| OracleError::NotOfKind {
                owner,
                field: self.field_names[field.index()].clone(),
                value: mask(value),
                kind,
            })?;
        for form in &forms {
            self.check_value(owner, field, form)?;
        }
        Ok(forms.into_iter().map(Cow::Owned).collect())
    }

    /// [`add`](Self::add) for each `(owner, field, value)` in turn, stopping at the first error.
    /// Faster on large populations: the duplicate check's slots of a few values at a time are
    /// fetched from memory together rather than one after the other.
    pub fn add_batch(&mut self, values: &[(OwnerId, FieldId, &str)]) -> Result<(), OracleError> {
        const AHEAD: usize = 16;
        let mut forms: Vec<(OwnerId, FieldId, Cow<'_, str>)> = Vec::with_capacity(values.len());
        for &(owner, field, value) in values {
            self.check_value(owner, field, value)?;
            for form in self.forms(owner, field, value)? {
                forms.push((owner, field, form));
            }
        }
        for chunk in forms.chunks(AHEAD) {
            let mut fps = [Fingerprint { a: 0, b: 0 }; AHEAD];
            for (fp, (_, _, value)) in fps.iter_mut().zip(chunk) {
                *fp = self.values.keys.fingerprint(value.as_bytes());
            }
            self.dedup.make_room(chunk.len(), &self.values.a);
            for fp in &fps[..chunk.len()] {
                self.dedup.prefetch(*fp);
            }
            for (fp, (owner, field, value)) in fps.iter().zip(chunk) {
                self.add_checked(*owner, *field, value, *fp)?;
            }
        }
        Ok(())
    }

    /// Refuses a value `add` may not index: an unknown field, empty, padded, or too short.
    fn check_value(&self, owner: OwnerId, field: FieldId, value: &str) -> Result<(), OracleError> {
        let Some(field_name) = self.field_names.get(field.index()) else {
            return Err(OracleError::UnknownField {
                owner,
                field: field.0,
                known: self.field_names.len(),
            });
        };
        if value.is_empty() {
            return Err(OracleError::EmptyValue {
                owner,
                field: field_name.clone(),
            });
        }
        if value.trim() != value {
            return Err(OracleError::SurroundingWhitespace {
                owner,
                field: field_name.clone(),
                value: mask(value),
            });
        }
        // Four bytes per character at most: a longer value has enough characters.
        if value.len() < 4 * MIN_VALUE_CHARS {
            let chars = value.chars().count();
            if chars < MIN_VALUE_CHARS {
                return Err(OracleError::ValueTooShort {
                    owner,
                    field: field_name.clone(),
                    value: value.to_owned(),
                    chars,
                });
            }
        }
        Ok(())
    }

    /// Indexes a value `check_value` accepted, whose fingerprint is `fp`.
    fn add_checked(
        &mut self,
        owner: OwnerId,
        field: FieldId,
        value: &str,
        fp: Fingerprint,
    ) -> Result<(), OracleError> {
        match self.dedup.find(fp, &self.values) {
            Ok(index) => {
                let (first_owner, first_field) = (
                    self.values.owners[index as usize],
                    self.values.fields[index as usize],
                );
                if first_owner != owner {
                    return Err(OracleError::DuplicateValue {
                        value: mask(value),
                        first_owner,
                        first_field: self.field_names[first_field.index()].clone(),
                        second_owner: owner,
                        second_field: self.field_names[field.index()].clone(),
                    });
                }
                self.values.add_field(index, field);
                Ok(())
            }
            Err(slot) => {
                let index = self.values.len();
                if index >= MAX_VALUES {
                    return Err(OracleError::TooManyValues {
                        owner,
                        max: MAX_VALUES,
                    });
                }
                let kind = self.kinds[field.index()];
                self.values.push(fp, owner, field, kind, value.as_bytes());
                self.dedup.insert(slot, fp, index as u32);
                Ok(())
            }
        }
    }

    /// Puts `owner` in `household`: owners sharing a household id may see each other's data
    /// (two adults on one file). An owner without a household shares data with no one. Putting
    /// one owner in two different households makes [`build`](Self::build) fail.
    pub fn household(&mut self, owner: OwnerId, household: u32) {
        if let Some(first) = self.households.insert(owner, household) {
            if first != household && self.household_conflict.is_none() {
                self.household_conflict = Some((owner, first, household));
            }
        }
    }

    /// Builds the index over every value added (on every core for large populations). Fails
    /// on an earlier misuse remembered by [`field`](Self::field) or
    /// [`household`](Self::household).
    pub fn build(mut self) -> Result<Oracle, OracleError> {
        self.check()?;
        self.dedup = Dedup::default();
        #[cfg(test)]
        {
            self.values.bytes = None;
        }
        Ok(Oracle::new(
            self.values,
            self.households,
            self.field_names,
            self.field_ids,
        ))
    }

    /// Builds an oracle with the reference automaton instead of the index (tests and
    /// measurements).
    #[cfg(test)]
    pub(super) fn build_with(self, kind: MatcherKind) -> Result<Oracle, OracleError> {
        self.check()?;
        Oracle::reference(
            self.values,
            kind,
            self.households,
            self.field_names,
            self.field_ids,
        )
    }

    /// Stops keeping value bytes for the reference automaton (measurements of the index alone).
    #[cfg(test)]
    pub(super) fn without_reference(mut self) -> Self {
        self.values.bytes = None;
        self
    }

    fn check(&self) -> Result<(), OracleError> {
        if self.too_many_fields {
            return Err(OracleError::TooManyFields { max: MAX_FIELDS });
        }
        if let Some((owner, first, second)) = self.household_conflict {
            return Err(OracleError::HouseholdConflict {
                owner,
                first,
                second,
            });
        }
        Ok(())
    }
}

/// Open addressing over value indexes, keyed by fingerprint: each slot holds the high half of
/// lane `a` as a tag and the index + 1 (0: empty), so a probe touches the values' lanes only
/// when the tag matches. At most 7/8 full.
#[derive(Debug, Default)]
struct Dedup {
    slots: Vec<u64>,
    len: usize,
}

impl Dedup {
    /// The index of the value with fingerprint `fp`, or the empty slot where it would go.
    fn find(&mut self, fp: Fingerprint, values: &ValueRecords) -> Result<u32, usize> {
        self.make_room(1, &values.a);
        let mask = self.slots.len() - 1;
        let tag = fp.a >> 32;
        let mut slot = fp.a as usize & mask;
        loop {
            let entry = self.slots[slot];
            if entry == 0 {
                return Err(slot);
            }
            if entry >> 32 == tag {
                let index = (entry as u32 - 1) as usize;
                if values.a[index] == fp.a && values.b[index] == fp.b {
                    return Ok(index as u32);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Fills `slot` (from [`find`](Self::find), no insertion since) with value `index`.
    fn insert(&mut self, slot: usize, fp: Fingerprint, index: u32) {
        self.slots[slot] = (fp.a >> 32) << 32 | u64::from(index + 1);
        self.len += 1;
    }

    /// Grows the table (doubling) until `more` values fit at most 7/8 full.
    fn make_room(&mut self, more: usize, a: &[u64]) {
        while (self.len + more) * 8 > self.slots.len() * 7 {
            self.grow(a);
        }
    }

    /// Asks the CPU to start loading the slot where a probe for `fp` begins.
    #[inline(always)]
    fn prefetch(&self, fp: Fingerprint) {
        let slot = fp.a as usize & (self.slots.len() - 1);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is only a hint and never faults; the address is inside `slots`.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(self.slots.as_ptr().add(slot).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Sizes the table for `len` values at most 7/8 full, if it is smaller.
    fn reserve(&mut self, len: usize, a: &[u64]) {
        let size = (len * 8 / 7 + 1).next_power_of_two();
        if size > self.slots.len() {
            self.rehash(size, a);
        }
    }

    fn grow(&mut self, a: &[u64]) {
        self.rehash((self.slots.len() * 2).max(1024), a);
    }

    fn rehash(&mut self, size: usize, a: &[u64]) {
        self.slots = vec![0; size];
        let mask = size - 1;
        for (index, &lane) in a.iter().enumerate() {
            let mut slot = lane as usize & mask;
            while self.slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (lane >> 32) << 32 | (index as u64 + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_interning_returns_the_same_id_for_the_same_name() {
        let mut builder = OracleBuilder::new();
        let nir = builder.field("nir");
        let iban = builder.field("iban");
        assert_ne!(nir, iban);
        assert_eq!(builder.field("nir"), nir);
        assert_eq!((nir.index(), iban.index()), (0, 1));
    }

    #[test]
    fn same_value_for_two_owners_is_an_error_naming_both() {
        let mut builder = OracleBuilder::new();
        let email = builder.field("email");
        let login = builder.field("login");
        builder.add(3, email, "marie.curie@example.fr").unwrap();
        let err = builder.add(9, login, "Marie.Curie@EXAMPLE.fr").unwrap_err();
        assert!(
            matches!(
                &err,
                OracleError::DuplicateValue {
                    first_owner: 3,
                    second_owner: 9,
                    first_field,
                    second_field,
                    ..
                } if first_field == "email" && second_field == "login"
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("owner 3 (field `email`)"), "{message}");
        assert!(message.contains("owner 9 (field `login`)"), "{message}");
        assert!(message.contains("`Ma******************fr`"), "{message}");
        assert!(
            !message.contains("curie"),
            "value must be masked: {message}"
        );
        assert!(
            message.contains("make the population's values unique"),
            "{message}"
        );
        assert_eq!(builder.build().unwrap().patterns(), 1);
    }

    #[test]
    fn same_value_twice_for_one_owner_is_ignored() {
        let mut builder = OracleBuilder::new();
        let nir = builder.field("nir");
        builder.add(1, nir, "185057800608436").unwrap();
        builder.add(1, nir, "185057800608436").unwrap();
        let oracle = builder.build().unwrap();
        assert_eq!((oracle.patterns(), oracle.owners()), (1, 1));
    }

    #[test]
    fn empty_short_or_padded_values_are_rejected() {
        let mut builder = OracleBuilder::new();
        let name = builder.field("first_name");
        assert!(matches!(
            builder.add(1, name, ""),
            Err(OracleError::EmptyValue { owner: 1, .. })
        ));
        let err = builder.add(1, name, "Zoé").unwrap_err();
        assert!(
            matches!(err, OracleError::ValueTooShort { chars: 3, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("`Zoé` has 3 characters, fewer than 5"),
            "{err}"
        );
        let err = builder.add(1, name, " Jean Dupont").unwrap_err();
        assert!(
            matches!(err, OracleError::SurroundingWhitespace { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("` J********nt`"), "{err}");
        assert!(err.to_string().contains("trim it"), "{err}");
        builder.add(1, name, "Élise").unwrap();
        assert_eq!(builder.build().unwrap().patterns(), 1);
    }

    #[test]
    fn field_id_from_another_builder_is_rejected() {
        let mut other = OracleBuilder::new();
        other.field("nir");
        let foreign = other.field("iban");
        let mut builder = OracleBuilder::new();
        builder.field("nir");
        let err = builder
            .add(5, foreign, "FR7630006000011234567890189")
            .unwrap_err();
        assert!(
            matches!(
                err,
                OracleError::UnknownField {
                    owner: 5,
                    field: 1,
                    known: 1
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn owner_in_two_households_fails_the_build() {
        let mut builder = OracleBuilder::new();
        builder.household(5, 2);
        builder.household(5, 2);
        builder.household(5, 7);
        let err = builder.build().unwrap_err();
        assert!(matches!(
            err,
            OracleError::HouseholdConflict {
                owner: 5,
                first: 2,
                second: 7
            }
        ));
        assert!(err.to_string().contains("exactly one household"), "{err}");
    }

    #[test]
    fn empty_builder_builds_an_oracle_that_sees_nothing() {
        let oracle = OracleBuilder::new().build().unwrap();
        assert_eq!((oracle.owners(), oracle.patterns()), (0, 0));
        assert!(oracle.scan(b"Jean Dupont 185057800608436").is_empty());
    }
}
