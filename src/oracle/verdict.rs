//! Judges one response for one viewer from its sightings: only own or household data (clean),
//! anyone else's (violation), or own data missing where the page must show it (wrong identity).
//! Pure function of its inputs: no scanning, no I/O.

use super::{FieldId, Oracle, OwnerId, Sighting};
use serde::Serialize;

/// What one response means for the user who received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Only the viewer's own or household data (or none, when nothing had to be shown).
    Clean,
    /// Another owner's data is present. `foreign` holds the first sighting (lowest `start`) of
    /// each (owner, field, location), ordered by owner, field, location; `own_present` tells
    /// whether any of the viewer's own values was seen too (a mixed page vs a whole foreign page).
    Violation {
        foreign: Vec<Sighting>,
        own_present: bool,
    },
    /// No foreign data, but these `must_show` fields of the viewer are absent: the page is
    /// probably someone else's whose values are not indexed, or an empty or error page.
    WrongIdentity { missing: Vec<FieldId> },
}

impl Verdict {
    pub fn is_clean(&self) -> bool {
        matches!(self, Verdict::Clean)
    }

    /// The owners whose data leaked, ascending, each once (empty unless a violation).
    pub fn foreign_owners(&self) -> Vec<OwnerId> {
        let Verdict::Violation { foreign, .. } = self else {
            return Vec::new();
        };
        let mut owners: Vec<OwnerId> = foreign.iter().map(|s| s.owner).collect();
        owners.dedup(); // `foreign` is ordered by owner first
        owners
    }
}

impl Oracle {
    /// Judges `sightings` (from [`scan`](Oracle::scan) or [`scan_response`](Oracle::scan_response))
    /// for `viewer`. Sightings of owners other than the viewer and the viewer's household make a
    /// [`Verdict::Violation`]; otherwise a `must_show` field with no sighting of the viewer's own
    /// (a household member's does not count) makes a [`Verdict::WrongIdentity`]; otherwise
    /// [`Verdict::Clean`]. The verdict does not depend on the order of `sightings`.
    pub fn verdict(
        &self,
        viewer: OwnerId,
        sightings: &[Sighting],
        must_show: &[FieldId],
    ) -> Verdict {
        self.judge(Some(viewer), sightings, must_show)
    }

    /// Judges a response fetched with no session (an anonymous observer, or a cache probe): any
    /// owner's data in it is a violation.
    pub fn verdict_anonymous(&self, sightings: &[Sighting]) -> Verdict {
        self.judge(None, sightings, &[])
    }

    fn judge(
        &self,
        viewer: Option<OwnerId>,
        sightings: &[Sighting],
        must_show: &[FieldId],
    ) -> Verdict {
        let own = |s: &&Sighting| Some(s.owner) == viewer;
        let mut foreign: Vec<Sighting> = sightings
            .iter()
            .filter(|s| viewer.is_none_or(|v| !self.same_household(v, s.owner)))
            .cloned()
            .collect();
        if !foreign.is_empty() {
            foreign.sort_unstable();
            foreign.dedup_by(|later, first| {
                (later.owner, later.field, &later.location)
                    == (first.owner, first.field, &first.location)
            });
            return Verdict::Violation {
                foreign,
                own_present: sightings.iter().any(|s| own(&s)),
            };
        }
        let mut missing: Vec<FieldId> = Vec::new();
        for &field in must_show {
            let shown = sightings.iter().filter(own).any(|s| s.field == field);
            if !shown && !missing.contains(&field) {
                missing.push(field);
            }
        }
        if missing.is_empty() {
            Verdict::Clean
        } else {
            Verdict::WrongIdentity { missing }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{oracle, JEAN, MARIE, PIERRE};
    use super::super::Location;
    use super::*;

    const JEAN_PAGE: &[u8] =
        b"<h1>Jean Dupont</h1><p>N\xc2\xb0 1234567</p><p>NIR 185057800608436</p>";

    #[test]
    fn foreign_value_in_body_is_a_violation_naming_owner_and_field() {
        let oracle = oracle();
        let nir = oracle.field_id("nir").unwrap();
        let name = oracle.field_id("name").unwrap();
        let page = b"<h1>Jean Dupont</h1><p>NIR 285127511202342</p><p>NIR 285127511202342</p>";
        let verdict = oracle.verdict(JEAN, &oracle.scan(page), &[name]);
        let Verdict::Violation {
            foreign,
            own_present,
        } = &verdict
        else {
            panic!("expected a violation, got {verdict:?}");
        };
        assert!(own_present);
        assert_eq!(
            foreign,
            &[Sighting {
                owner: MARIE,
                field: nir,
                location: Location::Body,
                start: 27,
                end: 42
            }]
        );
        assert_eq!(verdict.foreign_owners(), [MARIE]);
    }

    #[test]
    fn whole_foreign_page_is_a_violation_without_own_data() {
        let oracle = oracle();
        let page = b"<h1>Marie Curie</h1>";
        let verdict = oracle.verdict(JEAN, &oracle.scan(page), &[]);
        assert!(matches!(
            verdict,
            Verdict::Violation {
                own_present: false,
                ..
            }
        ));
    }

    #[test]
    fn household_members_value_is_clean() {
        let oracle = oracle();
        let name = oracle.field_id("name").unwrap();
        let page = b"<h1>Marie Curie</h1><p>Conjoint : Pierre Curie, pierre.curie@example.fr</p>";
        assert_eq!(
            oracle.verdict(MARIE, &oracle.scan(page), &[name]),
            Verdict::Clean
        );
    }

    #[test]
    fn own_value_only_is_clean() {
        let oracle = oracle();
        let fields: Vec<FieldId> = ["name", "nir", "numero_allocataire"]
            .map(|f| oracle.field_id(f).unwrap())
            .to_vec();
        assert_eq!(
            oracle.verdict(JEAN, &oracle.scan(JEAN_PAGE), &fields),
            Verdict::Clean
        );
        assert_eq!(oracle.verdict(JEAN, &[], &[]), Verdict::Clean);
    }

    #[test]
    fn missing_must_show_field_is_wrong_identity() {
        let oracle = oracle();
        let name = oracle.field_id("name").unwrap();
        let iban = oracle.field_id("iban").unwrap();
        let verdict = oracle.verdict(JEAN, &oracle.scan(JEAN_PAGE), &[name, iban, iban]);
        assert_eq!(
            verdict,
            Verdict::WrongIdentity {
                missing: vec![iban]
            }
        );
        assert_eq!(
            oracle.verdict(JEAN, &oracle.scan(b"<h1>Erreur</h1>"), &[name]),
            Verdict::WrongIdentity {
                missing: vec![name]
            }
        );
    }

    #[test]
    fn household_members_value_does_not_satisfy_must_show() {
        let oracle = oracle();
        let name = oracle.field_id("name").unwrap();
        let verdict = oracle.verdict(MARIE, &oracle.scan(b"<h1>Pierre Curie</h1>"), &[name]);
        assert_eq!(
            verdict,
            Verdict::WrongIdentity {
                missing: vec![name]
            }
        );
    }

    #[test]
    fn anonymous_viewer_seeing_any_owner_is_a_violation() {
        let oracle = oracle();
        assert_eq!(
            oracle.verdict_anonymous(&oracle.scan(b"<h1>Connexion</h1>")),
            Verdict::Clean
        );
        let verdict = oracle.verdict_anonymous(&oracle.scan(b"Marie Curie et Pierre Curie"));
        assert_eq!(verdict.foreign_owners(), [MARIE, PIERRE]);
        assert!(matches!(
            verdict,
            Verdict::Violation {
                own_present: false,
                ..
            }
        ));
    }

    #[test]
    fn verdict_does_not_depend_on_sighting_order_or_repeats() {
        let oracle = oracle();
        let headers: &[(&str, &[u8])] = &[("X-User", b"marie.curie@example.fr")];
        let page = b"Marie Curie 285127511202342 Jean Dupont Marie Curie 7654321 Pierre Curie";
        let mut sightings = oracle.scan_response(headers, page);
        let verdict = oracle.verdict(PIERRE, &sightings, &[]);
        sightings.reverse();
        assert_eq!(oracle.verdict(PIERRE, &sightings, &[]), verdict);
        sightings.extend(sightings.clone());
        assert_eq!(oracle.verdict(PIERRE, &sightings, &[]), verdict);
        let Verdict::Violation {
            foreign,
            own_present: true,
        } = verdict
        else {
            panic!("expected a violation with own data, got {verdict:?}");
        };
        let owners: Vec<OwnerId> = foreign.iter().map(|s| s.owner).collect();
        assert_eq!(owners, [JEAN]);
    }

    #[test]
    fn verdict_serializes_with_a_verdict_tag() {
        let oracle = oracle();
        let verdict = oracle.verdict(JEAN, &oracle.scan(b"7654321"), &[]);
        let json = serde_json::to_value(&verdict).unwrap();
        let field = oracle.field_id("numero_allocataire").unwrap().index();
        assert_eq!(
            json,
            serde_json::json!({
                "verdict": "violation",
                "foreign": [
                    {"owner": MARIE, "field": field, "location": "body", "start": 0, "end": 7}
                ],
                "own_present": false,
            })
        );
        let header = Sighting {
            owner: JEAN,
            field: FieldId(0),
            location: Location::Header("x-user".into()),
            start: 0,
            end: 15,
        };
        let json = serde_json::to_value(&header).unwrap();
        assert_eq!(json["location"], serde_json::json!({"header": "x-user"}));
        assert_eq!(
            serde_json::to_value(Verdict::WrongIdentity {
                missing: vec![FieldId(3)]
            })
            .unwrap(),
            serde_json::json!({"verdict": "wrong_identity", "missing": [3]})
        );
    }
}
