//! How pages print values: separators between groups, `+33` prefixes, HTML, JSON and percent
//! escapes. Reads a presentation from a position back to its canonical form; no I/O, no tables.
//!
//! The scan calls [`grouped`] and [`escaped`] only at positions that passed its start filter,
//! so their cost is per candidate value, never per byte of the page. The builder asks
//! [`grouped_starts`] and [`escaped_starts`] for the raw first bytes of every presentation, so
//! those positions pass.

use super::fingerprint::{is_word_byte, leading_run};
use super::kind::{ValueKind, SEPARATORS};

/// The longest canonical grouped value (an IBAN has at most 34 characters).
pub(super) const GROUPED_CAP: usize = 34;
/// The longest e-mail address whose escaped forms are matched, in decoded bytes.
pub(super) const ESCAPED_CAP: usize = 128;

/// One character of a page, as a portal may have encoded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unit {
    pub(super) ch: char,
    /// Bytes of the page it takes.
    pub(super) len: usize,
    /// Written as an entity, a percent-encoding or a JSON escape.
    pub(super) escaped: bool,
}

/// The character at `at` (which must be inside `h`): `&#64;`, `&#x40;`, `&amp;`-style entities,
/// `%40` (UTF-8 sequences too), JSON's `\u0040`, `\/`, `\n` and the like, or the UTF-8 character
/// there. A byte that starts
/// no valid encoding is itself (U+FFFD for a stray non-ASCII byte).
pub(super) fn decode(h: &[u8], at: usize) -> Unit {
    let literal = |ch: char, len: usize| Unit {
        ch,
        len,
        escaped: false,
    };
    let escaped = |ch: char, len: usize| Unit {
        ch,
        len,
        escaped: true,
    };
    let b = h[at];
    let rest = &h[at + 1..];
    match b {
        b'&' => entity(rest).map_or(literal('&', 1), |(ch, len)| escaped(ch, len + 1)),
        b'%' => percent(&h[at..]).map_or(literal('%', 1), |(ch, len)| escaped(ch, len)),
        b'\\' => match rest {
            [b'u', a, b, c, d, ..] => hex(&[*a, *b, *c, *d])
                .and_then(char::from_u32)
                .map_or(literal('\\', 1), |ch| escaped(ch, 6)),
            [c @ (b'/' | b'\\' | b'"'), ..] => escaped(char::from(*c), 2),
            [b'n', ..] => escaped('\n', 2),
            [b't', ..] => escaped('\t', 2),
            [b'r', ..] => escaped('\r', 2),
            [b'b', ..] => escaped('\u{8}', 2),
            [b'f', ..] => escaped('\u{c}', 2),
            _ => literal('\\', 1),
        },
        0..=0x7f => literal(char::from(b), 1),
        _ => {
            let width = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => 1,
            };
            h.get(at..at + width)
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .and_then(|s| s.chars().next())
                .map_or(literal('\u{fffd}', 1), |ch| literal(ch, width))
        }
    }
}

/// An HTML character reference after its `&`: the character and the bytes up to its `;`.
fn entity(rest: &[u8]) -> Option<(char, usize)> {
    let end = rest.iter().take(10).position(|&b| b == b';')?;
    let name = &rest[..end];
    let ch = match name {
        [b'#', b'x' | b'X', digits @ ..] if !digits.is_empty() => char::from_u32(hex(digits)?)?,
        [b'#', digits @ ..] if !digits.is_empty() => {
            let text = std::str::from_utf8(digits).ok()?;
            if !text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            char::from_u32(text.parse().ok()?)?
        }
        b"nbsp" => '\u{a0}',
        b"thinsp" => '\u{2009}',
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        b"commat" => '@',
        b"period" => '.',
        _ => return None,
    };
    Some((ch, end + 1))
}

/// A percent-encoded character at the start of `h` (its UTF-8 bytes each as `%XX`).
fn percent(h: &[u8]) -> Option<(char, usize)> {
    let byte = |i: usize| -> Option<u8> {
        match h.get(3 * i..3 * i + 3)? {
            [b'%', a, b] => hex(&[*a, *b]).map(|v| v as u8),
            _ => None,
        }
    };
    let first = byte(0)?;
    let width = match first {
        0..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let mut bytes = [first, 0, 0, 0];
    for (i, slot) in bytes.iter_mut().enumerate().take(width).skip(1) {
        *slot = byte(i)?;
    }
    let ch = std::str::from_utf8(&bytes[..width]).ok()?.chars().next()?;
    Some((ch, 3 * width))
}

fn hex(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc << 4 | char::from(d).to_digit(16)?))
}

/// Every way a page may escape `c`: HTML numeric (decimal and hex) and named references, percent
/// encoding, JSON `\u` (and `\/`).
pub(super) fn escapes(c: char) -> Vec<String> {
    let code = c as u32;
    let mut utf8 = [0u8; 4];
    let percent: String = c
        .encode_utf8(&mut utf8)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let mut out = vec![
        format!("&#{code};"),
        format!("&#x{code:x};"),
        percent,
        format!("\\u{code:04x}"),
    ];
    let named = match c {
        '\u{a0}' => Some("&nbsp;"),
        '\u{2009}' => Some("&thinsp;"),
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&apos;"),
        '@' => Some("&commat;"),
        '.' => Some("&period;"),
        _ => None,
    };
    out.extend(named.map(str::to_owned));
    if c == '/' {
        out.push("\\/".to_owned());
    }
    out
}

/// Every way a page may write the separator between two groups: each of [`SEPARATORS`] as
/// itself and escaped, and `+` (a space in a query string).
pub(super) fn separator_forms() -> Vec<String> {
    let mut out = vec!["+".to_owned()];
    for c in SEPARATORS {
        out.push(c.to_string());
        if c != '.' && c != '-' {
            out.extend(escapes(c));
        }
    }
    out
}

/// Whether `unit` may stand between two groups of a grouped value.
fn is_separator(unit: Unit) -> bool {
    SEPARATORS.contains(&unit.ch) || (unit.ch == '+' && !unit.escaped)
}

/// The `(first four bytes, first run)` of every presentation of `canonical`, a grouped value of
/// `kind`, apart from the canonical form itself: what the start filters must let through.
pub(super) fn grouped_starts(kind: ValueKind, canonical: &[u8], mut key: impl FnMut(&[u8], u32)) {
    let breaks = kind.breaks();
    let seps = separator_forms();
    let len = canonical.len();
    // National forms: the first separator after `b` characters makes the first run `b` long.
    for b in 1..len.min(63) {
        if breaks >> b & 1 == 0 {
            continue;
        }
        if b >= 4 {
            key(&canonical[..4], b as u32);
            continue;
        }
        for sep in &seps {
            let mut raw = canonical[..b].to_vec();
            raw.extend_from_slice(sep.as_bytes());
            raw.extend_from_slice(&canonical[b..]);
            key(&raw[..4], b as u32);
        }
    }
    if kind != ValueKind::PhoneFr || len < 2 {
        return;
    }
    // International forms: the national number without its 0, after +33, %2B33 or 0033.
    let national = &canonical[1..];
    let after_plus = |prefix: &[u8], key: &mut dyn FnMut(&[u8], u32)| {
        let mut nexts: Vec<Vec<u8>> = seps.iter().map(|s| s.as_bytes().to_vec()).collect();
        nexts.push(b"(".to_vec());
        nexts.push(national.to_vec());
        for next in nexts {
            let mut raw = prefix.to_vec();
            raw.extend_from_slice(&next);
            raw.extend_from_slice(national);
            key(&raw[..4], 0);
        }
    };
    after_plus(b"+33", &mut key);
    after_plus(b"%2B33", &mut key);
    // 0033: its run is 4 when a separator or `(0)` follows, else it runs into the national
    // digits up to their first separator (or their end).
    key(b"0033", 4);
    key(b"0033", 4 + national.len() as u32);
    for b in 1..national.len() {
        if breaks >> (b + 1) & 1 == 1 {
            key(b"0033", 4 + b as u32);
        }
    }
}

/// The `(first four bytes, first run)` of the escaped presentations of `value` (an e-mail
/// address) whose first four bytes differ from the value's own: a first run shorter than four
/// followed by an escaped character.
pub(super) fn escaped_starts(value: &str, mut key: impl FnMut(&[u8], u32)) {
    let run = leading_run(value.as_bytes()) as usize;
    key(&value.as_bytes()[..4], run as u32);
    if run == 0 || run >= 4 {
        return;
    }
    let Some(c) = value[run..].chars().next() else {
        return;
    };
    for escape in escapes(c) {
        let mut raw = value.as_bytes()[..run].to_vec();
        raw.extend_from_slice(escape.as_bytes());
        raw.extend_from_slice(&value.as_bytes()[run + c.len_utf8()..]);
        if raw.len() >= 4 {
            key(&raw[..4], run as u32);
        }
    }
}

/// Reads a grouped presentation of `kind` from `start`, calling `found(canonical, end)` at each
/// place it may end (the next byte is not a letter or digit) once it has left the canonical
/// form: a separator, or an international prefix. The canonical form is ASCII, case as on the
/// page.
pub(super) fn grouped(
    h: &[u8],
    start: usize,
    kind: ValueKind,
    mut found: impl FnMut(&[u8], usize),
) {
    let n = h.len();
    let breaks = kind.breaks();
    let mut buf = [0u8; GROUPED_CAP];
    let mut len = 0;
    let mut at = start;
    let mut transformed = false;
    match kind {
        ValueKind::Iban if !h[start].is_ascii_alphabetic() => return,
        ValueKind::Nir if !(b'1'..=b'8').contains(&h[start]) => return,
        ValueKind::PhoneFr => {
            let Some(after) = international_prefix(h, start) else {
                if h[start] != b'0' {
                    return;
                }
                return grouped_body(h, at, breaks, &mut buf, len, transformed, &mut found);
            };
            at = after;
            buf[0] = b'0';
            len = 1;
            transformed = true;
            if at >= n || !(b'1'..=b'9').contains(&h[at]) {
                return;
            }
        }
        _ => {}
    }
    grouped_body(h, at, breaks, &mut buf, len, transformed, &mut found)
}

/// After `+33`, `%2B33` or `0033` (then a separator and `(0)`, each optional) at `start`: where
/// the national digits start.
fn international_prefix(h: &[u8], start: usize) -> Option<usize> {
    let rest = &h[start..];
    let mut at = start
        + if rest.starts_with(b"+33") {
            3
        } else if rest.len() >= 5 && rest[..3].eq_ignore_ascii_case(b"%2B") && &rest[3..5] == b"33"
        {
            5
        } else if rest.starts_with(b"0033") {
            4
        } else {
            return None;
        };
    let skip_separator = |at: usize| -> usize {
        if at < h.len() {
            let unit = decode(h, at);
            if is_separator(unit) {
                return at + unit.len;
            }
        }
        at
    };
    at = skip_separator(at);
    if h[at..].starts_with(b"(0)") {
        at = skip_separator(at + 3);
    }
    Some(at)
}

fn grouped_body(
    h: &[u8],
    mut at: usize,
    breaks: u64,
    buf: &mut [u8; GROUPED_CAP],
    mut len: usize,
    mut transformed: bool,
    found: &mut impl FnMut(&[u8], usize),
) {
    let n = h.len();
    loop {
        while at < n && is_word_byte(h[at]) {
            if len == GROUPED_CAP {
                return;
            }
            buf[len] = h[at];
            len += 1;
            at += 1;
        }
        if transformed {
            found(&buf[..len], at);
        }
        if at >= n || len >= 64 || breaks >> len & 1 == 0 {
            return;
        }
        let unit = decode(h, at);
        let next = at + unit.len;
        if !is_separator(unit) || next >= n || !is_word_byte(h[next]) {
            return;
        }
        transformed = true;
        at = next;
    }
}

/// Reads an escaped presentation of an e-mail address from `start` (at most `max` decoded
/// bytes), calling `found(decoded, end)` wherever it may end once an escape was decoded.
pub(super) fn escaped(h: &[u8], start: usize, max: usize, found: impl FnMut(&[u8], usize)) {
    let max = max.min(ESCAPED_CAP);
    if escape_ahead(h, start, max) {
        decode_escaped(h, start, max, found);
    }
}

/// [`escaped`]'s reading, byte by byte (`max` at most [`ESCAPED_CAP`]).
fn decode_escaped(h: &[u8], start: usize, max: usize, mut found: impl FnMut(&[u8], usize)) {
    let n = h.len();
    let mut buf = [0u8; ESCAPED_CAP];
    let mut len = 0;
    let mut at = start;
    let mut decoded = false;
    while at < n {
        let unit = decode(h, at);
        let alnum = !unit.escaped && unit.ch.is_ascii_alphanumeric();
        if !alnum && decoded && len > 0 {
            found(&buf[..len], at);
        }
        // An address holds no whitespace or control character: none goes on past one.
        if unit.ch.is_whitespace() || unit.ch.is_control() {
            return;
        }
        // An escaped letter or digit is no portal's doing: the value stops there.
        if unit.escaped && unit.ch.is_ascii_alphanumeric() {
            return;
        }
        let width = unit.ch.len_utf8();
        if len + width > max {
            return;
        }
        unit.ch.encode_utf8(&mut buf[len..len + width]);
        len += width;
        decoded |= unit.escaped;
        at += unit.len;
    }
    if decoded {
        found(&buf[..len], at);
    }
}

/// Whether [`escaped`] from `start` (at most `max` decoded bytes) may decode an escape: false
/// when the bytes from `start` are plain ASCII (each its own literal, none `&`, `%` or `\`)
/// up to whitespace, a control character, the end, or past `max` bytes, where it would stop
/// having decoded none. A byte test, not a decode, per byte: most words tried are names.
#[inline(always)]
fn escape_ahead(h: &[u8], start: usize, max: usize) -> bool {
    let end = h.len().min(start.saturating_add(max).saturating_add(1));
    h[start..end]
        .iter()
        .find(|&&b| !(b'!'..=b'~').contains(&b) || matches!(b, b'&' | b'%' | b'\\'))
        .is_some_and(|&b| b >= 0x80 || matches!(b, b'&' | b'%' | b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouped_all(page: &str, kind: ValueKind) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        grouped(page.as_bytes(), 0, kind, |c, end| {
            out.push((String::from_utf8(c.to_vec()).unwrap(), end))
        });
        out
    }

    #[test]
    fn decode_reads_every_escape() {
        for (text, ch, len) in [
            ("&#64;", '@', 5),
            ("&#x40;", '@', 6),
            ("&#X40;", '@', 6),
            ("&amp;", '&', 5),
            ("&nbsp;", '\u{a0}', 6),
            ("%40", '@', 3),
            ("%C2%A0", '\u{a0}', 6),
            ("%e2%80%af", '\u{202f}', 9),
            ("\\u0040", '@', 6),
            ("\\/", '/', 2),
            ("\u{2009}", '\u{2009}', 3),
        ] {
            let unit = decode(text.as_bytes(), 0);
            assert_eq!((unit.ch, unit.len), (ch, len), "{text}");
        }
        for text in ["&#;", "&bogus;", "%4", "%zz", "\\u12", "&"] {
            assert_eq!(decode(text.as_bytes(), 0).len, 1, "{text}");
        }
        assert_eq!(decode(b"\xff", 0).ch, '\u{fffd}');
    }

    #[test]
    fn grouped_reads_pairs_groups_and_international_prefixes() {
        assert_eq!(
            grouped_all("06.39.98.05.96", ValueKind::PhoneFr).last(),
            Some(&("0639980596".to_owned(), 14))
        );
        for page in [
            "+33 6 39 98 05 96",
            "+33 (0)6 39 98 05 96",
            "0033 6 39 98 05 96",
            "%2B33639980596",
        ] {
            let found = grouped_all(page, ValueKind::PhoneFr);
            assert_eq!(
                found.last().map(|(c, _)| c.as_str()),
                Some("0639980596"),
                "{page}: {found:?}"
            );
        }
        let found = grouped_all("FR76&nbsp;3000 6000 0112 3456 7890 189", ValueKind::Iban);
        assert_eq!(
            found.last(),
            Some(&("FR7630006000011234567890189".to_owned(), 38))
        );
        let found = grouped_all("1 84 12 2A 004 016 33", ValueKind::Nir);
        assert!(found.iter().any(|(c, _)| c == "184122A004016"));
        assert!(found.iter().any(|(c, _)| c == "184122A00401633"));
    }

    #[test]
    fn grouped_stops_at_a_separator_no_layout_has() {
        // Pairs: no separator after the third digit.
        assert!(grouped_all("063 998 0596", ValueKind::PhoneFr).is_empty());
        assert!(
            grouped_all("0639980596", ValueKind::PhoneFr).is_empty(),
            "the exact form is the exact scan's"
        );
        let found = grouped_all("06 39  98 05 96", ValueKind::PhoneFr);
        assert_eq!(
            found,
            [("0639".to_owned(), 5)],
            "two separators end the value"
        );
    }

    #[test]
    fn escaped_decodes_addresses() {
        let mut found = Vec::new();
        escaped(b"jean.dupont&#64;example.fr\"", 0, 64, |d, end| {
            found.push((String::from_utf8(d.to_vec()).unwrap(), end))
        });
        assert!(
            found.contains(&("jean.dupont@example.fr".to_owned(), 26)),
            "{found:?}"
        );
        let mut none = 0;
        escaped(b"jean.dupont@example.fr", 0, 64, |_, _| none += 1);
        assert_eq!(none, 0, "no escape: the exact scan's");
    }

    #[test]
    fn values_after_an_escape_ending_in_a_letter_or_digit_are_found() {
        let mut builder = super::super::OracleBuilder::new();
        let phone = builder.field_of_kind("phone", ValueKind::PhoneFr);
        let email = builder.field_of_kind("email", ValueKind::Email);
        builder.add(1, phone, "0639980596").unwrap();
        builder.add(1, email, "jean.dupont@example.fr").unwrap();
        let oracle = builder.build().unwrap();
        for page in [
            &br#"{"contact":"T\u00e9l.\n0639980596"}"#[..],
            br#"{"contact":"Paris\n06 39 98 05 96"}"#,
            b"Location: /recherche?q=Tel%3A%200639980596",
            br#"{"a":"x\u00a0jean.dupont\u0040example.fr"}"#,
        ] {
            let found = oracle.scan(page);
            assert_eq!(found.len(), 1, "{}", String::from_utf8_lossy(page));
        }
        // An escape that decodes to a letter or digit joins the value to a longer word.
        assert!(oracle.scan(b"x%300639980596").is_empty());
        assert!(oracle.scan(b"n0639980596").is_empty());
    }

    #[test]
    fn addresses_sharing_their_first_bytes_are_each_found_escaped() {
        let mut builder = super::super::OracleBuilder::new();
        let email = builder.field_of_kind("email", ValueKind::Email);
        builder.add(1, email, "jean.xyz@ex.fr").unwrap();
        builder.add(2, email, "jeanpaul@ex.fr").unwrap();
        let oracle = builder.build().unwrap();
        let owners: Vec<_> = oracle
            .scan(b"<p>jean.xyz&#64;ex.fr</p><p>jeanpaul&#64;ex.fr</p>")
            .iter()
            .map(|s| s.owner)
            .collect();
        assert_eq!(owners, [1, 2]);
    }

    proptest::proptest! {
        #[test]
        fn escaped_is_read_wherever_an_escape_may_be_decoded(
            page in proptest::collection::vec(proptest::sample::select(
                b"aZ09.@-_ &%\\#;x4u0Bn\t\x7f\xc2\xa0".to_vec()), 0..40),
            start in 0usize..40,
            max in 1usize..30,
        ) {
            let start = start.min(page.len().saturating_sub(1));
            let mut decoded = 0;
            if !page.is_empty() {
                decode_escaped(&page, start, max, |_, _| decoded += 1);
            }
            proptest::prop_assert!(decoded == 0 || escape_ahead(&page, start, max));
        }
    }

    #[test]
    fn escape_ahead_skips_plain_words_and_keeps_escapes() {
        assert!(!escape_ahead(b"Jean Dupont", 0, 64));
        assert!(!escape_ahead(b"jean.dupont", 0, 8));
        assert!(escape_ahead(b"jean.d&#64;x.fr", 0, 64));
        assert!(escape_ahead(b"jean.d%40x.fr", 0, 64));
        assert!(escape_ahead(b"jean\\u0040x.fr", 0, 64));
        assert!(escape_ahead(b"jean\xc2\xa0", 0, 64));
    }

    #[test]
    fn start_keys_cover_spaced_and_escaped_heads() {
        let mut keys = Vec::new();
        grouped_starts(ValueKind::Nir, b"184122A00401633", |p, r| {
            keys.push((p.to_vec(), r))
        });
        assert!(keys.contains(&(b"1 84".to_vec(), 1)));
        assert!(keys.contains(&(b"1&nb".to_vec(), 1)));
        assert!(keys.contains(&(b"1841".to_vec(), 13)));
        let mut keys = Vec::new();
        grouped_starts(ValueKind::PhoneFr, b"0639980596", |p, r| {
            keys.push((p.to_vec(), r))
        });
        assert!(keys.contains(&(b"+33 ".to_vec(), 0)));
        assert!(keys.contains(&(b"%2B3".to_vec(), 0)));
        assert!(keys.contains(&(b"06.3".to_vec(), 2)));
        let mut keys = Vec::new();
        escaped_starts("jd@x.fr", |p, r| keys.push((p.to_vec(), r)));
        assert!(keys.contains(&(b"jd&#".to_vec(), 2)));
        assert!(keys.contains(&(b"jd%4".to_vec(), 2)));
    }
}
