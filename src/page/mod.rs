//! The end-user page of remote.biometric.kz: `GET /flow/{session_id}` walks the session's
//! technologies in order, one step per screen, with server-rendered forms that work without
//! JavaScript (POST, then 303 to the next screen). Every step goes through the same state
//! operations as the admin `complete` call, so the result endpoint cannot tell them apart.
//! Templates live in `templates/`; this module knows HTML, never the vendor's JSON shapes.

pub(crate) mod dashboard;
pub(crate) mod i18n;
mod views;

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use crate::body::form::{Accepts, Form, FormError};
pub(crate) use crate::domain::Locale;
use crate::domain::flow::is_http_url;
use crate::domain::paths;
use crate::domain::{Family, Iin, ImageFormat, Phone, TechnologyCode};
use crate::session::{Applied, Choice, Command, Found};
use crate::state::{AppState, SessionError};
use views::{Frame, MessagePage, Snapshot, StepContext};

/// The page's query: `redirect`, `locale` (ru, en \[doc\]; kz \[seen\]) and `web_view` \[seen\], carried
/// from screen to screen, and `step`, which picks one of interchangeable technologies.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageQuery {
    pub redirect: Option<String>,
    pub locale_raw: Option<String>,
    pub locale: Locale,
    pub web_view: bool,
    pub step: Option<String>,
}

impl PageQuery {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs: HashMap<String, String> =
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
        let locale_raw = pairs.get("locale").cloned();
        Self {
            locale: Locale::parse(locale_raw.as_deref()),
            locale_raw,
            redirect: pairs.get("redirect").filter(|r| !r.is_empty()).cloned(),
            web_view: pairs.get("web_view").is_some_and(|v| v == "true" || v == "1"),
            step: pairs.get("step").cloned(),
        }
    }

    /// A `redirect` that no `Location` header could carry (CR, LF, NUL, DEL, spaces): refused with
    /// the bad-redirect screen before anything changes, on every page request that carries it.
    fn unsendable_redirect(&self) -> Option<Response> {
        let redirect = self.redirect.as_deref().filter(|r| crate::domain::flow::has_control_or_space(r))?;
        Some(MessagePage::bad_redirect(self, redirect))
    }

    /// The query to carry to the next screen (`?redirect=…&locale=…`), or an empty string.
    pub(crate) fn carry(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        if let Some(r) = &self.redirect {
            out.append_pair("redirect", r);
        }
        if let Some(l) = &self.locale_raw {
            out.append_pair("locale", l);
        }
        if self.web_view {
            out.append_pair("web_view", "true");
        }
        // The vendor's iOS SDK closes its WebView as soon as the address says "finished" [seen]:
        // a redirect or a locale that says it is carried with its "f" percent-encoded, which
        // reads back the same.
        let text = out.finish().replace("finished", "%66inished");
        if text.is_empty() { text } else { format!("?{text}") }
    }

    fn frame(&self) -> Frame {
        Frame { t: self.locale.texts(), web_view: self.web_view }
    }
}

/// `GET /flow/{id}`: the screen of the step the user is at.
#[utoipa::path(get, path = crate::domain::paths::PAGE, tag = "end-user page",
    params(("id" = String, Path, description = "The session id"), ("redirect" = Option<String>, Query), ("locale" = Option<String>, Query, description = "ru (default), en or kz"), ("web_view" = Option<bool>, Query), ("step" = Option<String>, Query, description = "One of interchangeable technologies")),
    responses((status = 200, description = "The current step's screen", content_type = "text/html"), (status = 404, description = "Unknown session", content_type = "text/html"), (status = 410, description = "Already completed", content_type = "text/html")))]
pub(crate) async fn show(State(state): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let q = PageQuery::parse(raw.as_deref());
    embeddable(&state, show_screen(&state, &id, &q))
}

/// Every answer of the page says who may frame it (`--frame-ancestors`, any origin by default:
/// SPEC §12) and that only the mock's own script runs in it.
fn embeddable(state: &AppState, mut response: Response) -> Response {
    if let Ok(policy) = axum::http::HeaderValue::from_str(state.page_policy()) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    // The integrator's redirect does not learn the session's page address.
    response.headers_mut().insert(header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
    response
}

fn show_screen(state: &AppState, id: &str, q: &PageQuery) -> Response {
    if let Some(refusal) = q.unsendable_redirect() {
        return refusal;
    }
    let Ok(id) = Uuid::parse_str(id) else { return MessagePage::not_found(q) };
    let chosen = q.step.as_deref().and_then(|s| s.parse::<TechnologyCode>().ok());
    // One command, one lock: the step opens (with `skip_input`, its SMS code is sent).
    match state.apply_and_view(&id, Command::Open { chosen }, Snapshot::of) {
        Ok((applied, snapshot)) => {
            let code = match applied.found {
                Found::Opened(code) => code,
                _ => TechnologyCode::Ed,
            };
            render_step(&snapshot, &id, code, q, None, None)
        }
        Err(e) => session_error(state, &id, q, &e),
    }
}

/// Renders `code`'s screen as the session stands in `snapshot`, with an error to show and the
/// user's E-Document input to keep, when a form was refused.
fn render_step(
    snapshot: &Snapshot,
    id: &Uuid,
    code: TechnologyCode,
    q: &PageQuery,
    error: Option<String>,
    typed: Option<(String, String)>,
) -> Response {
    let scripted = snapshot.scripted(code);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let ctx = StepContext { snapshot, id, code, q, scripted: &scripted, error };
    let html = ctx.render(typed);
    (status, html).into_response()
}

/// `POST /flow/{id}/{code}`: the user ends a step (or, for E-Document, asks for the SMS code).
#[utoipa::path(post, path = crate::domain::paths::PAGE_STEP, tag = "end-user page",
    params(("id" = String, Path), ("code" = String, Path, description = "The technology code of the step")),
    request_body(content_type = "multipart/form-data", description = "action (scripted, passed, failed), reason, photo, document, phase (input, otp), iin, phone, otp, in_frame (1 inside a frame: the end shows the done screen, which posts finish to the parent, instead of the redirect)"),
    responses((status = 303, description = "To the next screen, the done screen or the redirect"), (status = 400, description = "The form was refused", content_type = "text/html")))]
pub(crate) async fn submit(
    State(state): State<AppState>,
    Path((id, code)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request: Request,
) -> Response {
    let q = PageQuery::parse(raw.as_deref());
    let response = submit_form(&state, &id, &code, &q, request).await;
    embeddable(&state, response)
}

async fn submit_form(state: &AppState, id: &str, code: &str, q: &PageQuery, request: Request) -> Response {
    if let Some(refusal) = q.unsendable_redirect() {
        return refusal;
    }
    let (Ok(id), Ok(code)) = (Uuid::parse_str(id), code.parse::<TechnologyCode>()) else {
        return MessagePage::not_found(q);
    };
    let form = match Form::read(request, Accepts::MultipartOrUrlEncoded).await {
        Ok(form) => form,
        Err(FormError::Exceeded(exceeded)) => {
            return MessagePage::refused(q, exceeded.status(), exceeded.to_string());
        }
        Err(FormError::Broken(why) | FormError::NotAForm(why)) => {
            return MessagePage::refused(q, StatusCode::BAD_REQUEST, why);
        }
    };
    let snapshot = match state.view_live(&id, Snapshot::of) {
        Ok(snapshot) => snapshot,
        Err(e) => return session_error(state, &id, q, &e),
    };
    if snapshot.ended {
        return MessagePage::completed(q);
    }
    if !snapshot.runnable.contains(&code) {
        // A form from an earlier screen (back button, double submit): show where the user is.
        return see_other(&format!("{}{}", paths::page(id), q.carry()));
    }
    let t = q.locale.texts();
    let action = form.text("action");
    let choice = match action {
        "passed" => Choice::Pass,
        "failed" => Choice::Fail(Some(form.text("reason"))),
        // A form sent without a button (Enter in a field) continues as scripted.
        "scripted" | "" => Choice::Scripted,
        other => return MessagePage::bad_request(q, q.locale.unknown_action(other)),
    };
    // What the page checks of the form before the session hears of it: Pass and Continue need
    // the upload the step asks for; Fail needs nothing.
    let needs_file = |field: &str| -> Result<(), String> {
        if action == "failed" {
            return Ok(());
        }
        let bytes = form.file(field).ok_or_else(|| t.file_missing.to_owned())?;
        ImageFormat::read(bytes).map(|_| ()).map_err(|_| t.bad_image.to_owned())
    };
    let checked = match code.family() {
        Family::Liveness | Family::Edocument => Ok(()),
        Family::Face2Face if snapshot.uses_photo1 => Ok(()),
        Family::Face2Face => needs_file("photo"),
        Family::DocumentRecognition => needs_file("document"),
    };
    if let Err(message) = checked {
        return render_step(&snapshot, &id, code, q, Some(message), None);
    }
    if code == TechnologyCode::Ed && form.text("phase") == "input" {
        return edocument_input(state, &id, q, &snapshot, &form);
    }
    let otp = (code == TechnologyCode::Ed).then(|| form.text("otp"));
    match state.apply_and_view(&id, Command::Submit { code, choice, otp }, Snapshot::of) {
        Ok((Applied { found: Found::OtpWrong { left }, .. }, snapshot)) => {
            render_step(&snapshot, &id, code, q, Some(format!("{} {left}", t.otp_wrong)), None)
        }
        Ok((_, snapshot)) => after_step(&id, q, snapshot.ended, form.text("in_frame") == "1"),
        Err(e) => session_error(state, &id, q, &e),
    }
}

/// The E-Document form: the IIN and phone (the metadata's where they are not changeable), then
/// the SMS code is sent and the OTP screen follows.
fn edocument_input(state: &AppState, id: &Uuid, q: &PageQuery, snapshot: &Snapshot, form: &Form) -> Response {
    let iin_text = snapshot.fixed_iin.clone().unwrap_or_else(|| form.text("iin").trim().to_owned());
    let phone_text = snapshot.fixed_phone.clone().unwrap_or_else(|| form.text("phone").trim().to_owned());
    let iin = Iin::parse(&iin_text).map_err(|e| q.locale.iin_error(&e));
    let phone = Phone::parse(&phone_text).map_err(|e| q.locale.phone_error(&e));
    match (iin, phone) {
        (Ok(iin), Ok(phone)) => match state.apply(id, Command::SendOtp { iin, phone }) {
            Ok(_) => see_other(&format!("{}{}", paths::page(id), q.carry())),
            Err(e) => session_error(state, id, q, &e),
        },
        (iin, phone) => {
            let message = [iin.err(), phone.err()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            render_step(snapshot, id, TechnologyCode::Ed, q, Some(message), Some((iin_text, phone_text)))
        }
    }
}

/// Where the user goes once a step has ended: the next screen, or, at the end (`ended`), the
/// integrator's `redirect` (absolute http(s) only) or the done screen. Inside a frame (the form
/// carried `in_frame=1`, which `widget/frame.js` adds) always the done screen, which tells the
/// parent the flow is over: the host, not the frame, goes on from there.
fn after_step(id: &Uuid, q: &PageQuery, ended: bool, in_frame: bool) -> Response {
    match &q.redirect {
        Some(_) if ended && in_frame => {
            let stay = PageQuery { redirect: None, ..q.clone() };
            see_other(&format!("{}{}", paths::page_finished(id), stay.carry()))
        }
        Some(redirect) if ended && is_http_url(redirect) => see_other(redirect),
        _ if ended => see_other(&format!("{}{}", paths::page_finished(id), q.carry())),
        _ => see_other(&format!("{}{}", paths::page(id), q.carry())),
    }
}

/// `GET /flow/{id}/finished`: the final screen, or an error screen when `redirect` cannot be
/// followed. Its address says "finished", which the vendor's iOS SDK waits for \[seen\].
#[utoipa::path(get, path = crate::domain::paths::PAGE_FINISHED, tag = "end-user page",
    params(("id" = String, Path), ("redirect" = Option<String>, Query), ("locale" = Option<String>, Query)),
    responses((status = 200, description = "The final screen", content_type = "text/html"), (status = 303, description = "Back to the current step of a session not yet finished"), (status = 400, description = "The redirect is not an absolute http(s) URL", content_type = "text/html"), (status = 410, description = "Finished with a redirect: the user was sent there when the flow ended", content_type = "text/html")))]
pub(crate) async fn finished(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = PageQuery::parse(raw.as_deref());
    embeddable(&state, done_screen(&state, &id, &q))
}

/// `GET /flow/{id}/done`: the final screen's earlier address, still served.
#[utoipa::path(get, path = crate::domain::paths::PAGE_DONE, tag = "end-user page",
    params(("id" = String, Path), ("redirect" = Option<String>, Query), ("locale" = Option<String>, Query)),
    responses((status = 200, description = "The final screen", content_type = "text/html"), (status = 303, description = "Back to the current step of a session not yet finished"), (status = 400, description = "The redirect is not an absolute http(s) URL", content_type = "text/html"), (status = 410, description = "Finished with a redirect: the user was sent there when the flow ended", content_type = "text/html")))]
pub(crate) async fn done(State(state): State<AppState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let q = PageQuery::parse(raw.as_deref());
    embeddable(&state, done_screen(&state, &id, &q))
}

fn done_screen(state: &AppState, id: &str, q: &PageQuery) -> Response {
    if let Some(refusal) = q.unsendable_redirect() {
        return refusal;
    }
    let Ok(id) = Uuid::parse_str(id) else { return MessagePage::not_found(q) };
    let Some(snapshot) = state.view(&id, Snapshot::of) else { return missing(state, &id, q) };
    if !snapshot.ended {
        return see_other(&format!("{}{}", paths::page(id), q.carry()));
    }
    match &q.redirect {
        // The user was sent to the redirect when the flow ended; the session is one-time [doc].
        Some(redirect) if is_http_url(redirect) => MessagePage::completed(q),
        Some(redirect) => MessagePage::bad_redirect(q, redirect),
        None => MessagePage::done(q, snapshot.passed),
    }
}

/// 303 to `location`. Every location here is checked (`is_http_url`) or made by the page itself.
/// An absolute one is sent as browsers write it: an international host in punycode (full-width
/// letters folded), the rest percent-encoded, so `Location` holds ASCII only; one a header still
/// cannot carry answers an error screen, never a failure.
fn see_other(location: &str) -> Response {
    let location = url::Url::parse(location).map_or_else(|_| location.to_owned(), String::from);
    match axum::http::HeaderValue::from_str(&location) {
        Ok(value) if location.is_ascii() => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        _ => MessagePage::bad_redirect(&PageQuery::default(), &location),
    }
}

/// The screen for a session that is not held: evicted to make room, or unknown.
fn missing(state: &AppState, id: &Uuid, q: &PageQuery) -> Response {
    match state.eviction(id) {
        Some(eviction) => MessagePage::evicted(q, &eviction),
        None => MessagePage::not_found(q),
    }
}

fn session_error(state: &AppState, id: &Uuid, q: &PageQuery, e: &SessionError) -> Response {
    match e {
        SessionError::NotFound => missing(state, id, q),
        SessionError::Evicted(eviction) => MessagePage::evicted(q, eviction),
        SessionError::Transition(crate::session::TransitionError::Ended(_)) => MessagePage::completed(q),
        SessionError::Expired(_) => MessagePage::expired(q),
        other @ SessionError::Transition(_) => MessagePage::bad_request(q, other.to_string()),
    }
}

/// Renders a template, or a plain error when it cannot (a bug: the templates are compiled in).
fn html(template: &impl Template) -> Html<String> {
    Html(template.render().unwrap_or_else(|e| format!("<!doctype html><p>template error: {e}</p>")))
}
