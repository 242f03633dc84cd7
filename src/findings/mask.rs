//! Masking of personal data in evidence: enough left to tell two values apart, not enough to use one.
//! Reports mask by default; `--reveal` turns it off and the report says so.

/// Whether evidence keeps identifying values as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masking {
    Masked,
    Revealed,
}

impl Masking {
    pub fn apply(self, value: &str) -> String {
        match self {
            Self::Masked => mask_value(value),
            Self::Revealed => value.to_owned(),
        }
    }

    /// Masks the byte ranges `spans` of `text` (each a value the oracle found); other text is kept.
    pub fn apply_spans(self, text: &[u8], spans: &[(usize, usize)]) -> String {
        if self == Self::Revealed || spans.is_empty() {
            return String::from_utf8_lossy(text).into_owned();
        }
        let mut sorted: Vec<(usize, usize)> = spans.to_vec();
        sorted.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in sorted {
            let (start, end) = (start.max(at).min(text.len()), end.min(text.len()));
            if start >= end {
                continue;
            }
            out.push_str(&String::from_utf8_lossy(&text[at..start]));
            out.push_str(&mask_value(&String::from_utf8_lossy(&text[start..end])));
            at = end;
        }
        out.push_str(&String::from_utf8_lossy(&text[at..]));
        out
    }
}

/// Keeps the first two and last two alphanumeric characters and the separators; stars the rest.
pub fn mask_value(value: &str) -> String {
    let alnum = value.chars().filter(|c| c.is_alphanumeric()).count();
    if alnum <= 4 {
        return value
            .chars()
            .map(|c| if c.is_alphanumeric() { '*' } else { c })
            .collect();
    }
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= 2 || seen > alnum - 2 {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_middle_and_keeps_separators() {
        assert_eq!(mask_value("0639981234"), "06******34");
        assert_eq!(mask_value("1 84 12 2A 004 016 54"), "1 8* ** ** *** *** 54");
        assert_eq!(
            mask_value("jean.dupont@exemple.test"),
            "je**.******@*******.**st"
        );
        assert_eq!(mask_value("1234"), "****");
    }

    #[test]
    fn masks_only_the_spans_given() {
        let text = b"<td>0639981234</td><td>Paris</td>";
        let masked = Masking::Masked.apply_spans(text, &[(4, 14)]);
        assert_eq!(masked, "<td>06******34</td><td>Paris</td>");
        assert_eq!(
            Masking::Revealed.apply_spans(text, &[(4, 14)]),
            String::from_utf8_lossy(text)
        );
    }

    #[test]
    fn overlapping_and_out_of_range_spans_do_not_panic() {
        let text = b"abcdefghij";
        let masked = Masking::Masked.apply_spans(text, &[(0, 8), (2, 12), (20, 30)]);
        assert_eq!(masked.len(), text.len());
    }
}
