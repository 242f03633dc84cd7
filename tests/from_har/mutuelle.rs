//! A portal crossleak has never seen, "Mutuelle Horizon": a Rails-like form login with a visitor
//! cookie and an `authenticity_token` hidden input, a `mh_session` cookie, an HTML dashboard, a
//! JSON member API, a bank-details form and a logout. Its leaking version puts a reverse-proxy
//! cache keyed by path in front of the dashboard (Steam, 2015); its fixed version has none.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Member {
    pub number: String,
    pub password: String,
    pub email: String,
    pub phone: String,
    pub iban: String,
    pub spare_iban: String,
    pub name: String,
}

/// The staging database: 24 members; family names repeat, so `NOM` is not an identity.
pub fn members() -> Vec<Member> {
    (0..24)
        .map(|i| Member {
            number: format!("MH-{:06}", 310_000 + i * 7),
            password: format!("Horizon-{i}-provisoire"),
            email: format!("adherent{i}@mutuelle-horizon.test"),
            phone: format!("06399810{:02}", i),
            iban: format!("FR7612345000010000000{:06}", 500 + i),
            spare_iban: format!("FR7612345000010000000{:06}", 900 + i),
            name: ["Martin", "Bernard", "Dubois"][i % 3].to_owned(),
        })
        .collect()
}

/// The export the staging database gives, in its own column names.
pub fn write_export(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("N_ADHERENT,NOM,EMAIL,TELEPHONE,MOT_DE_PASSE,IBAN,IBAN_SECOURS\n");
    for m in members() {
        text.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            m.number, m.name, m.email, m.phone, m.password, m.iban, m.spare_iban
        ));
    }
    let path = dir.join("adherents.csv");
    std::fs::write(&path, text).unwrap();
    path
}

struct Portal {
    members: Vec<Mutex<Member>>,
    by_number: HashMap<String, usize>,
    /// authenticity token → the visitor cookie it was issued to.
    tokens: Mutex<HashMap<String, String>>,
    sessions: Mutex<HashMap<String, usize>>,
    /// `Some`: the leaking version's cache of the dashboard, keyed by path alone.
    cache: Option<Mutex<Option<(Instant, String)>>>,
}

type Shared = State<Arc<Portal>>;

fn random() -> String {
    (0..20)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let jar = headers.get(header::COOKIE)?.to_str().ok()?;
    jar.split(';').find_map(|c| {
        let (n, v) = c.trim().split_once('=')?;
        (n == name).then(|| v.to_owned())
    })
}

fn member_of(p: &Portal, headers: &HeaderMap) -> Option<usize> {
    let session = cookie(headers, "mh_session")?;
    p.sessions.lock().unwrap().get(&session).copied()
}

fn page(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title} · Mutuelle Horizon</title>\
         <link rel=\"stylesheet\" href=\"/assets/app-3f2a.css\"><script src=\"/assets/app-3f2a.js\" defer></script></head>\
         <body><nav><a href=\"/\">Mutuelle Horizon</a></nav><main>{main}</main></body></html>"
    )
}

async fn home() -> Html<String> {
    Html(page(
        "Accueil",
        "<h1>Bienvenue</h1><a href=\"/compte/connexion\">Espace adhérent</a>",
    ))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        "body{font-family:sans-serif}",
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/javascript"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        "console.log('mh')",
    )
        .into_response()
}

async fn login_form(State(p): Shared, headers: HeaderMap) -> Response {
    let visitor = cookie(&headers, "mh_visitor").unwrap_or_else(random);
    let token = random();
    p.tokens
        .lock()
        .unwrap()
        .insert(token.clone(), visitor.clone());
    let body = page(
        "Connexion",
        &format!(
            "<h1>Connexion</h1><form method=\"post\" action=\"/compte/connexion\" class=\"login\">\
             <input type=\"hidden\" name=\"utf8\" value=\"✓\">\
             <input type=\"hidden\" value=\"{token}\" name=\"authenticity_token\" autocomplete=\"off\">\
             <label>N° d'adhérent <input name=\"adherent[numero]\"></label>\
             <label>Mot de passe <input type=\"password\" name=\"adherent[mot_de_passe]\"></label>\
             <button>Se connecter</button></form>"
        ),
    );
    (
        [
            (
                header::SET_COOKIE,
                format!("mh_visitor={visitor}; Path=/; HttpOnly; SameSite=Lax"),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Html(body),
    )
        .into_response()
}

async fn login(
    State(p): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let visitor = cookie(&headers, "mh_visitor").unwrap_or_default();
    let issued_to = p
        .tokens
        .lock()
        .unwrap()
        .remove(&field("authenticity_token"));
    if issued_to.as_deref() != Some(visitor.as_str()) || visitor.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Html(page("Erreur", "<p>Jeton invalide</p>")),
        )
            .into_response();
    }
    let Some(&id) = p.by_number.get(&field("adherent[numero]")) else {
        return (
            StatusCode::OK,
            Html(page("Connexion", "<p>Identifiants incorrects</p>")),
        )
            .into_response();
    };
    if p.members[id].lock().unwrap().password != field("adherent[mot_de_passe]") {
        return (
            StatusCode::OK,
            Html(page("Connexion", "<p>Identifiants incorrects</p>")),
        )
            .into_response();
    }
    let session = random();
    p.sessions.lock().unwrap().insert(session.clone(), id);
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, "/compte/tableau-de-bord".to_owned()),
            (
                header::SET_COOKIE,
                format!("mh_session={session}; Path=/; HttpOnly; SameSite=Lax"),
            ),
        ],
    )
        .into_response()
}

fn dashboard_html(m: &Member) -> String {
    page(
        "Tableau de bord",
        &format!(
            "<h1>Bonjour {name}</h1><section><p>Adhérent n° <strong>{number}</strong></p>\
             <p>Courriel : {email}</p><p>Téléphone : {phone}</p><p>IBAN : {iban}</p></section>\
             <form method=\"post\" action=\"/compte/rib\"><input name=\"rib[iban]\"><button>Modifier</button></form>\
             <form method=\"post\" action=\"/compte/deconnexion\"><button>Se déconnecter</button></form>",
            name = m.name,
            number = m.number,
            email = m.email,
            phone = m.phone,
            iban = m.iban,
        ),
    )
}

async fn dashboard(State(p): Shared, headers: HeaderMap) -> Response {
    let Some(id) = member_of(&p, &headers) else {
        return (StatusCode::FOUND, [(header::LOCATION, "/compte/connexion")]).into_response();
    };
    let private = [(header::CACHE_CONTROL, "private, no-store")];
    if let Some(cache) = &p.cache {
        let mut cache = cache.lock().unwrap();
        if let Some((at, body)) = cache.as_ref() {
            if at.elapsed() < Duration::from_millis(400) {
                return (private, Html(body.clone())).into_response();
            }
        }
        let body = dashboard_html(&p.members[id].lock().unwrap());
        *cache = Some((Instant::now(), body.clone()));
        return (private, Html(body)).into_response();
    }
    let body = dashboard_html(&p.members[id].lock().unwrap());
    (private, Html(body)).into_response()
}

async fn api_me(State(p): Shared, headers: HeaderMap) -> Response {
    let Some(id) = member_of(&p, &headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "non connecté"})),
        )
            .into_response();
    };
    let m = p.members[id].lock().unwrap().clone();
    (
        [(header::CACHE_CONTROL, "private, no-store")],
        Json(json!({"adherent": {"numero": m.number, "nom": m.name, "contact": {"email": m.email}}, "garanties": ["hospitalisation", "optique"]})),
    )
        .into_response()
}

async fn change_iban(
    State(p): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = member_of(&p, &headers) else {
        return (StatusCode::FOUND, [(header::LOCATION, "/compte/connexion")]).into_response();
    };
    if let Some(iban) = form.get("rib[iban]").filter(|i| i.starts_with("FR")) {
        p.members[id].lock().unwrap().iban = iban.clone();
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, "/compte/tableau-de-bord")],
    )
        .into_response()
}

async fn logout(State(p): Shared, headers: HeaderMap) -> Response {
    if let Some(session) = cookie(&headers, "mh_session") {
        p.sessions.lock().unwrap().remove(&session);
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_owned()),
            (
                header::SET_COOKIE,
                "mh_session=; Path=/; Max-Age=0".to_owned(),
            ),
        ],
    )
        .into_response()
}

/// Serves the portal on a loopback port; `leaking` puts the dashboard cache in front.
pub async fn serve(leaking: bool) -> String {
    let members = members();
    let portal = Arc::new(Portal {
        by_number: members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.number.clone(), i))
            .collect(),
        members: members.into_iter().map(Mutex::new).collect(),
        tokens: Mutex::default(),
        sessions: Mutex::default(),
        cache: leaking.then(Mutex::default),
    });
    let app = Router::new()
        .route("/", get(home))
        .route("/assets/app-3f2a.css", get(stylesheet))
        .route("/assets/app-3f2a.js", get(script))
        .route("/compte/connexion", get(login_form).post(login))
        .route("/compte/tableau-de-bord", get(dashboard))
        .route("/api/v1/adherent", get(api_me))
        .route("/compte/rib", post(change_iban))
        .route("/compte/deconnexion", post(logout))
        .with_state(portal);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}
