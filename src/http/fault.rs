//! Fault rules as the emulated endpoints meet them: one helper for every endpoint — meet the
//! rule (`AppState::meet_fault`: an admin rule first, then the scenario's), play it (a delay, an
//! error status with a DRF `detail`, or a dropped connection), and go on.

use std::time::Duration;

use axum::http::StatusCode;

use super::ApiError;
use crate::journal::Notes;
use crate::scenario::Fault;
use crate::state::{AppState, Scripted};

/// Meets the fault rules of the call `notes` are about (the endpoint of its route) and plays the
/// rule it meets; `Ok` lets the call go on (no rule, or one that only delays).
pub(crate) async fn meet(state: &AppState, notes: &Notes, scripted: Scripted<'_>) -> Result<(), ApiError> {
    let Some(endpoint) = notes.endpoint() else { return Ok(()) };
    let fault = state.meet_fault(endpoint, scripted)?;
    play(fault).await
}

/// Waits out the fault's delay, then answers its error, or lets the call go on.
async fn play(fault: Option<Fault>) -> Result<(), ApiError> {
    let Some(fault) = fault else { return Ok(()) };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    if fault.drop_connection {
        return Err(ApiError::Dropped);
    }
    match fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => Err(ApiError::Fault { status, detail: fault.detail_text() }),
        None => Ok(()),
    }
}
