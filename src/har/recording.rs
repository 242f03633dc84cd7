//! Reads a HAR 1.2 recording as Chrome, Firefox and proxies export it into plain exchanges:
//! request (form, JSON or nothing), cookies from headers and arrays, decoded response bodies.

use super::error::HarError;
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// One request and its response, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// 1-based position in the file's `entries`.
    pub entry: usize,
    pub method: String,
    pub url: Url,
    /// In the recorded order, names as written (HTTP/2 recordings write them lowercase).
    pub request_headers: Vec<(String, String)>,
    /// Cookies the browser sent: the `Cookie` headers and the `cookies` array together.
    pub request_cookies: Vec<(String, String)>,
    pub body: RequestBody,
    /// 0 when the request got no response (blocked, cancelled).
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    /// Cookies the response set (`Set-Cookie` headers and the `cookies` array), with whether the
    /// response deleted them (empty value, `Max-Age=0` or an expiry in the past).
    pub set_cookies: Vec<SetCookie>,
    /// The response's media type, lowercase, without parameters.
    pub mime: String,
    /// The response body as text (base64 content decoded); empty when the export left it out.
    pub response_body: String,
    /// Where a redirect points, resolved against the request's URL.
    pub redirect: Option<Url>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub deleted: bool,
}

/// What a request sent.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestBody {
    None,
    /// `application/x-www-form-urlencoded`, decoded, in order.
    Form(Vec<(String, String)>),
    Json(Value),
    /// Anything else (multipart, binary): the media type.
    Other(String),
}

impl Exchange {
    /// The first value of a request header, any case.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        find_header(&self.request_headers, name)
    }

    /// The first value of a response header, any case.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find_header(&self.response_headers, name)
    }

    /// Every value the request sent, as `(name, value)`: query parameters, form fields, JSON
    /// strings and numbers (named by their key), and header values other than cookies.
    pub fn sent_values(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        match &self.body {
            RequestBody::Form(fields) => out.extend(fields.iter().cloned()),
            RequestBody::Json(value) => json_leaves(value, "", &mut out),
            RequestBody::None | RequestBody::Other(_) => {}
        }
        out.extend(
            self.request_headers
                .iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("cookie"))
                .cloned(),
        );
        out
    }

    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status) && self.redirect.is_some()
    }
}

/// `(key, text)` of every string and number in `value`.
pub fn json_leaves(value: &Value, key: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => out.push((key.to_owned(), s.clone())),
        Value::Number(n) => out.push((key.to_owned(), n.to_string())),
        Value::Array(items) => items.iter().for_each(|v| json_leaves(v, key, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| json_leaves(v, k, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[derive(Deserialize)]
struct RawFile {
    log: RawLog,
}

#[derive(Deserialize)]
struct RawLog {
    #[serde(default)]
    version: Option<String>,
    entries: Vec<Value>,
}

#[derive(Deserialize)]
struct RawEntry {
    request: RawRequest,
    response: RawResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<RawPair>,
    #[serde(default)]
    cookies: Vec<RawPair>,
    #[serde(default)]
    post_data: Option<RawPostData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPostData {
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    params: Vec<RawPair>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResponse {
    status: i64,
    #[serde(default)]
    headers: Vec<RawPair>,
    #[serde(default)]
    cookies: Vec<RawCookie>,
    #[serde(default)]
    content: Option<RawContent>,
    #[serde(default, rename = "redirectURL")]
    redirect_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContent {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

#[derive(Deserialize)]
struct RawPair {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct RawCookie {
    name: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    expires: Option<String>,
}

/// Reads a recording; `file` names it in errors.
pub fn read(text: &str, file: &str) -> Result<Vec<Exchange>, HarError> {
    let raw: RawFile = serde_json::from_str(text).map_err(|e| HarError::Unreadable {
        file: file.to_owned(),
        message: format!("not a HAR file ({e})"),
    })?;
    if let Some(version) = &raw.log.version {
        if !version.starts_with('1') {
            return Err(HarError::Unreadable {
                file: file.to_owned(),
                message: format!("HAR version {version:?} is not 1.x"),
            });
        }
    }
    raw.log
        .entries
        .into_iter()
        .enumerate()
        .map(|(index, value)| exchange(value, index + 1, file))
        .collect()
}

fn exchange(value: Value, entry: usize, file: &str) -> Result<Exchange, HarError> {
    let error = |message: String, help: &str| HarError::Entry {
        file: file.to_owned(),
        entry,
        message,
        help: help.to_owned(),
    };
    let raw: RawEntry = serde_json::from_value(value).map_err(|e| {
        error(
            format!("not a HAR entry: {e}"),
            "every entry needs a request (method, url) and a response (status)",
        )
    })?;
    let url = Url::parse(&raw.request.url).map_err(|e| {
        error(
            format!("request.url {:?} is not a URL ({e})", raw.request.url),
            "the recording must hold absolute URLs, as browsers write them",
        )
    })?;
    let status = status(raw.response.status)
        .map_err(|m| error(m, "write the status as a number such as 200"))?;
    let request_headers = pairs(raw.request.headers);
    let request_cookies = request_cookies(&request_headers, raw.request.cookies);
    let body = match raw.request.post_data {
        Some(post) => post_body(post)
            .map_err(|m| error(m, "re-export the recording; the request body must be text"))?,
        None => RequestBody::None,
    };
    let response_headers = pairs(raw.response.headers);
    let set_cookies = set_cookies(&response_headers, raw.response.cookies);
    let (mime, response_body) = match raw.response.content {
        Some(content) => content_body(content).map_err(|m| error(m, "re-export the recording"))?,
        None => (String::new(), String::new()),
    };
    let redirect = redirect(&url, raw.response.redirect_url, &response_headers);
    let mime = if mime.is_empty() {
        media_type(find_header(&response_headers, "content-type").unwrap_or_default())
    } else {
        mime
    };
    Ok(Exchange {
        entry,
        method: raw.request.method.to_ascii_uppercase(),
        url,
        request_headers,
        request_cookies,
        body,
        status,
        response_headers,
        set_cookies,
        mime,
        response_body,
        redirect,
    })
}

/// The recorded status, if it is one HTTP can carry (below 1000).
fn status(recorded: i64) -> Result<u16, String> {
    u16::try_from(recorded)
        .ok()
        .filter(|s| *s < 1000)
        .ok_or_else(|| format!("response.status {recorded} is not an HTTP status"))
}

/// The cookies the request sent: its `Cookie` headers, then those of the `cookies` array that
/// the headers did not name.
fn request_cookies(headers: &[(String, String)], array: Vec<RawPair>) -> Vec<(String, String)> {
    let mut cookies: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, value)| cookie_header(value))
        .collect();
    for cookie in pairs(array) {
        if !cookies.iter().any(|(name, _)| *name == cookie.0) {
            cookies.push(cookie);
        }
    }
    cookies
}

/// The cookies the response set: its `Set-Cookie` headers, then those of the `cookies` array
/// that the headers did not name.
fn set_cookies(headers: &[(String, String)], array: Vec<RawCookie>) -> Vec<SetCookie> {
    let mut cookies: Vec<SetCookie> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        // Firefox writes several Set-Cookie headers as one value, a line each.
        .flat_map(|(_, value)| value.lines().filter_map(set_cookie).collect::<Vec<_>>())
        .collect();
    for cookie in array {
        if !cookies.iter().any(|c| c.name == cookie.name) {
            let deleted = cookie.value.is_empty() || cookie.expires.as_deref().is_some_and(expired);
            cookies.push(SetCookie {
                name: cookie.name,
                value: cookie.value,
                deleted,
            });
        }
    }
    cookies
}

/// The response's media type (as the content names it) and its body as text, base64 decoded.
fn content_body(content: RawContent) -> Result<(String, String), String> {
    let mime = media_type(content.mime_type.as_deref().unwrap_or_default());
    let text = content.text.unwrap_or_default();
    if content.encoding.as_deref() != Some("base64") {
        return Ok((mime, text));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("response.content.text is not base64 ({e})"))?;
    Ok((mime, String::from_utf8_lossy(&bytes).into_owned()))
}

/// Where the response redirects: its `redirectURL`, else its `Location` header, resolved
/// against the request's URL.
fn redirect(url: &Url, redirect_url: Option<String>, headers: &[(String, String)]) -> Option<Url> {
    let location = redirect_url
        .filter(|u| !u.is_empty())
        .or_else(|| find_header(headers, "location").map(str::to_owned));
    location.and_then(|l| url.join(&l).ok())
}

fn pairs(raw: Vec<RawPair>) -> Vec<(String, String)> {
    raw.into_iter().map(|p| (p.name, p.value)).collect()
}

fn media_type(text: &str) -> String {
    text.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `a=1; b=2` → `[(a, 1), (b, 2)]`.
fn cookie_header(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|part| {
            let (name, value) = part.split_once('=')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

fn set_cookie(line: &str) -> Option<SetCookie> {
    let mut parts = line.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let value = value.trim().trim_matches('"').to_owned();
    let mut deleted = value.is_empty();
    for attribute in parts {
        let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
        let key = key.trim().to_ascii_lowercase();
        if key == "max-age" && val.trim().parse::<i64>().is_ok_and(|s| s <= 0) {
            deleted = true;
        }
        if key == "expires" && expired(val) {
            deleted = true;
        }
    }
    Some(SetCookie {
        name: name.to_owned(),
        value,
        deleted,
    })
}

/// An expiry date before 2000 (`Thu, 01 Jan 1970 00:00:00 GMT`, `1970-01-01T00:00:00.000Z`): how
/// servers delete a cookie.
fn expired(date: &str) -> bool {
    date.split(|c: char| !c.is_ascii_digit())
        .filter(|part| part.len() == 4)
        .filter_map(|year| year.parse::<u32>().ok())
        .any(|year| year < 2000)
}

fn post_body(post: RawPostData) -> Result<RequestBody, String> {
    let mime = media_type(&post.mime_type);
    let text = post.text.filter(|t| !t.is_empty());
    if text.is_none() && post.params.is_empty() {
        return Ok(RequestBody::None);
    }
    if mime == "application/x-www-form-urlencoded" || (mime.is_empty() && text.is_none()) {
        let fields = match &text {
            Some(text) => url::form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            // Firefox may give the fields alone, still encoded as sent.
            None => post
                .params
                .into_iter()
                .map(|p| (decode_component(&p.name), decode_component(&p.value)))
                .collect(),
        };
        return Ok(RequestBody::Form(fields));
    }
    match text {
        Some(text) if mime.contains("json") || mime.is_empty() => {
            match serde_json::from_str(&text) {
                Ok(value) => Ok(RequestBody::Json(value)),
                Err(e) if mime.contains("json") => {
                    Err(format!("request.postData.text is not JSON ({e})"))
                }
                Err(_) => Ok(RequestBody::Other("text/plain".into())),
            }
        }
        _ => Ok(RequestBody::Other(mime)),
    }
}

/// Percent-decodes a form component (`+` is a space); text that is not valid encoding stays.
fn decode_component(text: &str) -> String {
    url::form_urlencoded::parse(format!("v={text}").as_bytes())
        .next()
        .map_or_else(|| text.to_owned(), |(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_is_read_or_refused_without_a_panic(text in "\\PC{0,200}") {
            let _ = read(&text, "r.har");
        }

        #[test]
        fn a_bad_entry_is_named_by_its_position(
            good in 0usize..4,
            url in "[a-z:/.0-9]{0,20}",
            status in -5i64..1200,
            body in proptest::option::of("\\PC{0,40}"),
            mime in prop::sample::select(vec!["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
        ) {
            let ok = serde_json::json!({"request": {"method": "GET", "url": "http://127.0.0.1/"}, "response": {"status": 200}});
            let mut entries = vec![ok; good];
            let mut request = serde_json::json!({"method": "POST", "url": url});
            if let Some(text) = &body {
                request["postData"] = serde_json::json!({"mimeType": mime, "text": text});
            }
            entries.push(serde_json::json!({"request": request, "response": {"status": status}}));
            let text = serde_json::json!({"log": {"version": "1.2", "entries": entries}}).to_string();
            match read(&text, "r.har") {
                Ok(exchanges) => prop_assert_eq!(exchanges.len(), good + 1),
                Err(HarError::Entry { entry, .. }) => prop_assert_eq!(entry, good + 1),
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }

    fn entry(request: Value, response: Value) -> String {
        serde_json::json!({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": [{"startedDateTime": "2026-12-04T10:00:00.000Z", "time": 3.2,
                "request": request, "response": response, "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}]}})
        .to_string()
    }

    #[test]
    fn a_chrome_form_post_with_a_redirect_and_cookies_reads_whole() {
        let text = entry(
            serde_json::json!({"method": "POST", "url": "http://127.0.0.1:8080/connexion/allocataire",
                "httpVersion": "HTTP/1.1", "headers": [{"name": "Cookie", "value": "a=1; b=2"}],
                "queryString": [], "cookies": [{"name": "a", "value": "1"}], "headersSize": -1, "bodySize": 44,
                "postData": {"mimeType": "application/x-www-form-urlencoded",
                    "text": "numero_allocataire=0012345&mot_de_passe=p%40ss+word",
                    "params": [{"name": "numero_allocataire", "value": "0012345"}]}}),
            serde_json::json!({"status": 303, "statusText": "See Other", "httpVersion": "HTTP/1.1",
                "headers": [{"name": "set-cookie", "value": "crossleak_session=abc; Path=/; HttpOnly"},
                            {"name": "location", "value": "/mon-compte"}],
                "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "/mon-compte",
                "headersSize": -1, "bodySize": -1}),
        );
        let exchanges = read(&text, "r.har").unwrap();
        let e = &exchanges[0];
        assert_eq!(e.entry, 1);
        assert_eq!(
            e.body,
            RequestBody::Form(vec![
                ("numero_allocataire".into(), "0012345".into()),
                ("mot_de_passe".into(), "p@ss word".into())
            ])
        );
        assert_eq!(
            e.request_cookies,
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(e.set_cookies[0].name, "crossleak_session");
        assert!(!e.set_cookies[0].deleted);
        assert!(e.is_redirect());
        assert_eq!(e.redirect.as_ref().unwrap().path(), "/mon-compte");
    }

    #[test]
    fn firefox_params_without_text_and_base64_content_are_decoded() {
        let text = entry(
            serde_json::json!({"method": "post", "url": "http://localhost/login", "headers": [],
                "postData": {"mimeType": "application/x-www-form-urlencoded; charset=UTF-8",
                    "params": [{"name": "login", "value": "alice%40x.test"}]}}),
            serde_json::json!({"status": 200, "headers": [{"name": "Set-Cookie", "value": "old=; Max-Age=0\nsid=9; Path=/"}],
                "content": {"mimeType": "text/html; charset=utf-8", "encoding": "base64",
                    "text": "PHA+YWxpY2VAeC50ZXN0PC9wPg=="}, "redirectURL": ""}),
        );
        let e = &read(&text, "r.har").unwrap()[0];
        assert_eq!(e.method, "POST");
        assert_eq!(
            e.body,
            RequestBody::Form(vec![("login".into(), "alice@x.test".into())])
        );
        assert_eq!(e.response_body, "<p>alice@x.test</p>");
        assert_eq!(e.mime, "text/html");
        assert!(e.set_cookies[0].deleted);
        assert_eq!(e.set_cookies[1].value, "9");
        assert!(!e.is_redirect());
    }

    #[test]
    fn a_json_body_is_parsed_and_a_broken_entry_names_its_number() {
        let text = entry(
            serde_json::json!({"method": "POST", "url": "http://127.0.0.1/auth",
                "postData": {"mimeType": "application/json", "text": "{\"user\":{\"login\":\"a\"}}"}}),
            serde_json::json!({"status": 200, "content": {"mimeType": "application/json", "text": "{}"}}),
        );
        let e = &read(&text, "r.har").unwrap()[0];
        assert_eq!(
            e.body,
            RequestBody::Json(serde_json::json!({"user": {"login": "a"}}))
        );
        let broken = entry(
            serde_json::json!({"method": "GET", "url": "/relative"}),
            serde_json::json!({"status": 200}),
        );
        let message = read(&broken, "r.har").unwrap_err().to_string();
        assert!(
            message.starts_with("r.har:entry 1: request.url \"/relative\""),
            "{message}"
        );
        let missing = entry(
            serde_json::json!({"url": "http://x/"}),
            serde_json::json!({"status": 200}),
        );
        let message = read(&missing, "r.har").unwrap_err().to_string();
        assert!(
            message.contains("r.har:entry 1: not a HAR entry"),
            "{message}"
        );
        assert!(read("{}", "r.har")
            .unwrap_err()
            .to_string()
            .contains("not a HAR file"));
    }
}
