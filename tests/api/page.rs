//! The end-user page over plain HTTP, as a browser without JavaScript would use it: forms POST,
//! the server answers 303 to the next screen. (tests/api/browser.rs drives it in Chromium.)

use regex_lite::Regex;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json};

use crate::helpers::forms::{FormBrowser, current_step, has, jpeg_part, otp_shown};
use crate::helpers::{EVERYONE, IIN, INDIVIDUALS, LEGAL, PHONE, TestApp, photo_base64, with_metadata};

fn reason_of(html: &str) -> String {
    let re = Regex::new(r#"data-reason="([a-z-]+)""#).unwrap();
    re.captures(html).map(|c| c[1].to_owned()).unwrap_or_default()
}

async fn result(app: &TestApp, sid: &str, key: &str) -> Value {
    let (status, json) = app.result(sid, key).await;
    assert_eq!(status, StatusCode::OK, "the result of {sid}: {json}");
    json
}

#[tokio::test]
async fn each_built_in_flow_is_walked_to_the_redirect_with_the_same_result_as_complete() {
    let b = FormBrowser::new().await;
    for (key, codes) in
        [(EVERYONE, vec!["LDHP", "F2F"]), (INDIVIDUALS, vec!["LDHP", "ED", "F2F"]), (LEGAL, vec!["LDHP", "DR", "F2F"])]
    {
        let sid = b.app.create_ok(&json!({"api_key": key})).await;
        let end = b.walk(&sid, "?redirect=https%3A%2F%2Fintegrator.example%2Fback%3Fx%3D1&locale=en").await;
        assert_eq!(end, "https://integrator.example/back?x=1", "the last step redirects to `redirect` as given");
        let walked = result(&b.app, &sid, key).await;
        assert_eq!(walked["status"], "FINISHED", "{walked}");
        assert_eq!(walked["flow_session_result"], true, "{walked}");

        let other = b.app.create_ok(&json!({"api_key": key})).await;
        b.app.complete(&other, None).await;
        let completed = result(&b.app, &other, key).await;
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&walked), keys(&completed), "page and admin complete leave the same result shape");
        for family in ["liveness_result", "face2face_result", "edocument_result", "document_recognition_result"] {
            if let Some(r) = walked.get(family) {
                let fields = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
                assert_eq!(fields(r), fields(&completed[family]), "{family} fields for {codes:?}");
            }
        }
        let (_, admin) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
        let events: Vec<&str> =
            admin["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(events.first(), Some(&"flow.start"), "{events:?}");
        assert_eq!(events.last(), Some(&"flow.end"), "{events:?}");
        assert_eq!(events.len(), 2 + 2 * codes.len(), "a start and an end per technology: {events:?}");
    }
}

#[tokio::test]
async fn steps_are_shown_in_order_one_per_screen() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": LEGAL})).await;
    let (_, html) = b.get(&format!("/flow/{sid}")).await;
    assert_eq!(current_step(&html), "LDHP", "a legal entity's flow starts with liveness: {html}");
    assert!(html.contains("1 / 3"), "progress shown");
    // A form for a later step is not taken: the user is sent back to where they are.
    let (status, location, _) = b.post(&format!("/flow/{sid}/F2F"), Form::new().text("action", "passed")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a later step's form sends the user back");
    assert_eq!(location.as_deref(), Some(format!("/flow/{sid}").as_str()), "to the step they are on");
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "scripted")).await;
    let (_, html) = b.get(&format!("/flow/{sid}")).await;
    assert_eq!(current_step(&html), "DR", "{html}");
    assert!(has(&html, "document-input"), "{html}");
    assert!(html.contains("2 / 3"), "progress shown: {html}");
    let (_, admin) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(admin["status"], "PROGRESS", "opening a step starts it");
    assert_eq!(admin["steps"][1]["state"], "in_progress", "{admin}");
}

#[tokio::test]
async fn texts_follow_the_locale_with_russian_by_default() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    for (query, lang, title) in [
        ("", "ru", "Проверка живости"),
        ("?locale=ru", "ru", "Проверка живости"),
        ("?locale=en", "en", "Liveness check"),
        ("?locale=kz", "kk", "Тірілікті тексеру"),
        ("?locale=de", "ru", "Проверка живости"),
    ] {
        let (_, html) = b.get(&format!("/flow/{sid}{query}")).await;
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "lang {lang} for {query:?}");
        assert!(html.contains(title), "{title} for {query:?}");
    }
    let (_, html) = b.get(&format!("/flow/{sid}?web_view=true&locale=en")).await;
    assert!(html.contains("class=\"web-view\""), "web_view=true gives the compact layout");
    assert!(html.contains("web_view=true"), "web_view is carried to the next screen");
}

#[tokio::test]
async fn unknown_sessions_get_a_404_page_in_the_locale() {
    let b = FormBrowser::new().await;
    for (path, text) in [
        ("/flow/3fa85f64-5717-4562-b3fc-2c963f66afa6?locale=en", "Session not found"),
        ("/flow/not-a-uuid?locale=kz", "Сессия табылмады"),
        ("/flow/3fa85f64-5717-4562-b3fc-2c963f66afa6", "Сессия не найдена"),
    ] {
        let (status, html) = b.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(has(&html, "error") && reason_of(&html) == "not-found", "{html}");
        assert!(html.contains(text), "{text} in {html}");
    }
    let (status, location, _) =
        b.post("/flow/3fa85f64-5717-4562-b3fc-2c963f66afa6/LDHP", Form::new().text("action", "passed")).await;
    assert_eq!((status, location), (StatusCode::NOT_FOUND, None), "an unknown session's form: no redirect");
}

#[tokio::test]
async fn a_finished_session_is_one_time() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    b.walk(&sid, "?locale=en").await;
    let (status, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    assert_eq!(status, StatusCode::GONE, "a finished session's page: {html}");
    assert!(has(&html, "error") && reason_of(&html) == "completed", "{html}");
    assert!(html.contains("Session already completed"), "{html}");
    let (status, _, html) = b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
    assert_eq!(status, StatusCode::GONE, "a finished session takes no more forms: {html}");
}

#[tokio::test]
async fn without_a_redirect_the_done_screen_shows_the_outcome() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    let end = b.walk(&sid, "?locale=en").await;
    assert_eq!(end, format!("/flow/{sid}/finished?locale=en"), "the last step goes to the done screen");
    let (status, html) = b.get(&end).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(has(&html, "done"), "{html}");
    assert!(html.contains("data-outcome=\"passed\""), "{html}");
}

#[tokio::test]
async fn a_redirect_that_is_not_absolute_http_shows_an_error_screen() {
    let b = FormBrowser::new().await;
    for redirect in ["javascript:alert(1)", "/relative/path", "ftp://files.example/x", "example.com/back"] {
        let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
        let query = format!("?redirect={}&locale=en", url_encode(redirect));
        let end = b.walk(&sid, &query).await;
        assert!(end.starts_with(&format!("/flow/{sid}/finished?")), "{redirect} is not followed: {end}");
        let (status, html) = b.get(&end).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{redirect}");
        assert!(has(&html, "error") && reason_of(&html) == "bad-redirect", "{html}");
        assert!(html.contains("Invalid return address"), "{html}");
        let (_, r) = b.app.result(&sid, EVERYONE).await;
        assert_eq!(r["status"], "FINISHED", "the verification itself is complete");
    }
}

/// Issue 31: a redirect to an international host was sent back as raw UTF-8 in `Location`. It is
/// sent as browsers write it: the host in punycode (full-width letters folded), the rest
/// percent-encoded.
#[tokio::test]
async fn a_redirect_to_an_international_address_is_sent_in_ascii() {
    let b = FormBrowser::new().await;
    for (redirect, sent) in [
        ("https://ｅｖｉｌ.com/back", "https://evil.com/back"),
        (
            "https://пример.kz/назад?да=1#к",
            "https://xn--e1afmkfd.kz/%D0%BD%D0%B0%D0%B7%D0%B0%D0%B4?%D0%B4%D0%B0=1#%D0%BA",
        ),
        ("https://integrator.example/back?x=1", "https://integrator.example/back?x=1"),
    ] {
        let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
        let end = b.walk(&sid, &format!("?redirect={}&locale=en", url_encode(redirect))).await;
        assert_eq!(end, sent, "{redirect}");
    }
}

/// Issue 15: a `redirect` with CR, LF, NUL or DEL answered 500 after the session had already
/// changed. It is refused with the bad-redirect screen before anything changes, on every page.
#[tokio::test]
async fn a_redirect_no_header_could_carry_is_refused_before_anything_changes() {
    let b = FormBrowser::new().await;
    for redirect in [
        "https://ok.example/x\r\nX-Evil: 1",
        "https://ok.example/\nx",
        "https://ok.example/\0",
        "https://ok.example/\u{7f}",
    ] {
        let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
        let query = format!("?redirect={}&locale=en", url_encode(redirect));
        let (status, html) = b.get(&format!("/flow/{sid}{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{redirect:?}");
        assert!(reason_of(&html) == "bad-redirect", "{html}");
        let (status, _, html) = b.post(&format!("/flow/{sid}/LDHP{query}"), Form::new().text("action", "passed")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{redirect:?}: {html}");
        assert!(reason_of(&html) == "bad-redirect", "{html}");
        let (_, view) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
        assert_eq!(view["status"], "CREATED", "nothing changed: {view}");

        b.walk(&sid, "?locale=en").await;
        let (status, html) = b.get(&format!("/flow/{sid}/done{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the done screen refuses it too: {redirect:?}");
        assert!(reason_of(&html) == "bad-redirect" && !html.contains("X-Evil: 1\r"), "{html}");
    }
}

/// A finished session's done screen with a redirect: the user was sent there when the flow
/// ended; afterwards the session is one-time, as the page itself says.
#[tokio::test]
async fn the_done_screen_of_a_finished_session_does_not_redirect_again() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    let end = b.walk(&sid, "?redirect=https%3A%2F%2Fok.example%2Fback&locale=en").await;
    assert_eq!(end, "https://ok.example/back", "the flow's end goes to the redirect");
    let (status, html) = b.get(&format!("/flow/{sid}/done?redirect=https%3A%2F%2Fok.example%2Fback")).await;
    assert_eq!(status, StatusCode::GONE, "the done screen of a finished session, revisited: {html}");
    assert_eq!(reason_of(&html), "completed", "{html}");
}

#[tokio::test]
async fn an_unknown_action_is_refused_and_a_form_without_one_continues_as_scripted() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (status, _, html) = b.post(&format!("/flow/{sid}/LDHP?locale=en"), Form::new().text("action", "skip")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown action is refused: {html}");
    assert!(
        html.contains("Unknown action &#34;skip&#34;") || html.contains("Unknown action &quot;skip&quot;"),
        "{html}"
    );
    let (_, view) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(view["steps"][0]["state"], "pending", "nothing changed: {view}");
    let (status, _, _) = b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("reason", "x")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no action: the scripted outcome");
    let (_, view) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(view["steps"][0]["state"], "passed", "{view}");
}

fn url_encode(s: &str) -> String {
    url_form(&[("x", s)]).trim_start_matches("x=").to_owned()
}

fn url_form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn liveness_can_be_failed_with_a_chosen_reason() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    let (_, html) = b.get(&format!("/flow/{sid}")).await;
    for reason in ["CALC_RESULT", "EYES_CLOSED", "FACE_NOT_CENTERED", "WRONG_HEAD_POSITION"] {
        assert!(html.contains(&format!("value=\"{reason}\"")), "{reason} offered");
    }
    let form = Form::new().text("action", "failed").text("reason", "EYES_CLOSED");
    let (status, location, _) = b.post(&format!("/flow/{sid}/LDHP?redirect=https://x.example/"), form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the failed step is taken");
    assert_eq!(location.as_deref(), Some("https://x.example/"), "a failed flow ends too, and returns the user");
    let r = result(&b.app, &sid, EVERYONE).await;
    assert_eq!(r["status"], "FAILED", "{r}");
    assert_eq!(
        r["liveness_result"]["failure_reason"],
        json!({"type": "EYES_CLOSED", "detail": "Eyes are closed"}),
        "{r}"
    );
    assert_eq!(r["liveness_result"]["eye_closed"], true, "the fields agree with the reason");
    assert!(r.get("face2face_result").is_none(), "the step after a failure never runs");
}

#[tokio::test]
async fn face2face_needs_a_jpeg_or_png_upload() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    assert!(has(&html, "step-F2F") && has(&html, "photo-input"), "{html}");
    let cases = [
        (Form::new().text("action", "scripted"), "Choose a file."),
        (
            Form::new().text("action", "passed").part("photo", Part::bytes(b"GIF89a..".to_vec()).file_name("a.gif")),
            "The file must be a JPEG or PNG image.",
        ),
    ];
    for (form, message) in cases {
        let (status, _, html) = b.post(&format!("/flow/{sid}/F2F?locale=en"), form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{message}: {html}");
        assert!(has(&html, "form-error") && html.contains(message), "{message}: {html}");
    }
    let (status, _, _) =
        b.post(&format!("/flow/{sid}/F2F"), Form::new().text("action", "scripted").part("photo", jpeg_part())).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a photo with the scripted outcome is taken");
    assert_eq!(
        result(&b.app, &sid, EVERYONE).await["face2face_result"]["result"],
        true,
        "Face2Face passed with the photo"
    );
}

#[tokio::test]
async fn with_photo1_the_face_match_runs_without_asking_for_a_photo() {
    let b = FormBrowser::new().await;
    let body = with_metadata(EVERYONE, json!({"face2face": {"photo1": photo_base64("face.png")}}));
    let sid = b.app.create_ok(&body).await;
    let (status, location, _) =
        b.post(&format!("/flow/{sid}/LDHP?redirect=https://x.example/"), Form::new().text("action", "scripted")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the scripted outcome is taken");
    assert_eq!(location.as_deref(), Some("https://x.example/"), "no F2F screen: the given photo is used");
    let r = result(&b.app, &sid, EVERYONE).await;
    assert_eq!(r["status"], "FINISHED", "{r}");
    assert_eq!(r["face2face_result"]["result"], true, "{r}");
}

#[tokio::test]
async fn document_recognition_needs_a_document_image() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": LEGAL})).await;
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
    let (status, _, html) = b.post(&format!("/flow/{sid}/DR?locale=en"), Form::new().text("action", "passed")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("Choose a file."), "{html}");
    let form = Form::new().text("action", "scripted").part("document", jpeg_part());
    assert_eq!(
        b.post(&format!("/flow/{sid}/DR"), form).await.0,
        StatusCode::SEE_OTHER,
        "a document with the scripted outcome is taken"
    );
    let r = result(&b.app, &sid, LEGAL).await;
    assert_eq!(r["document_recognition_result"]["result"], true, "document recognition passed");
}

async fn at_edocument(b: &FormBrowser, metadata: Value) -> String {
    let sid = b.app.create_ok(&with_metadata(INDIVIDUALS, metadata)).await;
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
    sid
}

fn input_tag<'h>(html: &'h str, testid: &str) -> &'h str {
    let at = html.find(&format!("data-testid=\"{testid}\"")).unwrap_or_else(|| panic!("{testid} in {html}"));
    let start = html[..at].rfind("<input").unwrap();
    &html[start..=at + html[at..].find('>').unwrap()]
}

#[tokio::test]
async fn edocument_prefills_and_locks_values_as_the_metadata_says() {
    let b = FormBrowser::new().await;
    // (metadata, iin value, iin read-only, phone value, phone read-only) — the docs' cases 2 and 3.
    let cases = [
        (json!({}), "", false, "", false),
        (json!({"edocument": {"iin": {"value": IIN}, "phone": {"value": PHONE}}}), IIN, false, PHONE, false),
        (
            json!({"edocument": {"iin": {"value": IIN, "changeable": false}, "phone": {"value": PHONE}}}),
            IIN,
            true,
            PHONE,
            false,
        ),
        (json!({"edocument": {"phone": {"value": PHONE, "changeable": false}}}), "", false, PHONE, true),
    ];
    for (metadata, iin, iin_ro, phone, phone_ro) in cases {
        let sid = at_edocument(&b, metadata.clone()).await;
        let (_, html) = b.get(&format!("/flow/{sid}")).await;
        let (iin_tag, phone_tag) = (input_tag(&html, "iin-input"), input_tag(&html, "phone-input"));
        assert!(iin_tag.contains(&format!("value=\"{iin}\"")), "{metadata}: {iin_tag}");
        assert_eq!(iin_tag.contains(" readonly"), iin_ro, "{metadata}: {iin_tag}");
        assert!(phone_tag.contains(&format!("value=\"{phone}\"")), "{metadata}: {phone_tag}");
        assert_eq!(phone_tag.contains(" readonly"), phone_ro, "{metadata}: {phone_tag}");
    }
}

#[tokio::test]
async fn a_read_only_value_cannot_be_changed_by_editing_the_form() {
    let b = FormBrowser::new().await;
    let sid = at_edocument(&b, json!({"edocument": {"iin": {"value": IIN, "changeable": false}}})).await;
    let form = Form::new().text("phase", "input").text("iin", "880315400010").text("phone", PHONE);
    assert_eq!(
        b.post(&format!("/flow/{sid}/ED"), form).await.0,
        StatusCode::SEE_OTHER,
        "a changed IIN where the IIN is not changeable"
    );
    b.app.complete(&sid, None).await;
    let r = result(&b.app, &sid, INDIVIDUALS).await;
    assert_eq!(r["edocument_result"]["result_json"]["common"]["docOwner"]["iin"], IIN, "{r}");
}

#[tokio::test]
async fn skip_input_goes_straight_to_the_otp_screen_with_the_code_from_1414() {
    let b = FormBrowser::new().await;
    let metadata = json!({"edocument": {
        "iin": {"value": IIN, "changeable": false}, "phone": {"value": PHONE, "changeable": false}, "skip_input": true}});
    let sid = at_edocument(&b, metadata).await;
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    assert!(!has(&html, "iin-input"), "no input step: {html}");
    assert!(has(&html, "otp-input") && has(&html, "otp-sms"), "{html}");
    assert!(html.contains("A code was sent from 1414 to <strong>77011234567</strong>"), "{html}");
    let (_, admin) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(admin["otp"].as_str(), Some(otp_shown(&html).as_str()), "the admin API shows the same code");
}

#[tokio::test]
async fn the_otp_is_checked_and_three_wrong_codes_fail_the_step() {
    let b = FormBrowser::new().await;
    let sid = at_edocument(&b, json!({})).await;
    let form = Form::new().text("phase", "input").text("iin", IIN).text("phone", PHONE);
    b.post(&format!("/flow/{sid}/ED"), form).await;
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    let code = otp_shown(&html);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in [2, 1] {
        let form = Form::new().text("phase", "otp").text("action", "scripted").text("otp", wrong);
        let (status, _, html) = b.post(&format!("/flow/{sid}/ED?locale=en"), form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a wrong code with {left} tries left: {html}");
        assert!(html.contains(&format!("Wrong code. Attempts left: {left}")), "{html}");
    }
    let form = Form::new().text("phase", "otp").text("action", "scripted").text("otp", wrong);
    let (status, location, _) = b.post(&format!("/flow/{sid}/ED?locale=en"), form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the third wrong code ends the step");
    assert_eq!(location, Some(format!("/flow/{sid}/finished?locale=en")), "and the flow");
    let r = result(&b.app, &sid, INDIVIDUALS).await;
    assert_eq!(r["status"], "FAILED", "{r}");
    assert!(r["flow_session_failure_reasons"][0].as_str().unwrap().starts_with("ED: WRONG_OTP: "), "{r}");
}

#[tokio::test]
async fn the_entered_iin_and_phone_are_the_ones_reported() {
    let b = FormBrowser::new().await;
    let sid = at_edocument(&b, json!({})).await;
    let bad = Form::new().text("phase", "input").text("iin", "900101300018").text("phone", "87011234567");
    let (status, _, html) = b.post(&format!("/flow/{sid}/ED?locale=en"), bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(
        html.contains("The IIN&#39;s check digit is wrong: the last digit should be 7, not 8.")
            && html.contains("The phone number is 11 digits in the format 77XXXXXXXXX"),
        "{html}"
    );
    assert!(input_tag(&html, "iin-input").contains("value=\"900101300018\""), "what was typed is kept");
    let form = Form::new().text("phase", "input").text("iin", "880315400010").text("phone", "77770001122");
    b.post(&format!("/flow/{sid}/ED"), form).await;
    let (_, html) = b.get(&format!("/flow/{sid}")).await;
    let form = Form::new().text("phase", "otp").text("action", "scripted").text("otp", otp_shown(&html));
    b.post(&format!("/flow/{sid}/ED"), form).await;
    let r = result(&b.app, &sid, INDIVIDUALS).await;
    assert_eq!(r["edocument_result"]["phone"], "77770001122", "the phone typed in: {r}");
    assert_eq!(
        r["edocument_result"]["result_json"]["common"]["docOwner"]["iin"], "880315400010",
        "the IIN typed in: {r}"
    );
    assert_eq!(r["edocument_result"]["gender"], "FEMALE", "the person follows the entered IIN");
}

#[tokio::test]
async fn interchangeable_technologies_let_the_user_pick_one() {
    let key = "interchangeable-0123456789012345678901234567890123";
    let app = crate::helpers::spawn_with_flow("Both", key, &["LDHP", "ED", "DR", "F2F"]).await;
    let b = FormBrowser::over(app);
    let sid = b.app.create_ok(&with_metadata(key, json!({"general": {"interchangeable_tech": ["ED", "DR"]}}))).await;
    b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en")).await;
    assert_eq!(current_step(&html), "ED", "{html}");
    assert!(has(&html, "alternative-DR"), "the other technology is offered: {html}");
    let (_, html) = b.get(&format!("/flow/{sid}?locale=en&step=DR")).await;
    assert_eq!(current_step(&html), "DR", "{html}");
    assert!(has(&html, "alternative-ED"), "the alternative to ED is offered: {html}");
    let form = Form::new().text("action", "scripted").part("document", jpeg_part());
    b.post(&format!("/flow/{sid}/DR"), form).await;
    let (_, html) = b.get(&format!("/flow/{sid}")).await;
    assert_eq!(current_step(&html), "F2F", "ED is skipped once DR passed");
    let (_, admin) = b.app.get(&format!("/__admin/sessions/{sid}")).await;
    assert_eq!(admin["steps"][1]["state"], "skipped", "{admin}");
}

#[tokio::test]
async fn values_from_requests_are_escaped_never_markup() {
    let b = FormBrowser::new().await;
    let hostile = "\"><script>alert(1)</script>";
    let sid = at_edocument(&b, json!({})).await;
    let query = format!("?{}", url_form(&[("redirect", hostile), ("locale", hostile)]));
    let form = Form::new().text("phase", "input").text("iin", hostile).text("phone", hostile);
    let (status, _, html) = b.post(&format!("/flow/{sid}/ED{query}"), form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(html.matches("<script").count(), 1, "no script injected, the page's own only: {html}");
    assert!(html.contains("<script src=\"/widget/frame.js\" defer></script>"), "{html}");
    assert!(unescape(&html).contains(hostile), "shown as text, escaped: {html}");

    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    let end = b.walk(&sid, &query).await;
    let (_, html) = b.get(&end).await;
    assert!(has(&html, "error"), "a hostile redirect is refused: {html}");
    assert_eq!(html.matches("<script").count(), 1, "no script injected, the page's own only: {html}");
    assert!(html.contains("<script src=\"/widget/frame.js\" defer></script>"), "{html}");
    assert!(unescape(&html).contains(hostile), "the redirect is shown as text, escaped: {html}");
}

/// Undoes HTML escaping, whichever entities the template engine chose.
fn unescape(html: &str) -> String {
    [
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(html.to_owned(), |s, (entity, c)| s.replace(entity, c))
}

#[tokio::test]
async fn forms_work_url_encoded_too() {
    let b = FormBrowser::new().await;
    let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
    let client = Client::builder().redirect(redirect::Policy::none()).build().unwrap();
    let response = client
        .post(b.app.url(&format!("/flow/{sid}/LDHP")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=passed")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "a URL-encoded form is taken like a multipart one");
    let response = client
        .post(b.app.url(&format!("/flow/{sid}/F2F")))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nbroken")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a broken multipart body is a 400 page");
    assert!(response.text().await.unwrap().contains("data-testid=\"error\""), "the page's error screen");
}

/// Issue 16: with `locale=ru` a bad phone once showed "Неверный номер телефона. Phone must be 11
/// digits ..." (half English), and the failure reasons were English in ru and kz. Every message
/// the page shows is in its locale.
#[tokio::test]
async fn validation_messages_and_failure_reasons_are_in_the_pages_locale() {
    let b = FormBrowser::new().await;
    let cases = [
        ("ru", "Номер телефона — 11 цифр", "Неверная контрольная цифра ИИН", "Низкая общая оценка"),
        ("kz", "Телефон нөмірі — 77XXXXXXXXX", "ЖСН-ның бақылау цифры қате", "Жалпы баға төмен"),
        ("en", "The phone number is 11 digits", "The IIN&#39;s check digit is wrong", "Low overall prediction"),
    ];
    for (locale, phone, iin, reason) in cases {
        let sid = b.app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
        let (_, html) = b.get(&format!("/flow/{sid}?locale={locale}")).await;
        assert!(html.contains(reason), "{locale}: the reasons to choose from: {html}");
        assert!(!html.contains("Low overall prediction") || locale == "en", "{locale}: no English reason");
        b.post(&format!("/flow/{sid}/LDHP"), Form::new().text("action", "passed")).await;
        let bad = Form::new().text("phase", "input").text("iin", "900101300018").text("phone", "8701");
        let (status, _, html) = b.post(&format!("/flow/{sid}/ED?locale={locale}"), bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{locale}: {html}");
        assert!(html.contains(phone) && html.contains(iin), "{locale}: {html}");
        if locale != "en" {
            assert!(!html.contains("Phone must be") && !html.contains("check digit"), "{locale}: no English: {html}");
        }
    }
}

/// Issue 31: the vendor's iOS SDK closes its WebView only once the page's address contains
/// "finished" [seen: `actionURL.contains("finished")`]. The flow ends on such an address, in a
/// frame or not; no address before the end says it, not even when the integrator's redirect or
/// locale does; and the earlier `/done` address still answers.
#[tokio::test]
async fn the_page_says_finished_at_its_end_and_nowhere_before() {
    let b = FormBrowser::new().await;
    let action = Regex::new(r#"<form[^>]*action="([^"]+)""#).unwrap();
    let cases = [
        ("?web_view=true&locale=en", false),
        ("?web_view=true&locale=finished&redirect=https%3A%2F%2Fapp.example%2Fis-finished", true),
    ];
    for (query, in_frame) in cases {
        let sid = b.app.create_ok(&json!({"api_key": EVERYONE})).await;
        let mut address = format!("/flow/{sid}{query}");
        let mut before = Vec::new();
        while !address.contains(&format!("/flow/{sid}/finished")) {
            assert!(before.len() < 12, "the flow ends: {before:?}");
            let (status, html) = b.get(&address).await;
            assert_eq!(status, StatusCode::OK, "{address}: {html}");
            let code = current_step(&html);
            let to = action.captures(&html).expect("a step form")[1].replace("&amp;", "&");
            let mut form = Form::new().text("action", "scripted");
            if code == "F2F" {
                form = form.part("photo", jpeg_part());
            }
            if in_frame {
                form = form.text("in_frame", "1");
            }
            before.extend([address, to.clone()]);
            let (status, location, body) = b.post(&to, form).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{to}: {body}");
            address = location.expect("a Location");
        }
        // The first address is the integrator's own; every later one is the page's.
        for earlier in &before[1..] {
            assert!(!earlier.contains("finished"), "{query}: {earlier} says finished before the end");
        }
        let (status, html) = b.get(&address).await;
        assert_eq!(status, StatusCode::OK, "{address}: {html}");
        assert!(has(&html, "done"), "the end is the done screen: {html}");
        if !in_frame {
            let (status, html) = b.get(&format!("/flow/{sid}/done?locale=en")).await;
            assert!(status == StatusCode::OK && has(&html, "done"), "/done still answers: {html}");
        }
    }
}
