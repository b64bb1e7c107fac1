//! A browser without JavaScript for the end-user page: forms POST, each 303 checked, the
//! screens read through their `data-testid`s.

use regex_lite::Regex;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode, redirect};

use super::{IIN, PHONE, TestApp, photo_base64, spawn_app};

/// No automatic redirects, so each 303 can be checked.
pub(crate) struct FormBrowser {
    pub app: TestApp,
    client: Client,
}

impl FormBrowser {
    pub(crate) async fn new() -> Self {
        Self::over(spawn_app().await)
    }

    pub(crate) fn over(app: TestApp) -> Self {
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(5)) // as super::client()
            .build()
            .expect("a client");
        Self { app, client }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self.client.get(self.app.url(path)).send().await.expect("request sent");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// POSTs a multipart form as the page's own forms do; returns the status, the Location
    /// header (for 303s) and the body.
    pub(crate) async fn post(&self, path: &str, form: Form) -> (StatusCode, Option<String>, String) {
        let response = self.client.post(self.app.url(path)).multipart(form).send().await.expect("request sent");
        let status = response.status();
        let location = response.headers().get("location").map(|v| v.to_str().expect("ascii").to_owned());
        (status, location, response.text().await.expect("body"))
    }

    /// Walks every remaining step with "Continue" (the scripted outcome), uploading the sample
    /// photo where a step asks for an image and entering the SMS code it shows. Returns the
    /// final Location.
    pub(crate) async fn walk(&self, sid: &str, query: &str) -> String {
        for _ in 0..12 {
            let (status, html) = self.get(&format!("/flow/{sid}{query}")).await;
            assert_eq!(status, StatusCode::OK, "the step screen opens: {html}");
            let code = current_step(&html);
            let form = match code.as_str() {
                "F2F" => Form::new().text("action", "scripted").part("photo", jpeg_part()),
                "DR" => Form::new().text("action", "scripted").part("document", jpeg_part()),
                "ED" if has(&html, "otp-sms") => {
                    Form::new().text("phase", "otp").text("action", "scripted").text("otp", otp_shown(&html))
                }
                "ED" => Form::new().text("phase", "input").text("iin", IIN).text("phone", PHONE),
                _ => Form::new().text("action", "scripted"),
            };
            let (status, location, body) = self.post(&format!("/flow/{sid}/{code}{query}"), form).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "step {code} accepts the form: {body}");
            let location = location.expect("a 303 has a Location");
            if !location.starts_with(&format!("/flow/{sid}?")) && location != format!("/flow/{sid}") {
                return location;
            }
        }
        panic!("the session did not end within 12 screens");
    }
}

pub(crate) fn jpeg_part() -> Part {
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, photo_base64("face.jpg")).unwrap();
    Part::bytes(bytes).file_name("face.jpg").mime_str("image/jpeg").unwrap()
}

pub(crate) fn has(html: &str, testid: &str) -> bool {
    html.contains(&format!("data-testid=\"{testid}\""))
}

/// The code of the step screen shown (`data-testid="step-CODE"`).
pub(crate) fn current_step(html: &str) -> String {
    let re = Regex::new(r#"data-testid="step-([A-Z0-9]+)""#).unwrap();
    re.captures(html).unwrap_or_else(|| panic!("a step screen: {html}"))[1].to_owned()
}

/// The code in the simulated SMS.
pub(crate) fn otp_shown(html: &str) -> String {
    let re = Regex::new(r#"<span class="code">(\d{6})</span>"#).unwrap();
    re.captures(html).unwrap_or_else(|| panic!("an SMS with a code: {html}"))[1].to_owned()
}
