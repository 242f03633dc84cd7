//! Infers what the user did after logging in: pages that show the user's own data, writes of a
//! watched value (runnable when the export holds a spare value of its kind), and the logout.

use super::compare;
use super::draft::{PageDraft, RequestDraft, SessionDraft, WriteDraft};
use super::recording::{json_leaves, Exchange, RequestBody};
use super::seen::Seer;
use super::template::Templater;
use super::user::{User, UserValue};
use super::visits::{describe, Visit};
use super::writer::request_text;
use serde_json::Value;

/// Words a logout path holds.
const LOGOUT: [&str; 8] = [
    "logout",
    "log-out",
    "signout",
    "sign-out",
    "deconnexion",
    "d%c3%a9connexion",
    "logoff",
    "disconnect",
];

#[derive(Default)]
pub struct Browse {
    pub pages: Vec<PageDraft>,
    pub writes: Vec<WriteDraft>,
    pub suggestions: Vec<String>,
    pub logout: Option<RequestDraft>,
    pub dropped: Vec<String>,
    /// Oracle fields the writes change: no page may be required to show their old value.
    pub written: Vec<String>,
    /// Oracle fields any response showed.
    pub seen: Vec<String>,
}

pub struct Context<'a> {
    pub exchanges: &'a [Exchange],
    pub user: &'a User,
    pub seer: &'a Seer,
    pub session: &'a SessionDraft,
}

/// `after` lists the visits after the login, noise left out, in order; `landing` is the page the
/// login ended on after its redirects, a personal page like the others when it shows the user.
pub fn infer(
    cx: &Context<'_>,
    landing: Option<&Visit>,
    visits: &[&Visit],
    templater: &mut Templater<'_>,
    seen_during_login: &[String],
    notes: &mut Vec<String>,
) -> Browse {
    let mut out = Browse {
        seen: seen_during_login.to_vec(),
        ..Browse::default()
    };
    if let Some(visit) = landing {
        let last = visit.last(cx.exchanges);
        let fields = cx.seer.own_fields(last);
        if !fields.is_empty() {
            out.pages.push(PageDraft {
                json_equals: json_equals(last, cx.user),
                path: templater.request(last, notes).path,
                must_show: fields,
                entries: vec![last.entry],
            });
        }
    }
    for (i, visit) in visits.iter().enumerate() {
        let first = visit.first(cx.exchanges);
        let last = visit.last(cx.exchanges);
        if is_logout(visit, cx) {
            out.logout = Some(templater.request(first, notes));
            for later in &visits[i + 1..] {
                out.dropped
                    .push(describe(later.first(cx.exchanges), "after the logout"));
            }
            break;
        }
        let fields = cx.seer.own_fields(last);
        if first.method == "GET" {
            if !(200..300).contains(&last.status) {
                out.dropped
                    .push(describe(first, &format!("answered {}", last.status)));
            } else if fields.is_empty() {
                out.dropped
                    .push(describe(first, "shows none of the user's own data"));
            } else {
                let request = templater.request(first, notes);
                if !out.pages.iter().any(|p| p.path == request.path) {
                    out.pages.push(PageDraft {
                        json_equals: json_equals(last, cx.user),
                        path: request.path,
                        must_show: fields.clone(),
                        entries: visit.entries(cx.exchanges),
                    });
                }
            }
        } else {
            write(cx, visit, templater, &mut out, notes);
        }
        for field in fields {
            if !out.seen.contains(&field) {
                out.seen.push(field);
            }
        }
    }
    for page in &mut out.pages {
        page.must_show.retain(|f| !out.written.contains(f));
        page.json_equals.retain(|(_, variable)| {
            let field = cx
                .user
                .values
                .iter()
                .find(|v| v.variable == *variable)
                .map_or(variable.as_str(), |v| v.shown_as.as_str());
            !out.written.contains(&field.to_owned())
        });
    }
    out
}

fn is_logout(visit: &Visit, cx: &Context<'_>) -> bool {
    let first = visit.first(cx.exchanges);
    let path = first.url.path().to_ascii_lowercase();
    if LOGOUT.iter().any(|w| path.contains(w)) {
        return true;
    }
    let SessionDraft::Cookie(name) = cx.session else {
        return false;
    };
    visit.hops.iter().any(|h| {
        cx.exchanges[*h]
            .set_cookies
            .iter()
            .any(|c| c.name == *name && c.deleted)
    })
}

/// Letters as `a`, digits as `9`: an IBAN and a spare IBAN have the same shape, a phone another.
fn shape(text: &str) -> String {
    compare::canonical(text)
        .chars()
        .map(|c| match c {
            c if c.is_ascii_digit() => '9',
            c if c.is_alphanumeric() => 'a',
            other => other,
        })
        .collect()
}

/// A non-GET request: a `[[write]]` when a field sends a value of the kind of one of the user's
/// watched values and the export has a spare one of that kind; else a suggestion or dropped.
fn write(
    cx: &Context<'_>,
    visit: &Visit,
    templater: &mut Templater<'_>,
    out: &mut Browse,
    notes: &mut Vec<String>,
) {
    let first = visit.first(cx.exchanges);
    for (field, value) in &body_fields(&first.body) {
        let group = same_kind(cx.user, value);
        if group.is_empty() || value.chars().count() < 5 {
            continue;
        }
        let original = group.iter().find(|v| out.seen.contains(&v.shown_as));
        let spare = group
            .iter()
            .find(|v| !out.seen.contains(&v.shown_as) && Some(v) != original.as_ref());
        templater.extracted.push(("value".into(), value.clone()));
        let request = templater.request(first, notes);
        templater.extracted.pop();
        match spare {
            Some(spare) => add_write(out, cx, visit, request, spare, original),
            None => {
                let changed = original.map_or(field.as_str(), |o| o.variable.as_str());
                let suggestion = suggestion(out, first, &request, changed, original);
                out.suggestions.push(suggestion);
            }
        }
        return;
    }
    out.dropped
        .push(describe(first, "changes none of the user's watched values"));
}

/// The fields a request body sends: form fields, or the strings and numbers of its JSON.
fn body_fields(body: &RequestBody) -> Vec<(String, String)> {
    match body {
        RequestBody::Form(fields) => fields.clone(),
        RequestBody::Json(value) => {
            let mut leaves = Vec::new();
            json_leaves(value, "", &mut leaves);
            leaves
        }
        _ => Vec::new(),
    }
}

/// The user's watched values of the same shape as `value`.
fn same_kind<'a>(user: &'a User, value: &str) -> Vec<&'a UserValue> {
    let kind = shape(value);
    user.values
        .iter()
        .filter(|v| v.watchable && shape(&v.value) == kind)
        .collect()
}

/// The write as a commented `[[write]]` to complete, for an export with no spare value of the
/// kind it changes.
fn suggestion(
    out: &Browse,
    first: &Exchange,
    request: &RequestDraft,
    changed: &str,
    original: Option<&&UserValue>,
) -> String {
    let mut text = format!(
        "entry {}: {} {} changes {changed}, but the export holds no spare value of that kind for each owner.\nAdd a column of such values (one per owner, its own alone), map it in watch, and this becomes:\n[[write]]\n",
        first.entry, first.method, request.path
    );
    text.push_str(&request_text(request));
    text.push_str(&format!(
        "values = [\"<the spare column's variable>\"]\nthen_read = [{}]",
        then_read_of(out, original)
            .iter()
            .map(|p| format!("{p:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    text
}

/// The `[[write]]` that sends the spare value (then the original back), read on the page that
/// showed it; dropped when no page of the recording shows the value it changes.
fn add_write(
    out: &mut Browse,
    cx: &Context<'_>,
    visit: &Visit,
    request: RequestDraft,
    spare: &UserValue,
    original: Option<&&UserValue>,
) {
    let mut values = vec![spare.variable.clone()];
    let mut written = vec![spare.shown_as.clone()];
    if let Some(original) = original {
        values.push(original.variable.clone());
        written.push(original.shown_as.clone());
    }
    let then_read = then_read_of(out, original);
    if then_read.is_empty() {
        out.dropped.push(describe(
            visit.first(cx.exchanges),
            "a write, but no page of the recording shows the value it changes",
        ));
        return;
    }
    for field in written {
        if !out.written.contains(&field) {
            out.written.push(field);
        }
    }
    out.writes.push(WriteDraft {
        request,
        values,
        then_read,
        entries: visit.entries(cx.exchanges),
    });
}

/// The pages that showed the value a write changes.
fn then_read_of(out: &Browse, original: Option<&&UserValue>) -> Vec<String> {
    out.pages
        .iter()
        .filter(|p| original.is_none_or(|o| p.must_show.contains(&o.shown_as)))
        .map(|p| p.path.clone())
        .take(1)
        .collect()
}

/// `(pointer, variable)` for each of the user's watched values a JSON body holds exactly.
fn json_equals(e: &Exchange, user: &User) -> Vec<(String, String)> {
    let Ok(json) = serde_json::from_str::<Value>(&e.response_body) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut leaves: Vec<(String, String)> = Vec::new();
    pointers(&json, "", &mut leaves);
    for (pointer, text) in leaves {
        if let Some(v) = user.values.iter().find(|v| v.watchable && v.value == text) {
            if !out.iter().any(|(_, var)| *var == v.variable) {
                out.push((pointer, v.variable.clone()));
            }
        }
    }
    out
}

/// Every string and number outside arrays (a list may hold other people), with its pointer.
fn pointers(json: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match json {
        Value::String(s) => out.push((at.to_owned(), s.clone())),
        Value::Number(n) => out.push((at.to_owned(), n.to_string())),
        Value::Object(map) => {
            for (k, v) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                pointers(v, &format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iban_and_a_spare_iban_share_a_shape_a_phone_does_not() {
        assert_eq!(
            shape("FR76 3000 6000 0112 3456 7890 189"),
            shape("FR7630001007940000000009000")
        );
        assert_ne!(shape("FR7630001007940000000009000"), shape("0199001001"));
    }

    #[test]
    fn json_identities_outside_lists_become_pointers() {
        let mut e = crate::har::visits::tests::exchange(1, "GET", "http://127.0.0.1/v2/me", 200);
        e.response_body = r#"{"client": {"number": "C-2000001", "n": 7}, "household": [{"number": "C-2000002"}]}"#.into();
        let user = User {
            owner: 0,
            line: 2,
            password: "pw".into(),
            password_column: 1,
            values: vec![UserValue {
                column: 0,
                variable: "client".into(),
                value: "C-2000001".into(),
                watchable: true,
                shown_as: "client".into(),
            }],
        };
        assert_eq!(
            json_equals(&e, &user),
            [("/client/number".to_owned(), "client".to_owned())]
        );
    }
}
