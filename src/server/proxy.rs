//! The plain port as an HTTP proxy for the vendor's hosts only (SPEC §14): `CONNECT
//! kyc.biometric.kz:443` (or remote.biometric.kz) opens a tunnel the mock answers itself with TLS
//! and its test CA's certificate; an absolute-form request (`GET http://kyc.biometric.kz/...`) is
//! served as any other. Every other destination is refused with 403 and the hosts it would take:
//! the mock never forwards anything anywhere (it is offline by design, and no real data leaves a
//! test through it).

use axum::body::Body;
use hyper::{Method, Request, Response, StatusCode, Version};

use crate::journal::Via;

/// What to do with a request, as far as proxying goes.
pub(super) enum Checked {
    /// Answer it, marked with the way it came.
    Serve(Via),
    /// A destination the mock does not stand in for.
    Refuse(Response<Body>),
    /// A `CONNECT` to a vendor host: answer 200 and serve TLS inside.
    Tunnel,
}

/// Checks `request` that came `via` against the `hosts` the mock answers for.
pub(super) fn check<B>(request: &Request<B>, via: Via, hosts: &[String]) -> Checked {
    if request.method() == Method::CONNECT {
        let Some(authority) = request.uri().authority() else { return Checked::Refuse(refusal("(none)", hosts)) };
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        // A tunnel inside a tunnel, or CONNECT to the HTTPS port, is not a proxy's use.
        if via == Via::Direct && authority.port_u16() == Some(443) && answers_for(host, hosts) {
            return Checked::Tunnel;
        }
        return Checked::Refuse(refusal(authority.as_str(), hosts));
    }
    // HTTP/1 absolute-form on the plain port: a client that uses the mock as its proxy. (HTTP/2
    // always names the authority; there the connection itself, TLS or not, says which way.)
    let proxied = via == Via::Direct && request.version() <= Version::HTTP_11;
    match request.uri().authority() {
        Some(authority) if proxied => {
            let host = authority.host().trim_start_matches('[').trim_end_matches(']');
            if answers_for(host, hosts) {
                Checked::Serve(Via::Proxy)
            } else {
                Checked::Refuse(refusal(authority.as_str(), hosts))
            }
        }
        _ => Checked::Serve(via),
    }
}

/// Whether the mock answers for `host`, in any case, written with its root's dot (`kyc.biometric.kz.`)
/// or without.
fn answers_for(host: &str, hosts: &[String]) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

fn refusal(destination: &str, hosts: &[String]) -> Response<Body> {
    let detail = format!(
        "biometric-kz-mock proxies only to itself, as {}: CONNECT to port 443 of one of them, or an absolute-form request; \
         it never forwards anything anywhere, so {destination:?} is refused. Send other traffic around the proxy (NO_PROXY).",
        hosts.join(", ")
    );
    let body = crate::http::error::Detail::json(detail);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response
        .headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        ["kyc.biometric.kz", "remote.biometric.kz", "localhost", "127.0.0.1"].map(str::to_owned).to_vec()
    }

    fn request(method: Method, uri: &str) -> Request<()> {
        Request::builder().method(method).uri(uri).body(()).unwrap()
    }

    #[test]
    fn only_the_vendors_hosts_and_this_machine_are_answered() {
        let cases = [
            (request(Method::CONNECT, "kyc.biometric.kz:443"), Via::Direct, "tunnel"),
            (request(Method::CONNECT, "REMOTE.biometric.kz:443"), Via::Direct, "tunnel"),
            (request(Method::CONNECT, "kyc.biometric.kz:8443"), Via::Direct, "refuse"),
            (request(Method::CONNECT, "example.com:443"), Via::Direct, "refuse"),
            (request(Method::CONNECT, "kyc.biometric.kz:443"), Via::Tunnel, "refuse"),
            (request(Method::GET, "http://kyc.biometric.kz/api/v1/flows/session/result/"), Via::Direct, "proxy"),
            (request(Method::GET, "http://KYC.biometric.kz./api/v1/flows/session/result/"), Via::Direct, "proxy"),
            (request(Method::CONNECT, "remote.biometric.kz.:443"), Via::Direct, "tunnel"),
            (request(Method::GET, "http://kyc.biometric.kz../x"), Via::Direct, "refuse"),
            (request(Method::GET, "http://example.com/"), Via::Direct, "refuse"),
            (request(Method::GET, crate::domain::paths::RESULT), Via::Direct, "direct"),
            (request(Method::GET, "https://whatever.example/x"), Via::Tls, "tls"),
        ];
        for (request, via, expected) in cases {
            let got = match check(&request, via, &hosts()) {
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
