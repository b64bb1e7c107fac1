//! The end-user page in a real headless Chromium (the harness is in helpers/chromium.rs).

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::helpers::chromium::{Chromium, chromium};
use crate::helpers::{EVERYONE, IIN, INDIVIDUALS, PHONE, TestApp, spawn_app};

/// The integrator's site the page returns to.
async fn landing_site() -> String {
    use axum::response::Html;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .fallback(|| async { Html("<!doctype html><h1 data-testid='landed'>Back at the integrator</h1>") });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn status_of(app: &TestApp, sid: &str, key: &str) -> Value {
    app.result(sid, key).await.1
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn a_person_walks_every_step_in_chromium_and_lands_back_on_the_integrators_site() {
    let b = chromium().await;
    let app = spawn_app().await;
    let site = landing_site().await;
    let sid = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    b.client.goto(&app.url(&format!("/flow/{sid}?redirect={site}/back&locale=en"))).await.unwrap();

    b.wait_for("step-LDHP").await;
    b.click("submit").await;

    b.wait_for("step-ED").await;
    b.type_into("iin-input", IIN).await;
    b.type_into("phone-input", PHONE).await;
    b.click("submit").await;

    let sms = b.wait_for("otp-sms").await.text().await.unwrap();
    let code: String = sms.chars().filter(char::is_ascii_digit).collect();
    assert!(sms.contains("1414") && code.len() == 4 + 6, "the SMS from 1414 shows a 6-digit code: {sms}");
    b.type_into("otp-input", &code[4..]).await;
    b.click("submit").await;

    b.wait_for("step-F2F").await;
    let photo = format!("{}/fixtures/photos/face.jpg", env!("CARGO_MANIFEST_DIR"));
    b.type_into("photo-input", &photo).await;
    b.click("submit").await;

    b.wait_for("landed").await;
    assert_eq!(
        b.client.current_url().await.unwrap().as_str(),
        format!("{site}/back"),
        "the done screen sends the person back to the integrator's page"
    );
    let r = status_of(&app, &sid, INDIVIDUALS).await;
    assert_eq!(r["status"], "FINISHED", "{r}");
    assert_eq!(r["edocument_result"]["phone"], PHONE, "the phone typed in is in the result: {r}");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn a_person_fails_liveness_with_a_reason_and_sees_the_outcome_in_russian() {
    let b = chromium().await;
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    b.client.goto(&app.url(&format!("/flow/{sid}"))).await.unwrap();
    b.wait_for("step-LDHP").await;
    assert!(b.client.source().await.unwrap().contains("Проверка живости"), "Russian by default");
    b.client.find(Locator::Css("option[value='FACE_NOT_CENTERED']")).await.unwrap().click().await.unwrap();
    b.click("outcome-failed").await;
    let done = b.wait_for("done").await;
    assert!(done.text().await.unwrap().contains("Верификация не пройдена"), "{}", done.text().await.unwrap());
    let r = status_of(&app, &sid, EVERYONE).await;
    assert_eq!(r["liveness_result"]["failure_reason"]["type"], "FACE_NOT_CENTERED", "{r}");
    assert_eq!(r["liveness_result"]["face_center"], false, "the reason chosen shows in the result's flags: {r}");

    b.client.goto(&app.url(&format!("/flow/{sid}?locale=en"))).await.unwrap();
    let error = b.wait_for("error").await;
    assert!(error.text().await.unwrap().contains("already completed"), "one-time");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn hostile_values_in_the_url_and_the_form_never_run_as_script() {
    let b = chromium().await;
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    let hostile = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    b.client
        .goto(&app.url(&format!("/flow/{sid}?redirect=javascript:alert(document.domain)&locale={hostile}")))
        .await
        .unwrap();
    b.wait_for("step-LDHP").await;
    b.assert_no_script_ran().await;
    b.click("submit").await;
    b.wait_for("step-ED").await;
    b.type_into("iin-input", "<img src=x onerror=alert(1)>").await;
    b.type_into("phone-input", "\"><svg onload=alert(2)>").await;
    // The browser's own pattern check would stop this form; the server must cope without it.
    b.client.execute("document.querySelectorAll('input').forEach(i => { i.removeAttribute('pattern'); i.removeAttribute('maxlength'); })", vec![]).await.unwrap();
    b.click("submit").await;
    b.wait_for("form-error").await;
    b.assert_no_script_ran().await;
    app.complete(&sid, None).await;
    let redirect = "javascript:alert(1)//%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(3)%3E";
    b.client.goto(&app.url(&format!("/flow/{sid}/done?redirect={redirect}"))).await.unwrap();
    let error = b.wait_for("error").await;
    let text = error.text().await.unwrap();
    assert!(
        text.contains("javascript:alert(1)//\"><img src=x onerror=alert(3)>"),
        "the refused redirect is shown as text: {text}"
    );
    b.assert_no_script_ran().await;
    b.close().await;
}

/// Where the browser tests leave their screenshots (`target/browser-screenshots`).
fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("browser-screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot folder");
    dir
}

/// How many lines of text an element takes (its line boxes).
async fn lines_of(b: &Chromium, css: &str) -> Vec<u64> {
    let script = format!(
        "return Array.from(document.querySelectorAll(\"{css}\")).map(e => {{ const r = document.createRange(); r.selectNodeContents(e); return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; }})"
    );
    let lines = b.client.execute(&script, vec![]).await.unwrap();
    lines.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect()
}

/// Issue 16: on the dashboard magic IINs and timestamps wrapped mid-value, timestamps showed
/// microseconds, and at a phone's 390 px the API-key column broke every three characters. It
/// reads well on a laptop and on a phone; the screenshots of both are kept.
#[tokio::test]
#[ignore = "needs chromium"]
async fn the_dashboard_reads_well_on_a_laptop_and_on_a_phone() {
    let b = chromium().await;
    let app = spawn_app().await;
    for _ in 0..3 {
        app.create_ok(&json!({"api_key": EVERYONE})).await;
    }
    for (name, width, height) in [("laptop", 1280, 800), ("phone", 390, 844)] {
        b.client.set_window_size(width, height).await.unwrap();
        b.client.goto(&app.url("/")).await.unwrap();
        b.wait_for("sessions").await;
        let png = b.client.screenshot().await.unwrap();
        std::fs::write(screenshot_dir().join(format!("dashboard-{name}.png")), png).unwrap();
        for css in ["[data-testid=magic-iin]", "[data-testid=session-created]"] {
            let lines = lines_of(&b, css).await;
            assert!(!lines.is_empty() && lines.iter().all(|n| *n == 1), "{name}: each {css} on one line: {lines:?}");
        }
        let keys = lines_of(&b, "[data-testid=flow-key]").await;
        assert!(keys.iter().all(|n| *n <= 2), "{name}: an API key takes at most two lines: {keys:?}");
        let created = b.wait_for("session-created").await.text().await.unwrap();
        assert_eq!(created.len(), "2026-11-29 07:09:54".len(), "{name}: to the second: {created}");
    }
    b.close().await;
}

/// Issue 16: the page's messages in its locale, in a real browser: a bad phone in Russian
/// shows a Russian message only, and the failure reasons to choose from are Kazakh in kz.
#[tokio::test]
#[ignore = "needs chromium"]
async fn a_person_sees_validation_messages_and_reasons_in_the_pages_language() {
    let b = chromium().await;
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    b.client.goto(&app.url(&format!("/flow/{sid}?locale=kz"))).await.unwrap();
    b.wait_for("step-LDHP").await;
    let reasons = b.wait_for("reason-details").await.text().await.unwrap();
    assert!(reasons.contains("Жалпы баға төмен") && !reasons.contains("Low overall"), "{reasons}");
    b.client.goto(&app.url(&format!("/flow/{sid}?locale=ru"))).await.unwrap();
    b.click("submit").await;
    b.wait_for("step-ED").await;
    b.type_into("iin-input", IIN).await;
    b.type_into("phone-input", "8701").await;
    // Issue 31: the browser's own pattern check stopped this form with its English "Please match
    // the requested format."; the server checks the fields, in the page's language.
    b.click("submit").await;
    let error = b.wait_for("form-error").await.text().await.unwrap();
    assert!(error.contains("Номер телефона — 11 цифр"), "{error}");
    assert!(!error.contains("Phone must") && !error.contains("digits"), "no English: {error}");
    b.close().await;
}

/// Issue 31: at a phone's 390 px the failure reasons were cut off in their dropdown (a select's
/// options do not wrap), and the dashboard's technology checkboxes broke from their names.
#[tokio::test]
#[ignore = "needs chromium"]
async fn the_page_and_the_dashboard_fit_a_phone_in_every_language() {
    let b = chromium().await;
    let app = spawn_app().await;
    b.client.set_window_size(390, 844).await.unwrap();
    let sid = app.create_ok(&json!({"api_key": INDIVIDUALS})).await;
    let measure = "var select = document.querySelector('[data-testid=reason-select]');
        var probe = document.createElement('span');
        probe.style.font = getComputedStyle(select).font; probe.style.whiteSpace = 'nowrap';
        document.body.appendChild(probe);
        var widest = Math.max.apply(null, Array.from(select.options).map(function (o) { probe.textContent = o.text; return probe.getBoundingClientRect().width; }));
        probe.remove();
        var card = document.querySelector('.card').getBoundingClientRect();
        var outside = Array.from(document.querySelectorAll('main *')).filter(function (e) { return e.getBoundingClientRect().right > card.right + 0.5; }).length;
        return {widest: widest, room: select.clientWidth, outside: outside, scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth};";
    for (locale, detail) in
        [("ru", "Глаза закрыты"), ("en", "Head position does not match the instruction"), ("kz", "Жалпы баға төмен")]
    {
        for web_view in ["", "&web_view=true"] {
            b.client.goto(&app.url(&format!("/flow/{sid}?locale={locale}{web_view}"))).await.unwrap();
            b.wait_for("step-LDHP").await;
            let m = b.client.execute(measure, vec![]).await.unwrap();
            let (widest, room) = (m["widest"].as_f64().unwrap(), m["room"].as_f64().unwrap());
            assert!(widest + 24.0 <= room, "{locale}{web_view}: every reason shows whole in the select: {m}");
            assert_eq!(m["outside"], 0, "{locale}{web_view}: nothing sticks out of the card: {m}");
            assert!(m["scroll"].as_f64() <= m["width"].as_f64(), "{locale}{web_view}: no sideways scrolling: {m}");
            let details = b.wait_for("reason-details").await.text().await.unwrap();
            assert!(details.contains(detail), "{locale}: the reasons' words are shown in full: {details}");
        }
    }

    b.client.goto(&app.url("/")).await.unwrap();
    b.wait_for("sessions").await;
    let lines = lines_of(&b, "form.add label:has(> input[type=checkbox])").await;
    assert!(lines.len() >= 8 && lines.iter().all(|n| *n == 1), "each checkbox on the line of its name: {lines:?}");
    let outside = b
        .client
        .execute("return Array.from(document.querySelectorAll('form.add *')).filter(function (e) { return e.getBoundingClientRect().right > e.closest('section').getBoundingClientRect().right; }).length", vec![])
        .await
        .unwrap();
    assert_eq!(outside, json!(0), "the forms fit their sections");
    b.close().await;
}
