//! Where the mock reads the time: one place, so that tests can move it. The clock is the real
//! time plus an offset that `POST /__admin/clock/advance` grows; timestamps, processing delays
//! and session expiry all follow it.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

#[derive(Debug, Default)]
pub struct Clock {
    /// How far the virtual clock runs ahead of the real one, in milliseconds.
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.offset()
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

#[cfg(test)]
mod tests {
    use super::*;

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
