//! `json_equals` in a scenario: a JSON page whose pointers must hold the viewer's own values. A page
//! that does not is someone else's file, whether or not another owner's value shows.

use super::cache_audit::clues;
use super::evidence::{account, request_evidence, response_evidence, EXCERPT_RADIUS};
use super::{CheckContext, Exchange};
use crate::findings::{Asked, Finding, FindingKind};
use crate::load::cache_status;
use crate::population::OwnerId;

/// A JSON page whose pointers do not hold the viewer's own values (`json_equals` in a scenario):
/// the page is not the viewer's file, whether or not another owner's value shows. `expected` is
/// `(pointer, the viewer's value, variable name)`; the finding's `missing` names the variables.
pub fn json_mismatch(
    ctx: &CheckContext<'_>,
    viewer: OwnerId,
    exchange: &Exchange<'_>,
    expected: &[(String, String, String)],
) -> Option<Finding> {
    let json: serde_json::Value = serde_json::from_slice(exchange.body).ok()?;
    let wrong: Vec<&(String, String, String)> = expected
        .iter()
        .filter(|(pointer, value, _)| {
            let found = match json.pointer(pointer) {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                Some(serde_json::Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            found.as_deref() != Some(value.as_str())
        })
        .collect();
    if wrong.is_empty() {
        return None;
    }
    let mut missing: Vec<String> = Vec::new();
    for (_, _, variable) in &wrong {
        if !missing.contains(variable) {
            missing.push(variable.clone());
        }
    }
    let places: Vec<String> = wrong
        .iter()
        .map(|(pointer, _, variable)| format!("{variable} at {pointer}"))
        .collect();
    let excerpt = ctx.masking.apply(&String::from_utf8_lossy(
        &exchange.body[..exchange.body.len().min(2 * EXCERPT_RADIUS)],
    ));
    Some(
        Finding::new(
            FindingKind::WrongIdentity,
            ctx.seen(),
            request_evidence(ctx, exchange),
            response_evidence(ctx, exchange, &[], excerpt),
        )
        .with_viewer(Some(account(ctx, viewer)))
        .with_missing(missing)
        .with_detail(format!(
            "the JSON does not hold the viewer's own {}",
            places.join(", ")
        ))
        .with_clues(clues(
            Asked::default(),
            &cache_status::hits(exchange.headers).collect::<Vec<_>>(),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::json_mismatch;
    use crate::findings::{FindingKind, Masking};
    use crate::load::check::tests_support::{context, world};
    use crate::load::check::Exchange;
    use http::header::{HeaderMap, HeaderValue};

    #[test]
    fn a_json_page_with_another_owners_values_is_a_wrong_identity_naming_what_it_lacks() {
        let (population, watch) = world();
        let ctx = context(&population, &watch, Masking::Masked);
        let own = population.get(0).unwrap();
        let stranger = population.get(9).unwrap();
        let expected = [
            (
                "/client/number".to_owned(),
                own.numero_allocataire.to_string(),
                "numero_allocataire".to_owned(),
            ),
            (
                "/client/email".to_owned(),
                own.email.clone(),
                "email".to_owned(),
            ),
        ];
        let json = |number: String, email: &str| {
            serde_json::json!({"client": {"number": number, "email": email}}).to_string()
        };
        fn exchange<'a>(headers: &'a HeaderMap, body: &'a str) -> Exchange<'a> {
            Exchange {
                method: "GET",
                name: "profile",
                url: "http://127.0.0.1:1/v2/me",
                status: 200,
                final_url: "http://127.0.0.1:1/v2/me",
                authorization: true,
                headers,
                body: body.as_bytes(),
            }
        }
        let headers = HeaderMap::new();
        let leaked = json(stranger.numero_allocataire.to_string(), &stranger.email);
        let finding = json_mismatch(&ctx, 0, &exchange(&headers, &leaked), &expected).unwrap();
        assert_eq!(finding.kind, FindingKind::WrongIdentity);
        assert_eq!(finding.missing, ["numero_allocataire", "email"]);
        assert!(
            finding
                .detail
                .contains("numero_allocataire at /client/number"),
            "{}",
            finding.detail
        );
        assert_eq!(finding.request.name, "profile");
        assert_eq!(finding.clues.cache_hit, None);
        let mut served = HeaderMap::new();
        served.insert("x-cache", HeaderValue::from_static("HIT"));
        let cached = json_mismatch(&ctx, 0, &exchange(&served, &leaked), &expected).unwrap();
        assert_eq!(cached.clues.cache_hit.as_deref(), Some("x-cache: HIT"));
        let mine = json(own.numero_allocataire.to_string(), &own.email);
        assert_eq!(
            json_mismatch(&ctx, 0, &exchange(&headers, &mine), &expected),
            None
        );
    }
}
