//! `[target]`: the base URL and the remote-host policy, TLS files and the proxy.

use super::*;

/// MINIMAL with `keys` added to its `[target]`.
fn with_target(keys: &str) -> String {
    MINIMAL.replace(
        "base_url = \"http://127.0.0.1:8080\"\n",
        &format!("base_url = \"http://127.0.0.1:8080\"\n{keys}\n"),
    )
}

#[test]
fn client_cert_and_client_key_give_a_client_identity_and_one_alone_is_refused_at_its_line() {
    let both = with_target("[target.tls]\nclient_cert = \"c.pem\"\nclient_key = \"c.key\"");
    let auth = parse(&both).unwrap().target.tls.client_auth.unwrap();
    assert_eq!(
        (auth.cert.file_name(), auth.key.file_name()),
        (Some("c.pem".as_ref()), Some("c.key".as_ref()))
    );
    let alone = with_target("[target.tls]\nclient_key = \"c.key\"");
    let error = only_error(&alone);
    assert_eq!(error.kind(), ErrorKind::MissingKey);
    assert_eq!(error.line(), Some(6));
    assert!(error
        .to_string()
        .contains("client_cert and client_key go together"));
}

#[test]
fn http_is_auto_unless_set_to_1_1_or_2_and_anything_else_is_refused_at_its_line() {
    let http = |value: &str| parse(&with_target(&format!("http = {value:?}")));
    assert_eq!(parse(MINIMAL).unwrap().target.http, HttpVersion::Auto);
    assert_eq!(http("auto").unwrap().target.http, HttpVersion::Auto);
    assert_eq!(http("1.1").unwrap().target.http, HttpVersion::Http1);
    assert_eq!(http("2").unwrap().target.http, HttpVersion::Http2);
    let error = only_error(&with_target("http = \"h3\""));
    assert_eq!(
        (error.kind(), error.line()),
        (ErrorKind::InvalidValue, Some(5))
    );
    assert!(error.to_string().contains("\"1.1\" or \"2\""), "{error}");
}

#[test]
fn proxy_is_none_or_an_http_url_and_a_remote_one_needs_allow_remote() {
    let target = |proxy: &str| parse(&with_target(&format!("proxy = {proxy:?}")));
    assert_eq!(target("none").unwrap().target.proxy, ProxySetting::Off);
    assert_eq!(
        target("http://127.0.0.1:3128").unwrap().target.proxy,
        ProxySetting::Through(url::Url::parse("http://127.0.0.1:3128").unwrap())
    );
    for (bad, kind) in [
        ("socks5://127.0.0.1:1080", ErrorKind::InvalidValue),
        ("http://127.0.0.1:3128/path", ErrorKind::InvalidValue),
        ("http://proxy.example.org:3128", ErrorKind::RemoteTarget),
    ] {
        let error = only_error(&with_target(&format!("proxy = {bad:?}")));
        assert_eq!(
            (error.kind(), error.line()),
            (kind, Some(5)),
            "{bad}: {error}"
        );
    }
    let opted_in = with_target("allow_remote = true\nproxy = \"http://proxy.example.org:3128\"");
    assert!(parse(&opted_in).is_ok());
}

#[test]
fn a_remote_host_passes_with_the_opt_in_and_its_allowed_host() {
    let remote = MINIMAL.replace(
        "base_url = \"http://127.0.0.1:8080\"",
        "base_url = \"https://staging.example.org/\"\nallow_remote = true\nallowed_hosts = [\"staging.example.org\"]",
    );
    let s = parse(&remote).unwrap();
    assert_eq!(
        s.target.endpoint,
        Endpoint::Url("https://staging.example.org".into())
    );
    let unlisted = remote.replace("allowed_hosts = [\"staging.example.org\"]", "");
    let error = only_error(&unlisted);
    assert_eq!(error.kind(), ErrorKind::RemoteTarget);
    assert!(
        error
            .help()
            .contains("allowed_hosts = [\"staging.example.org\"]"),
        "{error}"
    );
    for loopback in [
        "http://localhost:3000",
        "http://[::1]:80",
        "http://127.9.9.9",
    ] {
        let text = MINIMAL.replace("http://127.0.0.1:8080", loopback);
        assert!(parse(&text).is_ok(), "{loopback}");
    }
}
