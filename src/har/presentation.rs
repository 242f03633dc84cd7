//! Compares a population value with how a recording shows it: spaces (also U+00A0, U+202F),
//! dots, dashes, case, percent-encoding, `&#64;`/`\u0040`, a phone's `+33`. Pure functions.

/// Values shorter than this, once reduced, are never looked for: they would match by chance.
pub const MIN_CHARS: usize = 5;

/// The text reduced to what every presentation of a value keeps: decoded, lowercase, without
/// separators.
pub fn reduce(text: &str) -> String {
    let decoded = if text.contains('%') {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        text.to_owned()
    };
    let decoded = decoded
        .replace("\\u0040", "@")
        .replace("&#64;", "@")
        .replace("&#x40;", "@")
        .replace("&commat;", "@")
        .replace("&amp;", "&");
    decoded
        .chars()
        .filter(|c| !is_separator(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '.' | '-' | '(' | ')' | '+' | '\u{a0}' | '\u{202f}')
}

/// The reduced forms a value may take in a page: itself and, for a French phone number
/// (`0639981234`), its international forms (`+33 6…`, `+33 (0)6…`, `0033 6…`).
pub fn forms(value: &str) -> Vec<String> {
    let reduced = reduce(value);
    if reduced.chars().count() < MIN_CHARS {
        return Vec::new();
    }
    let mut out = vec![reduced.clone()];
    if reduced.len() == 10
        && reduced.starts_with('0')
        && reduced.bytes().all(|b| b.is_ascii_digit())
    {
        let national = &reduced[1..];
        out.push(format!("33{national}"));
        out.push(format!("330{national}"));
    }
    out
}

/// Whether `haystack` (already [`reduce`]d) shows `value` in any of its forms.
pub fn shows(haystack: &str, value: &str) -> bool {
    forms(value)
        .iter()
        .any(|form| haystack.contains(form.as_str()))
}

/// Whether `text` is `value` as a whole, however it is presented.
pub fn same(text: &str, value: &str) -> bool {
    let text = reduce(text);
    forms(value).contains(&text)
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
        assert!(!same("0639980597", "0639980596"));
        assert!(!same("1234", "1234"), "too short to attribute");
    }

    #[test]
    fn a_page_shows_a_value_inside_its_text() {
        let page = reduce("<dd>Numéro : 1 84 12 2A 004 016 33</dd><dd>alice\\u0040x.test</dd>");
        assert!(shows(&page, "184122A00401633"));
        assert!(shows(&page, "184122A004016"));
        assert!(shows(&page, "alice@x.test"));
        assert!(!shows(&page, "284122A004016"));
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
            let page = format!("<p>{spaced}</p>");
            prop_assert!(shows(&reduce(&page), &value));
        }
    }
}
