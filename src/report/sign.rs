//! Signs a PDF the way Acrobat and poppler expect: a signature field whose `/V` dictionary has
//! `/SubFilter /adbe.pkcs7.detached`, a `/ByteRange` covering the whole file but the `/Contents`
//! hole, and in that hole a detached CMS `SignedData` over those bytes (SHA-256, RSA). The key and
//! certificate are a published TEST pair (`fixtures/signing/`, made by
//! `scripts/make-signing-key.sh`); nothing they sign is real. Cryptography and CMS come from
//! RustCrypto's crates; the PDF objects from lopdf.

use std::sync::OnceLock;

use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use der::{DecodePem, Encode};
use lopdf::{Dictionary, Document, Object, StringFormat, dictionary};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::ReportError;

/// The published test certificate, PEM (`GET /__admin/signing-certificate`).
pub const CERTIFICATE_PEM: &str = include_str!("../../fixtures/signing/test-signing-cert.pem");
const KEY_PEM: &str = include_str!("../../fixtures/signing/test-signing-key.pem");

/// Room for the CMS blob in the `/Contents` hole: 8 KiB, written as 16 Ki hex digits. A
/// signature with its certificate takes under 2 KiB.
const CONTENTS_BYTES: usize = 8192;
/// Ten digits per `/ByteRange` number: room for any offset in a file under 10 GB.
const RANGE_PLACEHOLDER: i64 = 9_999_999_999;

pub struct Signer {
    key: SigningKey<Sha256>,
    certificate: Certificate,
}

/// The process's signer, loaded on first use.
pub fn signer() -> Result<&'static Signer, ReportError> {
    static SIGNER: OnceLock<Result<Signer, String>> = OnceLock::new();
    SIGNER.get_or_init(Signer::load).as_ref().map_err(|e| ReportError::Sign(e.clone()))
}

impl Signer {
    fn load() -> Result<Self, String> {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(KEY_PEM).map_err(|e| format!("test key: {e}"))?;
        let certificate = Certificate::from_pem(CERTIFICATE_PEM).map_err(|e| format!("test certificate: {e}"))?;
        Ok(Self { key: SigningKey::<Sha256>::new(key), certificate })
    }

    /// Adds a signature field to `pdf` and signs the result. `when` is the PDF date of signing.
    pub fn sign(&self, pdf: &[u8], when: &str) -> Result<Vec<u8>, ReportError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| ReportError::Sign(format!("{what}: {e}"));
        let mut doc = Document::load_mem(pdf).map_err(|e| fail("reading the PDF", &e))?;
        add_signature_field(&mut doc, when).map_err(|e| fail("adding the signature field", &e))?;
        let mut out = Vec::new();
        doc.save_to(&mut out).map_err(|e| fail("writing the PDF", &e))?;

        let hole = find_contents_hole(&out).ok_or_else(|| ReportError::Sign("no /Contents placeholder".into()))?;
        let ranges = [0, hole.start, hole.end, out.len() - hole.end];
        write_byte_range(&mut out, ranges)?;
        let digest = Sha256::new().chain_update(&out[..hole.start]).chain_update(&out[hole.end..]).finalize();
        let cms = self.cms(&digest).map_err(|e| fail("building the CMS signature", &e))?;
        if cms.len() * 2 > hole.len() - 2 {
            return Err(ReportError::Sign(format!("the signature ({} bytes) does not fit its hole", cms.len())));
        }
        let hex: String = cms.iter().fold(String::with_capacity(cms.len() * 2), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02X}");
            hex
        });
        // Inside the angle brackets; the rest of the hole stays zeros, which readers ignore.
        out[hole.start + 1..hole.start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(out)
    }

    /// A detached CMS `SignedData` over a SHA-256 message digest, with the certificate.
    fn cms(&self, digest: &[u8]) -> Result<Vec<u8>, String> {
        let e = |e: cms::builder::Error| format!("{e:?}");
        let content = EncapsulatedContentInfo { econtent_type: const_oid::db::rfc5911::ID_DATA, econtent: None };
        let sha256 = AlgorithmIdentifierOwned { oid: const_oid::db::rfc5912::ID_SHA_256, parameters: None };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: self.certificate.tbs_certificate.issuer.clone(),
            serial_number: self.certificate.tbs_certificate.serial_number.clone(),
        });
        let signer_info = SignerInfoBuilder::new(&self.key, sid, sha256.clone(), &content, Some(digest)).map_err(e)?;
        let signed = SignedDataBuilder::new(&content)
            .add_digest_algorithm(sha256)
            .map_err(e)?
            .add_certificate(CertificateChoices::Certificate(self.certificate.clone()))
            .map_err(e)?
            .add_signer_info::<SigningKey<Sha256>, rsa::pkcs1v15::Signature>(signer_info)
            .map_err(e)?
            .build()
            .map_err(e)?;
        signed.to_der().map_err(|e| e.to_string())
    }
}

/// The signature dictionary (with placeholders), its invisible widget on the first page, and
/// the catalog's `/AcroForm`.
fn add_signature_field(doc: &mut Document, when: &str) -> Result<(), lopdf::Error> {
    let placeholder = || Object::Integer(RANGE_PLACEHOLDER);
    let signature = doc.add_object(dictionary! {
        "Type" => "Sig",
        "Filter" => "Adobe.PPKLite",
        "SubFilter" => "adbe.pkcs7.detached",
        "ByteRange" => vec![Object::Integer(0), placeholder(), placeholder(), placeholder()],
        "Contents" => Object::String(vec![0; CONTENTS_BYTES], StringFormat::Hexadecimal),
        "M" => Object::string_literal(when),
        "Name" => Object::string_literal("biometric-kz-mock TEST signer"),
        "Reason" => Object::string_literal("Test document generated by biometric-kz-mock"),
    });
    let page = *doc.get_pages().values().next().ok_or(lopdf::Error::PageNumberNotFound(1))?;
    let widget = doc.add_object(dictionary! {
        "Type" => "Annot",
        "Subtype" => "Widget",
        "FT" => "Sig",
        "T" => Object::string_literal("Signature1"),
        "Rect" => vec![0.into(), 0.into(), 0.into(), 0.into()],
        // Print and Locked.
        "F" => 132,
        "V" => signature,
        "P" => page,
    });
    let page_dict = doc.get_object_mut(page)?.as_dict_mut()?;
    match page_dict.get_mut(b"Annots") {
        Ok(Object::Array(annots)) => annots.push(widget.into()),
        _ => page_dict.set("Annots", vec![Object::from(widget)]),
    }
    let root = doc.trailer.get(b"Root")?.as_reference()?;
    let mut form = Dictionary::new();
    form.set("Fields", vec![Object::from(widget)]);
    // SignaturesExist | AppendOnly.
    form.set("SigFlags", 3);
    doc.get_object_mut(root)?.as_dict_mut()?.set("AcroForm", form);
    Ok(())
}

/// Where `<0000…>` (the placeholder, brackets included) stands in the written file.
fn find_contents_hole(pdf: &[u8]) -> Option<std::ops::Range<usize>> {
    let needle_len = CONTENTS_BYTES * 2;
    let start = pdf.windows(65).position(|w| w[0] == b'<' && w[1..].iter().all(|b| *b == b'0'))?;
    let end = start + 1 + needle_len;
    (pdf.get(end) == Some(&b'>') && pdf[start + 1..end].iter().all(|b| *b == b'0')).then_some(start..end + 1)
}

/// Overwrites the `/ByteRange` placeholder with the real numbers, padded to the same length so
/// that no offset moves.
fn write_byte_range(pdf: &mut [u8], ranges: [usize; 4]) -> Result<(), ReportError> {
    let marker = format!("{RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}");
    let at = pdf
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
        .ok_or_else(|| ReportError::Sign("no /ByteRange placeholder".into()))?;
    let open = pdf[..at].iter().rposition(|b| *b == b'[').ok_or_else(|| ReportError::Sign("no [".into()))?;
    let close = at + marker.len();
    let text = format!("{} {} {} {}", ranges[0], ranges[1], ranges[2], ranges[3]);
    let room = close - (open + 1);
    if text.len() > room {
        return Err(ReportError::Sign("the byte range does not fit its placeholder".into()));
    }
    let padded = format!("{text:<room$}");
    pdf[open + 1..close].copy_from_slice(padded.as_bytes());
    Ok(())
}
