//! The kinds of identifying value whose presentations the oracle knows (NIR, IBAN, French phone,
//! e-mail, exact text): each value's canonical forms, and a column's kind inferred from its values.

use std::fmt;

/// What a watched value is, so the oracle knows how pages print it.
///
/// The oracle indexes a value's *canonical* form (letters and digits only for the grouped
/// kinds) and finds it in every presentation `presentation.rs` describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ValueKind {
    /// Matched as written (ASCII case aside), nothing else.
    #[default]
    Text,
    /// An e-mail address: any ASCII case, and its characters HTML-, JSON- or percent-escaped.
    Email,
    /// A NIR (15 characters, or the 13 without the key): spaced, the key apart, escaped.
    Nir,
    /// An IBAN: in groups of four (the last one short), any case, escaped.
    Iban,
    /// A French phone number: in pairs, with dots or dashes, `+33 6 …`, `+33 (0)6 …`, `0033 6 …`.
    PhoneFr,
}

/// The separators the grouped kinds may carry between groups, as code points.
pub const SEPARATORS: [char; 6] = [' ', '\u{a0}', '\u{202f}', '\u{2009}', '.', '-'];

impl ValueKind {
    /// Every kind, in the order inference tries them (text last: it fits everything).
    pub const ALL: [ValueKind; 5] = [
        ValueKind::Nir,
        ValueKind::Iban,
        ValueKind::PhoneFr,
        ValueKind::Email,
        ValueKind::Text,
    ];

    /// The name scenario files use.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Text => "text",
            ValueKind::Email => "email",
            ValueKind::Nir => "nir",
            ValueKind::Iban => "iban",
            ValueKind::PhoneFr => "phone_fr",
        }
    }

    /// The kind named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<ValueKind> {
        ValueKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind's values are letters and digits in groups (separators between them).
    pub(super) fn is_grouped(self) -> bool {
        matches!(self, ValueKind::Nir | ValueKind::Iban | ValueKind::PhoneFr)
    }

    /// Bit `i`: a separator may follow the first `i` characters of the canonical form.
    pub(super) fn breaks(self) -> u64 {
        match self {
            // Metropolitan `1 84 12 2A 004 016 33`, overseas `1 84 12 976 12 345 67`, and the
            // 13 characters and the key apart.
            ValueKind::Nir => bits(&[1, 3, 5, 7, 8, 10, 13]),
            // Groups of four: up to 34 characters.
            ValueKind::Iban => bits(&[4, 8, 12, 16, 20, 24, 28, 32]),
            // Pairs, and the 13-digit synthetic numbers' `06 39 98 123 4567`.
            ValueKind::PhoneFr => bits(&[2, 4, 6, 8, 9]),
            ValueKind::Text | ValueKind::Email => 0,
        }
    }

    /// The forms the oracle indexes for `value` (the NIR's 13-character body beside the NIR),
    /// or `None` when `value` is not of this kind.
    pub fn canonical(self, value: &str) -> Option<Vec<String>> {
        match self {
            ValueKind::Text => Some(vec![value.to_owned()]),
            ValueKind::Email => is_email(value).then(|| vec![value.to_owned()]),
            ValueKind::Nir => {
                let compact = compact(value)?;
                match compact.len() {
                    15 if nir_key(&compact.as_bytes()[..13])
                        == Some(two_digits(&compact.as_bytes()[13..])?) =>
                    {
                        Some(vec![compact[..13].to_owned(), compact])
                    }
                    13 if nir_key(compact.as_bytes()).is_some() => Some(vec![compact]),
                    _ => None,
                }
            }
            ValueKind::Iban => {
                let compact = compact(value)?;
                is_iban(compact.as_bytes()).then(|| vec![compact])
            }
            ValueKind::PhoneFr => french_phone(value).map(|national| vec![national]),
        }
    }

    /// The kind every one of `values` has (a NIR with its key, an IBAN whose check holds, a
    /// 10-digit French number, an e-mail address), else [`ValueKind::Text`]. No values: text.
    pub fn infer<'a>(values: impl IntoIterator<Item = &'a str> + Clone) -> ValueKind {
        if values.clone().into_iter().next().is_none() {
            return ValueKind::Text;
        }
        let fits = |kind: ValueKind, value: &str| match kind {
            ValueKind::Nir => compact(value).is_some_and(|c| c.len() == 15),
            ValueKind::PhoneFr => french_phone(value).is_some_and(|n| n.len() == 10),
            _ => true,
        } && kind.canonical(value).is_some();
        ValueKind::ALL
            .into_iter()
            .find(|&kind| values.clone().into_iter().all(|v| fits(kind, v)))
            .unwrap_or(ValueKind::Text)
    }
}

impl ValueKind {
    /// The canonical forms of the value a page shows in `span` (a sighting's bytes): escapes
    /// decoded, `+` read as a space between groups, then [`canonical`](Self::canonical). Empty
    /// when the span is no value of this kind. What a check of the oracle's sightings compares.
    pub fn read_back(self, span: &[u8]) -> Vec<String> {
        let mut decoded = String::new();
        let mut at = 0;
        while at < span.len() {
            let unit = super::presentation::decode(span, at);
            let plus_as_space = unit.ch == '+' && !unit.escaped && self.is_grouped() && at > 0;
            decoded.push(if plus_as_space { ' ' } else { unit.ch });
            at += unit.len;
        }
        self.canonical(&decoded).unwrap_or_default()
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn bits(positions: &[u32]) -> u64 {
    positions.iter().fold(0, |mask, p| mask | 1 << p)
}

/// `value` without separators, uppercased, if only ASCII letters and digits are left.
fn compact(value: &str) -> Option<String> {
    let out: String = value
        .chars()
        .filter(|c| !SEPARATORS.contains(c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!out.is_empty() && out.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(out)
}

/// The NIR key of a 13-character body (2A → 19, 2B → 18), if it has a NIR's shape.
fn nir_key(body: &[u8]) -> Option<u8> {
    if body.len() != 13 || !(b'1'..=b'8').contains(&body[0]) {
        return None;
    }
    let mut n = 0u64;
    for (i, &c) in body.iter().enumerate() {
        let digit = match (i, c) {
            (5, b'2') if matches!(body[6], b'A' | b'B') => 1,
            (6, b'A') => 9,
            (6, b'B') => 8,
            (_, b'0'..=b'9') => c - b'0',
            _ => return None,
        };
        n = n * 10 + u64::from(digit);
    }
    Some((97 - n % 97) as u8)
}

fn two_digits(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// Any country's IBAN: two letters, two check digits, 11 to 30 letters or digits; mod 97 = 1.
fn is_iban(compact: &[u8]) -> bool {
    if !(15..=34).contains(&compact.len())
        || !compact[..2].iter().all(u8::is_ascii_uppercase)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let rest = compact[4..].iter().chain(&compact[..4]);
    let remainder = rest.fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A' + 10)) % 97
        }
    });
    remainder == 1
}

/// The national form (`0` and 9 digits, or crossleak's 13-digit synthetic numbers) of a French
/// number written in any of its presentations.
fn french_phone(value: &str) -> Option<String> {
    let digits: String = value
        .replace("(0)", "")
        .chars()
        .filter(|c| !SEPARATORS.contains(c))
        .collect();
    let national = if let Some(rest) = digits
        .strip_prefix("+33")
        .or_else(|| digits.strip_prefix("0033"))
    {
        format!("0{rest}")
    } else {
        digits
    };
    let bytes = national.as_bytes();
    let shaped = matches!(bytes.len(), 10 | 13)
        && bytes[0] == b'0'
        && (b'1'..=b'9').contains(&bytes[1])
        && bytes.iter().all(u8::is_ascii_digit);
    shaped.then_some(national)
}

/// One `@`, no spaces or control characters, a local part and a dotted domain.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && value.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms_strip_presentations() {
        assert_eq!(
            ValueKind::Iban.canonical("fr76 3000 6000 0112 3456 7890 189"),
            Some(vec!["FR7630006000011234567890189".to_owned()])
        );
        assert_eq!(
            ValueKind::Nir.canonical("1 84 12 2A 004 016 33"),
            Some(vec![
                "184122A004016".to_owned(),
                "184122A00401633".to_owned()
            ])
        );
        assert_eq!(ValueKind::Nir.canonical("1 84 12 2A 004 016 34"), None);
        for phone in [
            "06 39 98 05 96",
            "+33 6 39 98 05 96",
            "+33 (0)6 39 98 05 96",
            "0033639980596",
        ] {
            assert_eq!(
                ValueKind::PhoneFr.canonical(phone),
                Some(vec!["0639980596".to_owned()]),
                "{phone}"
            );
        }
        assert_eq!(ValueKind::PhoneFr.canonical("+44 20 7946 0958"), None);
        assert_eq!(ValueKind::Email.canonical("not an address"), None);
        assert_eq!(
            ValueKind::Iban.canonical("FR7630006000011234567890188"),
            None
        );
    }

    #[test]
    fn inference_reads_the_kind_from_every_value() {
        assert_eq!(
            ValueKind::infer([
                "FR7630006000011234567890189",
                "FR76 3000 6000 0112 3456 7890 189"
            ]),
            ValueKind::Iban
        );
        assert_eq!(ValueKind::infer(["184122A00401633"]), ValueKind::Nir);
        assert_eq!(ValueKind::infer(["184122A004016"]), ValueKind::Text);
        assert_eq!(
            ValueKind::infer(["06 39 98 05 96", "0639980597"]),
            ValueKind::PhoneFr
        );
        assert_eq!(ValueKind::infer(["a@x.test", "b@x.test"]), ValueKind::Email);
        assert_eq!(ValueKind::infer(["a@x.test", "1234567"]), ValueKind::Text);
        assert_eq!(ValueKind::infer(["1234567"]), ValueKind::Text);
        assert_eq!(ValueKind::infer(Vec::<&str>::new()), ValueKind::Text);
    }

    #[test]
    fn names_round_trip() {
        for kind in ValueKind::ALL {
            assert_eq!(ValueKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ValueKind::from_name("phone"), None);
    }
}
