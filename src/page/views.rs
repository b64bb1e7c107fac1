//! What the templates show: a snapshot of the session taken under the lock, and the template
//! structs built from it. Askama escapes every value, so nothing a request sent (names,
//! redirect, IIN, phone) can become markup.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::i18n::Texts;
use super::{PageQuery, html};
use crate::domain::Outcome;
use crate::domain::outcome::reasons;
use crate::domain::{Family, Iin, Phone, TechnologyCode};
use crate::scenario::Scenario;
use crate::session::{Session, Status};

/// What every page needs: the words and the layout.
pub(super) struct Frame {
    pub t: &'static Texts,
    pub web_view: bool,
}

/// The parts of a session a screen shows, copied out so that no lock is held while rendering.
#[derive(Debug, Clone)]
pub(super) struct Snapshot {
    pub ended: bool,
    pub passed: bool,
    pub technologies: Vec<TechnologyCode>,
    pub runnable: Vec<TechnologyCode>,
    pub uses_photo1: bool,
    pub otp: Option<String>,
    pub phone: String,
    pub prefill_iin: String,
    pub prefill_phone: String,
    /// The metadata's values the user may not change (`changeable: false`).
    pub fixed_iin: Option<String>,
    pub fixed_phone: Option<String>,
    /// The outcome the session's scenario scripts for each technology.
    pub scripted: Vec<(TechnologyCode, Outcome)>,
}

impl Snapshot {
    /// What `s`, playing `scenario`, shows.
    pub(super) fn of(s: &Session, scenario: &Scenario) -> Self {
        let status = s.status();
        let edoc = s.metadata().edocument.as_ref();
        let iin = edoc.and_then(|e| e.iin.as_ref());
        let phone = edoc.and_then(|e| e.phone.as_ref());
        let value = |v: Option<&str>| v.unwrap_or_default().to_owned();
        let iin_value = iin.and_then(|p| p.value.as_ref()).map(Iin::as_str);
        let phone_value = phone.and_then(|p| p.value.as_ref()).map(Phone::as_str);
        Self {
            ended: status.has_ended(),
            passed: status == Status::Finished,
            technologies: s.technologies().to_vec(),
            runnable: s.runnable(),
            uses_photo1: s.uses_photo1(),
            otp: s.otp().map(str::to_owned),
            phone: s.subject().phone.as_str().to_owned(),
            prefill_iin: value(iin_value),
            prefill_phone: value(phone_value),
            fixed_iin: iin.filter(|p| !p.changeable).and(iin_value).map(str::to_owned),
            fixed_phone: phone.filter(|p| !p.changeable).and(phone_value).map(str::to_owned),
            scripted: s.technologies().iter().map(|&code| (code, scenario.outcome(code))).collect(),
        }
    }

    /// The outcome the scenario scripts for `code`: what a person who just goes on gets.
    pub(super) fn scripted(&self, code: TechnologyCode) -> Outcome {
        self.scripted.iter().find(|(c, _)| *c == code).map_or(Outcome::Passed, |(_, o)| o.clone())
    }
}

pub(super) struct StepView {
    pub code: &'static str,
    pub index: usize,
    pub total: usize,
    pub action: String,
    pub error: Option<String>,
    pub scripted_class: &'static str,
    pub scripted_label: String,
    pub reasons: Vec<ReasonOption>,
    pub alternatives: Vec<Alternative>,
}

pub(super) struct ReasonOption {
    pub kind: &'static str,
    pub detail: &'static str,
    pub selected: bool,
}

pub(super) struct Alternative {
    pub href: String,
    pub code: &'static str,
    pub name: &'static str,
}

pub(super) struct EdocForm {
    pub iin: String,
    pub phone: String,
    pub iin_readonly: bool,
    pub phone_readonly: bool,
}

pub(super) struct OtpView {
    pub phone: String,
    pub code: String,
}

#[derive(Template)]
#[template(path = "liveness.html")]
struct LivenessPage {
    frame: Frame,
    step: StepView,
}

/// A step that asks for an image: the face match's photo, document recognition's document.
pub(super) struct UploadView {
    pub title: &'static str,
    pub text: &'static str,
    pub label: &'static str,
    /// The form field, also the `{field}-input` test id.
    pub field: &'static str,
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    frame: Frame,
    step: StepView,
    upload: UploadView,
}

#[derive(Template)]
#[template(path = "edocument.html")]
struct EdocumentPage {
    frame: Frame,
    step: StepView,
    form: EdocForm,
}

#[derive(Template)]
#[template(path = "otp.html")]
struct OtpPage {
    frame: Frame,
    step: StepView,
    otp: OtpView,
}

/// Everything needed to draw one step's screen.
pub(super) struct StepContext<'a> {
    pub snapshot: &'a Snapshot,
    pub id: &'a Uuid,
    pub code: TechnologyCode,
    pub q: &'a PageQuery,
    pub scripted: &'a Outcome,
    pub error: Option<String>,
}

impl StepContext<'_> {
    /// The step's HTML; `typed` keeps what the user entered in a refused E-Document form.
    pub(super) fn render(self, typed: Option<(String, String)>) -> axum::response::Html<String> {
        let frame = self.q.frame();
        let t = frame.t;
        let code = self.code;
        let s = self.snapshot;
        let scripted_reason = match self.scripted {
            Outcome::Passed => None,
            Outcome::Failed(r) => Some(r),
        };
        let step = StepView {
            code: code.as_str(),
            index: s.technologies.iter().position(|c| *c == code).map_or(1, |i| i + 1),
            total: s.technologies.len(),
            action: format!("{}{}", crate::domain::paths::page_step(self.id, code), self.q.carry()),
            error: self.error,
            scripted_class: if scripted_reason.is_some() { "failed" } else { "passed" },
            scripted_label: match scripted_reason {
                None => t.passed.to_owned(),
                Some(r) => {
                    // The mock's own wording is shown in the page's locale; a scenario's own, as
                    // it wrote it.
                    let own = reasons::of(code.family()).iter().any(|(k, d)| *k == r.kind && *d == r.detail);
                    let detail = if own { self.q.locale.reason_detail(&r.kind) } else { None };
                    format!("{} ({}: {})", t.failed, r.kind, detail.unwrap_or(&r.detail))
                }
            },
            reasons: reasons::of(code.family())
                .iter()
                .enumerate()
                .map(|(i, (kind, detail))| ReasonOption {
                    kind,
                    detail: self.q.locale.reason_detail(kind).unwrap_or(detail),
                    selected: scripted_reason.map_or(i == 0, |r| r.kind == *kind),
                })
                .collect(),
            alternatives: s
                .runnable
                .iter()
                .filter(|c| **c != code)
                .map(|c| {
                    let mut q = self.q.clone();
                    q.step = None;
                    let carry = q.carry();
                    let sep = if carry.is_empty() { '?' } else { '&' };
                    Alternative {
                        href: format!("{}{carry}{sep}step={c}", crate::domain::paths::page(self.id)),
                        code: c.as_str(),
                        name: c.name(),
                    }
                })
                .collect(),
        };
        match code.family() {
            Family::Liveness => html(&LivenessPage { frame, step }),
            Family::Face2Face => {
                let upload =
                    UploadView { title: t.face2face_title, text: t.face2face_text, label: t.photo, field: "photo" };
                html(&UploadPage { frame, step, upload })
            }
            Family::DocumentRecognition => {
                let upload =
                    UploadView { title: t.document_title, text: t.document_text, label: t.document, field: "document" };
                html(&UploadPage { frame, step, upload })
            }
            Family::Edocument => {
                if let Some(otp) = &s.otp {
                    return html(&OtpPage { frame, step, otp: OtpView { phone: s.phone.clone(), code: otp.clone() } });
                }
                let (iin, phone) = typed.unwrap_or_else(|| (s.prefill_iin.clone(), s.prefill_phone.clone()));
                let form = EdocForm {
                    iin: s.fixed_iin.clone().unwrap_or(iin),
                    phone: s.fixed_phone.clone().unwrap_or(phone),
                    iin_readonly: s.fixed_iin.is_some(),
                    phone_readonly: s.fixed_phone.is_some(),
                };
                html(&EdocumentPage { frame, step, form })
            }
        }
    }
}

/// A screen with a title and a message: done, or one of the error screens.
#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct MessagePage {
    frame: Frame,
    testid: &'static str,
    reason: &'static str,
    title: &'static str,
    lines: Vec<String>,
    code: Option<String>,
    outcome: Option<&'static str>,
    outcome_text: &'static str,
    /// What the screen tells a parent frame (`widget/frame.js`): `finish` (the done screen),
    /// `error` (the session cannot run here), or nothing (a refused form the user can retry).
    event: &'static str,
}

impl MessagePage {
    fn new(q: &PageQuery, testid: &'static str, reason: &'static str, title: &'static str, lines: Vec<String>) -> Self {
        let event = match testid {
            "done" => "finish",
            _ if reason == "bad-request" => "",
            _ => "error",
        };
        Self { frame: q.frame(), testid, reason, title, lines, code: None, outcome: None, outcome_text: "", event }
    }

    fn respond(self, status: StatusCode) -> Response {
        (status, html(&self)).into_response()
    }

    pub(super) fn not_found(q: &PageQuery) -> Response {
        let t = q.locale.texts();
        Self::new(q, "error", "not-found", t.not_found_title, vec![t.not_found_text.to_owned()])
            .respond(StatusCode::NOT_FOUND)
    }

    /// A session past `--session-ttl`.
    pub(super) fn expired(q: &PageQuery) -> Response {
        let t = q.locale.texts();
        Self::new(q, "error", "expired", t.expired_title, vec![t.expired_text.to_owned()]).respond(StatusCode::GONE)
    }

    /// A session the store let go to make room (`--max-sessions`, `--max-store-bytes`); the
    /// line for people running the mock says which limit, in the page's source and the journal.
    pub(super) fn evicted(q: &PageQuery, eviction: &crate::session::store::Eviction) -> Response {
        let t = q.locale.texts();
        let mut page = Self::new(q, "error", "evicted", t.evicted_title, vec![t.evicted_text.to_owned()]);
        page.code = Some(format!("This session {eviction}."));
        page.respond(StatusCode::NOT_FOUND)
    }

    /// A finished session opened again: the id is one-time \[doc\].
    pub(super) fn completed(q: &PageQuery) -> Response {
        let t = q.locale.texts();
        Self::new(q, "error", "completed", t.completed_title, vec![t.completed_text.to_owned()])
            .respond(StatusCode::GONE)
    }

    pub(super) fn bad_request(q: &PageQuery, reason: String) -> Response {
        Self::refused(q, StatusCode::BAD_REQUEST, reason)
    }

    /// A request the page cannot take (a form too large, too slow, or broken), with its status.
    pub(super) fn refused(q: &PageQuery, status: StatusCode, reason: String) -> Response {
        let t = q.locale.texts();
        let mut response = Self::new(q, "error", "bad-request", t.bad_request_title, vec![reason]).respond(status);
        if status == StatusCode::REQUEST_TIMEOUT {
            response
                .headers_mut()
                .insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
        }
        response
    }

    pub(super) fn bad_redirect(q: &PageQuery, redirect: &str) -> Response {
        let t = q.locale.texts();
        let mut page =
            Self::new(q, "error", "bad-redirect", t.bad_redirect_title, vec![t.bad_redirect_text.to_owned()]);
        page.code = Some(redirect.to_owned());
        page.respond(StatusCode::BAD_REQUEST)
    }

    pub(super) fn done(q: &PageQuery, passed: bool) -> Response {
        let t = q.locale.texts();
        let mut page = Self::new(q, "done", "done", t.done_title, vec![t.done_close.to_owned()]);
        page.outcome = Some(if passed { "passed" } else { "failed" });
        page.outcome_text = if passed { t.done_passed } else { t.done_failed };
        page.respond(StatusCode::OK)
    }
}
