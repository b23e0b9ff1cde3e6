//! One simulated smart water meter: it integrates the household's flows into
//! a cumulative register with 1 L resolution and reports a reading at each
//! sampling instant — unless a fault keeps it quiet — with the flow at that
//! moment, its battery and any status flags. Meter faults live here too: a
//! replacement meter whose register restarts near zero, a clock running off,
//! a battery running down.

use chrono::{DateTime, FixedOffset};
use rand::Rng;

use crate::behaviour::WaterEvent;
use crate::reading::SimReading;

pub(crate) struct Meter {
    id: String,
    /// Litres on the register when the simulation starts.
    base_l: f64,
    /// Flows are counted from here (local seconds).
    origin: i64,
    /// Litres of the flows that have ended.
    done_l: f64,
    /// Flows that have started and not yet ended.
    active: Vec<WaterEvent>,
    /// The last register value, which never goes back.
    register: f64,
    battery_start: f64,
    battery_drain_per_day: f64,
    /// The meter stops reporting from here on.
    silent_from: Option<i64>,
    /// Status flags raised from a time on.
    flags: Vec<(i64, String)>,
    /// The meter is replaced at this time, its register restarting at the litres given.
    reset: Option<(i64, f64)>,
    /// Added to the register once a reset has happened (negative).
    shift_l: f64,
    /// Litres passed at the previous sample (before any shift).
    last_raw_l: f64,
    /// From a time on, timestamps are off by these seconds.
    skew: Option<(i64, i64)>,
    /// From a time on, the battery runs down to 5 % over these seconds.
    battery_decline: Option<(i64, i64)>,
}

/// Battery level at or below which a meter flags `LOW_BATTERY`, percent.
const LOW_BATTERY_PCT: f64 = 5.0;

impl Meter {
    pub(crate) fn new(id: String, rng: &mut impl Rng, origin: i64) -> Meter {
        let base_l = f64::from(rng.random_range(10_000u32..=900_000));
        Meter {
            id,
            base_l,
            origin,
            done_l: 0.0,
            active: Vec::new(),
            register: base_l,
            battery_start: f64::from(rng.random_range(60u32..=100)),
            // A 10–15 year battery.
            battery_drain_per_day: 100.0 / (365.0 * rng.random_range(10.0..15.0)),
            silent_from: None,
            flags: Vec::new(),
            reset: None,
            shift_l: 0.0,
            last_raw_l: base_l,
            skew: None,
            battery_decline: None,
        }
    }

    /// The meter is replaced at `at`: the new one's register starts at
    /// `start_l` litres.
    pub(crate) fn replace_at(&mut self, at: i64, start_l: f64) {
        self.reset = Some((at, start_l));
    }

    /// From `at` on, the meter's clock is `secs` seconds off.
    pub(crate) fn skew_clock(&mut self, at: i64, secs: i64) {
        self.skew = Some((at, secs));
    }

    /// From `at` on, the battery runs down to 5 % over `span` seconds and
    /// `LOW_BATTERY` is flagged from then on.
    pub(crate) fn run_battery_down(&mut self, at: i64, span: i64) {
        self.battery_decline = Some((at, span.max(1)));
        self.flags.push((at + span.max(1), "LOW_BATTERY".into()));
    }

    /// The seconds the meter's clock is off at `t`.
    pub(crate) fn skew_at(&self, t: i64) -> i64 {
        match self.skew {
            Some((at, secs)) if t >= at => secs,
            _ => 0,
        }
    }

    fn battery_at(&self, t: i64) -> f64 {
        let natural = |t: i64| {
            let days = (t - self.origin) as f64 / 86_400.0;
            (self.battery_start - days * self.battery_drain_per_day).max(0.0)
        };
        match self.battery_decline {
            Some((at, span)) if t >= at => {
                let from = natural(at);
                let progress = (t - at) as f64 / span as f64;
                if progress <= 1.0 {
                    from - (from - LOW_BATTERY_PCT).max(0.0) * progress
                } else {
                    // A little further each month past the end.
                    (from.min(LOW_BATTERY_PCT) - (progress - 1.0) * 2.0).max(0.0)
                }
            }
            _ => natural(t),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The meter reports nothing from `at` on.
    pub(crate) fn go_silent(&mut self, at: i64) {
        self.silent_from = Some(self.silent_from.map_or(at, |s| s.min(at)));
    }

    /// The meter raises `flag` in every reading from `at` on.
    pub(crate) fn raise_flag(&mut self, at: i64, flag: String) {
        self.flags.push((at, flag));
    }

    /// A flow starts passing through the meter.
    pub(crate) fn feed(&mut self, mut ev: WaterEvent) {
        if ev.end <= self.origin {
            return;
        }
        ev.start = ev.start.max(self.origin);
        self.active.push(ev);
    }

    /// The register and flow at `t` (local seconds; never earlier than the
    /// previous call), as a reading stamped `ts` — or `None` when the meter
    /// is silent. The register keeps counting while the meter is silent.
    pub(crate) fn sample(&mut self, t: i64, ts: DateTime<FixedOffset>) -> Option<SimReading> {
        let mut partial_l = 0.0;
        let mut flow_lpm = 0.0;
        let done_l = &mut self.done_l;
        self.active.retain(|ev| {
            if ev.end <= t {
                *done_l += ev.litres();
                false
            } else {
                partial_l += ev.litres_until(t);
                if ev.start <= t {
                    flow_lpm += ev.lpm;
                }
                true
            }
        });
        let raw = self.base_l + self.done_l + partial_l;
        if let Some((at, start_l)) = self.reset
            && t >= at
        {
            // The new meter counts what passed since the old one's last reading.
            self.reset = None;
            self.shift_l = start_l - self.last_raw_l;
            self.register = (raw + self.shift_l).floor();
        }
        self.last_raw_l = raw;
        // Design: floor, never round — a real register shows whole litres
        // passed; the max guards against float noise ever moving it back.
        self.register = self.register.max((raw + self.shift_l).floor());

        if self.silent_from.is_some_and(|s| t >= s) {
            return None;
        }
        let battery = self.battery_at(t).round().max(0.0);
        let skew = self.skew_at(t);
        let ts = if skew == 0 {
            ts
        } else {
            ts + chrono::Duration::seconds(skew)
        };
        let status = self
            .flags
            .iter()
            .filter(|(at, _)| t >= *at)
            .map(|(_, flag)| flag.clone())
            .collect();
        Some(SimReading {
            meter_id: self.id.clone(),
            ts,
            total_l: self.register,
            flow_lpm: Some((flow_lpm * 100.0).round() / 100.0),
            battery_pct: Some(battery),
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::Use;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn meter() -> Meter {
        Meter::new("h0001".into(), &mut SmallRng::seed_from_u64(1), 0)
    }

    fn ts() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap()
    }

    #[test]
    fn the_register_shows_whole_litres_passed_and_the_flow_of_the_moment() {
        let mut m = meter();
        let base = m.register;
        m.feed(WaterEvent::of_volume(10, 7.9, 6.0, Use::Flush));
        let during = m.sample(40, ts()).unwrap();
        assert_eq!(during.total_l, base + 3.0, "30 s at 6 L/min");
        assert!(during.flow_lpm.unwrap() > 5.0);
        let after = m.sample(900, ts()).unwrap();
        assert_eq!(after.total_l, base + 7.0);
        assert_eq!(after.flow_lpm, Some(0.0));
    }

    #[test]
    fn a_running_toilet_is_reported_flowing_at_every_reading_and_a_flush_only_while_it_runs() {
        let mut m = meter();
        m.feed(WaterEvent::open_ended(100, 0.5, Use::RunningToilet));
        // A one-minute flush at 6 L/min from 1000 s.
        m.feed(WaterEvent::of_volume(1000, 6.0, 6.0, Use::Flush));
        let flows: Vec<f64> = (1..=8)
            .map(|i| m.sample(i * 900, ts()).unwrap().flow_lpm.unwrap())
            .collect();
        assert_eq!(flows, [0.5; 8], "the flush ended between readings");
        let mut m = meter();
        m.feed(WaterEvent::open_ended(100, 0.5, Use::RunningToilet));
        m.feed(WaterEvent::of_volume(870, 6.0, 6.0, Use::Flush));
        assert_eq!(m.sample(900, ts()).unwrap().flow_lpm, Some(6.5));
    }

    #[test]
    fn flows_before_the_origin_are_not_counted() {
        let mut m = Meter::new("h0001".into(), &mut SmallRng::seed_from_u64(1), 1000);
        let base = m.register;
        m.feed(WaterEvent::of_volume(0, 10.0, 10.0, Use::Shower));
        m.feed(WaterEvent {
            start: 940,
            end: 1060,
            lpm: 6.0,
            kind: Use::KitchenTap,
        });
        assert_eq!(m.sample(2000, ts()).unwrap().total_l, base + 6.0);
    }

    #[test]
    fn a_silent_meter_says_nothing_but_keeps_counting() {
        let mut m = meter();
        let base = m.register;
        m.go_silent(100);
        m.feed(WaterEvent::open_ended(0, 6.0, Use::TapLeftOpen));
        assert!(m.sample(60, ts()).is_some());
        assert!(m.sample(100, ts()).is_none());
        m.silent_from = None;
        assert_eq!(m.sample(600, ts()).unwrap().total_l, base + 60.0);
    }

    #[test]
    fn flags_appear_from_their_time_on() {
        let mut m = meter();
        m.raise_flag(100, "LEAK".into());
        assert!(m.sample(99, ts()).unwrap().status.is_empty());
        assert_eq!(
            m.sample(100, ts()).unwrap().status,
            vec!["LEAK".to_string()]
        );
    }

    #[test]
    fn a_replaced_meter_restarts_near_zero_and_counts_on_from_there() {
        let mut m = meter();
        m.feed(WaterEvent::open_ended(0, 1.0, Use::RunningToilet));
        assert!(m.sample(600, ts()).unwrap().total_l > 10_000.0);
        m.replace_at(1200, 3.0);
        assert_eq!(
            m.sample(1200, ts()).unwrap().total_l,
            13.0,
            "3 L + 10 min at 1 L/min"
        );
        assert_eq!(m.sample(1800, ts()).unwrap().total_l, 23.0);
    }

    #[test]
    fn a_skewed_clock_stamps_readings_off_by_its_error() {
        let mut m = meter();
        m.skew_clock(100, -420);
        assert_eq!(m.sample(60, ts()).unwrap().ts, ts());
        assert_eq!(
            m.sample(100, ts()).unwrap().ts,
            ts() - chrono::Duration::minutes(7)
        );
    }

    #[test]
    fn a_battery_running_down_reaches_five_percent_and_then_flags_low_battery() {
        let mut m = meter();
        m.run_battery_down(0, 100 * 86_400);
        let first = m.sample(0, ts()).unwrap();
        let mid = m.sample(50 * 86_400, ts()).unwrap();
        let end = m.sample(100 * 86_400, ts()).unwrap();
        assert!(first.battery_pct > mid.battery_pct && mid.battery_pct > end.battery_pct);
        assert_eq!(end.battery_pct, Some(5.0));
        assert!(!mid.status.contains(&"LOW_BATTERY".to_string()));
        assert_eq!(end.status, ["LOW_BATTERY"]);
    }
}
