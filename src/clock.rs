//! Where the mock reads the time: one place, so that a virtual clock can replace it.

use time::OffsetDateTime;

#[derive(Debug, Clone, Default)]
pub struct Clock;

impl Clock {
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
