//! Another owner's data in a response: a violation (for the anonymous observer, anyone's data), or
//! a cross-write when the viewer's own file carries only values another user wrote.

use super::evidence::{finding, Seen};
use super::{CheckContext, Scanned};
use crate::findings::{body_hash, Asked, Clues, Finding, FindingKind};
use crate::oracle::Sighting;
use crate::population::OwnerId;

/// The finding for a response that carried other owners' values (`foreign`), beside the viewer's
/// own or not (`own_present`).
pub(super) fn foreign_data(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    scanned: &Scanned<'_>,
    foreign: &[Sighting],
    own_present: bool,
    asked: &Asked,
) -> Finding {
    let (kind, detail) = kind_and_detail(ctx, viewer, foreign, own_present);
    let clues = Clues {
        own_present,
        body: Some(body_hash(scanned.exchange.body)),
        ..scanned.clues(asked)
    };
    let seen = Seen {
        kind,
        detail,
        foreign,
        missing: Vec::new(),
    };
    finding(ctx, viewer, scanned, seen).with_clues(clues)
}

/// A cross-write when the viewer's own data is there and every foreign value is in a field users
/// write; otherwise a violation, its detail saying who was served what.
fn kind_and_detail(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    foreign: &[Sighting],
    own_present: bool,
) -> (FindingKind, String) {
    let cross_write = own_present
        && foreign
            .iter()
            .all(|s| ctx.watch.is_cross_write_field(s.field));
    if cross_write {
        (
            FindingKind::CrossWrite,
            "the viewer's own file carries a value another user wrote".to_owned(),
        )
    } else if viewer.is_none() {
        (
            FindingKind::Violation,
            "a client with no session was served personal data".to_owned(),
        )
    } else {
        (
            FindingKind::Violation,
            format!(
                "another beneficiary's data was served{}",
                if own_present {
                    " beside the viewer's own"
                } else {
                    " instead of the viewer's own"
                }
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::findings::{FindingKind, Masking};
    use crate::load::check::tests_support::{
        check_as, headers, page_of, run_check, stranger, verdict, world, IDENTITY,
    };
    use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL, SET_COOKIE};

    #[test]
    fn another_owners_page_is_a_violation_with_masked_evidence() {
        let (population, watch) = world();
        let stranger = stranger(&watch);
        let iban = population.get(stranger).unwrap().iban.clone();
        let body = page_of(&population, stranger, &iban);
        let mut headers = HeaderMap::new();
        headers.insert(
            SET_COOKIE,
            HeaderValue::from_static("crossleak_session=abcdef0123456789; HttpOnly; Path=/"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        let finding = run_check(
            &population,
            &watch,
            0,
            &body,
            &headers,
            &IDENTITY,
            Masking::Masked,
        )
        .expect("a violation");
        assert_eq!(finding.kind, FindingKind::Violation);
        assert_eq!(finding.viewer.as_ref().unwrap().owner, 0);
        assert!(finding.foreign.iter().all(|f| f.account.owner == stranger));
        let fields: Vec<&str> = finding.foreign.iter().map(|f| f.field.as_str()).collect();
        for field in ["numero_allocataire", "nir", "iban", "phone"] {
            assert!(fields.contains(&field), "{field} missing from {fields:?}");
        }
        // Masked: the stranger's file number never appears whole in the evidence.
        let numero = population
            .get(stranger)
            .unwrap()
            .numero_allocataire
            .to_string();
        let evidence = serde_json::to_string(&finding).unwrap();
        assert!(!evidence.contains(&numero), "{evidence}");
        assert!(
            !evidence.contains("abcdef0123456789"),
            "session token leaked into evidence"
        );
        assert_eq!(
            finding.response.headers["cache-control"],
            "private, no-store"
        );
        // Revealed: the value is there as served.
        let revealed = run_check(
            &population,
            &watch,
            0,
            &body,
            &headers,
            &IDENTITY,
            Masking::Revealed,
        )
        .unwrap();
        assert!(serde_json::to_string(&revealed).unwrap().contains(&numero));
    }

    #[test]
    fn a_household_partners_data_is_allowed() {
        let (population, watch) = world();
        let (a, b) = (0..50u32)
            .flat_map(|a| (0..50u32).map(move |b| (a, b)))
            .find(|(a, b)| a != b && watch.oracle.same_household(*a, *b))
            .expect("a two-adult household in the population");
        let mine = population.get(a).unwrap();
        let partner = population.get(b).unwrap();
        let body = format!(
            "{} {} / conjoint {} {}",
            mine.numero_allocataire,
            mine.nir,
            partner.numero_allocataire,
            partner.nir.spaced()
        );
        assert_eq!(verdict(&population, &watch, a, &body), None);
    }

    #[test]
    fn another_users_written_value_in_my_file_is_a_cross_write() {
        let (population, watch) = world();
        let writer = stranger(&watch);
        let written = population.get(writer).unwrap().spare_iban.clone();
        // My own file, but showing the IBAN another user just wrote.
        let body = page_of(&population, 0, &written);
        let finding = verdict(&population, &watch, 0, &body).unwrap();
        assert_eq!(finding.kind, FindingKind::CrossWrite);
        assert_eq!(finding.foreign[0].account.owner, writer);
        assert_eq!(finding.foreign[0].field, "written_iban");
    }

    #[test]
    fn the_anonymous_observer_must_see_nobodys_data() {
        let (population, watch) = world();
        let private = headers(&[("cache-control", "private, no-store")]);
        let body = page_of(&population, 8, &population.get(8).unwrap().iban.clone());
        let findings = check_as(&population, &watch, None, &body, &private);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].kind, FindingKind::Violation);
        assert!(findings[0].viewer.is_none());
        assert!(findings[0].foreign.iter().all(|f| f.account.owner == 8));
        assert!(check_as(
            &population,
            &watch,
            None,
            "<html>Connexion</html>",
            &private
        )
        .is_empty());
    }
}
