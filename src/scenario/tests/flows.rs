//! Login flows, extractions (regex, JSON pointer, CSS), pages, writes and the logout.

use super::*;

#[test]
fn a_csrf_token_then_a_bearer_session_validate_and_extract() {
    let text = MINIMAL.replace(
        r#"session = { cookie = "sid" }

[[login_flow.steps]]
method = "POST"
path = "/login"
form = { user = "{{numero_allocataire}}", pass = "{{password}}" }
"#,
        r#"session = { bearer = { json_pointer = "/access_token" } }

[[login_flow.steps]]
path = "/login"
extract = [{ name = "csrf", regex = 'name="csrf" value="([^"]+)"' }]

[[login_flow.steps]]
method = "post"
path = "/api/login"
headers = { "X-CSRF-Token" = "{{csrf}}" }
json = { login = "{{email}}", secret = "{{password}}", remember = true }
"#,
    );
    let s = parse(&text).unwrap();
    let flow = &s.login_flows[0];
    assert_eq!(
        flow.session,
        SessionCarrier::Bearer {
            json_pointer: "/access_token".into(),
            header: "Authorization".into(),
            prefix: "Bearer ".into(),
        }
    );
    let extraction = &flow.steps[0].extract[0];
    assert_eq!(extraction.from, ExtractFrom::Body);
    let html = r#"<form><input type="hidden" name="csrf" value="t0k3n"></form>"#;
    assert_eq!(extraction.pattern.extract(html).as_deref(), Some("t0k3n"));
    let values = |name: &str| -> Option<Cow<'static, str>> {
        match name {
            "csrf" => Some("t0k3n".into()),
            "email" => Some("a@x.test".into()),
            "password" => Some("pw".into()),
            _ => None,
        }
    };
    let rendered = flow.steps[1].request.render(&values).unwrap();
    assert_eq!(rendered.method, Method::Post);
    assert_eq!(
        rendered.headers,
        [("X-CSRF-Token".to_owned(), "t0k3n".to_owned())]
    );
    assert_eq!(
        rendered.body,
        Some(RenderedBody::Json(serde_json::json!({
            "login": "a@x.test", "secret": "pw", "remember": true
        })))
    );
    let pointer = Pattern::JsonPointer("/access_token".into());
    assert_eq!(
        pointer.extract(r#"{"access_token": "abc"}"#).as_deref(),
        Some("abc")
    );
}

#[test]
fn an_extracted_value_is_unknown_before_its_step() {
    let text = MINIMAL.replace(
        r#"form = { user = "{{numero_allocataire}}", pass = "{{password}}" }"#,
        r#"form = { user = "{{numero_allocataire}}", pass = "{{password}}", csrf = "{{csrf}}" }
extract = [{ name = "csrf", regex = 'csrf=(\w+)' }]"#,
    );
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::UnknownVariable);
    assert!(error.to_string().contains("{{csrf}}"), "{error}");
}

fn with_extract(extract: &str) -> String {
    MINIMAL.replace(
        r#"path = "/login"
form"#,
        &format!(
            r#"path = "/login"
extract = [{extract}]
form"#
        ),
    )
}

#[test]
fn a_css_selector_takes_an_attribute_or_the_text_of_the_first_match() {
    let s = parse(&with_extract(
        r#"{ name = "csrf", css = 'input[name="_csrf"]', attribute = "value" }, { name = "title", css = "form > h1.title" }"#,
    ))
    .unwrap();
    let extract = &s.login_flows[0].steps[0].extract;
    let page = r#"<!doctype html><html><body><form>
        <h1 class="title">  Connexion  </h1>
        <input type="hidden" name="_csrf" value="t0k3n-1">
        <input type="hidden" name="_csrf" value="second">
        </form></body></html>"#;
    assert_eq!(extract[0].pattern.extract(page).as_deref(), Some("t0k3n-1"));
    assert_eq!(
        extract[1].pattern.extract(page).as_deref(),
        Some("Connexion")
    );
    // No match, no such attribute, or empty text: no value (the login then fails, counted).
    assert_eq!(extract[0].pattern.extract("<p>maintenance</p>"), None);
    assert_eq!(extract[0].pattern.extract(r#"<input name="_csrf">"#), None);
    assert_eq!(
        extract[1]
            .pattern
            .extract("<form><h1 class=title> </h1></form>"),
        None
    );
    // Not HTML at all: the parser recovers and finds nothing.
    assert_eq!(extract[0].pattern.extract("{\"csrf\": \"x\"}"), None);
}

#[test]
fn a_css_selector_reads_meta_tags_in_the_head() {
    let pattern = CssPattern::parse("meta[name=csrf]", Some("content".into())).unwrap();
    let page = r#"<html><head><meta name="csrf" content="abc123"></head><body></body></html>"#;
    assert_eq!(pattern.extract(page).as_deref(), Some("abc123"));
}

#[test]
fn a_css_selector_that_does_not_parse_is_refused_with_an_example() {
    let error = only_error(&with_extract(
        r#"{ name = "csrf", css = "input[name=csrf]]", attribute = "value" }"#,
    ));
    assert_eq!(error.kind(), ErrorKind::InvalidValue);
    assert!(error.to_string().contains("does not parse"), "{error}");
    assert!(error.help().contains("input[name="), "{error}");
}

#[test]
fn css_goes_alone_on_a_body_and_attribute_goes_with_css() {
    for (extract, fragment) in [
        (
            r#"{ name = "csrf", css = "input", regex = 'x' }"#,
            "both css and",
        ),
        (
            r#"{ name = "csrf", from = "header:X-Csrf", css = "input" }"#,
            "header",
        ),
        (
            r#"{ name = "csrf", regex = 'x', attribute = "value" }"#,
            "no CSS selector",
        ),
        (
            r#"{ name = "csrf", css = "input", attribute = " " }"#,
            "empty attribute",
        ),
    ] {
        let error = only_error(&with_extract(extract));
        assert!(error.to_string().contains(fragment), "{extract}: {error}");
    }
}

#[test]
fn a_write_must_send_its_value_and_write_a_watched_one() {
    let write = r#"
[[write]]
method = "POST"
path = "/rib"
form = { iban = "{{value}}" }
values = ["spare_iban", "iban"]
then_read = ["/home"]
"#;
    let s = parse(&(MINIMAL.to_owned() + write)).unwrap();
    assert_eq!(
        s.writes[0].values[0],
        WrittenValue {
            variable: "spare_iban".into(),
            field: "written_iban".into()
        }
    );
    let no_value = MINIMAL.to_owned() + &write.replace("{{value}}", "{{spare_iban}}");
    assert!(only_error(&no_value).help().contains("{{value}}"));
    let unwatched = MINIMAL.to_owned() + &write.replace("\"spare_iban\", ", "\"city\", ");
    assert_eq!(only_error(&unwatched).kind(), ErrorKind::UnknownVariable);
}

/// MINIMAL with a second flow, `token`, and `extra` appended.
fn two_flows(extra: &str) -> String {
    MINIMAL.replace(
        "login_flows = { legacy = 1 }",
        "login_flows = { legacy = 1, token = 1 }",
    ) + r#"
[[login_flow]]
name = "token"
session = { bearer = { json_pointer = "/token" } }

[[login_flow.steps]]
method = "POST"
path = "/api/token"
json = { user = "{{numero_allocataire}}", pass = "{{password}}" }

[login_flow.success]
status = 200
"# + extra
}

#[test]
fn a_page_limited_to_some_flows_names_declared_flows() {
    let s = parse(&two_flows(
        "\n[[page]]\npath = \"/api/me\"\nflows = [\"token\"]\n",
    ))
    .unwrap();
    assert!(s.pages[0].flows.is_empty());
    assert!(s.pages[0].read_by("legacy") && s.pages[0].read_by("token"));
    assert_eq!(s.pages[1].flows, ["token"]);
    assert!(s.pages[1].read_by("token") && !s.pages[1].read_by("legacy"));
    let text = two_flows("\n[[page]]\npath = \"/api/me\"\nflows = [\"tokn\"]\n");
    let line = text.lines().count();
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::UnknownLoginFlow);
    assert_eq!(error.line(), Some(line));
    assert!(
        error.to_string().contains("did you mean \"token\""),
        "{error}"
    );
    let empty = only_error(&two_flows("\n[[page]]\npath = \"/api/me\"\nflows = []\n"));
    assert_eq!(empty.kind(), ErrorKind::InvalidValue);
}

#[test]
fn a_logout_may_send_what_every_login_flow_extracted_and_extract_its_own() {
    let extracting = with_extract(r#"{ name = "csrf", regex = 'csrf=(\w+)' }"#);
    let one = parse(&format!(
        "{extracting}\n[logout]\nmethod = \"POST\"\npath = \"/logout\"\nform = {{ csrfmiddlewaretoken = \"{{{{csrf}}}}\" }}\n"
    ))
    .unwrap();
    let logout = one.logout.unwrap();
    assert_eq!(logout.steps.len(), 1);
    assert_eq!(logout.steps[0].request.method, Method::Post);
    let steps = parse(&format!(
        "{MINIMAL}\n[[logout.steps]]\npath = \"/profile\"\nextract = [{{ name = \"token\", css = 'input[name=\"csrfmiddlewaretoken\"]', attribute = \"value\" }}]\n\n[[logout.steps]]\nmethod = \"POST\"\npath = \"/logout\"\nform = {{ csrfmiddlewaretoken = \"{{{{token}}}}\" }}\n"
    ))
    .unwrap();
    let logout = steps.logout.unwrap();
    assert_eq!(logout.steps.len(), 2);
    assert_eq!(logout.steps[0].extract[0].name, "token");
    // A typo is a file:line error naming what there is.
    let text = format!(
        "{extracting}\n[logout]\nmethod = \"POST\"\npath = \"/logout\"\nform = {{ csrfmiddlewaretoken = \"{{{{csrff}}}}\" }}\n"
    );
    let line = text.lines().count();
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::UnknownVariable);
    assert_eq!(error.line(), Some(line));
    assert!(error.to_string().contains("{{csrff}}"), "{error}");
    assert!(error.to_string().contains("csrf"), "{error}");
    // A value only one of two flows extracts is not there for the other flow's users.
    let text = two_flows(
        "\n[logout]\nmethod = \"POST\"\npath = \"/logout\"\nform = { t = \"{{csrf}}\" }\n",
    )
    .replace(
        r#"path = "/login"
form"#,
        r#"path = "/login"
extract = [{ name = "csrf", regex = 'csrf=(\w+)' }]
form"#,
    );
    assert_eq!(only_error(&text).kind(), ErrorKind::UnknownVariable);
    // One request or steps, not both.
    let both = only_error(&format!(
        "{MINIMAL}\n[logout]\npath = \"/logout\"\n\n[[logout.steps]]\npath = \"/profile\"\n"
    ));
    assert_eq!(both.kind(), ErrorKind::Conflict);
}
