//! The vendor's addresses over HTTPS (SPEC §14): the test CA, the HTTPS port, the plain port as a
//! proxy for the vendor's hosts only, and what bad TLS and proxy input gets.

use std::time::Duration;

use reqwest::{Certificate, Client, Proxy, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use biometric_kz_mock::{Config, MockServer};

use crate::helpers::EVERYONE;

async fn tls_server(config: Config) -> MockServer {
    MockServer::builder().config(Config { tls_port: Some(0), ..config }).start().await.expect("the server starts")
}

/// A client that trusts the mock's CA only (no system roots: nothing else could answer).
fn trusting(server: &MockServer) -> reqwest::ClientBuilder {
    let ca = Certificate::from_pem(server.ca_pem().as_bytes()).expect("the CA is PEM");
    Client::builder().tls_built_in_root_certs(false).add_root_certificate(ca).timeout(Duration::from_secs(10))
}

/// Sends `head` on a fresh connection to `addr` and reads what comes back until the server closes.
async fn raw(addr: &str, head: &[u8]) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(head).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn the_https_port_serves_the_vendors_names_with_the_test_cas_certificate_over_h2_and_http1() {
    let server = tls_server(Config::default()).await;
    let tls = server.tls_uri().expect("an HTTPS address");
    let addr: std::net::SocketAddr = tls.trim_start_matches("https://").parse().unwrap();
    let client =
        trusting(&server).resolve("kyc.biometric.kz", addr).resolve("remote.biometric.kz", addr).build().unwrap();
    let port = addr.port();
    let response = client
        .post(format!("https://kyc.biometric.kz:{port}/api/v1/flows/session/create/"))
        .json(&json!({"api_key": EVERYONE}))
        .send()
        .await
        .expect("the certificate names kyc.biometric.kz and chains to the CA");
    assert_eq!(response.version(), reqwest::Version::HTTP_2, "h2 by ALPN");
    let created: Value = response.json().await.unwrap();
    let sid = created["session_id"].as_str().unwrap();
    let page = client.get(format!("https://remote.biometric.kz:{port}/flow/{sid}")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let http1 = trusting(&server).http1_only().build().unwrap();
    let health = http1.get(format!("{tls}/__admin/health")).send().await.expect("127.0.0.1 is named too");
    assert_eq!((health.version(), health.status()), (reqwest::Version::HTTP_11, StatusCode::OK));
    let pem = reqwest::get(format!("{}/__admin/ca.pem", server.uri())).await.unwrap().text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && pem == server.ca_pem(), "the CA is published");
    let (_, journal) =
        crate::helpers::read(reqwest::get(format!("{}/__admin/requests", server.uri())).await.unwrap()).await;
    let ways: Vec<(&str, &str)> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["via"].as_str().unwrap(), e["host"].as_str().unwrap_or("")))
        .collect();
    assert!(ways.contains(&("tls", &format!("kyc.biometric.kz:{port}"))), "the journal says how and to whom: {ways:?}");
}

#[tokio::test]
async fn the_plain_port_proxies_the_vendors_hosts_to_itself_and_nothing_else() {
    let server = tls_server(Config::default()).await;
    let proxied = trusting(&server).proxy(Proxy::all(server.uri()).unwrap()).build().unwrap();
    // The docs' own addresses, unchanged.
    let created: Value = proxied
        .post("https://kyc.biometric.kz/api/v1/flows/session/create/")
        .json(&json!({"api_key": EVERYONE}))
        .send()
        .await
        .expect("CONNECT kyc.biometric.kz:443 is answered by the mock")
        .json()
        .await
        .unwrap();
    let sid = created["session_id"].as_str().unwrap();
    let result = proxied
        .get(format!("https://kyc.biometric.kz/api/v1/flows/session/result/?session_id={sid}&flow_api_key={EVERYONE}"))
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), StatusCode::OK);
    let widget = proxied.get("https://remote.biometric.kz/widget/flow-widget.umd.js").send().await.unwrap();
    assert_eq!(widget.status(), StatusCode::OK, "the widget at its vendor address");
    let plain = Client::builder().proxy(Proxy::http(server.uri()).unwrap()).build().unwrap();
    let url = format!("http://kyc.biometric.kz/api/v1/flows/session/result/?session_id={sid}&flow_api_key={EVERYONE}");
    let over_http = plain.get(url).send().await.unwrap();
    assert_eq!(over_http.status(), StatusCode::OK, "absolute-form http:// requests too");
    let (_, journal) =
        crate::helpers::read(reqwest::get(format!("{}/__admin/requests", server.uri())).await.unwrap()).await;
    let ways: Vec<&str> = journal.as_array().unwrap().iter().map(|e| e["via"].as_str().unwrap()).collect();
    assert!(ways.contains(&"tunnel") && ways.contains(&"proxy"), "{ways:?}");

    // The mock's own address through itself is the mock.
    let addr = server.uri().trim_start_matches("http://").to_owned();
    let own = raw(
        &addr,
        format!("GET {}/__admin/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n", server.uri()).as_bytes(),
    )
    .await;
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");

    // Anything else is refused, naming the hosts it takes; nothing is forwarded. Issue 31: another
    // port of this machine was answered with the mock's own pages, ftp:// and user info passed.
    let other_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let elsewhere = format!(
        "GET http://127.0.0.1:{other_port}/ HTTP/1.1\r\nHost: 127.0.0.1:{other_port}\r\nConnection: close\r\n\r\n"
    );
    for head in [
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        "CONNECT kyc.biometric.kz:8443 HTTP/1.1\r\nHost: kyc.biometric.kz:8443\r\n\r\n",
        "CONNECT user:secret@kyc.biometric.kz:443 HTTP/1.1\r\nHost: kyc.biometric.kz:443\r\n\r\n",
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
        "GET ftp://kyc.biometric.kz/x HTTP/1.1\r\nHost: kyc.biometric.kz\r\nConnection: close\r\n\r\n",
        "GET http://user@kyc.biometric.kz/api/v1/flows/session/result/ HTTP/1.1\r\nHost: kyc.biometric.kz\r\nConnection: close\r\n\r\n",
        elsewhere.as_str(),
    ] {
        let answer = raw(&addr, head.as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{head}: {answer}");
        assert!(
            answer.contains("kyc.biometric.kz, remote.biometric.kz") && answer.contains("never forwards"),
            "{answer}"
        );
    }
    let refused = trusting(&server)
        .proxy(Proxy::all(server.uri()).unwrap())
        .build()
        .unwrap()
        .get("https://example.com/")
        .send()
        .await;
    assert!(refused.is_err(), "a client sees its CONNECT refused: {refused:?}");
}

#[tokio::test]
async fn bad_tls_input_gets_a_clear_refusal_and_the_server_keeps_answering() {
    let server = tls_server(Config { header_timeout: Duration::from_secs(1), ..Config::default() }).await;
    let tls = server.tls_uri().unwrap();
    let addr = tls.trim_start_matches("https://").to_owned();
    // Plain HTTP to the HTTPS port.
    let answer = raw(&addr, b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("HTTPS port"), "{answer}");
    // A handshake cut short: closed after the header timeout, nobody else waits.
    let mut truncated = tokio::net::TcpStream::connect(&addr).await.unwrap();
    truncated.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.unwrap();
    let client = trusting(&server).build().unwrap();
    let health = client.get(format!("{tls}/__admin/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "others are served meanwhile");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(4), truncated.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the truncated handshake is closed by the header timeout");
    // A name the certificate does not carry: the same certificate, which the client refuses.
    let other = trusting(&server).resolve("other.example", addr.parse().unwrap()).build().unwrap();
    let port = addr.rsplit(':').next().unwrap();
    let refused = other.get(format!("https://other.example:{port}/__admin/health")).send().await;
    assert!(refused.is_err(), "an unknown name gets no certificate for it: {refused:?}");
    // A new client: the first one's pooled connection has been idle for about the header
    // timeout by now, and the server may be closing it as the request goes out.
    let fresh = trusting(&server).build().unwrap();
    assert_eq!(fresh.get(format!("{tls}/__admin/health")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_thousand_idle_tls_connections_give_way_to_a_newcomer() {
    let server =
        tls_server(Config { max_connections: 200, header_timeout: Duration::from_secs(3), ..Config::default() }).await;
    let tls = server.tls_uri().unwrap();
    let addr = tls.trim_start_matches("https://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..1000 {
        match tokio::net::TcpStream::connect(&addr).await {
            Ok(socket) => idle.push(socket),
            Err(_) => break,
        }
    }
    let client = trusting(&server).build().unwrap();
    let started = std::time::Instant::now();
    let health = tokio::time::timeout(Duration::from_secs(3), client.get(format!("{tls}/__admin/health")).send()).await;
    assert_eq!(health.expect("answered in time").unwrap().status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(2), "a silent TLS socket gave way: {:?}", started.elapsed());
    drop(idle);
}

/// A CONNECT tunnel keeps its connection's place under `--max-connections`, and one that never
/// starts its TLS handshake is closed by the header timeout, as a silent socket is.
#[tokio::test]
async fn idle_tunnels_count_against_the_cap_and_are_closed_by_the_header_timeout() {
    let server = MockServer::builder()
        .config(Config { max_connections: 2, header_timeout: Duration::from_secs(1), ..Config::default() })
        .start()
        .await
        .unwrap();
    let addr = server.uri().trim_start_matches("http://").to_owned();
    let mut tunnels = Vec::new();
    for _ in 0..2 {
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        socket.write_all(b"CONNECT kyc.biometric.kz:443 HTTP/1.1\r\nHost: kyc.biometric.kz:443\r\n\r\n").await.unwrap();
        let mut answer = [0u8; 12];
        socket.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200", "the tunnel is open");
        tunnels.push(socket);
    }
    let started = std::time::Instant::now();
    let health =
        tokio::time::timeout(Duration::from_secs(5), reqwest::get(format!("{}/__admin/health", server.uri()))).await;
    assert_eq!(health.expect("answered once the tunnels closed").unwrap().status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(700), "the two tunnels held both places until the timeout: {waited:?}");
    for mut tunnel in tunnels {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(2), tunnel.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "an idle tunnel is closed");
    }
}

/// Creates a session with `client` at `create_url` and answers the page link the admin API shows.
async fn page_url_of_a_session_made(client: &Client, create_url: &str, server: &MockServer) -> (String, Value) {
    let created: Value =
        client.post(create_url).json(&json!({"api_key": EVERYONE})).send().await.unwrap().json().await.unwrap();
    let sid = created["session_id"].as_str().unwrap_or_else(|| panic!("created through {create_url}: {created}"));
    let session: Value =
        reqwest::get(format!("{}/__admin/sessions/{sid}", server.uri())).await.unwrap().json().await.unwrap();
    (sid.to_owned(), session["page_url"].clone())
}

/// Links follow the host the client used: a session made through kyc.biometric.kz is linked
/// on https://remote.biometric.kz; one made directly, on the mock's own address; `--public-url`
/// wins over both.
#[tokio::test]
async fn links_follow_the_host_the_session_was_made_through() {
    for public_url in [None, Some("http://mock.example:9000")] {
        let server = tls_server(Config { public_url: public_url.map(str::to_owned), ..Config::default() }).await;
        let proxied = trusting(&server).proxy(Proxy::all(server.uri()).unwrap()).build().unwrap();
        let (vendor_sid, vendor_link) =
            page_url_of_a_session_made(&proxied, "https://kyc.biometric.kz/api/v1/flows/session/create/", &server)
                .await;
        let direct_url = format!("{}/api/v1/flows/session/create/", server.uri());
        let (direct_sid, direct_link) = page_url_of_a_session_made(&Client::new(), &direct_url, &server).await;
        let (vendor_base, direct_base) = match public_url {
            None => ("https://remote.biometric.kz".to_owned(), server.uri()),
            Some(base) => (base.to_owned(), base.to_owned()),
        };
        assert_eq!(vendor_link, json!(format!("{vendor_base}/flow/{vendor_sid}")), "--public-url wins: {public_url:?}");
        assert_eq!(direct_link, json!(format!("{direct_base}/flow/{direct_sid}")));
    }
    // The vendor's name written with the root's dot, through the plain proxy: the same host.
    let server = tls_server(Config::default()).await;
    let proxied = Client::builder().proxy(Proxy::all(server.uri()).unwrap()).build().unwrap();
    let (sid, link) =
        page_url_of_a_session_made(&proxied, "http://kyc.biometric.kz./api/v1/flows/session/create/", &server).await;
    assert_eq!(link, json!(format!("http://remote.biometric.kz/flow/{sid}")));
}

/// Issue 31: axios through `HTTPS_PROXY` sends an absolute-form `https://kyc.biometric.kz/...`
/// request to the plain port (no CONNECT); the session it makes is linked on `https://`, as the
/// client asked for the vendor's HTTPS address.
#[tokio::test]
async fn an_https_absolute_form_request_on_the_plain_port_gets_https_links() {
    let server = tls_server(Config::default()).await;
    let body = format!(r#"{{"api_key":"{EVERYONE}"}}"#);
    let head = format!(
        "POST https://kyc.biometric.kz/api/v1/flows/session/create/ HTTP/1.1\r\nHost: kyc.biometric.kz\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = raw(server.uri().trim_start_matches("http://"), head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let created: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let sid = created["session_id"].as_str().unwrap();
    let session: Value =
        reqwest::get(format!("{}/__admin/sessions/{sid}", server.uri())).await.unwrap().json().await.unwrap();
    assert_eq!(session["page_url"], json!(format!("https://remote.biometric.kz/flow/{sid}")), "{session}");
}
