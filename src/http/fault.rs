//! Playing a scripted fault on an emulated endpoint: a delay, an error status with a DRF
//! `detail`, or a dropped connection.

use std::time::Duration;

use axum::http::StatusCode;

use super::ApiError;
use crate::scenario::Fault;

/// Waits out the fault's delay, then answers its error, or lets the call go on.
pub(crate) async fn play(fault: Option<Fault>) -> Result<(), ApiError> {
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
