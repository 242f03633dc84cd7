//! The login properties, checked against the demo portal's real router in process: `login_request`
//! (any login request, however malformed, opens nothing but its identifier owner's account) and
//! `identifier_collision` (two distinct valid identities never land in the same account).

use super::inprocess::{form_decode, form_encode, Answer, InProcessPortal, NoAnswer, Outgoing};
use super::mutate::{designates, IdentifierKind, Mutation};
use super::RawNirParts;
use crate::identifiers::{Nir, NirParts, NumeroAllocataire};
use crate::population::{Beneficiary, GenerateOptions, OwnerId, PasswordState, Population};
use crate::portal::{Fault, PortalConfig, COOKIE_NAME};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a property concluded about one input it did not fail on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    Passed,
    /// Outside the property's scope (two identical identities): the fuzzer should not keep it.
    Rejected,
}

/// A property that does not hold, in words a reproducer can be read with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginFailure {
    #[error("{path}: {reason}")]
    NoAnswer { path: &'static str, reason: String },
    #[error("{path} answered {status}: a login parser failure on {identifier:?}")]
    ServerError {
        path: &'static str,
        status: u16,
        identifier: String,
    },
    #[error("{path} with identifier {identifier:?} opened owner {opened}'s account, whose credentials the request did not carry (identifier owner: {owner})")]
    ForeignAccount {
        path: &'static str,
        identifier: String,
        owner: OwnerId,
        opened: OwnerId,
    },
    #[error("{path} handed out a session that opens no file (identifier {identifier:?})")]
    EmptySession {
        path: &'static str,
        identifier: String,
    },
    #[error(
        "owner {owner}'s session, sent as a cookie with the login, now opens owner {opened}'s file"
    )]
    SessionHijacked { owner: OwnerId, opened: OwnerId },
    #[error("owner {owner}'s valid NIR login ({typed:?}) was refused with {status}")]
    ValidLoginRefused {
        owner: OwnerId,
        typed: String,
        status: u16,
    },
    #[error("two distinct identities resolve to one account: owner {owner} typed its own NIR {typed:?} and its own password and landed in owner {opened}'s file")]
    Collision {
        owner: OwnerId,
        typed: String,
        opened: OwnerId,
    },
}

/// One login request, as the `login_request` target builds it from fuzzer numbers: whose
/// identifier, mistyped how, with which password, encoded how, under which cookie.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// `POST /connexion/nir` when true, `POST /connexion/allocataire` otherwise.
    pub nir_path: bool,
    /// Whose identifier is typed: an index into the fixture's population.
    pub owner: u8,
    /// On the NIR path, the 15-character NIR instead of its 13 characters.
    pub full_nir: bool,
    /// [`Mutation::fold`]'s selector and parameter.
    pub mutation: u8,
    pub mutation_parameter: u8,
    /// Typed instead of the (mutated) identifier when present.
    pub raw_identifier: Option<String>,
    /// 0: the owner's own, 1: the other beneficiary's, 2: empty, 3: no field at all,
    /// 4: `raw_password`, 5: the owner's own with a trailing space.
    pub password: u8,
    pub raw_password: String,
    /// The other beneficiary (an index): whose password or session the request may carry.
    pub other: u8,
    /// 0: a form, 1: JSON, 2: a form labelled `text/plain`, 3: a form with no content type,
    /// 4: `raw_body` labelled as a form.
    pub encoding: u8,
    pub raw_body: Vec<u8>,
    /// Sent after the real fields, duplicates of them included.
    pub extra_fields: Vec<(String, String)>,
    /// 0: no cookie, 1: the other beneficiary's live session, 2: a malformed session cookie,
    /// 3: `raw_cookie` as the whole `Cookie` header, 4: the owner's own live session.
    pub cookie: u8,
    pub raw_cookie: String,
}

/// `login_request`'s world: a small generated population (half on the provisional password, some
/// households) behind the portal's router, correct unless faults are given.
pub struct LoginFixture {
    portal: InProcessPortal,
    people: Vec<Beneficiary>,
}

/// The portal's settings for the in-process properties: no ledger delay, the NIR login open.
fn config(faults: &[Fault]) -> PortalConfig {
    PortalConfig {
        faults: faults.to_vec(),
        ledger_latency: Duration::ZERO,
        nir_login: true,
        ..PortalConfig::default()
    }
}

impl LoginFixture {
    /// The correct portal's fixture.
    pub fn new() -> Self {
        Self::with_faults(&[])
    }

    pub fn with_faults(faults: &[Fault]) -> Self {
        let population = Population::generate(&GenerateOptions {
            size: 256,
            seed: 7,
            household_share: 0.3,
            provisional_share: 0.5,
        })
        .expect("a valid fixture population");
        let people = population.beneficiaries;
        let portal = InProcessPortal::new(people.clone(), config(faults))
            .expect("the fixture portal starts");
        Self { portal, people }
    }

    pub fn people(&self) -> &[Beneficiary] {
        &self.people
    }

    /// `login_request`: the portal answers every login request (never a 5xx, never a dropped
    /// connection), and a session it hands out opens the file of the beneficiary the request's
    /// identifier designates, and only if the request carried that beneficiary's password. A
    /// session cookie sent along never comes to open someone else's file.
    pub fn check(&self, case: &LoginRequest) -> Result<Checked, LoginFailure> {
        let count = self.people.len();
        let owner = &self.people[usize::from(case.owner) % count];
        let mut other = &self.people[usize::from(case.other) % count];
        if other.id == owner.id {
            other = &self.people[(usize::from(case.other) + 1) % count];
        }
        let (path, field, kind) = login_target(case);
        let identifier = match &case.raw_identifier {
            Some(raw) => raw.clone(),
            None => Mutation::fold(case.mutation, case.mutation_parameter)
                .apply(&kind.value(owner), kind),
        };
        let password = password(case, owner, other);
        // Sessions the request carries, opened beforehand with the right credentials.
        let carried = match case.cookie % 5 {
            1 => Some((other.id, self.log_in(other)?)),
            4 => Some((owner.id, self.log_in(owner)?)),
            _ => None,
        };
        let pairs = fields(case, (field, &identifier), password.as_deref());
        let (content_type, body) = encode(case, &pairs);
        let mut headers: Vec<(&'static str, Vec<u8>)> = Vec::new();
        if let Some(content_type) = content_type {
            headers.push(("content-type", content_type.as_bytes().to_vec()));
        }
        if let Some(cookie) = cookie(case, carried.as_ref().map(|(_, token)| token.as_str())) {
            headers.push(("cookie", cookie));
        }
        let answer = self
            .portal
            .send(&Outgoing {
                method: "POST",
                path,
                headers,
                body: body.clone(),
            })
            .map_err(|e| no_answer(path, e))?;
        if answer.status >= 500 {
            return Err(LoginFailure::ServerError {
                path,
                status: answer.status,
                identifier,
            });
        }
        if let Some(token) = answer.session_token() {
            let opened = self
                .portal
                .dossier_owner(&token, &self.people)
                .map_err(|e| no_answer("/api/dossier", e))?;
            let _ = self.log_out(&token);
            let Some(opened) = opened else {
                return Err(LoginFailure::EmptySession { path, identifier });
            };
            let account = self
                .people
                .iter()
                .find(|b| b.id == opened)
                .expect("dossier_owner names a fixture beneficiary");
            let sent = sent_values(&body);
            let named = sent
                .iter()
                .any(|(n, v)| n == field && designates(v, kind, account));
            let authenticated = sent
                .iter()
                .any(|(n, v)| n == "mot_de_passe" && *v == account.password);
            if !(named && authenticated) {
                return Err(LoginFailure::ForeignAccount {
                    path,
                    identifier,
                    owner: owner.id,
                    opened,
                });
            }
        }
        if let Some((holder, token)) = carried {
            self.still_opens(holder, &token)?;
        }
        Ok(Checked::Passed)
    }

    /// A session carried along a login still opens its holder's file (or none), never another.
    fn still_opens(&self, holder: OwnerId, token: &str) -> Result<(), LoginFailure> {
        let now = self
            .portal
            .dossier_owner(token, &self.people)
            .map_err(|e| no_answer("/api/dossier", e))?;
        let _ = self.log_out(token);
        match now.filter(|opened| *opened != holder) {
            Some(opened) => Err(LoginFailure::SessionHijacked {
                owner: holder,
                opened,
            }),
            None => Ok(()),
        }
    }

    /// Logs `who` in by numéro allocataire; the session token.
    fn log_in(&self, who: &Beneficiary) -> Result<String, LoginFailure> {
        let path = "/connexion/allocataire";
        let answer = self
            .portal
            .post_form(
                path,
                &[
                    ("numero_allocataire", who.numero_allocataire.as_str()),
                    ("mot_de_passe", &who.password),
                ],
                None,
            )
            .map_err(|e| no_answer(path, e))?;
        answer
            .session_token()
            .ok_or(LoginFailure::ValidLoginRefused {
                owner: who.id,
                typed: who.numero_allocataire.as_str().to_owned(),
                status: answer.status,
            })
    }

    fn log_out(&self, token: &str) -> Result<Answer, NoAnswer> {
        self.portal.post_form("/deconnexion", &[], Some(token))
    }
}

impl Default for LoginFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// The form fields a case sends: the identifier, the password when it sends one, its extras.
fn fields<'a>(
    case: &'a LoginRequest,
    identifier: (&'a str, &'a str),
    password: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs = vec![identifier];
    if let Some(password) = password {
        pairs.push(("mot_de_passe", password));
    }
    pairs.extend(
        case.extra_fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str())),
    );
    pairs
}

/// The password a case sends: the owner's, another's, empty, none, raw bytes, or the owner's
/// with a trailing space.
fn password(case: &LoginRequest, owner: &Beneficiary, other: &Beneficiary) -> Option<String> {
    match case.password % 6 {
        0 => Some(owner.password.clone()),
        1 => Some(other.password.clone()),
        2 => Some(String::new()),
        3 => None,
        4 => Some(case.raw_password.clone()),
        _ => Some(format!("{} ", owner.password)),
    }
}

/// The two people of an identity pair: the template's, with the pair's NIRs, password states
/// and numbering order.
fn pair_people(pair: &IdentityPair, first_nir: Nir, second_nir: Nir) -> Vec<Beneficiary> {
    let [mut first, mut second] = pair_template().clone();
    first.nir = first_nir;
    second.nir = second_nir;
    let state = |bit: u8| {
        if pair.provisional & (1 << bit) != 0 {
            PasswordState::Provisional
        } else {
            PasswordState::Changed
        }
    };
    first.password_state = state(0);
    second.password_state = state(1);
    let (low, high) = (
        NumeroAllocataire::from_number(1_000_001).expect("7 digits"),
        NumeroAllocataire::from_number(1_000_002).expect("7 digits"),
    );
    (first.numero_allocataire, second.numero_allocataire) = if pair.second_numbered_first {
        (high, low)
    } else {
        (low, high)
    };
    vec![first, second]
}

/// The login path a case posts to, the form field it types, and the identifier that field takes.
fn login_target(case: &LoginRequest) -> (&'static str, &'static str, IdentifierKind) {
    if !case.nir_path {
        return (
            "/connexion/allocataire",
            "numero_allocataire",
            IdentifierKind::Numero,
        );
    }
    let kind = if case.full_nir {
        IdentifierKind::Nir
    } else {
        IdentifierKind::NirBody
    };
    ("/connexion/nir", "nir", kind)
}

/// The case's body in its encoding, and the content type it declares (none, or a wrong one).
fn encode(case: &LoginRequest, pairs: &[(&str, &str)]) -> (Option<&'static str>, Vec<u8>) {
    match case.encoding % 5 {
        0 => (
            Some("application/x-www-form-urlencoded"),
            form_encode(pairs).into_bytes(),
        ),
        1 => {
            let object: serde_json::Map<String, serde_json::Value> = pairs
                .iter()
                .map(|(n, v)| (n.to_string(), serde_json::Value::from(*v)))
                .collect();
            (
                Some("application/json"),
                serde_json::Value::Object(object).to_string().into_bytes(),
            )
        }
        2 => (Some("text/plain"), form_encode(pairs).into_bytes()),
        3 => (None, form_encode(pairs).into_bytes()),
        _ => (
            Some("application/x-www-form-urlencoded"),
            case.raw_body.clone(),
        ),
    }
}

/// The cookie header the case sends: a session carried along, a forged one, raw bytes, or none.
fn cookie(case: &LoginRequest, carried: Option<&str>) -> Option<Vec<u8>> {
    match (case.cookie % 5, carried) {
        (1 | 4, Some(token)) => Some(format!("{COOKIE_NAME}={token}").into_bytes()),
        (2, _) => Some(format!("{COOKIE_NAME}=zz{}", "0".repeat(62)).into_bytes()),
        (3, _) => Some(case.raw_cookie.clone().into_bytes()),
        _ => None,
    }
}

/// What a request body carried, decoded both ways: the judge must not depend on which encoding
/// the portal chose to read.
fn sent_values(body: &[u8]) -> Vec<(String, String)> {
    let mut sent = form_decode(body);
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) {
        sent.extend(
            object
                .into_iter()
                .filter_map(|(n, v)| Some((n, v.as_str()?.to_owned()))),
        );
    }
    sent
}

fn no_answer(path: &'static str, error: NoAnswer) -> LoginFailure {
    LoginFailure::NoAnswer {
        path,
        reason: error.to_string(),
    }
}

/// Two identities for `identifier_collision`: arbitrary NIR parts, the second taking some parts of
/// the first (neighbours in identity space are where a non-unique key collides), their password
/// states and the order of their numéros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPair {
    pub first: RawNirParts,
    pub second: RawNirParts,
    /// Bit i set: the second identity has the first's part i (0 sex, 1 year, 2 month, 3 place,
    /// 4 order).
    pub shared: u8,
    /// Bit 0: the first account is still on its provisional password; bit 1: the second.
    pub provisional: u8,
    /// Whether the second account's numéro allocataire sorts before the first's.
    pub second_numbered_first: bool,
    /// How both type their NIR: 0 the 13 characters, 1 the compact NIR, 2 the spaced NIR.
    pub typed: u8,
    /// Whether the second logs in first.
    pub second_logs_in_first: bool,
}

impl IdentityPair {
    /// The two valid identities; the second is the first's neighbour on the shared parts.
    pub fn identities(&self) -> (NirParts, NirParts) {
        let first = self.first.fold();
        let mut second = self.second.fold();
        let takes = |bit: u8| self.shared & (1 << bit) != 0;
        if takes(0) {
            second.sex = first.sex;
        }
        if takes(1) {
            second.year = first.year;
        }
        if takes(2) {
            second.month = first.month;
        }
        if takes(3) {
            second.place = first.place;
        }
        if takes(4) {
            second.order = first.order;
        }
        (first, second)
    }
}

/// Two beneficiaries with everything but the NIR valid and distinct, made once.
fn pair_template() -> &'static [Beneficiary; 2] {
    static TEMPLATE: std::sync::OnceLock<[Beneficiary; 2]> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let population = Population::generate(&GenerateOptions {
            size: 2,
            seed: 11,
            household_share: 0.0,
            provisional_share: 0.5,
        })
        .expect("a valid template population");
        let [a, b]: [Beneficiary; 2] = population
            .beneficiaries
            .try_into()
            .expect("two beneficiaries");
        [a, b]
    })
}

/// `identifier_collision` (differential): two accounts with distinct valid NIRs, each logging in by
/// NIR with its own password, each land in their own file, never in the same one. Whose file a
/// session opens is asked through [`InProcessPortal::session_owner`], not a page read: a portal
/// per input must not start its payments ledger (a loopback socket) thousands of times a second. With
/// `nir_lookup` the portal runs with that fault switched on, so the property must fail whenever
/// the two share the fault's blocking key and are both provisional; without, it must always hold.
pub fn identifier_collision(
    pair: &IdentityPair,
    nir_lookup: bool,
) -> Result<Checked, LoginFailure> {
    let (first_parts, second_parts) = pair.identities();
    let (Ok(first_nir), Ok(second_nir)) =
        (Nir::from_parts(first_parts), Nir::from_parts(second_parts))
    else {
        // `fold` only makes valid parts; a refusal here is `nir_structured`'s to report.
        return Ok(Checked::Rejected);
    };
    if first_nir.body() == second_nir.body() {
        return Ok(Checked::Rejected);
    }
    let people = pair_people(pair, first_nir, second_nir);
    let faults: &[Fault] = if nir_lookup { &[Fault::NirLookup] } else { &[] };
    let portal = InProcessPortal::new(people.clone(), config(faults))
        .expect("two distinct identities make a valid portal");
    let order: [usize; 2] = if pair.second_logs_in_first {
        [1, 0]
    } else {
        [0, 1]
    };
    let path = "/connexion/nir";
    let mut opened_by: Vec<(OwnerId, OwnerId)> = Vec::with_capacity(2);
    for index in order {
        let person = &people[index];
        let typed = match pair.typed % 3 {
            0 => person.nir.body().as_str().to_owned(),
            1 => person.nir.as_str().to_owned(),
            _ => person.nir.spaced(),
        };
        let answer = portal
            .post_form(
                path,
                &[("nir", &typed), ("mot_de_passe", &person.password)],
                None,
            )
            .map_err(|e| no_answer(path, e))?;
        let Some(token) = answer.session_token() else {
            return Err(LoginFailure::ValidLoginRefused {
                owner: person.id,
                typed,
                status: answer.status,
            });
        };
        let opened = portal
            .session_owner(&token, &people)
            .map_err(|e| no_answer("/mon-compte/mot-de-passe", e))?
            .ok_or(LoginFailure::EmptySession {
                path,
                identifier: typed.clone(),
            })?;
        if opened != person.id || opened_by.iter().any(|(_, o)| *o == opened) {
            return Err(LoginFailure::Collision {
                owner: person.id,
                typed,
                opened,
            });
        }
        opened_by.push((person.id, opened));
    }
    Ok(Checked::Passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two provisional accounts born the same month of the same year, same sex, elsewhere
    /// different: the `nir-lookup` fault's blocking key is the same.
    fn same_block() -> IdentityPair {
        IdentityPair {
            first: RawNirParts {
                woman: true,
                year: 84,
                month: 11,
                place_kind: 1,
                department: 0,
                commune: 4,
                order: 15,
            },
            second: RawNirParts {
                woman: false,
                year: 3,
                month: 40,
                place_kind: 2,
                department: 3,
                commune: 7,
                order: 200,
            },
            shared: 0b00111,
            provisional: 0b11,
            second_numbered_first: true,
            typed: 0,
            second_logs_in_first: false,
        }
    }

    #[test]
    fn the_differential_fires_with_the_nir_lookup_fault_and_stays_quiet_without() {
        let pair = same_block();
        let failure = identifier_collision(&pair, true).expect_err("the fault must show");
        assert!(
            matches!(
                failure,
                LoginFailure::Collision {
                    owner: 0,
                    opened: 1,
                    ..
                }
            ),
            "{failure}"
        );
        assert_eq!(identifier_collision(&pair, false), Ok(Checked::Passed));
        // Once either account changed its password, the fault has nothing to misdirect.
        for provisional in [0b00, 0b01, 0b10] {
            let pair = IdentityPair {
                provisional,
                ..same_block()
            };
            assert_eq!(identifier_collision(&pair, true), Ok(Checked::Passed));
        }
        // Every way of typing the NIR reaches the same activation step.
        for typed in 0..3 {
            let pair = IdentityPair {
                typed,
                ..same_block()
            };
            assert!(identifier_collision(&pair, true).is_err(), "typed {typed}");
        }
    }

    #[test]
    fn the_correct_portal_never_collides_over_a_sweep_of_neighbours() {
        for seed in 0..40u32 {
            let b = seed.wrapping_mul(2_654_435_761).to_le_bytes();
            let pair = IdentityPair {
                first: RawNirParts {
                    woman: seed % 2 == 0,
                    year: b[0],
                    month: b[1],
                    place_kind: b[2],
                    department: b[3],
                    commune: seed as u16 * 7,
                    order: seed as u16 * 13,
                },
                second: RawNirParts {
                    woman: seed % 3 == 0,
                    year: b[1],
                    month: b[2],
                    place_kind: b[3],
                    department: b[0],
                    commune: seed as u16 * 5,
                    order: seed as u16 * 3,
                },
                shared: b[0] | 0b111,
                provisional: 0b11,
                second_numbered_first: seed % 2 == 1,
                typed: b[2],
                second_logs_in_first: seed % 4 == 0,
            };
            let checked = identifier_collision(&pair, false);
            assert!(checked.is_ok(), "{pair:?}: {checked:?}");
        }
    }

    #[test]
    fn login_requests_in_every_shape_open_only_their_owners_account() {
        let fixture = LoginFixture::new();
        let mut cases = 0;
        for nir_path in [false, true] {
            for mutation in 0..20u8 {
                for password in 0..6u8 {
                    for cookie in 0..5u8 {
                        let case = LoginRequest {
                            nir_path,
                            owner: mutation.wrapping_mul(5),
                            full_nir: mutation % 2 == 0,
                            mutation,
                            mutation_parameter: password.wrapping_mul(41),
                            password,
                            raw_password: "x".into(),
                            other: cookie.wrapping_add(mutation),
                            encoding: (mutation + cookie) % 5,
                            raw_body: b"nir=%FF%FE&mot_de_passe".to_vec(),
                            extra_fields: if cookie == 3 {
                                vec![("nir".into(), "184122A004016".into())]
                            } else {
                                Vec::new()
                            },
                            cookie,
                            raw_cookie: "crossleak_session=; a=\u{0}b".into(),
                            ..LoginRequest::default()
                        };
                        let checked = fixture.check(&case);
                        assert_eq!(checked, Ok(Checked::Passed), "{case:?}");
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 1_200);
    }

    #[test]
    fn a_plain_own_login_succeeds_so_the_judge_has_something_to_judge() {
        let fixture = LoginFixture::new();
        let owner = &fixture.people()[0];
        let token = fixture.log_in(owner).expect("own login");
        let opened = fixture
            .portal
            .dossier_owner(&token, fixture.people())
            .expect("an answer");
        assert_eq!(opened, Some(owner.id));
    }

    #[test]
    fn login_request_also_catches_nir_lookup_when_the_fault_is_on() {
        let fixture = LoginFixture::with_faults(&[Fault::NirLookup]);
        let caught = (0..=255u8).any(|owner| {
            let case = LoginRequest {
                nir_path: true,
                owner,
                ..LoginRequest::default()
            };
            matches!(
                fixture.check(&case),
                Err(LoginFailure::ForeignAccount { .. })
            )
        });
        assert!(caught, "no NIR login of the fixture was misdirected");
    }
}
