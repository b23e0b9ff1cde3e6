//! Simulated time: whole seconds on the wall clock of one fixed UTC offset.
//!
//! Design: the simulation runs on `i64` *local seconds* (Unix seconds plus the
//! offset), so local days start at multiples of 86 400 and sampling instants
//! are multiples of the interval — :00/:15/:30/:45 in local time for 15 min,
//! whatever the offset. Chrono types appear only at the edges.

use chrono::{DateTime, FixedOffset, Utc};

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;
/// Seconds in an hour.
pub(crate) const HOUR: i64 = 3_600;
/// Seconds in a minute.
pub(crate) const MINUTE: i64 = 60;

/// Converts between chrono timestamps and local seconds for one offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    offset: FixedOffset,
}

impl Clock {
    pub(crate) fn new(offset: FixedOffset) -> Clock {
        Clock { offset }
    }

    /// Local seconds of `ts` (sub-second parts are dropped).
    pub(crate) fn to_local(self, ts: DateTime<FixedOffset>) -> i64 {
        ts.timestamp() + i64::from(self.offset.local_minus_utc())
    }

    /// The timestamp at `local` seconds, in this clock's offset.
    pub(crate) fn to_datetime(self, local: i64) -> DateTime<FixedOffset> {
        let utc = local - i64::from(self.offset.local_minus_utc());
        DateTime::<Utc>::from_timestamp(utc, 0)
            .unwrap_or_default()
            .with_timezone(&self.offset)
    }
}

/// The first multiple of `step` at or after `t` (`step` > 0).
pub(crate) fn align_up(t: i64, step: i64) -> i64 {
    let rem = t.rem_euclid(step);
    if rem == 0 { t } else { t - rem + step }
}

/// The start (local seconds) of the local day containing `t`.
pub(crate) fn day_start(t: i64) -> i64 {
    t - t.rem_euclid(DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_seconds_round_trip_through_chrono() {
        let ts = DateTime::parse_from_rfc3339("2026-01-10T09:30:00+08:00").unwrap();
        let clock = Clock::new(*ts.offset());
        let local = clock.to_local(ts);
        assert_eq!(local.rem_euclid(DAY), 9 * HOUR + 30 * MINUTE);
        assert_eq!(clock.to_datetime(local), ts);
    }

    #[test]
    fn alignment_rounds_up_to_the_next_multiple_and_keeps_exact_ones() {
        assert_eq!(align_up(900, 900), 900);
        assert_eq!(align_up(901, 900), 1800);
        assert_eq!(align_up(-1, 900), 0);
        assert_eq!(day_start(DAY + 5), DAY);
        assert_eq!(day_start(-5), -DAY);
    }
}
