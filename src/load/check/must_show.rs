//! The viewer's own fields a page must show (`must_show`) and did not: a wrong identity, or a lost
//! write when the only value missing is one the user just wrote.

use super::evidence::{finding, Seen};
use super::{CheckContext, Scanned};
use crate::findings::{Asked, Finding, FindingKind};
use crate::oracle::FieldId;
use crate::population::OwnerId;

/// The finding for a page that lacks the viewer's `missing` fields, if the viewer has a value of
/// any of them.
pub(super) fn missing_fields(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    scanned: &Scanned<'_>,
    mut missing: Vec<FieldId>,
    asked: &Asked,
) -> Option<Finding> {
    if let Some(viewer) = viewer {
        keep_held(ctx, viewer, &mut missing);
    }
    if missing.is_empty() {
        return None;
    }
    // Only a just-written value is missing: the user's own page, stale.
    let (kind, detail) = if missing.iter().all(|f| ctx.watch.is_lost_write_field(*f)) {
        (
            FindingKind::LostWrite,
            "the user's own page does not show the value the user just wrote",
        )
    } else {
        (
            FindingKind::WrongIdentity,
            "the page shows nobody's identity where it must show the user's",
        )
    };
    let missing = missing
        .iter()
        .map(|f| ctx.watch.oracle.field_name(*f).to_owned())
        .collect();
    let seen = Seen {
        kind,
        detail: detail.to_owned(),
        foreign: &[],
        missing,
    };
    Some(finding(ctx, viewer, scanned, seen).with_clues(scanned.clues(asked)))
}

/// Drops the fields `viewer` has no value of (an empty cell of a staging export): they cannot be
/// shown, so their absence says nothing. Looked up only here, off the hot path.
fn keep_held(ctx: &CheckContext<'_>, viewer: OwnerId, missing: &mut Vec<FieldId>) {
    let has: Vec<String> = ctx
        .population
        .watched(viewer)
        .into_iter()
        .map(|(field, _)| field.to_owned())
        .collect();
    missing.retain(|f| has.iter().any(|h| h == ctx.watch.oracle.field_name(*f)));
}

#[cfg(test)]
mod tests {
    use crate::findings::{FindingKind, Masking};
    use crate::load::check::tests_support::{page_of, run_check, verdict, world};
    use crate::population::Field;
    use http::header::HeaderMap;

    #[test]
    fn a_page_without_the_viewers_identity_is_a_wrong_identity() {
        let (population, watch) = world();
        let finding = verdict(&population, &watch, 2, "<html>Bienvenue</html>").unwrap();
        assert_eq!(finding.kind, FindingKind::WrongIdentity);
        assert_eq!(finding.missing, ["numero_allocataire", "nir"]);
    }

    #[test]
    fn own_page_missing_only_the_just_written_value_is_a_lost_write() {
        let (population, watch) = world();
        let old = population.get(5).unwrap().iban.clone();
        let body = page_of(&population, 5, &old);
        let must_show = [Field::NumeroAllocataire, Field::WrittenIban];
        let finding = run_check(
            &population,
            &watch,
            5,
            &body,
            &HeaderMap::new(),
            &must_show,
            Masking::Masked,
        )
        .unwrap();
        assert_eq!(finding.kind, FindingKind::LostWrite);
        assert!(!finding.kind.fails_run());
    }
}
