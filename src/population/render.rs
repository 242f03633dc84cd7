//! Every way a page may show a beneficiary's identifying values, each one theirs alone.
//! Pure string formatting over the stored fields; never panics, even on malformed records.

use super::{Beneficiary, Field};

/// Digit groups of a 10-digit French number, and of the 13-digit synthetic numbers used past
/// the 60,000 fiction numbers. The long grouping never ends in two pairs, so no spaced 10-digit
/// number is ever a whole-word part of a spaced 13-digit one.
const SHORT_GROUPS: &[usize] = &[2, 2, 2, 2, 2];
const LONG_GROUPS: &[usize] = &[2, 2, 2, 3];

impl Beneficiary {
    /// Every rendering of this beneficiary's identifying values a page may carry: NIR (compact,
    /// spaced, 13-character body), numéro allocataire, IBAN and spare IBAN (compact, grouped),
    /// phone (compact, spaced, `+33 6 …`, `+336…`) and e-mail (lowercase).
    pub fn identifying_values(&self) -> Vec<(Field, String)> {
        vec![
            (Field::Nir, self.nir.as_str().to_owned()),
            (Field::Nir, self.nir.spaced()),
            (Field::Nir, self.nir.body().as_str().to_owned()),
            (
                Field::NumeroAllocataire,
                self.numero_allocataire.as_str().to_owned(),
            ),
            (Field::Iban, self.iban.clone()),
            (Field::Iban, self.iban_grouped()),
            (Field::WrittenIban, self.spare_iban.clone()),
            (Field::WrittenIban, self.spare_iban_grouped()),
            (Field::Phone, self.phone.clone()),
            (Field::Phone, self.phone_spaced()),
            (Field::Phone, self.phone_international_spaced()),
            (Field::Phone, self.phone_international()),
            (Field::Email, self.email.to_lowercase()),
        ]
    }

    /// The values the oracle indexes, one per field, in their canonical form: the oracle finds
    /// every other presentation from the field's kind ([`Field::kind`]), the NIR's 13-character
    /// body included.
    pub fn watched_values(&self) -> Vec<(Field, String)> {
        vec![
            (Field::Nir, self.nir.as_str().to_owned()),
            (
                Field::NumeroAllocataire,
                self.numero_allocataire.as_str().to_owned(),
            ),
            (Field::Iban, self.iban.clone()),
            (Field::WrittenIban, self.spare_iban.clone()),
            (Field::Phone, self.phone.clone()),
            (Field::Email, self.email.to_lowercase()),
        ]
    }

    /// `06 39 98 12 34` (13-digit synthetic numbers: `06 39 98 123 4567`).
    pub fn phone_spaced(&self) -> String {
        group(&self.phone, self.phone_groups())
    }

    /// `+33 6 39 98 12 34`.
    pub fn phone_international_spaced(&self) -> String {
        let national = national_digits(&self.phone);
        let groups: &[usize] = if self.phone.chars().count() == 10 {
            &[1, 2, 2, 2, 2]
        } else {
            &[1, 2, 2, 3]
        };
        format!("+33 {}", group(national, groups))
    }

    /// `+33639981234`.
    pub fn phone_international(&self) -> String {
        format!("+33{}", national_digits(&self.phone))
    }

    /// The IBAN in groups of 4, as on a RIB: `FR76 3000 1007 9412 3456 7890 185`.
    pub fn iban_grouped(&self) -> String {
        group(&self.iban, &[4; 7])
    }

    /// The spare IBAN in groups of 4.
    pub fn spare_iban_grouped(&self) -> String {
        group(&self.spare_iban, &[4; 7])
    }

    fn phone_groups(&self) -> &'static [usize] {
        if self.phone.chars().count() == 10 {
            SHORT_GROUPS
        } else {
            LONG_GROUPS
        }
    }
}

/// The number without its trunk `0`.
fn national_digits(phone: &str) -> &str {
    phone.strip_prefix('0').unwrap_or(phone)
}

/// Splits `text` into groups of the given sizes, then one group with whatever is left.
fn group(text: &str, sizes: &[usize]) -> String {
    let mut out = String::with_capacity(text.len() + sizes.len() + 1);
    if text.is_ascii() {
        // Byte slices: every value a generated population holds, and far cheaper per call.
        let mut rest = text;
        for size in sizes {
            if rest.is_empty() {
                break;
            }
            let (head, tail) = rest.split_at((*size).min(rest.len()));
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(head);
            rest = tail;
        }
        if !rest.is_empty() {
            out.push(' ');
            out.push_str(rest);
        }
        return out;
    }
    let mut chars = text.chars().peekable();
    let mut sizes = sizes.iter();
    while chars.peek().is_some() {
        if !out.is_empty() {
            out.push(' ');
        }
        match sizes.next() {
            Some(size) => out.extend(chars.by_ref().take(*size)),
            None => out.extend(chars.by_ref()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn renders_every_form_of_a_fiction_phone() {
        let b = sample();
        assert_eq!(b.phone, "0639981234");
        assert_eq!(b.phone_spaced(), "06 39 98 12 34");
        assert_eq!(b.phone_international_spaced(), "+33 6 39 98 12 34");
        assert_eq!(b.phone_international(), "+33639981234");
    }

    #[test]
    fn renders_long_synthetic_phones_without_a_spaced_short_number_inside() {
        let mut b = sample();
        b.phone = "0639981234567".into();
        assert_eq!(b.phone_spaced(), "06 39 98 123 4567");
        assert_eq!(b.phone_international_spaced(), "+33 6 39 98 123 4567");
        assert_eq!(b.phone_international(), "+33639981234567");
        assert!(!b.phone_spaced().contains("06 39 98 12 34"));
    }

    #[test]
    fn lists_thirteen_renderings() {
        let b = sample();
        let values = b.identifying_values();
        let text: Vec<&str> = values.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(
            text,
            [
                "184122A00401633",
                "1 84 12 2A 004 016 33",
                "184122A004016",
                "0000042",
                "FR7630001007941234567890185",
                "FR76 3000 1007 9412 3456 7890 185",
                "FR1420041010050500013M02606",
                "FR14 2004 1010 0505 0001 3M02 606",
                "0639981234",
                "06 39 98 12 34",
                "+33 6 39 98 12 34",
                "+33639981234",
                "helene.lefevre.0000042@exemple.test",
            ]
        );
        let fields: Vec<Field> = values.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields.iter().filter(|f| **f == Field::Nir).count(), 3);
        assert_eq!(fields.iter().filter(|f| **f == Field::Phone).count(), 4);
        assert_eq!(
            fields.iter().filter(|f| **f == Field::WrittenIban).count(),
            2
        );
    }

    #[test]
    fn grouping_malformed_values_does_not_panic() {
        let mut b = sample();
        b.phone = "é".into();
        b.iban = "FRé".into();
        assert_eq!(b.phone_spaced(), "é");
        assert_eq!(b.iban_grouped(), "FRé");
        assert_eq!(group("", &[2]), "");
        assert_eq!(group("123456", &[2]), "12 3456");
        assert_eq!(group("1234", &[2, 2, 2]), "12 34");
        assert_eq!(group("é123", &[2]), "é1 23");
    }
}
