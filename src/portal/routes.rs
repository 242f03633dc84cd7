//! The portal's routes and handlers: public pages, both login paths, the file (HTML and JSON), writes, logout.
//! Faults are applied here, each at one seam of [`router`]; with none configured the portal is correct.

use super::accounts::{Accounts, PasswordChangeError};
use super::dossier::Dossier;
use super::session::{SessionToken, Sessions};
use super::{cache, pages, Fault, PortalConfig, PortalError};
use crate::identifiers::{Iban, Nir, NirBody, NirError, NumeroAllocataire};
use crate::population::{Beneficiary, OwnerId};
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use std::sync::Arc;

/// Personal responses: no cache may keep them.
const PRIVATE: &str = "private, no-store";
/// Public pages that change with the portal's state (a refusal notice, a redirect).
const NO_STORE: &str = "no-store";
const HTML: &str = "text/html; charset=utf-8";

/// Everything the handlers share; each part locks only what it touches.
struct Portal {
    accounts: Accounts,
    sessions: Sessions,
}

type Shared = State<Arc<Portal>>;

/// The whole portal as an axum router, for in-process use; [`super::start`] serves it.
pub fn router(accounts: Vec<Beneficiary>, config: PortalConfig) -> Result<Router, PortalError> {
    config.validate()?;
    let portal = Arc::new(Portal {
        accounts: Accounts::new(accounts)?,
        sessions: Sessions::default(),
    });
    let mut personal_reads = Router::new()
        .route("/mon-compte", get(account_page))
        .route("/api/dossier", get(dossier));
    // Seam: layers in front of the personal pages.
    if config.has(Fault::SharedCache) {
        personal_reads = cache::wrap(personal_reads, config.cache_ttl);
    }
    Ok(Router::new()
        .route("/", get(home))
        .route("/static/site.css", get(stylesheet))
        .route("/connexion", get(login_page))
        .route("/connexion/allocataire", post(login_allocataire))
        .route("/connexion/nir", post(login_nir))
        .route("/mon-compte/rib", post(change_rib))
        .route("/mon-compte/mot-de-passe", post(change_password))
        .route("/deconnexion", post(logout))
        .merge(personal_reads)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(portal))
}

#[derive(Deserialize)]
struct AllocataireLogin {
    #[serde(default)]
    numero_allocataire: String,
    #[serde(default)]
    mot_de_passe: String,
}

#[derive(Deserialize)]
struct NirLogin {
    #[serde(default)]
    nir: String,
    #[serde(default)]
    mot_de_passe: String,
}

#[derive(Deserialize)]
struct RibChange {
    #[serde(default)]
    iban: String,
}

#[derive(Deserialize)]
struct PasswordChange {
    #[serde(default)]
    ancien: String,
    #[serde(default)]
    nouveau: String,
}

async fn home() -> Response {
    html(StatusCode::OK, "no-cache", pages::home())
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

async fn login_page() -> Response {
    html(StatusCode::OK, NO_STORE, pages::login(None))
}

async fn login_allocataire(
    State(portal): Shared,
    headers: HeaderMap,
    form: Result<Form<AllocataireLogin>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return refused_form(&rejection),
    };
    match NumeroAllocataire::parse(&form.numero_allocataire) {
        Ok(numero) => open_session(
            &portal,
            &headers,
            portal.accounts.by_numero(&numero),
            &form.mot_de_passe,
        ),
        Err(error) => login_refused(
            StatusCode::BAD_REQUEST,
            &format!("Numéro allocataire invalide : {error}"),
        ),
    }
}

async fn login_nir(
    State(portal): Shared,
    headers: HeaderMap,
    form: Result<Form<NirLogin>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return refused_form(&rejection),
    };
    match login_nir_body(&form.nir) {
        Ok(body) => open_session(
            &portal,
            &headers,
            portal.accounts.by_nir_body(&body),
            &form.mot_de_passe,
        ),
        Err(error) => login_refused(
            StatusCode::BAD_REQUEST,
            &format!("Numéro de sécurité sociale invalide : {error}"),
        ),
    }
}

/// The NIR login asks for the 13 characters without the key; the full NIR (compact or spaced)
/// is accepted too, and then its key must match. Anything else gets the 13-character parser's
/// error, which names the login form.
fn login_nir_body(input: &str) -> Result<NirBody, NirError> {
    if input.contains(' ') || input.chars().count() == 15 {
        Nir::parse(input).map(|nir| nir.body())
    } else {
        NirBody::parse(input)
    }
}

/// Opens a session if `password` opens `owner`'s account. Unknown account and wrong password
/// get the same answer. A session the browser already had is closed first.
fn open_session(
    portal: &Portal,
    headers: &HeaderMap,
    owner: Option<OwnerId>,
    password: &str,
) -> Response {
    let Some(owner) = owner.filter(|owner| portal.accounts.authenticate(*owner, password)) else {
        return login_refused(
            StatusCode::UNAUTHORIZED,
            "Identifiant ou mot de passe incorrect.",
        );
    };
    if let Some(previous) = SessionToken::from_headers(headers) {
        portal.sessions.close(&previous);
    }
    let token = portal.sessions.open(owner);
    see_other("/mon-compte", Some(token.set_cookie()))
}

/// The session's token and owner, if the request carries an open session.
fn signed_in(portal: &Portal, headers: &HeaderMap) -> Option<(SessionToken, OwnerId)> {
    let token = SessionToken::from_headers(headers)?;
    portal.sessions.owner(&token).map(|owner| (token, owner))
}

async fn account_page(State(portal): Shared, headers: HeaderMap) -> Response {
    let file = signed_in(&portal, &headers).and_then(|(_, owner)| portal.accounts.file(owner));
    match file {
        Some(file) => html(StatusCode::OK, PRIVATE, pages::account(&file)),
        None => see_other("/connexion", None),
    }
}

async fn dossier(State(portal): Shared, headers: HeaderMap) -> Response {
    let file = signed_in(&portal, &headers).and_then(|(_, owner)| portal.accounts.file(owner));
    match file {
        Some(file) => (
            [(header::CACHE_CONTROL, PRIVATE)],
            Json(Dossier::new(&file)),
        )
            .into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, NO_STORE)],
            Json(serde_json::json!({
                "error": "not logged in: log in at /connexion, then send the crossleak_session cookie"
            })),
        )
            .into_response(),
    }
}

async fn change_rib(
    State(portal): Shared,
    headers: HeaderMap,
    form: Result<Form<RibChange>, FormRejection>,
) -> Response {
    let Some((_, owner)) = signed_in(&portal, &headers) else {
        return not_signed_in();
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return refused_form(&rejection),
    };
    match Iban::parse(&form.iban) {
        Ok(iban) if portal.accounts.set_iban(owner, iban) => see_other("/mon-compte", None),
        Ok(_) => not_signed_in(),
        Err(error) => html(
            StatusCode::BAD_REQUEST,
            NO_STORE,
            pages::message("IBAN refusé", &format!("IBAN invalide : {error}")),
        ),
    }
}

async fn change_password(
    State(portal): Shared,
    headers: HeaderMap,
    form: Result<Form<PasswordChange>, FormRejection>,
) -> Response {
    let Some((token, owner)) = signed_in(&portal, &headers) else {
        return not_signed_in();
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return refused_form(&rejection),
    };
    match portal
        .accounts
        .change_password(owner, &form.ancien, &form.nouveau)
    {
        Ok(()) => {
            // Whoever else held this account's sessions knew the old password, not the new one.
            portal.sessions.close_others(owner, &token);
            see_other("/mon-compte", None)
        }
        Err(error) => {
            let status = match error {
                PasswordChangeError::WrongCurrentPassword => StatusCode::FORBIDDEN,
                PasswordChangeError::TooShort { .. } | PasswordChangeError::TooLong { .. } => {
                    StatusCode::BAD_REQUEST
                }
            };
            html(
                status,
                NO_STORE,
                pages::message("Mot de passe inchangé", &error.to_string()),
            )
        }
    }
}

async fn logout(State(portal): Shared, headers: HeaderMap) -> Response {
    if let Some(token) = SessionToken::from_headers(&headers) {
        portal.sessions.close(&token);
    }
    see_other("/connexion", Some(SessionToken::expired_cookie()))
}

async fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        NO_STORE,
        pages::message(
            "Page introuvable",
            "Cette adresse ne correspond à aucune page.",
        ),
    )
}

async fn method_not_allowed() -> Response {
    html(
        StatusCode::METHOD_NOT_ALLOWED,
        NO_STORE,
        pages::message(
            "Méthode refusée",
            "Cette page existe, mais pas pour cette méthode HTTP.",
        ),
    )
}

fn html(status: StatusCode, cache_control: &'static str, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HTML),
            (header::CACHE_CONTROL, cache_control),
        ],
        body,
    )
        .into_response()
}

/// The login page again, with the reason for the refusal.
fn login_refused(status: StatusCode, reason: &str) -> Response {
    html(status, NO_STORE, pages::login(Some(reason)))
}

fn refused_form(rejection: &FormRejection) -> Response {
    html(
        rejection.status(),
        NO_STORE,
        pages::message("Formulaire refusé", &rejection.body_text()),
    )
}

fn not_signed_in() -> Response {
    html(
        StatusCode::UNAUTHORIZED,
        NO_STORE,
        pages::message(
            "Session absente ou expirée",
            "Connectez-vous à nouveau pour modifier votre dossier.",
        ),
    )
}

/// `303 See Other` to `location`, with a small HTML body so that it carries a `Content-Type`.
fn see_other(location: &'static str, cookie: Option<String>) -> Response {
    let mut response = html(StatusCode::SEE_OTHER, NO_STORE, pages::redirect(location));
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, header::HeaderValue::from_static(location));
    if let Some(cookie) = cookie {
        match header::HeaderValue::try_from(cookie) {
            Ok(value) => {
                headers.insert(header::SET_COOKIE, value);
            }
            // Cookies are built from hex digits and fixed text; this cannot be reached.
            Err(_) => {
                return html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    NO_STORE,
                    pages::message("Erreur", "Le cookie de session n'a pas pu être écrit."),
                )
            }
        }
    }
    response
}
