//! Findings for tests across the crate, made the one way findings are made ([`Finding::new`]).
//! Test-only.

use super::{
    AccountRef, Finding, FindingKind, ForeignValue, RequestEvidence, ResponseEvidence, SeenBy,
};
use std::collections::BTreeMap;

/// A violation on `GET /mon-compte`: user `viewer` served owner `foreign`'s (masked) NIR.
pub fn violation(viewer: u32, foreign: u32) -> Finding {
    Finding::new(
        FindingKind::Violation,
        SeenBy {
            phase: "load",
            user: viewer as usize,
            elapsed_ms: 1,
        },
        RequestEvidence {
            method: "GET".into(),
            name: "GET /mon-compte".into(),
            url: "http://127.0.0.1/mon-compte".into(),
        },
        ResponseEvidence {
            status: 200,
            final_url: "http://127.0.0.1/mon-compte".into(),
            headers: BTreeMap::new(),
            excerpt: String::new(),
        },
    )
    .with_viewer(Some(AccountRef {
        owner: viewer,
        numero_allocataire: "00*****01".into(),
    }))
    .with_foreign(vec![ForeignValue {
        account: AccountRef {
            owner: foreign,
            numero_allocataire: "00*****02".into(),
        },
        field: "nir".into(),
        location: "body".into(),
        value: "1 8* ** ** *** *** *4".into(),
    }])
}
