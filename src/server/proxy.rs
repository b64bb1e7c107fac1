//! The plain port as an HTTP proxy for the vendor's hosts only (SPEC §14): `CONNECT
//! kyc.biometric.kz:443` (or remote.biometric.kz) opens a tunnel the mock answers itself with TLS
//! and its test CA's certificate; an absolute-form request (`GET http://kyc.biometric.kz/...`) is
//! served as any other, as is one to the mock's own address (`http://127.0.0.1:{its port}/`).
//! Every other destination — another port of this machine, another scheme (`ftp://`), a
//! destination with user info — is refused with 403 and the destinations it would take: the mock
//! never forwards anything anywhere (it is offline by design, and no real data leaves a test
//! through it).

use axum::body::Body;
use hyper::{Method, Request, Response, StatusCode, Version};

use crate::journal::Via;

/// Where the mock answers as a proxy.
pub(crate) struct Destinations {
    /// Names the mock stands in for on the usual ports (80, 443) and its own: the vendor's hosts
    /// and `--tls-name`s.
    pub stand_ins: Vec<String>,
    /// This machine's names (`localhost`, loopback addresses), on the mock's own ports only.
    pub machine: Vec<String>,
    /// The mock's own ports (plain and HTTPS).
    pub ports: Vec<u16>,
    /// `--public-url`'s host and port: the mock's address as others see it (behind a port
    /// mapping, where its own port is not the one clients use).
    pub public: Option<(String, u16)>,
}

/// What to do with a request, as far as proxying goes.
pub(super) enum Checked {
    /// Answer it, marked with the way it came.
    Serve(Via),
    /// A destination the mock does not stand in for.
    Refuse(Response<Body>),
    /// A `CONNECT` to a vendor host: answer 200 and serve TLS inside.
    Tunnel,
}

/// Checks `request` that came `via` against the destinations the mock answers for.
pub(super) fn check<B>(request: &Request<B>, via: Via, to: &Destinations) -> Checked {
    let uri = request.uri();
    if request.method() == Method::CONNECT {
        let Some(authority) = uri.authority() else { return Checked::Refuse(refusal("(none)", to)) };
        // A tunnel inside a tunnel, or CONNECT to the HTTPS port, is not a proxy's use.
        let tunnel = via == Via::Direct
            && authority.port_u16() == Some(443)
            && !has_user_info(authority)
            && (to.stand_in(authority.host()) || to.machine(authority.host()));
        return if tunnel { Checked::Tunnel } else { Checked::Refuse(refusal(authority.as_str(), to)) };
    }
    // HTTP/1 absolute-form on the plain port: a client that uses the mock as its proxy. (HTTP/2
    // always names the authority; there the connection itself, TLS or not, says which way.)
    let proxied = via == Via::Direct && request.version() <= Version::HTTP_11;
    match uri.authority() {
        Some(authority) if proxied => {
            let web = matches!(uri.scheme_str().map(str::to_ascii_lowercase).as_deref(), Some("http" | "https"));
            let port = authority.port_u16();
            let ours = port.is_some_and(|p| to.ports.contains(&p));
            let default_port = if uri.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case("https")) { 443 } else { 80 };
            let public = to.public.as_ref().is_some_and(|(host, public_port)| {
                is_one_of(authority.host(), std::slice::from_ref(host)) && port.unwrap_or(default_port) == *public_port
            });
            let answered = web
                && !has_user_info(authority)
                && ((to.stand_in(authority.host()) && (ours || matches!(port, None | Some(80 | 443))))
                    || (to.machine(authority.host()) && ours)
                    || public);
            if answered {
                Checked::Serve(Via::Proxy)
            } else {
                let destination = format!("{}://{}", uri.scheme_str().unwrap_or(""), authority.as_str());
                Checked::Refuse(refusal(&destination, to))
            }
        }
        _ => Checked::Serve(via),
    }
}

impl Destinations {
    fn stand_in(&self, host: &str) -> bool {
        is_one_of(host, &self.stand_ins)
    }

    fn machine(&self, host: &str) -> bool {
        is_one_of(host, &self.machine)
    }
}

/// Whether `host` is one of `names`, in any case, in brackets (IPv6) or not, written with its
/// root's dot (`kyc.biometric.kz.`) or without.
fn is_one_of(host: &str, names: &[String]) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    names.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// `user:password@`: a proxy that never forwards has no use for credentials of another host.
fn has_user_info(authority: &hyper::http::uri::Authority) -> bool {
    authority.as_str().contains('@')
}

fn refusal(destination: &str, to: &Destinations) -> Response<Body> {
    let ports: Vec<String> = to.ports.iter().map(u16::to_string).collect();
    let detail = format!(
        "biometric-kz-mock proxies only to itself: as {} (CONNECT to port 443, or http(s):// absolute-form), \
         and at {} on its own port{} {}{}. It never forwards anything anywhere, so {destination:?} is refused. \
         Send other traffic around the proxy (NO_PROXY); behind a port mapping, set --public-url to the mapped address.",
        to.stand_ins.join(", "),
        to.machine.join(", "),
        if ports.len() == 1 { "" } else { "s" },
        ports.join(" and "),
        to.public.as_ref().map(|(host, port)| format!(" and at {host}:{port} (--public-url)")).unwrap_or_default()
    );
    let body = crate::http::error::Detail::json(detail);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    let headers = response.headers_mut();
    headers.insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    // A refused tunnel leaves the client nothing to say on this connection.
    headers.insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to() -> Destinations {
        Destinations {
            stand_ins: ["kyc.biometric.kz", "remote.biometric.kz", "bkz-mock"].map(str::to_owned).to_vec(),
            machine: ["localhost", "127.0.0.1", "::1"].map(str::to_owned).to_vec(),
            ports: vec![19555, 19556],
            public: Some(("mock.test".to_owned(), 80)),
        }
    }

    fn request(method: Method, uri: &str) -> Request<()> {
        Request::builder().method(method).uri(uri).body(()).unwrap()
    }

    #[test]
    fn only_the_vendors_hosts_and_the_mocks_own_address_are_answered() {
        let cases = [
            (request(Method::CONNECT, "kyc.biometric.kz:443"), Via::Direct, "tunnel"),
            (request(Method::CONNECT, "REMOTE.biometric.kz:443"), Via::Direct, "tunnel"),
            (request(Method::CONNECT, "kyc.biometric.kz:8443"), Via::Direct, "refuse"),
            (request(Method::CONNECT, "example.com:443"), Via::Direct, "refuse"),
            (request(Method::CONNECT, "kyc.biometric.kz:443"), Via::Tunnel, "refuse"),
            (request(Method::CONNECT, "user:secret@kyc.biometric.kz:443"), Via::Direct, "refuse"),
            (request(Method::GET, "http://kyc.biometric.kz/api/v1/flows/session/result/"), Via::Direct, "proxy"),
            (request(Method::GET, "https://kyc.biometric.kz:443/x"), Via::Direct, "proxy"),
            (request(Method::GET, "HTTP://KYC.biometric.kz./api/v1/flows/session/result/"), Via::Direct, "proxy"),
            (request(Method::GET, "http://bkz-mock:19555/x"), Via::Direct, "proxy"),
            (request(Method::GET, "http://kyc.biometric.kz:8080/x"), Via::Direct, "refuse"),
            (request(Method::GET, "http://user@kyc.biometric.kz/x"), Via::Direct, "refuse"),
            (request(Method::GET, "ftp://kyc.biometric.kz/x"), Via::Direct, "refuse"),
            (request(Method::CONNECT, "remote.biometric.kz.:443"), Via::Direct, "tunnel"),
            (request(Method::GET, "http://kyc.biometric.kz../x"), Via::Direct, "refuse"),
            (request(Method::GET, "http://example.com/"), Via::Direct, "refuse"),
            (request(Method::GET, "http://127.0.0.1:19555/"), Via::Direct, "proxy"),
            (request(Method::GET, "http://[::1]:19556/"), Via::Direct, "proxy"),
            (request(Method::GET, "http://127.0.0.1:19557/"), Via::Direct, "refuse"),
            (request(Method::GET, "http://localhost/"), Via::Direct, "refuse"),
            (request(Method::GET, "http://MOCK.test/"), Via::Direct, "proxy"),
            (request(Method::GET, "http://mock.test:8080/"), Via::Direct, "refuse"),
            (request(Method::GET, "https://mock.test/"), Via::Direct, "refuse"),
            (request(Method::GET, crate::domain::paths::RESULT), Via::Direct, "direct"),
            (request(Method::GET, "https://whatever.example/x"), Via::Tls, "tls"),
        ];
        for (request, via, expected) in cases {
            let got = match check(&request, via, &to()) {
                Checked::Serve(v) => v.as_str(),
                Checked::Refuse(r) => {
                    assert_eq!(r.status(), StatusCode::FORBIDDEN);
                    "refuse"
                }
                Checked::Tunnel => "tunnel",
            };
            assert_eq!(got, expected, "{} {} via {via:?}", request.method(), request.uri());
        }
    }
}
