//! Session events the journey saw for itself, not in a response body: a token issued to two users,
//! an old token that still opens the file. Each becomes a finding, its token masked.

use super::evidence::{account, masked_url};
use super::CheckContext;
use crate::findings::{Finding, FindingKind, ForeignValue, RequestEvidence, ResponseEvidence};
use crate::population::OwnerId;
use std::collections::BTreeMap;

/// A session event the journey saw for itself (not in a response body): a token issued to two
/// users, or an old token that still opens the file.
pub struct SessionEvent<'a> {
    pub kind: FindingKind,
    pub viewer: OwnerId,
    /// The other owner the token was issued to, for a collision.
    pub other: Option<OwnerId>,
    pub token: &'a str,
    pub method: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub status: u16,
    pub detail: String,
}

/// The finding for a session event, token masked like any credential.
pub fn session_finding(ctx: &CheckContext<'_>, event: SessionEvent<'_>) -> Finding {
    let url = masked_url(ctx, event.url);
    let foreign = event
        .other
        .map(|other| ForeignValue {
            account: account(ctx, other),
            field: "session_token".to_owned(),
            location: "header:set-cookie".to_owned(),
            value: ctx.masking.apply(event.token),
        })
        .into_iter()
        .collect();
    Finding::new(
        event.kind,
        ctx.seen(),
        RequestEvidence {
            method: event.method.to_owned(),
            name: event.name.to_owned(),
            url: url.clone(),
        },
        ResponseEvidence {
            status: event.status,
            final_url: url,
            headers: BTreeMap::new(),
            excerpt: String::new(),
        },
    )
    .with_viewer(Some(account(ctx, event.viewer)))
    .with_foreign(foreign)
    .with_detail(event.detail)
}
