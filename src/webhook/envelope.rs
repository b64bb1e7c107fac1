//! The vendor's webhook envelope \[doc, the vendor's webhooks pages\].

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::session::{Event, Session};
use crate::wire::SessionResult;

/// The vendor's envelope: `{"id", "event", "session_id", "created", "success", "flow_name",
/// "metadata", "data"}`, with `data` as the vendor's webhooks page shows per event.
pub(super) fn envelope(
    session: &Session,
    event: &Event,
    failed: crate::domain::FailedStatus,
    at: OffsetDateTime,
    id: Uuid,
) -> (&'static str, Arc<RawValue>) {
    let tech = |code: crate::domain::TechnologyCode| json!({"technology_code": code, "technology_name": code.name()});
    let (name, success, data) = match event {
        Event::FlowStarted => ("flow.start", true, json!({"technologies": session.technologies()})),
        Event::TechnologyStarted(code) => ("technology.start", true, tech(*code)),
        Event::TechnologyEnded { code, success } => {
            let mut data = tech(*code);
            data["result"] = session.step(*code).and_then(|s| s.result.as_deref().cloned()).unwrap_or(Value::Null);
            ("technology.end", *success, data)
        }
        Event::FlowEnded { success } => {
            // The result as the vendor's API will show it once processing is over.
            let result = SessionResult::of(session, time::macros::datetime!(9999-01-01 0:00 UTC), failed);
            ("flow.end", *success, json!({"session_result": result}))
        }
    };
    let payload = json!({
        "id": id,
        "event": name,
        "session_id": session.id(),
        "created": at.unix_timestamp(),
        "success": success,
        "flow_name": session.flow_name(),
        // `null` for a session created without metadata [doc: the webhooks page's example].
        "metadata": if session.metadata().is_none() { &Value::Null } else { &session.metadata().display },
        "data": data,
    });
    let raw = serde_json::value::to_raw_value(&payload).expect("a JSON value writes out");
    (name, Arc::from(raw))
}
