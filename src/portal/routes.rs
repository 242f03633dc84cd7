//! The portal's routes and handlers: public pages, both login paths, the file (HTML and JSON), writes, logout.
//! Faults are applied here, each at one seam of [`router`]; with none configured the portal is correct.

use super::accounts::{same_secret, Accounts, PasswordChangeError};
use super::activation::Activation;
use super::cache::{self, Rule};
use super::dossier::Dossier;
use super::ledger::{Ledger, LedgerError, Statement};
use super::memo::{self, TimeBucketMemo};
use super::session::{SessionPolicy, SessionToken, Sessions};
use super::viewer::{CurrentUser, RequestContexts};
use super::{lenient, pages, Fault, PortalConfig, PortalError};
use crate::identifiers::{Iban, Nir, NirBody, NirError, NumeroAllocataire};
use crate::population::{Beneficiary, OwnerId};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Personal responses: no cache may keep them.
const PRIVATE: &str = "private, no-store";
/// Public pages that change with the portal's state (a refusal notice, a redirect).
const NO_STORE: &str = "no-store";
const HTML: &str = "text/html; charset=utf-8";

/// The header that carries the admin token.
const ADMIN_TOKEN_HEADER: &str = "x-admin-token";
/// What `POST /connexion/nir` answers before the cut-over.
const NIR_LOGIN_CLOSED: &str =
    "Désolé : la connexion par NIR n'est pas encore ouverte. Connectez-vous avec votre numéro allocataire.";

/// Everything the handlers share; each part locks only what it touches.
struct Portal {
    accounts: Arc<Accounts>,
    sessions: Sessions,
    /// The payments every personal read shows, over pooled sockets.
    ledger: Ledger,
    /// Where the auth layer puts the current user.
    contexts: RequestContexts,
    /// `nir-lookup`: the NIR login's activation table.
    activation: Option<Activation>,
    /// `simultaneous-access`: the memo in front of `/api/paiements`.
    payments_memo: Option<TimeBucketMemo>,
    /// Whether `POST /connexion/nir` is open; the admin endpoint switches it.
    nir_login: AtomicBool,
    admin_token: String,
    /// The `Cache-Control` of personal responses; `None` under `missing-cache-control` and
    /// `default-cdn-cache`, whose pages forgot it.
    personal_cache_control: Option<&'static str>,
    /// Whether the file endpoints addressed by number check that the session owns the number
    /// (`false` under `object-reference`).
    ownership_checks: bool,
}

type Shared = State<Arc<Portal>>;

/// The whole portal as an axum router, for in-process use; [`super::start`] serves it.
pub fn router(accounts: Vec<Beneficiary>, config: PortalConfig) -> Result<Router, PortalError> {
    config.validate()?;
    let accounts = Arc::new(Accounts::new(accounts)?);
    let forgets_cache_control =
        config.has(Fault::MissingCacheControl) || config.has(Fault::DefaultCdnCache);
    let portal = Arc::new(Portal {
        ledger: Ledger::new(
            Arc::clone(&accounts),
            config.ledger_latency,
            config.payment_history,
            config.has(Fault::DirtyPooledConnection),
        ),
        activation: config
            .has(Fault::NirLookup)
            .then(|| Activation::new(&accounts)),
        accounts,
        sessions: Sessions::new(SessionPolicy {
            random_tokens: !config.has(Fault::WeakSessionId),
            revoke: !config.has(Fault::StaleSession),
        }),
        contexts: RequestContexts::new(config.has(Fault::RequestStateRace)),
        payments_memo: config
            .has(Fault::SimultaneousAccess)
            .then(|| TimeBucketMemo::new(memo::BUCKET)),
        nir_login: AtomicBool::new(config.nir_login),
        admin_token: config.admin_token.clone(),
        personal_cache_control: (!forgets_cache_control).then_some(PRIVATE),
        ownership_checks: !config.has(Fault::ObjectReference),
    });
    // The personal reads sit behind the auth layer, which resolves the session once.
    let mut personal_reads = Router::new()
        .route("/mon-compte", get(account_page))
        .route("/api/dossier", get(dossier))
        .route("/api/paiements", get(payments))
        .route("/api/dossiers/{numero}", get(dossier_by_number))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&portal),
            authenticate,
        ));
    // Seam: layers in front of the personal pages.
    if config.has(Fault::SharedCache) {
        personal_reads = cache::wrap_routes(personal_reads, config.cache_ttl);
    }
    let mut app = Router::new()
        .route("/", get(home))
        .route("/static/site.css", get(stylesheet))
        .route("/connexion", get(login_page))
        .route("/connexion/allocataire", post(login_allocataire))
        .route("/connexion/nir", post(login_nir))
        .route("/mon-compte/rib", post(change_rib))
        .route("/api/dossiers/{numero}/rib", post(change_rib_by_number))
        .route("/mon-compte/mot-de-passe", post(change_password))
        .route("/deconnexion", post(logout))
        .route("/admin/connexion-nir", post(switch_nir_login))
        .merge(personal_reads)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(portal);
    // Seam: what stands in front of the whole portal, innermost first.
    if config.has(Fault::CacheDeception) {
        app = cache::in_front(lenient::wrap(app), Rule::StaticExtensions, config.cache_ttl);
    }
    if config.has(Fault::DefaultCdnCache) {
        app = cache::in_front(app, Rule::DefaultCdn, config.cache_ttl);
    }
    Ok(app)
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
struct NirLoginSwitch {
    #[serde(default)]
    active: String,
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
    if !portal.nir_login.load(Ordering::Relaxed) {
        return login_refused(StatusCode::FORBIDDEN, NIR_LOGIN_CLOSED);
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return refused_form(&rejection),
    };
    match login_nir_body(&form.nir) {
        Ok(body) => match portal.accounts.by_nir_body(&body) {
            // Seam: the NIR path's activation step (`nir-lookup`).
            Some(owner) if portal.accounts.authenticate(owner, &form.mot_de_passe) => {
                let opened = match &portal.activation {
                    Some(activation) => activation.account_to_open(&portal.accounts, owner, &body),
                    None => owner,
                };
                start_session(&portal, &headers, opened)
            }
            _ => wrong_credentials(),
        },
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
/// get the same answer.
fn open_session(
    portal: &Portal,
    headers: &HeaderMap,
    owner: Option<OwnerId>,
    password: &str,
) -> Response {
    match owner.filter(|owner| portal.accounts.authenticate(*owner, password)) {
        Some(owner) => start_session(portal, headers, owner),
        None => wrong_credentials(),
    }
}

fn wrong_credentials() -> Response {
    login_refused(
        StatusCode::UNAUTHORIZED,
        "Identifiant ou mot de passe incorrect.",
    )
}

/// Opens a session for `owner`, whose credentials were checked; a session the browser already
/// had is closed first.
fn start_session(portal: &Portal, headers: &HeaderMap, owner: OwnerId) -> Response {
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

/// The auth layer of the personal reads: resolves the session cookie to its owner and hands the
/// handler a [`CurrentUser`] (seam: where that object lives, `request-state-race`). Without a
/// session, pages redirect to the login and the JSON API answers 401.
async fn authenticate(State(portal): Shared, mut request: Request, next: Next) -> Response {
    match signed_in(&portal, request.headers()) {
        Some((_, owner)) => {
            let current = portal.contexts.bind(owner);
            request.extensions_mut().insert(current);
            next.run(request).await
        }
        None if request.uri().path().starts_with("/api/") => not_logged_in_json(),
        None => see_other("/connexion", None),
    }
}

async fn account_page(
    State(portal): Shared,
    Extension(current): Extension<CurrentUser>,
) -> Response {
    let statement = match statement(&portal, current.owner()).await {
        Ok(statement) => statement,
        Err(error) => return ledger_unavailable(false, &error),
    };
    match portal.accounts.file(current.owner()) {
        Some(file) => portal.personal(html(
            StatusCode::OK,
            NO_STORE,
            pages::account(&file, &statement),
        )),
        None => see_other("/connexion", None),
    }
}

async fn dossier(State(portal): Shared, Extension(current): Extension<CurrentUser>) -> Response {
    let statement = match statement(&portal, current.owner()).await {
        Ok(statement) => statement,
        Err(error) => return ledger_unavailable(true, &error),
    };
    match portal.accounts.file(current.owner()) {
        Some(file) => portal.personal(Json(Dossier::new(&file, &statement)).into_response()),
        None => not_logged_in_json(),
    }
}

/// `GET /api/dossiers/{numero}`: the JSON file the path's numéro allocataire names, for a
/// session allowed to open it (its owner or their household); 403 for anyone else's, 404 for a
/// number no file has.
async fn dossier_by_number(
    State(portal): Shared,
    Path(numero): Path<String>,
    Extension(current): Extension<CurrentUser>,
) -> Response {
    let owner = match portal.file_owner(current.owner(), &numero) {
        Ok(owner) => owner,
        Err((status, error)) => return refused_json(status, error),
    };
    let statement = match statement(&portal, owner).await {
        Ok(statement) => statement,
        Err(error) => return ledger_unavailable(true, &error),
    };
    match portal.accounts.file(owner) {
        Some(file) => portal.personal(Json(Dossier::new(&file, &statement)).into_response()),
        None => refused_json(StatusCode::NOT_FOUND, NO_SUCH_FILE),
    }
}

/// The user's payments and the numéro allocataire of the file, as the ledger returns them.
async fn payments(State(portal): Shared, Extension(current): Extension<CurrentUser>) -> Response {
    let owner = current.owner();
    // Seam: the memo in front of the transactions endpoint (`simultaneous-access`).
    let reply = match &portal.payments_memo {
        Some(memo) => memo.get_or_fetch(|| portal.ledger.statement(owner)).await,
        None => portal.ledger.statement(owner).await,
    };
    let reply = match reply.and_then(|reply| Statement::parse(&reply).map(|_| reply)) {
        Ok(reply) => reply,
        Err(error) => return ledger_unavailable(true, &error),
    };
    portal.personal(
        (
            [(header::CONTENT_TYPE, "application/json")],
            reply.as_bytes().to_vec(),
        )
            .into_response(),
    )
}

/// The owner's statement from the ledger.
async fn statement(portal: &Portal, owner: OwnerId) -> Result<Statement, LedgerError> {
    let reply = portal.ledger.statement(owner).await?;
    Statement::parse(&reply)
}

impl Portal {
    /// The owner of the file `numero` names, if `viewer` may open it: the owner themself or a
    /// member of their household (seam: the ownership check, `object-reference`, skips it);
    /// otherwise the refusal's status and message.
    fn file_owner(
        &self,
        viewer: OwnerId,
        numero: &str,
    ) -> Result<OwnerId, (StatusCode, &'static str)> {
        let owner = NumeroAllocataire::parse(numero)
            .ok()
            .and_then(|numero| self.accounts.by_numero(&numero))
            .ok_or((StatusCode::NOT_FOUND, NO_SUCH_FILE))?;
        if self.ownership_checks && owner != viewer && !self.accounts.same_household(viewer, owner)
        {
            return Err((
                StatusCode::FORBIDDEN,
                "this file is not yours: a session opens only its own household's files",
            ));
        }
        Ok(owner)
    }

    /// A personal response with the portal's `Cache-Control` for personal data (or none, under
    /// the faults whose pages forgot it).
    fn personal(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        match self.personal_cache_control {
            Some(value) => {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
            }
            None => {
                headers.remove(header::CACHE_CONTROL);
            }
        }
        response
    }
}

/// What `/api/dossiers/{numero}` answers for a number no file has.
const NO_SUCH_FILE: &str = "no file has this numéro allocataire: check the number in the path";

/// A JSON refusal that carries no one's data.
fn refused_json(status: StatusCode, error: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, NO_STORE)],
        Json(serde_json::json!({ "error": error })),
    )
        .into_response()
}

fn not_logged_in_json() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CACHE_CONTROL, NO_STORE)],
        Json(serde_json::json!({
            "error": "not logged in: log in at /connexion, then send the crossleak_session cookie"
        })),
    )
        .into_response()
}

/// 503: the ledger did not answer (or answered nonsense); the page says so without any data.
fn ledger_unavailable(json: bool, error: &LedgerError) -> Response {
    let text = format!("Service momentanément indisponible : {error}. Réessayez dans un instant.");
    if json {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, NO_STORE)],
            Json(serde_json::json!({ "error": text })),
        )
            .into_response()
    } else {
        html(
            StatusCode::SERVICE_UNAVAILABLE,
            NO_STORE,
            pages::message("Service indisponible", &text),
        )
    }
}

/// `POST /admin/connexion-nir` (form `active=1|0`, header `X-Admin-Token`): opens or closes the
/// NIR login at run time, as the migration's cut-over does.
async fn switch_nir_login(
    State(portal): Shared,
    headers: HeaderMap,
    form: Result<Form<NirLoginSwitch>, FormRejection>,
) -> Response {
    let admin = |status: StatusCode, body: serde_json::Value| {
        (status, [(header::CACHE_CONTROL, NO_STORE)], Json(body)).into_response()
    };
    let token = headers
        .get(ADMIN_TOKEN_HEADER)
        .and_then(|value| value.to_str().ok());
    if !token.is_some_and(|token| same_secret(&portal.admin_token, token)) {
        return admin(
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "missing or wrong X-Admin-Token: send the portal's admin token"}),
        );
    }
    let active = match form.as_ref().map(|Form(form)| form.active.as_str()) {
        Ok("1") => true,
        Ok("0") => false,
        Ok(other) => {
            return admin(
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": format!("active is {other:?}: send active=1 to open the NIR login, active=0 to close it")}),
            )
        }
        Err(rejection) => return refused_form(rejection),
    };
    portal.nir_login.store(active, Ordering::Relaxed);
    admin(
        StatusCode::OK,
        serde_json::json!({ "connexion_nir": active }),
    )
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
    set_rib(&portal, owner, &form)
}

/// `POST /api/dossiers/{numero}/rib`: the RIB change of the file the path names, for a session
/// allowed to open it (seam: the ownership check, `object-reference`).
async fn change_rib_by_number(
    State(portal): Shared,
    Path(numero): Path<String>,
    headers: HeaderMap,
    form: Result<Form<RibChange>, FormRejection>,
) -> Response {
    let Some((_, viewer)) = signed_in(&portal, &headers) else {
        return not_logged_in_json();
    };
    let owner = match portal.file_owner(viewer, &numero) {
        Ok(owner) => owner,
        Err((status, error)) => return refused_json(status, error),
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return refused_form(&rejection),
    };
    set_rib(&portal, owner, &form)
}

/// Makes the form's IBAN `owner`'s, then shows the account page.
fn set_rib(portal: &Portal, owner: OwnerId, form: &RibChange) -> Response {
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
