//! A single-page app's API: the login form's page carries a CSRF token in a meta tag, the login is
//! a JSON call that sends it in `X-CSRF` and answers a bearer token, the profile is JSON and the
//! bank details change with a JSON `PUT`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `(client number, login, password, e-mail)`.
pub const CLIENTS: [(&str, &str, &str, &str); 4] = [
    (
        "C-2000001",
        "alice.martin",
        "Provisoire-1!",
        "alice.martin@exemple.test",
    ),
    (
        "C-2000002",
        "bruno.martin",
        "Provisoire-2!",
        "bruno.martin@exemple.test",
    ),
    (
        "C-2000003",
        "chloe.durand",
        "Provisoire-3!",
        "chloe.durand@exemple.test",
    ),
    (
        "C-2000004",
        "david.petit",
        "Provisoire-4!",
        "david.petit@exemple.test",
    ),
];

/// Client `i`'s IBAN on file, and the spare one the export holds for test writes.
pub fn ibans(i: usize) -> (String, String) {
    (
        format!("FR76300010079400000{:08}", 1000 + i),
        format!("FR76300010079400000{:08}", 9000 + i),
    )
}

/// The export as JSON Lines, with the portal's own keys and a number for the household.
pub fn write_export(dir: &Path) -> PathBuf {
    let text: String = CLIENTS
        .iter()
        .enumerate()
        .map(|(i, (number, login, password, email))| {
            let (iban, spare) = ibans(i);
            json!({"num_client": number, "identifiant_web": login, "mdp": password, "courriel": email,
                   "iban": iban, "iban_test": spare, "foyer": i / 2})
                .to_string()
                + "\n"
        })
        .collect();
    let path = dir.join("clients.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

struct Api {
    csrf: Mutex<HashSet<String>>,
    sessions: Mutex<HashMap<String, usize>>,
    ibans: Mutex<Vec<String>>,
}

type Shared = State<Arc<Api>>;

fn token() -> String {
    (0..24)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

async fn form(State(api): Shared) -> Html<String> {
    let csrf = token();
    api.csrf.lock().unwrap().insert(csrf.clone());
    Html(format!("<html><head><meta name=\"csrf\" content=\"{csrf}\"></head><body><div id=\"app\"></div></body></html>"))
}

async fn session(State(api): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let csrf = headers
        .get("x-csrf")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !api.csrf.lock().unwrap().remove(csrf) {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "csrf"}))).into_response();
    }
    let login = body
        .pointer("/user/login")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = body
        .pointer("/secret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match CLIENTS.iter().position(|c| c.1 == login && c.2 == secret) {
        Some(id) => {
            let token = token();
            api.sessions.lock().unwrap().insert(token.clone(), id);
            Json(json!({"session": {"token": token, "expires_in": 900}})).into_response()
        }
        None => (StatusCode::UNAUTHORIZED, Json(json!({"error": "login"}))).into_response(),
    }
}

fn client(api: &Api, headers: &HeaderMap) -> Option<usize> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| api.sessions.lock().unwrap().get(t).copied())
}

async fn me(State(api): Shared, headers: HeaderMap) -> Response {
    let Some(id) = client(&api, &headers) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "session"}))).into_response();
    };
    let (number, _, _, email) = CLIENTS[id];
    let iban = api.ibans.lock().unwrap()[id].clone();
    Json(json!({"client": {"number": number, "email": email}, "bank": {"iban": iban}}))
        .into_response()
}

async fn bank(State(api): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let Some(id) = client(&api, &headers) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "session"}))).into_response();
    };
    let Some(iban) = body.pointer("/iban").and_then(Value::as_str) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "iban"}))).into_response();
    };
    api.ibans.lock().unwrap()[id] = iban.to_owned();
    Json(json!({"ok": true})).into_response()
}

pub async fn serve() -> String {
    let app = Router::new()
        .route("/auth/form", get(form))
        .route("/auth/session", post(session))
        .route("/v2/me", get(me))
        .route("/v2/me/bank", put(bank))
        .with_state(Arc::new(Api {
            csrf: Mutex::default(),
            sessions: Mutex::default(),
            ibans: Mutex::new((0..CLIENTS.len()).map(|i| ibans(i).0).collect()),
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}
