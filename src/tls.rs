//! The mock's own test certificate authority and its HTTPS (SPEC §14): an ECDSA P-256 CA made at
//! first start (rcgen), kept with `--ca-dir` across restarts, published at `GET /__admin/ca.pem`
//! and by `biometric-kz-mock ca`; from it one server certificate for `kyc.biometric.kz`,
//! `remote.biometric.kz`, `localhost`, `127.0.0.1`, `::1` and every `--tls-name`, served by
//! rustls with HTTP/2 and HTTP/1.1 by ALPN. Nothing here is trusted anywhere but where a user
//! puts the CA on purpose. Knows certificates, not routes.

use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// This machine's names, which the server certificate covers beside the vendor's.
pub(crate) const MACHINE_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The names the server certificate covers: the vendor's two hosts, this machine
/// (`MACHINE_NAMES`), and `extra` (`--tls-name`), each once.
pub(crate) fn server_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> =
        crate::domain::VENDOR_HOSTS.iter().chain(&MACHINE_NAMES).map(|n| (*n).to_owned()).collect();
    for name in extra {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

const CA_CERT_FILE: &str = "biometric-kz-mock-ca.pem";
const CA_KEY_FILE: &str = "biometric-kz-mock-ca-key.pem";

/// The test CA: its certificate (PEM) and its key, to issue the server certificate with.
pub(crate) struct TestCa {
    cert_pem: String,
    key: KeyPair,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the test CA in {dir} cannot be used: {reason} (move the directory away to make a new CA)")]
    Load { dir: String, reason: String },
    #[error("the test CA cannot be written to {dir}: {reason}")]
    Write { dir: String, reason: String },
    #[error("cannot make a certificate: {0}")]
    Make(String),
}

/// The CA's subject, the same every time, so that a CA read back from `--ca-dir` issues
/// certificates that chain to the certificate kept there.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "biometric-kz-mock TEST CA (trust only in tests)");
    name.push(DnType::OrganizationName, "biometric-kz-mock");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

impl TestCa {
    /// The CA kept in `dir` (made there at the first start), or a new one in memory.
    pub(crate) fn load_or_create(dir: Option<&Path>) -> Result<Self, TlsError> {
        let Some(dir) = dir else { return Self::create() };
        let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
        if !cert_path.exists() && !key_path.exists() {
            let ca = Self::create()?;
            let write_err =
                |e: std::io::Error| TlsError::Write { dir: dir.display().to_string(), reason: e.to_string() };
            create_private_dir(dir).map_err(write_err)?;
            write_private(&key_path, &ca.key.serialize_pem()).map_err(write_err)?;
            std::fs::write(&cert_path, &ca.cert_pem).map_err(write_err)?;
            return Ok(ca);
        }
        let load_err = |reason: String| TlsError::Load { dir: dir.display().to_string(), reason };
        let cert_pem = std::fs::read_to_string(&cert_path).map_err(|e| load_err(format!("{CA_CERT_FILE}: {e}")))?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(|e| load_err(format!("{CA_KEY_FILE}: {e}")))?;
        warn_if_others_can_read(&key_path);
        if !cert_pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(load_err(format!("{CA_CERT_FILE} is not a PEM certificate")));
        }
        let key = KeyPair::from_pem(&key_pem).map_err(|e| load_err(format!("{CA_KEY_FILE}: {e}")))?;
        Ok(Self { cert_pem, key })
    }

    fn create() -> Result<Self, TlsError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| TlsError::Make(e.to_string()))?;
        let cert = ca_params().self_signed(&key).map_err(|e| TlsError::Make(e.to_string()))?;
        Ok(Self { cert_pem: cert.pem(), key })
    }

    /// The CA certificate, PEM: what clients are told to trust.
    pub(crate) fn pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `names` (`server_names`), issued now (valid 90 days) with a
    /// fresh key, and the rustls configuration that serves it (h2 and http/1.1).
    pub(crate) fn server_config(&self, names: Vec<String>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let make = |e: &dyn std::fmt::Display| TlsError::Make(e.to_string());
        let mut params = CertificateParams::new(names).map_err(|e| make(&e))?;
        params.distinguished_name.push(DnType::CommonName, "biometric-kz-mock (TEST)");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(90);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| make(&e))?;
        let issuer = Issuer::new(ca_params(), &self.key);
        let leaf = params.signed_by(&leaf_key, &issuer).map_err(|e| make(&e))?;
        let ca_der =
            rustls::pki_types::pem::PemObject::from_pem_slice(self.cert_pem.as_bytes()).map_err(|e| make(&e))?;
        let chain = vec![leaf.der().clone(), ca_der];
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| make(&e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| make(&e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Makes `dir` (and its missing parents) for the CA: a directory made here is its owner's only
/// (0700), whatever the umask. One that exists is left as it is.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // The umask may have taken bits away; the owner's are all needed, nobody else's.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Anyone who can read the CA's key can make certificates every client that trusts the CA
/// accepts: a key others can read is warned about, with the fix (as ssh does; not refused, since
/// a container's secret is often mounted so).
fn warn_if_others_can_read(key: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(key)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            "the test CA's key {} can be read by other users (mode {:o}): anyone who can read it can make certificates \
             that every client trusting this CA accepts. Run: chmod 600 {}",
            key.display(),
            meta.permissions().mode() & 0o777,
            key.display()
        );
    }
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_kept_in_a_directory_is_the_same_after_a_restart_and_issues_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let first = TestCa::load_or_create(Some(dir.path())).unwrap();
        let again = TestCa::load_or_create(Some(dir.path())).unwrap();
        assert_eq!(first.pem(), again.pem(), "the same CA");
        assert!(again.server_config(server_names(&["mock.internal".into()])).is_ok());
        let other = TestCa::load_or_create(None).unwrap();
        assert_ne!(other.pem(), first.pem(), "a new one without a directory");
        std::fs::write(dir.path().join(CA_KEY_FILE), "not a key").unwrap();
        let broken = TestCa::load_or_create(Some(dir.path()));
        assert!(matches!(broken, Err(TlsError::Load { .. })), "a damaged CA is refused, never replaced in silence");
    }
}
