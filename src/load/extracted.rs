//! The values a flow's steps extract from their responses (`{{csrf}}`), newest first: a name a
//! later step takes again (a CSRF token renewed on every page) replaces the earlier value. No I/O.

use crate::scenario::Extraction;
use http::header::HeaderMap;

/// Puts what `extractions` take from one response (`body`, `headers`) ahead of `values`, each
/// replacing an earlier value of its name, so that rendering (which sends the first value of a
/// name) sends the newest. A name the response does not carry keeps its earlier value.
pub fn keep_newest(
    values: &mut Vec<(String, String)>,
    extractions: &[Extraction],
    body: &[u8],
    headers: &HeaderMap,
) {
    for extraction in extractions {
        if let Some(value) = extraction.take(body, headers) {
            values.retain(|(name, _)| *name != extraction.name);
            values.insert(0, (extraction.name.clone(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{ExtractFrom, Pattern};

    fn csrf() -> Extraction {
        Extraction {
            name: "csrf".to_owned(),
            from: ExtractFrom::Body,
            pattern: Pattern::Regex(regex::Regex::new(r#"name="csrf" value="(\w+)""#).unwrap()),
        }
    }

    fn page(token: &str) -> Vec<u8> {
        format!(r#"<input name="csrf" value="{token}">"#).into_bytes()
    }

    #[test]
    fn a_token_taken_again_replaces_the_earlier_one() {
        let mut values = vec![("flow".to_owned(), "f1".to_owned())];
        let headers = HeaderMap::new();
        keep_newest(&mut values, &[csrf()], &page("first"), &headers);
        keep_newest(&mut values, &[csrf()], &page("second"), &headers);
        assert_eq!(
            values,
            [
                ("csrf".to_owned(), "second".to_owned()),
                ("flow".to_owned(), "f1".to_owned())
            ]
        );
    }

    #[test]
    fn a_response_without_the_token_keeps_the_last_one_seen() {
        let mut values = Vec::new();
        let headers = HeaderMap::new();
        keep_newest(&mut values, &[csrf()], &page("first"), &headers);
        keep_newest(&mut values, &[csrf()], b"<p>no form here</p>", &headers);
        assert_eq!(values, [("csrf".to_owned(), "first".to_owned())]);
    }
}
