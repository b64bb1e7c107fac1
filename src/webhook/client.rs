//! The HTTP client of the webhook deliveries: hyper-util's pooled client over hyper-rustls, made
//! at the first delivery (reading the system's roots takes milliseconds most runs never need).
//! Receivers may be `https://`, trusted by the system's roots and `--webhook-ca` (a receiver that
//! presents exactly a certificate of that file is trusted too, CA:TRUE or not). A POST that
//! fails on a kept-alive connection the receiver closed without saying so is sent again at once
//! on a fresh one: every connection is marked with whether it has carried an answered request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;

/// How long one attempt may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle connection to a receiver is kept.
const IDLE: Duration = Duration::from_secs(30);
/// How many dead kept-alive connections one attempt may meet before it counts.
const STALE_RETRIES: usize = 8;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

pub(super) struct WebhookClient {
    /// `--webhook-ca`'s certificates, checked at start-up.
    extra_roots: Arc<Vec<CertificateDer<'static>>>,
    client: tokio::sync::OnceCell<Client<Tracking, Full<Bytes>>>,
}

impl WebhookClient {
    /// `extra_roots`: certificates (PEM) trusted for `https://` receivers beside the system's
    /// (`--webhook-ca`). A file without one, or with one rustls cannot use, is refused now.
    pub(super) fn new(extra_roots: &[u8]) -> Result<Self, String> {
        use rustls::pki_types::pem::PemObject as _;
        let mut extra = Vec::new();
        let mut check = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(extra_roots) {
            let cert = cert.map_err(|e| format!("--webhook-ca: not a PEM certificate: {e}"))?;
            check.add(cert.clone()).map_err(|e| format!("--webhook-ca: a certificate cannot be used: {e}"))?;
            extra.push(cert);
        }
        if !extra_roots.is_empty() && extra.is_empty() {
            return Err("--webhook-ca: no PEM certificate in the file".into());
        }
        Ok(Self { extra_roots: Arc::new(extra), client: tokio::sync::OnceCell::new() })
    }

    /// The client, made at the first call (off the async threads: it reads the system's roots).
    async fn client(&self) -> Result<&Client<Tracking, Full<Bytes>>, String> {
        self.client
            .get_or_try_init(|| async {
                let extra = Arc::clone(&self.extra_roots);
                let tls = tokio::task::spawn_blocking(move || tls_config(&extra))
                    .await
                    .map_err(|e| format!("reading the system's roots failed: {e}"))?;
                let mut http = HttpConnector::new();
                http.set_connect_timeout(Some(TIMEOUT));
                http.enforce_http(false);
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(tls)
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(http);
                Ok(Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(super::turns::PER_RECEIVER)
                    .pool_idle_timeout(IDLE)
                    .build(Tracking(https)))
            })
            .await
    }

    /// POSTs `body` to `url`: the receiver's status, or why there is none, with its causes. A
    /// request that fails on a kept-alive connection that had carried an answered request (one the
    /// receiver closed meanwhile without saying so) is sent again at once: the pool has dropped
    /// the dead connection, so the next try opens a fresh one. Not counted as an attempt: the
    /// receiver never answered the first.
    pub(super) async fn post(&self, url: &str, body: &Bytes) -> Result<u16, String> {
        let client = self.client().await?;
        for _ in 0..STALE_RETRIES {
            match post_once(client, url, body).await {
                Err(PostError::Reused(e)) => {
                    tracing::debug!("webhook to {url} failed on a reused connection ({e}); sending it again");
                }
                other => return other.map_err(|e| e.to_string()),
            }
        }
        post_once(client, url, body).await.map_err(|e| e.to_string())
    }
}

async fn post_once(client: &Client<Tracking, Full<Bytes>>, url: &str, body: &Bytes) -> Result<u16, PostError> {
    let mut request = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("biometric-kz-mock/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(body.clone()))
        .map_err(|e| PostError::Other(e.to_string()))?;
    let connection = hyper_util::client::legacy::connect::capture_connection(&mut request);
    let reused = || {
        let mut extras = hyper::http::Extensions::new();
        if let Some(connected) = connection.connection_metadata().as_ref() {
            connected.get_extras(&mut extras);
        }
        extras.get::<Used>().is_some_and(Used::get)
    };
    match tokio::time::timeout(TIMEOUT, client.request(request)).await {
        Ok(Ok(response)) => {
            if let Some(used) = response.extensions().get::<Used>() {
                used.set();
            }
            Ok(response.status().as_u16())
        }
        Ok(Err(e)) if !e.is_connect() && reused() => Err(PostError::Reused(e)),
        Ok(Err(e)) => Err(PostError::Request(e)),
        Err(_) => Err(PostError::Other(format!("no answer within {} s", TIMEOUT.as_secs()))),
    }
}

/// The client's TLS: the system's roots and `--webhook-ca`'s, and a receiver that presents exactly
/// a certificate of `--webhook-ca` (`PinnedOrRoots`).
fn tls_config(extra: &[CertificateDer<'static>]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot use is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    for cert in extra {
        // Checked by `WebhookClient::new`.
        let _ = roots.add(cert.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // No roots at all (a container without a CA bundle): only the pinned ones, if any, are trusted.
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .build()
        .ok();
    let pinned = PinnedOrRoots {
        roots: verifier,
        pinned: extra.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    };
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(pinned))
        .with_no_client_auth()
}

/// The web PKI's verification, and beside it the receivers that present exactly one of the
/// `--webhook-ca` certificates for their name: a self-signed certificate made with `openssl req
/// -x509` is marked CA:TRUE, which the web PKI refuses as an end entity (`CaUsedAsEndEntity`),
/// while curl, Python and Node accept it when told to trust that file. Nothing else is accepted.
#[derive(Debug)]
struct PinnedOrRoots {
    /// The web PKI over the roots; none when there is no root at all.
    roots: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    pinned: Vec<CertificateDer<'static>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for PinnedOrRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let verified = match &self.roots {
            Some(roots) => roots.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            None => Err(rustls::Error::General(
                "no certificate to trust an https:// receiver with: name its CA with --webhook-ca".to_owned(),
            )),
        };
        if verified.is_ok() || !self.pinned.iter().any(|pinned| pinned.as_ref() == end_entity.as_ref()) {
            return verified;
        }
        // The very certificate the file holds: still for the name the receiver was reached by.
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|e| rustls::Error::General(e.to_string()))?;
        cert.verify_is_valid_for_subject_name(server_name).map_err(|e| rustls::Error::General(e.to_string()))?;
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Why one attempt failed.
enum PostError {
    /// The HTTP client's error (connecting, TLS, sending, reading the answer).
    Request(hyper_util::client::legacy::Error),
    /// The same, on a connection that had carried an answered request before.
    Reused(hyper_util::client::legacy::Error),
    Other(String),
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(e) | Self::Reused(e) => {
                // The cause is in the chain ("client error (Connect)" alone says little):
                // "invalid peer certificate: UnknownIssuer", "Connection refused"...
                write!(f, "request failed: {e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            Self::Other(text) => f.write_str(text),
        }
    }
}

/// Whether a connection has carried an answered request (a `Connected` extra).
#[derive(Clone, Default)]
struct Used(Arc<AtomicBool>);

impl Used {
    fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// hyper-rustls's connector, each connection it opens marked with its own `Used`.
#[derive(Clone)]
struct Tracking(Https);

/// A connection of `Tracking`.
struct Tracked {
    io: hyper_rustls::MaybeHttpsStream<hyper_util::rt::TokioIo<tokio::net::TcpStream>>,
    used: Used,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower::Service<hyper::Uri> for Tracking {
    type Response = Tracked;
    type Error = BoxError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Tracked, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, uri: hyper::Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move { Ok(Tracked { io: connecting.await?, used: Used::default() }) })
    }
}

impl Connection for Tracked {
    fn connected(&self) -> Connected {
        self.io.connected().extra(self.used.clone())
    }
}

impl hyper::rt::Read for Tracked {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Tracked {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_webhook_ca_is_refused_at_once_and_the_client_is_made_when_first_needed() {
        assert_eq!(
            WebhookClient::new(b"not a certificate").err().unwrap(),
            "--webhook-ca: no PEM certificate in the file"
        );
        let cut = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(WebhookClient::new(cut).err().unwrap().starts_with("--webhook-ca: not a PEM certificate"), "a cut one");
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::default().self_signed(&key).unwrap();
        let client = WebhookClient::new(ca.pem().as_bytes()).unwrap();
        assert!(client.client.get().is_none(), "nothing made at start-up");
        client.client().await.unwrap();
        assert!(client.client.get().is_some(), "made at the first delivery, and kept");
    }
}
