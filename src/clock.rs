//! Where the mock reads the time: one place, so that tests can move it. The clock is the real
//! time plus an offset that `POST /__admin/clock/advance` grows; timestamps, processing delays
//! and session expiry all follow it. Also how the mock writes a time (`timestamp`).

use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;
use time::{Duration, OffsetDateTime};

#[derive(Debug, Default)]
pub(crate) struct Clock {
    /// How far the virtual clock runs ahead of the real one, in milliseconds.
    offset_ms: AtomicI64,
}

/// The latest time the clock shows. Timestamps have four-digit years, as the vendor's do, and
/// some dates are derived forward from the clock (a document issued today is valid for ten
/// years): stopping here leaves them room below the year 9999.
pub(crate) const LATEST: OffsetDateTime = time::macros::datetime!(9000-01-01 0:00 UTC);

/// `t` moved on by `by`, stopping at `LATEST`: a delay or a lifetime that long means "never".
pub(crate) fn after(t: OffsetDateTime, by: std::time::Duration) -> OffsetDateTime {
    capped(Duration::try_from(by).ok().and_then(|by| t.checked_add(by)))
}

/// `t` moved `ms` milliseconds on, stopping at `LATEST` (a key's own clock, SPEC §16).
pub(crate) fn ahead(t: OffsetDateTime, ms: i64) -> OffsetDateTime {
    capped(t.checked_add(Duration::milliseconds(ms)))
}

/// A sum of times that may have overflowed, as the clock shows it: `LATEST` at most.
fn capped(t: Option<OffsetDateTime>) -> OffsetDateTime {
    t.map_or(LATEST, |t| t.min(LATEST))
}

/// Refused: the clock would go past `LATEST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the clock cannot go past {}", timestamp(LATEST))]
pub(crate) struct PastTheEnd;

/// The real time in UTC, as `OffsetDateTime::now_utc` reads it. That works the date out from
/// the seconds since 1970 on every call, most of the clock's cost on a polling request; within a
/// second only the nanoseconds change, so each thread keeps the last second it worked out.
fn real_now() -> OffsetDateTime {
    thread_local! {
        static SECOND: std::cell::Cell<(u64, OffsetDateTime)> =
            const { std::cell::Cell::new((u64::MAX, OffsetDateTime::UNIX_EPOCH)) };
    }
    let Ok(since_1970) = std::time::SystemTime::now().duration_since(std::time::SystemTime::UNIX_EPOCH) else {
        return OffsetDateTime::now_utc();
    };
    let seconds = since_1970.as_secs();
    let second = SECOND.with(|kept| match kept.get() {
        (kept_seconds, second) if kept_seconds == seconds => Some(second),
        _ => {
            let second = OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).ok()?).ok()?;
            kept.set((seconds, second));
            Some(second)
        }
    });
    second
        .and_then(|second| second.replace_nanosecond(since_1970.subsec_nanos()).ok())
        .unwrap_or_else(OffsetDateTime::now_utc)
}

impl Clock {
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = real_now();
        match self.offset_ms.load(Ordering::Relaxed) {
            0 => now,
            _ => capped(now.checked_add(self.offset())),
        }
    }

    pub(crate) fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the clock forward (never back: time that went backwards would break ordering), as
    /// long as it stays before `LATEST`; otherwise it does not move.
    pub(crate) fn advance(&self, by: std::time::Duration) -> Result<(), PastTheEnd> {
        let by = i64::try_from(by.as_millis()).map_err(|_| PastTheEnd)?;
        let real = OffsetDateTime::now_utc();
        self.offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                let offset = offset.checked_add(by)?;
                let shown = real.checked_add(Duration::milliseconds(offset))?;
                (shown <= LATEST).then_some(offset)
            })
            .map(drop)
            .map_err(|_| PastTheEnd)
    }

    pub(crate) fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// Timestamps as Django REST Framework writes them: RFC 3339 in UTC with microseconds and `Z`.
pub(crate) fn timestamp(t: OffsetDateTime) -> String {
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
        // Years outside 0..=9999 do not occur here (the clock stops at `LATEST`).
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
    fn the_real_time_is_read_to_the_nanosecond_across_seconds() {
        // Until the second has changed twice: the kept second is used, then replaced.
        let start = OffsetDateTime::now_utc().unix_timestamp();
        loop {
            let (before, read, after) = (OffsetDateTime::now_utc(), real_now(), OffsetDateTime::now_utc());
            assert!(before <= read && read <= after, "{before} <= {read} <= {after}");
            if read.unix_timestamp() >= start + 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(300));
        }
    }

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(std::time::Duration::from_secs(3600)).unwrap();
        assert!(clock.now() - before >= Duration::hours(1));
        assert_eq!(clock.offset(), Duration::hours(1));
        clock.reset();
        assert_eq!(clock.offset(), Duration::ZERO);
    }

    #[test]
    fn the_clock_stops_at_its_latest_time() {
        let clock = Clock::default();
        let ten_thousand_years = std::time::Duration::from_secs(10_000 * 366 * 86_400);
        assert_eq!(clock.advance(ten_thousand_years), Err(PastTheEnd));
        assert_eq!(clock.offset(), Duration::ZERO, "a refused advance does not move the clock");
        let five_thousand_years = ten_thousand_years / 2;
        clock.advance(five_thousand_years).unwrap();
        assert_eq!(clock.advance(five_thousand_years), Err(PastTheEnd), "the advances add up");
        assert_eq!(clock.advance(std::time::Duration::MAX), Err(PastTheEnd));
        assert!(clock.now().year() > 7000 && clock.now() < LATEST);
    }

    #[test]
    fn after_stops_at_the_latest_time() {
        let t = time::macros::datetime!(2026-11-26 00:00 UTC);
        assert_eq!(after(t, std::time::Duration::from_secs(86_400)), time::macros::datetime!(2026-11-27 00:00 UTC));
        assert_eq!(after(t, std::time::Duration::from_secs(u64::MAX)), LATEST);
        assert_eq!(after(t, std::time::Duration::MAX), LATEST);
        assert_eq!(after(LATEST, std::time::Duration::from_secs(1)), LATEST);
    }
}
