//! A small browser that records what it does as Chrome's or Firefox's "Save all as HAR" writes it:
//! each redirect hop its own entry, cookies in headers and arrays, one `pageref`, timings. It
//! drives a loopback portal for real; third-party noise (analytics, fonts) is recorded, not sent.

use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq)]
pub enum Flavour {
    /// HTTP/1.1 as Chrome writes it: `postData.text` and `params`, content as text.
    Chrome,
    /// Firefox: form fields as `params` only, response bodies base64-encoded.
    Firefox,
}

pub enum Send {
    Nothing,
    Form(Vec<(String, String)>),
    Json(Value),
}

pub struct Recorder {
    client: reqwest::Client,
    flavour: Flavour,
    jar: Vec<(String, String)>,
    entries: Vec<Value>,
    clock_ms: u64,
}

/// What the page the browser ended on said.
pub struct Page {
    pub status: u16,
    pub url: String,
    pub body: String,
}

const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

impl Recorder {
    pub fn new(flavour: Flavour) -> Recorder {
        Recorder {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            flavour,
            jar: Vec::new(),
            entries: Vec::new(),
            clock_ms: 0,
        }
    }

    /// Sends a request as a browser would (its cookies, its headers), records it, and follows
    /// redirects as new `GET` entries.
    pub async fn go(
        &mut self,
        method: &str,
        url: &str,
        send: Send,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut method = method.to_owned();
        let mut url = url.to_owned();
        let mut send = send;
        let mut kind = if headers.is_empty() {
            "document"
        } else {
            "fetch"
        };
        // A browser gives up after 20 redirects; so does this one.
        for _ in 0..20 {
            let (status, location, body) = self.once(&method, &url, &send, headers, kind).await;
            match location {
                Some(location) if (300..400).contains(&status) => {
                    url = reqwest::Url::parse(&url)
                        .unwrap()
                        .join(&location)
                        .unwrap()
                        .to_string();
                    method = "GET".into();
                    send = Send::Nothing;
                    kind = "document";
                }
                _ => return Page { status, url, body },
            }
        }
        panic!("{url}: more than 20 redirects")
    }

    async fn once(
        &mut self,
        method: &str,
        url: &str,
        send: &Send,
        extra: &[(&str, &str)],
        kind: &str,
    ) -> (u16, Option<String>, String) {
        let parsed = reqwest::Url::parse(url).unwrap();
        let host = format!(
            "{}:{}",
            parsed.host_str().unwrap(),
            parsed.port_or_known_default().unwrap()
        );
        let mut headers: Vec<(String, String)> = vec![
            ("Host".into(), host.clone()),
            ("Connection".into(), "keep-alive".into()),
            ("User-Agent".into(), USER_AGENT.into()),
            (
                "Accept".into(),
                if kind == "document" {
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".into()
                } else {
                    "application/json, text/plain, */*".into()
                },
            ),
            ("Accept-Encoding".into(), "gzip, deflate, br, zstd".into()),
            ("Accept-Language".into(), "fr-FR,fr;q=0.9,en;q=0.8".into()),
            ("sec-ch-ua-platform".into(), "\"Linux\"".into()),
            (
                "Sec-Fetch-Mode".into(),
                if kind == "document" {
                    "navigate".into()
                } else {
                    "cors".into()
                },
            ),
        ];
        for (name, value) in extra {
            headers.push(((*name).into(), (*value).into()));
        }
        if !self.jar.is_empty() {
            let cookie = self
                .jar
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            headers.push(("Cookie".into(), cookie));
        }
        let (post_data, body_bytes) = match send {
            Send::Nothing => (None, None),
            Send::Form(fields) => {
                let text = serde_urlencoded::to_string(fields).unwrap();
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
                headers.push(("Origin".into(), format!("http://{host}")));
                // Both browsers write the fields still encoded as the body sent them.
                let params: Vec<Value> = text
                    .split('&')
                    .map(|pair| {
                        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                        json!({"name": n, "value": v})
                    })
                    .collect();
                let post = match self.flavour {
                    Flavour::Chrome => {
                        json!({"mimeType": "application/x-www-form-urlencoded", "text": text, "params": params})
                    }
                    Flavour::Firefox => {
                        json!({"mimeType": "application/x-www-form-urlencoded", "params": params})
                    }
                };
                (Some(post), Some(text.into_bytes()))
            }
            Send::Json(value) => {
                let text = value.to_string();
                headers.push(("Content-Type".into(), "application/json".into()));
                (
                    Some(json!({"mimeType": "application/json", "text": text})),
                    Some(text.into_bytes()),
                )
            }
        };
        let mut request = self.client.request(method.parse().unwrap(), url);
        for (name, value) in &headers {
            if !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("connection") {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        if let Some(bytes) = &body_bytes {
            request = request.body(bytes.clone());
        }
        let started = self.clock_ms;
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let status_text = response
            .status()
            .canonical_reason()
            .unwrap_or("")
            .to_owned();
        let response_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mime = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("x-unknown")
            .to_owned();
        let body = response.text().await.unwrap();
        let mut set_cookies = Vec::new();
        for (name, value) in &response_headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or_default();
                let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
                let deleted = v.is_empty() || value.to_ascii_lowercase().contains("max-age=0");
                self.jar.retain(|(k, _)| k != n);
                if !deleted {
                    self.jar.push((n.to_owned(), v.to_owned()));
                }
                set_cookies.push(json!({"name": n, "value": v, "path": "/", "httpOnly": value.contains("HttpOnly"), "secure": false}));
            }
        }
        let location = response_headers
            .iter()
            .find(|(n, _)| n == "location")
            .map(|(_, v)| v.clone());
        let cookies: Vec<Value> = headers
            .iter()
            .filter(|(n, _)| n == "Cookie")
            .flat_map(|(_, v)| v.split("; ").map(|c| {
                let (n, v) = c.split_once('=').unwrap_or((c, ""));
                json!({"name": n, "value": v, "path": "/", "domain": parsed.host_str().unwrap(), "expires": "1969-12-31T23:59:59.000Z", "httpOnly": false, "secure": false})
            }).collect::<Vec<_>>())
            .collect();
        let query: Vec<Value> = parsed
            .query_pairs()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect();
        let content = match self.flavour {
            Flavour::Firefox if !body.is_empty() => {
                use base64::Engine;
                json!({"size": body.len(), "mimeType": mime, "text": base64::engine::general_purpose::STANDARD.encode(&body), "encoding": "base64"})
            }
            _ => json!({"size": body.len(), "mimeType": mime, "compression": 0, "text": body}),
        };
        let mut request_json = json!({
            "method": method, "url": url, "httpVersion": "HTTP/1.1",
            "headers": headers.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "queryString": query, "cookies": cookies, "headersSize": -1,
            "bodySize": body_bytes.as_ref().map_or(0, Vec::len),
        });
        if let Some(post) = post_data {
            request_json["postData"] = post;
        }
        self.push_entry(request_json, json!({
            "status": status, "statusText": status_text, "httpVersion": "HTTP/1.1",
            "headers": response_headers.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "cookies": set_cookies, "content": content,
            "redirectURL": location.clone().unwrap_or_default(),
            "headersSize": -1, "bodySize": body.len(), "_transferSize": body.len() + 200, "_error": null,
        }), kind, started);
        (status, location, body)
    }

    /// A request the browser made to another host (analytics, a font CDN): recorded as answered.
    pub fn third_party(&mut self, method: &str, url: &str, status: u16, mime: &str, body: &str) {
        let started = self.clock_ms;
        self.push_entry(
            json!({"method": method, "url": url, "httpVersion": "h2",
                "headers": [{"name": ":authority", "value": reqwest::Url::parse(url).unwrap().host_str().unwrap()},
                            {"name": "user-agent", "value": USER_AGENT}],
                "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0}),
            json!({"status": status, "statusText": "", "httpVersion": "h2", "headers": [{"name": "content-type", "value": mime}],
                "cookies": [], "content": {"size": body.len(), "mimeType": mime, "text": body},
                "redirectURL": "", "headersSize": -1, "bodySize": body.len(), "_transferSize": body.len(), "_error": null}),
            if mime.starts_with("font/") { "font" } else { "ping" },
            started,
        );
    }

    fn push_entry(&mut self, request: Value, response: Value, kind: &str, started: u64) {
        self.clock_ms += 37;
        let started_at = format!(
            "2026-12-04T10:{:02}:{:02}.{:03}Z",
            started / 60_000 % 60,
            started / 1000 % 60,
            started % 1000
        );
        let mut entry = json!({
            "_initiator": {"type": if kind == "document" { "other" } else { "script" }},
            "_priority": if kind == "document" { "VeryHigh" } else { "High" },
            "_resourceType": kind,
            "cache": {},
            "connection": "4711",
            "pageref": "page_1",
            "request": request,
            "response": response,
            "serverIPAddress": "127.0.0.1",
            "startedDateTime": started_at,
            "time": 12.5,
            "timings": {"blocked": 1.2, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1, "wait": 10.0, "receive": 1.2, "_blocked_queueing": 0.8},
        });
        if self.flavour == Flavour::Firefox {
            let object = entry.as_object_mut().unwrap();
            for key in ["_initiator", "_priority", "_resourceType", "connection"] {
                object.remove(key);
            }
        }
        self.entries.push(entry);
    }

    /// The recording, as the browser's export writes it.
    pub fn har(&self) -> String {
        let creator = match self.flavour {
            Flavour::Chrome => json!({"name": "WebInspector", "version": "537.36"}),
            Flavour::Firefox => json!({"name": "Firefox", "version": "133.0"}),
        };
        serde_json::to_string_pretty(&json!({"log": {
            "version": "1.2", "creator": creator,
            "pages": [{"startedDateTime": "2026-12-04T10:00:00.000Z", "id": "page_1", "title": "Portail", "pageTimings": {"onContentLoad": 120.5, "onLoad": 180.2}}],
            "entries": self.entries,
        }}))
        .unwrap()
    }
}
