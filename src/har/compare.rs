//! Compares a recorded text with an export value the way the run's oracle reads pages: through
//! the value's kind (`crate::oracle::ValueKind`), its canonical forms and their presentations.

use crate::oracle::{ValueKind, MIN_VALUE_CHARS, SEPARATORS};

/// The kind `value` has on its own (a NIR, an IBAN, a French phone, an e-mail, else text).
pub fn kind_of(value: &str) -> ValueKind {
    ValueKind::infer([value])
}

/// Whether `value` is long enough to be attributed: the oracle refuses shorter values.
pub fn attributable(value: &str) -> bool {
    value.chars().count() >= MIN_VALUE_CHARS
}

/// Whether `text` (a sent field, a path segment) is `value` as a whole, in any presentation the
/// oracle recognises for the value's kind (a NIR's 13-character body is not the whole NIR). A
/// text value (a client number) may also be typed with the oracle's separators (`C 2000001`):
/// the request still names it, though a page printing it so is not a sighting.
pub fn same(text: &str, value: &str) -> bool {
    if !attributable(value) {
        return false;
    }
    let kind = kind_of(value);
    if kind == ValueKind::Text {
        let bare = |s: &str| -> String {
            s.chars()
                .filter(|c| !SEPARATORS.contains(c))
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        return ValueKind::Text
            .read_back(text.as_bytes())
            .first()
            .is_some_and(|read| bare(read) == bare(value));
    }
    let Some(forms) = kind.canonical(value) else {
        return false;
    };
    let read = kind.read_back(text.as_bytes());
    read.len() == forms.len()
        && read
            .iter()
            .zip(&forms)
            .all(|(r, f)| r.eq_ignore_ascii_case(f))
}

/// The form of `value` its presentations share: the longest canonical form of its kind.
pub fn canonical(value: &str) -> String {
    kind_of(value)
        .canonical(value)
        .and_then(|forms| forms.into_iter().max_by_key(String::len))
        .unwrap_or_else(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn presentations_of_the_same_value_are_the_same() {
        assert!(same(
            "FR76 3000 6000 0112 3456 7890 189",
            "FR7630006000011234567890189"
        ));
        assert!(same(
            "fr76\u{a0}3000\u{202f}6000 0112 3456 7890 189",
            "FR7630006000011234567890189"
        ));
        assert!(same("06.39.98.05.96", "0639980596"));
        assert!(same("+33 6 39 98 05 96", "0639980596"));
        assert!(same("+33 (0)6 39 98 05 96", "0639980596"));
        assert!(same("1 84 12 2A 004 016 33", "184122A00401633"));
        assert!(same(
            "alice.martin%40exemple.test",
            "Alice.Martin@exemple.test"
        ));
        assert!(same(
            "alice.martin&#64;exemple.test",
            "alice.martin@exemple.test"
        ));
        assert!(same(
            "fr76\u{2009}3000 6000 0112 3456 7890 189",
            "FR7630006000011234567890189"
        ));
        assert!(same("c\u{2009}2000\u{a0}001", "C-2000001"));
        assert!(!same("C-2000002", "C-2000001"));
        assert!(!same("0639980597", "0639980596"));
        assert!(!same("1234", "1234"), "too short to attribute");
        assert!(
            !same("184122A004016", "184122A00401633"),
            "the body is not the whole NIR"
        );
    }

    /// The old har comparison knew `+33`/`(0)` but not `0033`, and decoded only `@` escapes: each
    /// of these was `false` before it used the oracle's presentations.
    #[test]
    fn presentations_the_oracle_reads_are_recognised_in_a_recording() {
        assert!(same("0033 6 39 98 05 96", "0639980596"));
        assert!(same(
            "alice&#46;martin&#64;exemple.test",
            "alice.martin@exemple.test"
        ));
        assert!(same(
            "alice\\u002emartin\\u0040exemple.test",
            "alice.martin@exemple.test"
        ));
    }

    #[test]
    fn a_value_and_its_presentations_share_one_canonical_form() {
        assert_eq!(
            canonical("fr76 3000 6000 0112 3456 7890 189"),
            canonical("FR7630006000011234567890189")
        );
        assert_eq!(canonical("06 39 98 05 96"), "0639980596");
        assert_eq!(canonical("C-2000001"), "C-2000001");
    }

    proptest! {
        #[test]
        fn spacing_and_case_never_change_the_verdict(value in "[A-Z0-9]{5,20}", cut in 1usize..5) {
            let spaced: String = value
                .chars()
                .enumerate()
                .flat_map(|(i, c)| (i > 0 && i % cut == 0).then_some(' ').into_iter().chain([c]))
                .collect();
            prop_assert!(same(&spaced.to_lowercase(), &value));
        }
    }
}
