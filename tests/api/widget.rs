//! The Flow Widget and the page in frames (SPEC §12): a host page on another origin loads
//! `/widget/flow-widget.umd.js` from the mock in real headless Chromium, mounts sessions, and hears
//! `finish`; the page framed by another origin posts its message; the bundle loads as CommonJS
//! and AMD in node; the scripts' HTTP headers.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::chromium::{Chromium, chromium};
use crate::helpers::{EVERYONE, IIN, INDIVIDUALS, LEGAL, PHONE, TestApp, spawn_app, spawn_with, tool};

/// The integrator's front end, on an origin of its own: a 100vw × 100vh parent around the
/// `#flow-widget` container (as the vendor's docs size it), the widget loaded from the mock, and
/// every `finish` and `flowwidget:error` it hears kept in `window.hostEvents`. `?session=` starts
/// that session; `?frame=` frames that URL directly instead, and keeps every message it gets.
async fn host_site(mock: &str) -> String {
    use axum::extract::RawQuery;
    use axum::response::Html;
    let page = format!(
        r#"<!doctype html><html><head><meta charset="utf-8">
<style>html, body {{ margin: 0; }} #wrap {{ width: 100vw; height: 100vh; }} #flow-widget {{ width: 100%; height: 100%; }}</style>
<script src="{mock}/widget/flow-widget.umd.js"></script></head>
<body><div id="wrap"><div id="flow-widget"></div></div>
<script>
window.hostEvents = [];
window.messages = [];
window.addEventListener('finish', function (e) {{ hostEvents.push({{type: 'finish', detail: e.detail}}); }});
window.addEventListener('flowwidget:error', function (e) {{ hostEvents.push({{type: 'error', detail: e.detail}}); }});
window.addEventListener('message', function (e) {{ messages.push({{origin: e.origin, data: e.data}}); }});
var params = new URLSearchParams(location.search);
if (params.get('session')) {{
  FlowWidget.startSession({{id: params.get('session'), selector: '#flow-widget', locale: params.get('locale') || 'en'}});
}} else if (params.get('frame')) {{
  var frame = document.createElement('iframe');
  frame.src = params.get('frame');
  frame.style.width = '100%'; frame.style.height = '100%';
  document.getElementById('flow-widget').appendChild(frame);
}}
</script></body></html>"#
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move |RawQuery(_): RawQuery| {
        let page = page.clone();
        async move { Html(page) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Polls `window.hostEvents` on the host page until one arrives (10 s at most).
async fn host_event(b: &Chromium) -> Value {
    for _ in 0..200 {
        let events = b.client.execute("return window.hostEvents || []", vec![]).await.unwrap();
        if let Some(first) = events.as_array().and_then(|a| a.first()) {
            return first.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the host heard nothing; page: {}", b.client.source().await.unwrap());
}

/// Passes every step inside the current frame as a person would, continuing as scripted.
async fn walk(b: &Chromium, technologies: &[&str]) {
    let photo = format!("{}/fixtures/photos/face.jpg", env!("CARGO_MANIFEST_DIR"));
    for code in technologies {
        b.wait_for(&format!("step-{code}")).await;
        match *code {
            "ED" => {
                b.type_into("iin-input", IIN).await;
                b.type_into("phone-input", PHONE).await;
                b.click("submit").await;
                let sms = b.wait_for("otp-sms").await.text().await.unwrap();
                let digits: String = sms.chars().filter(char::is_ascii_digit).collect();
                b.type_into("otp-input", &digits[digits.len() - 6..]).await;
            }
            "F2F" => b.type_into("photo-input", &photo).await,
            "DR" => b.type_into("document-input", &photo).await,
            _ => {}
        }
        b.click("submit").await;
    }
}

async fn status_of(app: &TestApp, sid: &str, key: &str) -> Value {
    let (status, body) = app.result(sid, key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn the_widget_on_another_origin_runs_every_built_in_flow_and_the_host_hears_finish() {
    let b = chromium().await;
    let app = spawn_app().await;
    let host = host_site(&app.base).await;
    for (key, technologies) in
        [(EVERYONE, &["LDHP", "F2F"][..]), (INDIVIDUALS, &["LDHP", "ED", "F2F"]), (LEGAL, &["LDHP", "DR", "F2F"])]
    {
        let sid = app.create_ok(&json!({"api_key": key})).await;
        b.client.goto(&format!("{host}/?session={sid}&locale=en")).await.unwrap();
        let mounted = b
            .client
            .execute(
                "var c = document.getElementById('flow-widget'), f = c.querySelector('iframe');
                 return {src: f.src, state: c.getAttribute('data-flow-widget'),
                         width: f.offsetWidth, height: f.offsetHeight, cw: c.offsetWidth, ch: c.offsetHeight};",
                vec![],
            )
            .await
            .unwrap();
        let src = mounted["src"].as_str().unwrap();
        assert!(
            src.starts_with(&format!("{}/flow/{sid}?", app.base))
                && src.contains("web_view=true")
                && src.contains("locale=en"),
            "the widget frames the mock's page for the session, as a WebView: {mounted}"
        );
        assert_eq!(mounted["state"], "running", "{mounted}");
        assert!(
            mounted["width"] == mounted["cw"]
                && mounted["height"] == mounted["ch"]
                && mounted["height"].as_u64() > Some(300),
            "the frame fills its container, sized by the host's CSS: {mounted}"
        );
        b.client.enter_frame(0).await.unwrap();
        walk(&b, technologies).await;
        let done = b.wait_for("done").await;
        assert!(done.text().await.unwrap().contains("passed"), "the done screen shows in the frame");
        b.client.enter_parent_frame().await.unwrap();
        let event = host_event(&b).await;
        assert_eq!(
            event,
            json!({"type": "finish", "detail": {"session_id": sid, "status": "FINISHED", "success": true}}),
            "the host hears finish on window with the session's outcome ({technologies:?})"
        );
        let r = status_of(&app, &sid, key).await;
        assert_eq!((r["status"].as_str(), r["flow_session_result"].as_bool()), (Some("FINISHED"), Some(true)), "{r}");
        let state = b
            .client
            .execute("return document.getElementById('flow-widget').getAttribute('data-flow-widget')", vec![])
            .await
            .unwrap();
        assert_eq!(state, "finished", "the container says the flow is over");
    }
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn a_failing_scenario_in_the_widget_ends_with_finish_failed_and_the_result_agrees() {
    let b = chromium().await;
    let app = spawn_app().await;
    let host = host_site(&app.base).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let put = app
        .client
        .put(app.url(&format!("/__admin/sessions/{sid}/scenario")))
        .json(&json!({"scenario": "liveness-fails"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    b.client.goto(&format!("{host}/?session={sid}&locale=ru")).await.unwrap();
    b.client.enter_frame(0).await.unwrap();
    b.wait_for("step-LDHP").await;
    b.click("submit").await;
    let done = b.wait_for("done").await;
    assert!(done.text().await.unwrap().contains("не пройдена"), "the scripted failure, in Russian");
    b.client.enter_parent_frame().await.unwrap();
    let event = host_event(&b).await;
    assert_eq!(event, json!({"type": "finish", "detail": {"session_id": sid, "status": "FAILED", "success": false}}));
    let r = status_of(&app, &sid, EVERYONE).await;
    assert_eq!(r["status"], "FAILED", "the result API reports what the host heard: {r}");
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn the_page_framed_by_another_origin_posts_finish_to_its_parent_and_stays_in_the_frame() {
    let b = chromium().await;
    let app = spawn_app().await;
    let host = host_site(&app.base).await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    // An integrator that frames the page itself, with a redirect meant for a full-page visit.
    let page = format!("{}/flow/{sid}?redirect=https://integrator.example/back", app.base);
    let query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("frame", &page).finish();
    b.client.goto(&format!("{host}/?{query}")).await.unwrap();
    b.client.enter_frame(0).await.unwrap();
    walk(&b, &["LDHP", "F2F"]).await;
    b.wait_for("done").await;
    b.client.enter_parent_frame().await.unwrap();
    let mut messages = Value::Null;
    for _ in 0..200 {
        messages = b.client.execute("return window.messages", vec![]).await.unwrap();
        if messages.as_array().is_some_and(|m| !m.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        messages,
        json!([{"origin": app.base, "data": {"event": "finish", "session_id": sid, "status": "FINISHED", "success": true}}]),
        "one message, from the mock's origin, with the shape SPEC §12 gives"
    );
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn bad_widget_calls_throw_or_show_why_in_the_container() {
    let b = chromium().await;
    let app = spawn_with(biometric_kz_mock::config::Config {
        session_ttl: Some(Duration::from_secs(60)),
        ..Default::default()
    })
    .await;
    let host = host_site(&app.base).await;
    b.client.goto(&format!("{host}/")).await.unwrap();
    // Calls that cannot work throw, with what to change.
    for (call, expected) in [
        ("FlowWidget.startSession({id: 'x', selector: '#nowhere'})", "no element matches the selector \"#nowhere\""),
        ("FlowWidget.startSession({selector: '#flow-widget'})", "`id` is required"),
        ("FlowWidget.startSession({id: 'x'})", "`selector` is required"),
        (
            "FlowWidget.startSession({id: 'x', selector: '#flow-widget', locale: 'de'})",
            "`locale` must be one of ru, en, kz",
        ),
        ("FlowWidget.startSession({id: 'x', selector: '##'})", "is not a valid CSS selector"),
        ("FlowWidget.startSession()", "pass an object"),
    ] {
        let thrown = b
            .client
            .execute(&format!("try {{ {call}; return null; }} catch (e) {{ return e.message; }}"), vec![])
            .await
            .unwrap();
        let text = thrown.as_str().unwrap_or_else(|| panic!("{call} throws"));
        assert!(text.starts_with("FlowWidget.startSession: ") && text.contains(expected), "{call}: {text}");
    }
    // Sessions the page cannot run: the frame shows why, the host hears flowwidget:error.
    let expired = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.advance(120.0).await;
    let finished = app.create_ok(&json!({"api_key": EVERYONE})).await;
    app.complete(&finished, None).await;
    let unknown = "3f2c1e0a-0000-4000-8000-000000000000";
    for (sid, reason, words) in [
        (unknown, "not-found", "not found"),
        (finished.as_str(), "completed", "already completed"),
        (expired.as_str(), "expired", "expired"),
    ] {
        b.client.goto(&format!("{host}/?session={sid}&locale=en")).await.unwrap();
        let event = host_event(&b).await;
        assert_eq!(event["type"], "error", "{sid}: {event}");
        assert_eq!(event["detail"]["reason"], reason, "{event}");
        assert_eq!(event["detail"]["session_id"], sid, "{event}");
        let state = b
            .client
            .execute("return document.getElementById('flow-widget').getAttribute('data-flow-widget')", vec![])
            .await
            .unwrap();
        assert_eq!(state, "error", "the container is marked");
        b.client.enter_frame(0).await.unwrap();
        let shown = b.wait_for("error").await.text().await.unwrap();
        assert!(shown.to_lowercase().contains(words), "{reason}: the frame says why: {shown}");
        b.client.enter_parent_frame().await.unwrap();
    }
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium"]
async fn web_view_pages_use_the_whole_width_with_large_touch_targets() {
    let b = chromium().await;
    let app = spawn_app().await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let measure = "var m = document.querySelector('main'), s = getComputedStyle(m), r = m.getBoundingClientRect();
        var buttons = Array.from(document.querySelectorAll('button')).map(function (x) { return x.getBoundingClientRect().height; });
        return {left: r.left, right: document.documentElement.clientWidth - r.right, smallest: Math.min.apply(null, buttons), width: window.innerWidth};";
    b.client.goto(&app.url(&format!("/flow/{sid}"))).await.unwrap();
    b.wait_for("step-LDHP").await;
    let browser = b.client.execute(measure, vec![]).await.unwrap();
    b.client.goto(&app.url(&format!("/flow/{sid}?web_view=true"))).await.unwrap();
    b.wait_for("step-LDHP").await;
    let web_view = b.client.execute(measure, vec![]).await.unwrap();
    assert!(
        web_view["left"].as_f64() <= Some(8.0) && web_view["right"].as_f64() <= Some(8.0),
        "no wide margins: {web_view}"
    );
    assert!(web_view["smallest"].as_f64() >= Some(48.0), "every button at least 48 px high: {web_view}");
    assert!(
        browser["smallest"].as_f64() < web_view["smallest"].as_f64(),
        "the web view's targets are larger than the browser page's: {browser} / {web_view}"
    );
    b.close().await;
}

/// Issue 31: in a 1,280 px widget the page's card stretched to the whole width, with 1,208 px
/// buttons. A wide frame keeps the page a column (at most 640 px), centred; a phone-wide one still
/// uses the whole width.
#[tokio::test]
#[ignore = "needs chromium"]
async fn a_wide_widget_keeps_the_page_a_column_and_a_narrow_one_uses_the_whole_width() {
    let b = chromium().await;
    let app = spawn_app().await;
    let host = host_site(&app.base).await;
    let measure = "var m = document.querySelector('main').getBoundingClientRect();
        var widest = Math.max.apply(null, Array.from(document.querySelectorAll('button')).map(function (x) { return x.getBoundingClientRect().width; }));
        return {widest: widest, left: m.left, right: document.documentElement.clientWidth - m.right, width: document.documentElement.clientWidth};";
    for (width, wide) in [(1280, true), (390, false)] {
        b.client.set_window_size(width, 800).await.unwrap();
        let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
        b.client.goto(&format!("{host}/?session={sid}&locale=en")).await.unwrap();
        b.client.enter_frame(0).await.unwrap();
        b.wait_for("step-LDHP").await;
        let m = b.client.execute(measure, vec![]).await.unwrap();
        let (left, right) = (m["left"].as_f64().unwrap(), m["right"].as_f64().unwrap());
        if wide {
            assert!(m["widest"].as_f64() <= Some(640.0), "{width} px: no button wider than the column: {m}");
            assert!((left - right).abs() <= 1.0 && left > 100.0, "{width} px: the column is centred: {m}");
        } else {
            assert!(left <= 8.0 && right <= 8.0, "{width} px: the whole width: {m}");
        }
        b.client.enter_parent_frame().await.unwrap();
    }
    b.close().await;
}

#[tokio::test]
async fn the_widget_is_served_as_cacheable_javascript_and_the_page_may_be_framed() {
    let app = spawn_app().await;
    for path in ["/widget/flow-widget.umd.js", "/widget/frame.js"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-type").as_deref(), Some("text/javascript; charset=utf-8"), "{path}");
        assert_eq!(header("cache-control").as_deref(), Some("public, max-age=300"), "{path}");
        assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"), "{path}");
        let etag = header("etag").expect("an ETag");
        let again = app.client.get(app.url(path)).header("If-None-Match", &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}: the browser's copy is current");
        let stale = app.client.get(app.url(path)).header("If-None-Match", "\"old\"").send().await.unwrap();
        assert_eq!(stale.status(), StatusCode::OK, "{path}: another tag gets the script");
    }
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    for path in [format!("/flow/{sid}"), "/flow/not-a-session".to_owned(), format!("/flow/{sid}/done")] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert!(response.headers().get("x-frame-options").is_none(), "{path}: no X-Frame-Options");
        let policy = response.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
        assert!(
            policy.as_deref().is_some_and(|p| p.starts_with("frame-ancestors *;") && p.contains("script-src 'self'")),
            "{path}: any origin may frame the page, only the mock's scripts run: {policy:?}"
        );
    }
}

#[tokio::test]
async fn frame_ancestors_narrows_who_may_frame_the_page() {
    let app = spawn_with(biometric_kz_mock::config::Config {
        frame_ancestors: "'self' https://app.example.com".into(),
        ..Default::default()
    })
    .await;
    let sid = app.create_ok(&json!({"api_key": EVERYONE})).await;
    let response = app.client.get(app.url(&format!("/flow/{sid}"))).send().await.unwrap();
    let policy = response.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("frame-ancestors 'self' https://app.example.com;"), "{policy}");
}

/// Runs `script` with node (tests that do are ignored unless asked for).
fn node(script: &str) -> String {
    let node = tool("BKZ_MOCK_NODE", &["node", "nodejs"], "nodejs");
    let output = std::process::Command::new(node).arg("-e").arg(script).output().expect("node runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "node failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    text
}

#[test]
#[ignore = "needs node"]
fn the_bundle_loads_as_commonjs_and_as_amd_in_node() {
    let file = format!("{}/widget/flow-widget.umd.js", env!("CARGO_MANIFEST_DIR"));
    let out = node(&format!(
        r"const widget = require({file:?});
        if (typeof widget.startSession !== 'function') throw new Error('no startSession');
        try {{ widget.startSession({{id: 'x', selector: '#w'}}); console.log('no throw'); }}
        catch (e) {{ console.log('cjs: ' + e.message); }}
        const vm = require('vm'), fs = require('fs');
        let defined = null;
        const amdDefine = (deps, factory) => {{ defined = factory(); }};
        amdDefine.amd = {{}};
        vm.runInNewContext(fs.readFileSync({file:?}, 'utf8'), {{define: amdDefine, self: {{}}}});
        console.log('amd: ' + typeof defined.startSession);"
    ));
    assert!(out.contains("cjs: FlowWidget.startSession: needs a browser window"), "CommonJS, without a window: {out}");
    assert!(out.contains("amd: function"), "AMD: {out}");
}
