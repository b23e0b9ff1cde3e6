//! Where the daemon's "now" comes from: the wall clock, or an accelerated one
//! for the demo. Everything time-dependent takes a `Clock` so the demo and
//! tests can run hours of a household's life in seconds.

use std::time::Instant;

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at `start` and runs `speed` times faster than real time.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    start: DateTime<Utc>,
    origin: Instant,
    speed: f64,
}

impl ScaledClock {
    pub fn new(start: DateTime<Utc>, speed: f64) -> Self {
        Self {
            start,
            origin: Instant::now(),
            speed: speed.max(1.0),
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let real = self.origin.elapsed().as_secs_f64();
        let simulated_ms = (real * self.speed * 1000.0) as i64;
        self.start + chrono::Duration::milliseconds(simulated_ms)
    }
}

/// A clock that moves only when told to (tests and timelines).
#[derive(Debug)]
pub struct ManualClock {
    now: std::sync::Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: std::sync::Mutex::new(start),
        }
    }

    pub fn set(&self, to: DateTime<Utc>) {
        if let Ok(mut now) = self.now.lock() {
            *now = to;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.now.lock().map(|now| *now).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_clock_runs_faster_than_real_time() {
        let start = Utc::now();
        let clock = ScaledClock::new(start, 3600.0);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let advanced = clock.now() - start;
        assert!(advanced >= chrono::Duration::seconds(60), "{advanced:?}");
    }
}
