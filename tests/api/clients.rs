//! Issue 31: what real clients trip on, each as they send it: media types in any case (the vendor's
//! iOS SDK), Django's reading of multipart parts and of DRF's char fields, and images as Pillow
//! (Django's `ImageField`) reads them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, IIN, PHONE, TestApp, read, spawn_app, spawn_with};
use biometric_kz_mock::Config;

const ORG: &str = "mock-backend-api-key-every-subscription-0000000000";
const LIVENESS: &str = "/api/v1/backend/liveness/short/";

fn photo(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/photos/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A multipart body with the form's fields and one file part written as `disposition` says,
/// with `content_type` as the request's Content-Type (its boundary is `b0undary`).
async fn raw_multipart(
    app: &TestApp,
    path: &str,
    content_type: &str,
    disposition: &[u8],
    file: &[u8],
) -> (StatusCode, Value) {
    let mut body = Vec::new();
    body.extend_from_slice(b"--b0undary\r\nContent-Disposition: form-data; name=\"api_key\"\r\n\r\n");
    body.extend_from_slice(ORG.as_bytes());
    body.extend_from_slice(b"\r\n--b0undary\r\nContent-Disposition: ");
    body.extend_from_slice(disposition);
    body.extend_from_slice(b"\r\nContent-Type: image/jpeg\r\n\r\n");
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--b0undary--\r\n");
    let request = app.client.post(app.url(path)).header("content-type", content_type).body(body);
    read(request.send().await.unwrap()).await
}

#[tokio::test]
async fn media_types_are_compared_in_any_case_as_django_does() {
    let app = spawn_with(Config { strict: true, ..Config::default() }).await;
    // The vendor's iOS SDK sends `Application/json`: JSON, no lint, not refused by --strict.
    for content_type in ["Application/json", "APPLICATION/JSON; Charset=UTF-8", "application/json"] {
        let response = app.create_raw(json!({"api_key": EVERYONE}).to_string(), Some(content_type)).await;
        let lint = response.headers().get("x-mock-lint").map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = read(response).await;
        assert_eq!((status, lint), (StatusCode::OK, None), "{content_type}: {body}");
    }
    let jpeg = photo("face.jpg");
    let disposition = b"form-data; name=\"image\"; filename=\"face.jpg\"";
    for content_type in ["Multipart/Form-Data; boundary=b0undary", "MULTIPART/FORM-DATA; BOUNDARY=b0undary"] {
        let (status, body) = raw_multipart(&app, LIVENESS, content_type, disposition, &jpeg).await;
        assert_eq!(status, StatusCode::OK, "{content_type}: {body}");
        assert_eq!(body["result"], true, "{content_type}: {body}");
    }
}

#[tokio::test]
async fn a_file_part_is_a_file_whatever_its_name_is_written_in_as_django_reads_it() {
    let app = spawn_app().await;
    let jpeg = photo("face.jpg");
    let dispositions: [&[u8]; 3] = [
        b"form-data; name=\"image\"; filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE.jpg",
        b"form-data; name=\"image\"; filename=\"\xe4\xf6\xfc.jpg\"",
        b"form-data; name=\"image\"; filename=\"face.jpg\"",
    ];
    for disposition in dispositions {
        let (status, body) =
            raw_multipart(&app, LIVENESS, "multipart/form-data; boundary=b0undary", disposition, &jpeg).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", String::from_utf8_lossy(disposition));
    }
}

#[tokio::test]
async fn an_approval_reads_an_integer_code_as_its_text_and_warns_of_an_api_key() {
    let app = spawn_app().await;
    let (status, requested) = read(
        app.client
            .post(app.url("/api/v1/backend/e-document/online-access/request/identity_card/"))
            .json(&json!({"api_key": ORG, "iin": IIN, "phone": PHONE}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{requested}");
    let id = requested["backend_session_id"].as_str().unwrap();
    let (_, session) = app.get(&format!("/__admin/backend-sessions/{id}")).await;
    let code: u64 = session["otp"].as_str().unwrap().parse().unwrap();
    let approve = app.client.post(app.url("/api/v1/backend/e-document/online-access/approve/"));
    let body = json!({"backend_session_id": id, "code": code, "file": false, "api_key": ORG});
    let response = approve.json(&body).send().await.unwrap();
    let lints: Vec<String> =
        response.headers().get_all("x-mock-lint").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let (status, document) = read(response).await;
    // A code with leading zeros sent as a number loses them, as it would with DRF.
    if session["otp"].as_str().unwrap().starts_with('0') {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{document}");
    } else {
        assert_eq!(status, StatusCode::OK, "an integer code is its text, as DRF's CharField reads it: {document}");
    }
    assert!(
        lints.iter().any(|l| l.starts_with("unknown-key: ") && l.contains("api_key")),
        "approve takes no api_key: {lints:?}"
    );
}

/// PNG and JPEG files built byte by byte: what Pillow (Django's `ImageField`) refuses.
fn png(width: u32, height: u32, whole: bool) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    if whole {
        // One grey pixel row per line, stored (zlib without compression).
        let row = 1 + width as usize;
        let raw = vec![0u8; row * height as usize];
        let mut zlib = vec![0x78, 0x01];
        for (i, block) in raw.chunks(65_535).enumerate() {
            let last = (i + 1) * 65_535 >= raw.len();
            zlib.push(u8::from(last));
            let len = u16::try_from(block.len()).unwrap();
            zlib.extend_from_slice(&len.to_le_bytes());
            zlib.extend_from_slice(&(!len).to_le_bytes());
            zlib.extend_from_slice(block);
        }
        zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
        chunk(&mut out, b"IDAT", &zlib);
        chunk(&mut out, b"IEND", &[]);
    } else {
        out.extend_from_slice(&[0, 0, 0x10, 0, b'I', b'D', b'A', b'T', 1, 2, 3]);
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[tokio::test]
async fn images_are_read_as_pillow_reads_them_on_every_image_field() {
    let app = spawn_app().await;
    let jpeg = photo("face.jpg");
    let refused: [(&str, Vec<u8>); 4] = [
        ("a PNG signature alone", b"\x89PNG\r\n\x1a\n".to_vec()),
        ("a JPEG's first 14 bytes", jpeg[..14].to_vec()),
        ("a 0x0 PNG", png(0, 0, true)),
        ("a truncated PNG that says 50000x50000", png(50_000, 50_000, false)),
    ];
    let accepted = [("a whole 4x4 PNG", png(4, 4, true)), ("the sample JPEG", jpeg.clone())];
    let invalid = "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
    for (what, bytes) in refused.iter().chain(&accepted) {
        let ok = accepted.iter().any(|(w, _)| w == what);
        let disposition = b"form-data; name=\"image\"; filename=\"x.png\"";
        let (status, body) =
            raw_multipart(&app, LIVENESS, "multipart/form-data; boundary=b0undary", disposition, bytes).await;
        if ok {
            assert_eq!(status, StatusCode::OK, "liveness/short takes {what}: {body}");
        } else {
            assert_eq!((status, &body["image"][0]), (StatusCode::BAD_REQUEST, &json!(invalid)), "{what}: {body}");
        }
        // photo1 of a session's metadata, read the same way.
        let photo1 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
        let body = json!({"api_key": EVERYONE, "metadata": {"face2face": {"photo1": photo1}}});
        let (status, answer) = read(app.create(&body).await).await;
        assert_eq!(status.is_success(), ok, "photo1 with {what}: {answer}");
    }
}
