//! Where the mock reads the time: one place, so that tests can move it. The clock is the real
//! time plus an offset that `POST /__admin/clock/advance` grows; timestamps, processing delays
//! and session expiry all follow it. Also how the mock writes a time (`timestamp`).

use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Default)]
pub struct Clock {
    /// How far the virtual clock runs ahead of the real one, in milliseconds.
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        match self.offset_ms.load(Ordering::Relaxed) {
            0 => now,
            _ => now + self.offset(),
        }
    }

    pub fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (never back: time that went backwards would break ordering).
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// Timestamps as Django REST Framework writes them: RFC 3339 in UTC with microseconds and `Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    Timestamp(t).to_string()
}

/// A time that serializes as `timestamp` writes it, without a `String` in between.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, written digit by digit: this is on every journaled
    /// request, and `fmt` padding costs several times as much.
    fn text(self) -> [u8; 27] {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        let (date, clock) = (t.date(), t.time());
        let mut out = *b"0000-00-00T00:00:00.000000Z";
        let put = crate::domain::zero_padded;
        // Years outside 0..=9999 do not occur here (the clock only moves forward, by days).
        put(&mut out[0..4], u32::try_from(date.year()).unwrap_or(0).min(9999));
        put(&mut out[5..7], u32::from(u8::from(date.month())));
        put(&mut out[8..10], u32::from(date.day()));
        put(&mut out[11..13], u32::from(clock.hour()));
        put(&mut out[14..16], u32::from(clock.minute()));
        put(&mut out[17..19], u32::from(clock.second()));
        put(&mut out[20..26], clock.microsecond());
        out
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.text();
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.text();
        serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_six_fraction_digits_and_z() {
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(1500);
        assert_eq!(timestamp(t), "1970-01-01T00:00:01.500000Z");
        assert_eq!(timestamp(OffsetDateTime::UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = time::macros::datetime!(2026-11-26 07:08:09.123456789 +05:00);
        assert_eq!(timestamp(t), "2026-11-26T02:08:09.123456Z", "in UTC, microseconds truncated");
        assert_eq!(serde_json::to_string(&Timestamp(t)).unwrap(), "\"2026-11-26T02:08:09.123456Z\"");
        let t = time::macros::datetime!(0987-01-02 03:04:05.000007 UTC);
        assert_eq!(timestamp(t), "0987-01-02T03:04:05.000007Z", "zero-padded");
        let t = time::macros::datetime!(9999-12-31 23:59:59.999999 UTC);
        assert_eq!(timestamp(t), "9999-12-31T23:59:59.999999Z");
    }

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(std::time::Duration::from_secs(3600));
        assert!(clock.now() - before >= Duration::hours(1));
        assert_eq!(clock.offset(), Duration::hours(1));
        clock.reset();
        assert_eq!(clock.offset(), Duration::ZERO);
    }
}
