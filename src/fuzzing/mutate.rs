//! Mutations of a login identifier: the ways people and broken clients mistype a NIR or a numéro
//! allocataire (separators, case, look-alike digits, a missing or wrong key, Corsica written 20…).
//! Pure string work, total on any input: the in-process targets and the network fuzzer share it.

use crate::identifiers::{Nir, NirBody};
use crate::population::Beneficiary;
use serde::{Deserialize, Serialize};

/// Which identifier a login form takes, by the scenario variable that fills it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentifierKind {
    /// The 15-character NIR (`{{nir}}`).
    Nir,
    /// The 13 characters without the key (`{{nir13}}`), what the CAF asked for from 2021.
    NirBody,
    /// The 7-digit numéro allocataire (`{{numero_allocataire}}`).
    Numero,
}

impl IdentifierKind {
    /// The kind a scenario variable names, if it names an identifier.
    pub fn of_variable(name: &str) -> Option<Self> {
        match name {
            "nir" => Some(Self::Nir),
            "nir13" => Some(Self::NirBody),
            "numero_allocataire" => Some(Self::Numero),
            _ => None,
        }
    }

    pub fn variable(self) -> &'static str {
        match self {
            Self::Nir => "nir",
            Self::NirBody => "nir13",
            Self::Numero => "numero_allocataire",
        }
    }

    /// `beneficiary`'s identifier of this kind, as the population writes it.
    pub fn value(self, beneficiary: &Beneficiary) -> String {
        match self {
            Self::Nir => beneficiary.nir.as_str().to_owned(),
            Self::NirBody => beneficiary.nir.body().as_str().to_owned(),
            Self::Numero => beneficiary.numero_allocataire.as_str().to_owned(),
        }
    }
}

/// One way to mistype an identifier. Each keeps the owner's intent: a person typing their own
/// number, badly. None may ever open another account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mutation {
    /// The identifier as the population has it: the baseline every other attempt is judged against.
    Unchanged,
    /// The printed groups (`1 84 12 2A 004 016 33`) split by this separator.
    Grouped(char),
    /// This separator between every two characters.
    Interleaved(char),
    Lowercase,
    /// Digits written as full-width digits (`１８４…`, U+FF10–FF19), letters too.
    FullWidth,
    /// Digits written as Arabic-Indic digits (U+0660–0669).
    ArabicIndicDigits,
    /// Digits written as mathematical bold digits (U+1D7CE–1D7D7).
    MathematicalDigits,
    /// The key dropped (15 characters → 13) or added (13 → 15).
    ToggledKey,
    /// The key replaced by a wrong one (added when there was none); a numéro's last digit changed.
    WrongKey,
    /// Corsica's `2A`/`2B` written `20`, the department code before 1976.
    CorsicaAsTwenty,
    /// Corsica's `2A`/`2B` written `19`/`18`, as the key arithmetic reads them.
    CorsicaAsKeyDigits,
    /// A metropolitan department written `2A` (the other direction of the 2A↔20 confusion).
    DepartmentAsCorsica,
    /// This many zeros in front.
    LeadingZeros(u8),
    /// The first `0` removed: a dropped digit, or a leading zero a number-minded field ate.
    DroppedZero,
    /// This many characters cut from the end.
    Truncated(u8),
    /// The identifier repeated until it is at least this many characters long.
    Overlong(u16),
    /// This character inserted in the middle (NUL, CR LF, zero-width space, BOM, RTL override…).
    Control(char),
    /// Spaces, tabs and a newline around the identifier.
    Padded,
    Empty,
}

impl Mutation {
    /// A fixed menu of concrete mutations, each class with the parameters that matter; the network
    /// fuzzer walks it for every beneficiary.
    pub const MENU: [Mutation; 36] = [
        Mutation::Unchanged,
        Mutation::Grouped(' '),
        Mutation::Grouped('-'),
        Mutation::Grouped('.'),
        Mutation::Grouped('\u{a0}'),
        Mutation::Grouped('\t'),
        Mutation::Interleaved(' '),
        Mutation::Interleaved('\u{2009}'),
        Mutation::Lowercase,
        Mutation::FullWidth,
        Mutation::ArabicIndicDigits,
        Mutation::MathematicalDigits,
        Mutation::ToggledKey,
        Mutation::WrongKey,
        Mutation::CorsicaAsTwenty,
        Mutation::CorsicaAsKeyDigits,
        Mutation::DepartmentAsCorsica,
        Mutation::LeadingZeros(1),
        Mutation::LeadingZeros(2),
        Mutation::DroppedZero,
        Mutation::Truncated(1),
        Mutation::Truncated(2),
        Mutation::Truncated(5),
        Mutation::Overlong(64),
        Mutation::Overlong(4096),
        Mutation::Control('\0'),
        Mutation::Control('\r'),
        Mutation::Control('\n'),
        Mutation::Control('\u{1b}'),
        Mutation::Control('\u{7f}'),
        Mutation::Control('\u{200b}'),
        Mutation::Control('\u{feff}'),
        Mutation::Control('\u{202e}'),
        Mutation::Control('%'),
        Mutation::Padded,
        Mutation::Empty,
    ];

    /// The mutation a fuzzer's byte stands for (and a second byte for its parameter).
    pub fn fold(selector: u8, parameter: u8) -> Mutation {
        const SEPARATORS: [char; 8] = [' ', '-', '.', '/', '_', '\u{a0}', '\t', '\u{3000}'];
        const CONTROLS: [char; 10] = [
            '\0', '\r', '\n', '\t', '\u{1b}', '\u{7f}', '\u{200b}', '\u{feff}', '\u{202e}', '&',
        ];
        let separator = SEPARATORS[usize::from(parameter) % SEPARATORS.len()];
        match selector % 20 {
            0 => Mutation::Unchanged,
            1 => Mutation::Grouped(separator),
            2 => Mutation::Interleaved(separator),
            3 => Mutation::Lowercase,
            4 => Mutation::FullWidth,
            5 => Mutation::ArabicIndicDigits,
            6 => Mutation::MathematicalDigits,
            7 => Mutation::ToggledKey,
            8 => Mutation::WrongKey,
            9 => Mutation::CorsicaAsTwenty,
            10 => Mutation::CorsicaAsKeyDigits,
            11 => Mutation::DepartmentAsCorsica,
            12 => Mutation::LeadingZeros(parameter % 4 + 1),
            13 => Mutation::DroppedZero,
            14 => Mutation::Truncated(parameter % 15 + 1),
            15 => Mutation::Overlong(u16::from(parameter) * 16 + 16),
            16 => Mutation::Control(CONTROLS[usize::from(parameter) % CONTROLS.len()]),
            17 => Mutation::Padded,
            18 => Mutation::Empty,
            _ => Mutation::Grouped(' '),
        }
    }

    /// A short name for reports: `grouped(' ')`, `full_width`.
    pub fn label(self) -> String {
        match self {
            Mutation::Grouped(c) => format!("grouped({c:?})"),
            Mutation::Interleaved(c) => format!("interleaved({c:?})"),
            Mutation::LeadingZeros(n) => format!("leading_zeros({n})"),
            Mutation::Truncated(n) => format!("truncated({n})"),
            Mutation::Overlong(n) => format!("overlong({n})"),
            Mutation::Control(c) => format!("control({c:?})"),
            other => {
                let debug = format!("{other:?}");
                let mut out = String::new();
                for (i, c) in debug.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }

    /// `identifier` (of `kind`) mistyped this way. Total: any input gives some output.
    pub fn apply(self, identifier: &str, kind: IdentifierKind) -> String {
        match self {
            Mutation::Unchanged => identifier.to_owned(),
            Mutation::Grouped(separator) => join(&groups(identifier, kind), &separator.to_string()),
            Mutation::Interleaved(separator) => {
                let chars: Vec<String> = identifier.chars().map(String::from).collect();
                join(&chars, &separator.to_string())
            }
            Mutation::Lowercase => identifier.to_lowercase(),
            Mutation::FullWidth => identifier.chars().map(full_width).collect(),
            Mutation::ArabicIndicDigits => map_digits(identifier, '\u{660}'),
            Mutation::MathematicalDigits => map_digits(identifier, '\u{1d7ce}'),
            Mutation::ToggledKey => toggle_key(identifier, kind),
            Mutation::WrongKey => wrong_key(identifier, kind),
            Mutation::CorsicaAsTwenty => replace_department(identifier, |d| {
                matches!(d, "2A" | "2B" | "2a" | "2b").then(|| "20".to_owned())
            }),
            Mutation::CorsicaAsKeyDigits => replace_department(identifier, |d| match d {
                "2A" | "2a" => Some("19".to_owned()),
                "2B" | "2b" => Some("18".to_owned()),
                _ => None,
            }),
            Mutation::DepartmentAsCorsica => replace_department(identifier, |d| {
                (d.chars().all(|c| c.is_ascii_digit()) && d != "97" && d != "99")
                    .then(|| "2A".to_owned())
            }),
            Mutation::LeadingZeros(n) => {
                let mut out = "0".repeat(usize::from(n));
                out.push_str(identifier);
                out
            }
            Mutation::DroppedZero => match identifier.find('0') {
                Some(at) => {
                    let mut out = identifier.to_owned();
                    out.remove(at);
                    out
                }
                None => identifier.to_owned(),
            },
            Mutation::Truncated(n) => {
                let keep = identifier.chars().count().saturating_sub(usize::from(n));
                identifier.chars().take(keep).collect()
            }
            Mutation::Overlong(n) => {
                let mut out = identifier.to_owned();
                if identifier.is_empty() {
                    out = "1".repeat(usize::from(n));
                }
                while out.len() < usize::from(n) {
                    out.push_str(identifier);
                }
                out
            }
            Mutation::Control(c) => {
                let middle = identifier.chars().count() / 2;
                let mut out: String = identifier.chars().take(middle).collect();
                out.push(c);
                out.extend(identifier.chars().skip(middle));
                out
            }
            Mutation::Padded => format!(" \t{identifier}\n "),
            Mutation::Empty => String::new(),
        }
    }
}

/// What a person means by `text`: look-alike digits and letters folded to ASCII, uppercase,
/// separators, control and invisible characters dropped. Only to decide whose identifier an
/// input designates; never what a login parser should accept.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{ff10}'..='\u{ff19}' | '\u{ff21}'..='\u{ff3a}' | '\u{ff41}'..='\u{ff5a}' => {
                    char::from_u32(c as u32 - 0xfee0)?
                }
                c => unicode_digit(c).unwrap_or(c),
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_uppercase())
        })
        .collect()
}

/// Whether `text` (typed at a login of `kind`) designates `beneficiary`: the same identifier
/// once look-alikes and separators are folded; a NIR with or without its key.
pub fn designates(text: &str, kind: IdentifierKind, beneficiary: &Beneficiary) -> bool {
    let typed = normalize(text);
    match kind {
        IdentifierKind::Nir | IdentifierKind::NirBody => {
            typed == beneficiary.nir.as_str() || typed == beneficiary.nir.body().as_str()
        }
        IdentifierKind::Numero => typed == beneficiary.numero_allocataire.as_str(),
    }
}

/// Decimal digits of the other Unicode scripts the mutations use.
fn unicode_digit(c: char) -> Option<char> {
    let code = c as u32;
    let zero = [
        0x660, 0x6f0, 0x966, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
    ]
    .into_iter()
    .find(|zero| (*zero..zero + 10).contains(&code))?;
    char::from_digit(code - zero, 10)
}

fn full_width(c: char) -> char {
    match c {
        '0'..='9' | 'A'..='Z' | 'a'..='z' => char::from_u32(c as u32 + 0xfee0).unwrap_or(c),
        c => c,
    }
}

fn map_digits(text: &str, zero: char) -> String {
    text.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) if c.is_ascii_digit() => char::from_u32(zero as u32 + d).unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn join(parts: &[String], separator: &str) -> String {
    parts.join(separator)
}

/// The printed groups of an identifier; anything unparseable is split in threes.
fn groups(identifier: &str, kind: IdentifierKind) -> Vec<String> {
    let spaced = match kind {
        IdentifierKind::Nir => Nir::parse(identifier).ok().map(|nir| nir.spaced()),
        IdentifierKind::NirBody => NirBody::parse(identifier).ok().map(|body| {
            let spaced = body.with_key().spaced();
            spaced[..spaced.len() - 3].to_owned()
        }),
        IdentifierKind::Numero => None,
    };
    match spaced {
        Some(spaced) => spaced.split(' ').map(str::to_owned).collect(),
        None => {
            let chars: Vec<char> = identifier.chars().collect();
            chars.chunks(3).map(|c| c.iter().collect()).collect()
        }
    }
}

fn toggle_key(identifier: &str, kind: IdentifierKind) -> String {
    match kind {
        IdentifierKind::Nir => identifier.chars().take(13).collect(),
        IdentifierKind::NirBody => match NirBody::parse(identifier) {
            Ok(body) => body.with_key().as_str().to_owned(),
            Err(_) => format!("{identifier}00"),
        },
        IdentifierKind::Numero => format!("{identifier}00"),
    }
}

fn wrong_key(identifier: &str, kind: IdentifierKind) -> String {
    let body: String = identifier.chars().take(13).collect();
    match kind {
        IdentifierKind::Nir | IdentifierKind::NirBody => {
            let key = NirBody::parse(&body).map_or(0, |b| b.key());
            format!("{body}{:02}", (key % 97) + 1)
        }
        IdentifierKind::Numero => {
            let mut chars: Vec<char> = identifier.chars().collect();
            if let Some(last) = chars.last_mut() {
                *last = match last.to_digit(10) {
                    Some(d) => char::from(b'0' + ((d + 1) % 10) as u8),
                    None => '0',
                };
            }
            chars.into_iter().collect()
        }
    }
}

/// The NIR's department (characters 5 and 6) replaced when `replace` says so.
fn replace_department(identifier: &str, replace: impl Fn(&str) -> Option<String>) -> String {
    let chars: Vec<char> = identifier.chars().collect();
    if chars.len() < 7 {
        return identifier.to_owned();
    }
    let department: String = chars[5..7].iter().collect();
    match replace(&department) {
        Some(code) => {
            let mut out: String = chars[..5].iter().collect();
            out.push_str(&code);
            out.extend(&chars[7..]);
            out
        }
        None => identifier.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{GenerateOptions, Population};

    fn person() -> Beneficiary {
        let population = Population::generate(&GenerateOptions {
            size: 5,
            seed: 3,
            ..GenerateOptions::default()
        })
        .expect("population");
        population.beneficiaries[0].clone()
    }

    #[test]
    fn every_mutation_is_total_and_look_alikes_still_designate_the_owner() {
        let me = person();
        for kind in [
            IdentifierKind::Nir,
            IdentifierKind::NirBody,
            IdentifierKind::Numero,
        ] {
            let own = kind.value(&me);
            for mutation in Mutation::MENU {
                let typed = mutation.apply(&own, kind);
                let keeps_meaning = matches!(
                    mutation,
                    Mutation::Unchanged
                        | Mutation::Grouped(_)
                        | Mutation::Interleaved(_)
                        | Mutation::Lowercase
                        | Mutation::FullWidth
                        | Mutation::ArabicIndicDigits
                        | Mutation::MathematicalDigits
                        | Mutation::Padded
                        | Mutation::Control(_)
                ) || (mutation == Mutation::ToggledKey
                    && kind != IdentifierKind::Numero);
                if keeps_meaning {
                    assert!(
                        designates(&typed, kind, &me),
                        "{mutation:?} {kind:?}: {typed:?}"
                    );
                }
            }
            for input in ["", "\u{ff10}", "2A", "é", "1 2", "\u{1d7ce}\u{1d7ce}"] {
                for selector in 0..=40 {
                    let _ = Mutation::fold(selector, selector.wrapping_mul(37)).apply(input, kind);
                }
            }
        }
    }

    #[test]
    fn corsica_mutations_rewrite_the_department_only() {
        assert_eq!(
            Mutation::CorsicaAsTwenty.apply("184122A004016", IdentifierKind::NirBody),
            "1841220004016"
        );
        assert_eq!(
            Mutation::CorsicaAsKeyDigits.apply("184122B004016", IdentifierKind::NirBody),
            "1841218004016"
        );
        assert_eq!(
            Mutation::DepartmentAsCorsica.apply("184127500401633", IdentifierKind::Nir),
            "184122A00401633"
        );
        assert_eq!(
            Mutation::Grouped('-').apply("184122A00401633", IdentifierKind::Nir),
            "1-84-12-2A-004-016-33"
        );
        assert_eq!(
            Mutation::Grouped(' ').apply("184122A004016", IdentifierKind::NirBody),
            "1 84 12 2A 004 016"
        );
    }

    #[test]
    fn normalize_folds_look_alikes_and_drops_separators() {
        assert_eq!(normalize("１ ８４-2a\u{200b}"), "1842A");
        assert_eq!(normalize("\u{661}\u{1d7cf}"), "11");
    }
}
