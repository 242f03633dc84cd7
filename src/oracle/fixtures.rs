//! A small hand-written population for the oracle's unit tests: realistic CAF values, two
//! owners in one household. Test-only; no I/O.

use super::{Oracle, OracleBuilder, OwnerId};

pub(super) const JEAN: OwnerId = 1;
pub(super) const MARIE: OwnerId = 2;
/// Marie's partner: same household as [`MARIE`].
pub(super) const PIERRE: OwnerId = 3;
/// Owns a 13-digit number that is the first 13 digits of Jean's NIR.
pub(super) const LUCIE: OwnerId = 4;

pub(super) const VALUES: &[(OwnerId, &str, &str)] = &[
    (JEAN, "nir", "185057800608436"),
    (JEAN, "numero_allocataire", "1234567"),
    (JEAN, "email", "jean.dupont@example.fr"),
    (JEAN, "phone", "0639981234"),
    (JEAN, "written_phone", "06 39 98 12 34"),
    (JEAN, "iban", "FR7630006000011234567890189"),
    (JEAN, "name", "Jean Dupont"),
    (MARIE, "nir", "285127511202342"),
    (MARIE, "numero_allocataire", "7654321"),
    (MARIE, "email", "marie.curie@example.fr"),
    (MARIE, "name", "Marie Curie"),
    (PIERRE, "nir", "190036912345678"),
    (PIERRE, "email", "pierre.curie@example.fr"),
    (PIERRE, "name", "Pierre Curie"),
    (LUCIE, "nir_without_key", "1850578006084"),
    (LUCIE, "name", "Lucie Aubrac"),
];

/// The oracle over [`VALUES`], Marie and Pierre in household 7.
pub(super) fn oracle() -> Oracle {
    let mut builder = OracleBuilder::new();
    for &(owner, field, value) in VALUES {
        let field = builder.field(field);
        builder
            .add(owner, field, value)
            .expect("fixture values are unique and long enough");
    }
    builder.household(MARIE, 7);
    builder.household(PIERRE, 7);
    builder.build().expect("fixture oracle builds")
}
