//! A fleet of simulated households, each behind its own meter, advanced
//! together on one simulated clock with the scenarios applied.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::behaviour::{Use, WaterEvent};
use crate::clock::{Clock, DAY, align_up, day_start};
use crate::household::{AbsenceCause, Decline, Household};
use crate::meter::Meter;
use crate::reading::SimReading;
use crate::scenario::{Scenario, ScenarioKind, TruthEvent, household_id};
use crate::upload::UploadSchedule;

/// Simulated households and their meters.
///
/// Deterministic: the same arguments give the same readings, however the
/// simulation is stepped. Each household draws from its own random stream
/// (derived from the seed and its number), and scenarios draw nothing, so a
/// scenario leaves every reading before it — and every other household —
/// exactly as it would be without it. (Reproducible for a given `Cargo.lock`:
/// the generators come from `rand`.)
pub struct Fleet {
    clock: Clock,
    seed: u64,
    start: DateTime<FixedOffset>,
    /// Sampling interval, seconds.
    interval: i64,
    /// Local seconds of the next sampling instant.
    next_tick: i64,
    /// Households and their meters, in meter-id order.
    homes: Vec<(Household, Meter)>,
    truth: Vec<TruthEvent>,
}

impl Fleet {
    /// `households` households (`h0001`, `h0002`, …) whose meters report every
    /// `interval` (whole seconds, at least one) at instants aligned to the
    /// interval in `start`'s offset — :00, :15, :30, :45 for 15 min — from the
    /// first such instant at or after `start`. Timestamps carry `start`'s
    /// offset. Scenarios naming a household outside `1..=households` are
    /// ignored (callers validate them with [`Scenario::household`]).
    pub fn new(
        households: usize,
        seed: u64,
        start: DateTime<FixedOffset>,
        interval: Duration,
        scenarios: Vec<Scenario>,
    ) -> Fleet {
        let clock = Clock::new(*start.offset());
        let origin = clock.to_local(start);
        // Plan from the day before, so the first night's flushes are there.
        let first_day = day_start(origin) - DAY;
        let interval = i64::try_from(interval.as_secs()).unwrap_or(DAY).max(1);

        let mut homes: Vec<(Household, Meter)> = (1..=households)
            .map(|n| {
                let household = Household::new(stream(seed, n, 0), first_day);
                let meter = Meter::new(
                    household_id(n),
                    &mut SmallRng::seed_from_u64(stream(seed, n, 1)),
                    origin,
                );
                (household, meter)
            })
            .collect();

        let mut truth = Vec::new();
        for scenario in &scenarios {
            let n = scenario.household();
            let Some((household, meter)) = homes.get_mut(n.wrapping_sub(1)) else {
                continue;
            };
            let at = clock.to_local(scenario.at());
            let secs = |days: f64| (days * DAY as f64).round() as i64;
            match scenario {
                Scenario::Collapse { .. } => household.collapse(at),
                Scenario::TapLeftOpen { lpm, .. } => {
                    household.add_flow(WaterEvent::open_ended(at, *lpm, Use::TapLeftOpen))
                }
                Scenario::Burst { lpm, .. } => {
                    household.add_flow(WaterEvent::open_ended(at, *lpm, Use::Burst))
                }
                Scenario::RunningToilet { lpm, .. } => {
                    household.add_flow(WaterEvent::open_ended(at, *lpm, Use::RunningToilet))
                }
                Scenario::Absence { until, .. } => household.go_away(at, clock.to_local(*until)),
                Scenario::Decline { weeks, to, .. } => household.decline(Decline {
                    start: at,
                    span: secs(weeks * 7.0),
                    floor: *to,
                }),
                Scenario::MeterSilent { .. } => meter.go_silent(at),
                Scenario::MeterFault { flag, .. } => meter.raise_flag(at, flag.clone()),
                Scenario::CounterReset { .. } => {
                    // A new register shows a few litres from the factory test.
                    meter.replace_at(at, f64::from((n as u32 * 7) % 20));
                }
                Scenario::ClockSkew { minutes, .. } => {
                    meter.skew_clock(at, (minutes * 60.0).round() as i64)
                }
                Scenario::BatteryDecline { days, .. } => meter.run_battery_down(at, secs(*days)),
            }
            let mut t = scenario.truth();
            t.start = clock.to_datetime(at);
            truth.push(t);
        }
        truth.sort_by(|a, b| (a.start, &a.household).cmp(&(b.start, &b.household)));

        // Ids are zero-padded to four digits, so beyond 9 999 households
        // numeric order is not id order.
        homes.sort_by(|a, b| a.1.id().cmp(b.1.id()));

        Fleet {
            clock,
            seed,
            start,
            interval,
            next_tick: align_up(origin, interval),
            homes,
            truth,
        }
    }

    /// Gives about `share` (0–1) of the households a weekly rhythm: they get
    /// up 1–2.5 h later on Saturdays and Sundays (a lie-in, or a family
    /// visit in the morning). Which households, and how much later, is fixed
    /// by the seed and drawn from streams of their own, so the others — and
    /// every household with `share` 0 — are exactly as without it. Call it
    /// before the first [`Fleet::advance`].
    pub fn with_weekend_share(mut self, share: f64) -> Fleet {
        for (household, meter) in &mut self.homes {
            let Some(n) = meter.id().get(1..).and_then(|d| d.parse::<usize>().ok()) else {
                continue;
            };
            let pick = stream(self.seed, n, 4) as f64 / u64::MAX as f64;
            if pick < share {
                let extra = stream(self.seed, n, 5) % (90 * 60 + 1) as u64;
                household.lie_in_at_weekends(3600 + extra as i64);
            }
        }
        self
    }

    /// All readings with `ts` after the previous call's `until` (or from the
    /// start) up to and including `until`, sorted by `ts` then meter id.
    pub fn advance(&mut self, until: DateTime<FixedOffset>) -> Vec<SimReading> {
        let until = self.clock.to_local(until);
        let ticks = if until >= self.next_tick {
            (until - self.next_tick) / self.interval + 1
        } else {
            0
        };
        let mut out = Vec::with_capacity(
            usize::try_from(ticks)
                .unwrap_or(0)
                .saturating_mul(self.homes.len())
                .min(1 << 24),
        );
        while self.next_tick <= until {
            let t = self.next_tick;
            let ts = self.clock.to_datetime(t);
            for (household, meter) in &mut self.homes {
                household.uses_until(t, |ev| meter.feed(ev));
                out.extend(meter.sample(t, ts));
            }
            self.next_tick += self.interval;
        }
        out
    }

    /// The meter ids, sorted: `h0001`, `h0002`, … (a meter's id is its
    /// household's in v0).
    pub fn meter_ids(&self) -> Vec<String> {
        self.homes.iter().map(|(_, m)| m.id().to_string()).collect()
    }

    /// Ground truth, by start time (then household): the scenarios that
    /// apply, and the absences of the households' own lives — trips away
    /// (`cause` `trip`) and whole days out (`day_out`) — that started before
    /// the next reading is due. An absence's `end` may lie beyond the
    /// readings so far.
    pub fn truth(&self) -> Vec<TruthEvent> {
        let mut all = self.truth.clone();
        for (household, meter) in &self.homes {
            for a in household.absences() {
                let cause = match a.cause {
                    AbsenceCause::Trip => "trip",
                    AbsenceCause::DayOut => "day_out",
                    AbsenceCause::Unannounced => continue,
                };
                if a.start >= self.next_tick {
                    continue;
                }
                all.push(TruthEvent {
                    household: meter.id().to_string(),
                    meter_id: meter.id().to_string(),
                    kind: ScenarioKind::Absence,
                    start: self.clock.to_datetime(a.start),
                    end: Some(self.clock.to_datetime(a.end)),
                    cause: Some(cause.into()),
                    to: None,
                    minutes: None,
                    lpm: None,
                    flag: None,
                    expected_alerts: Vec::new(),
                });
            }
        }
        all.sort_by(|a, b| (a.start, &a.household).cmp(&(b.start, &b.household)));
        all
    }

    /// Per household (by meter id), what it did over the days simulated so
    /// far (planned a day ahead): days, flushes, afternoons out, days with
    /// visitors. For statistics; the readings are the contract.
    pub fn tallies(&self) -> Vec<(String, HouseholdTally)> {
        self.homes
            .iter()
            .map(|(h, m)| {
                let t = h.tally();
                (
                    m.id().to_string(),
                    HouseholdTally {
                        days: t.days,
                        flushes: t.flushes,
                        outings: t.outings,
                        visitor_days: t.visitor_days,
                    },
                )
            })
            .collect()
    }

    /// When each meter would upload its day's stored readings if it
    /// reported in daily batches (NB-IoT style): a time of day per meter,
    /// staggered between 01:00 and 05:59 local, fixed by the seed.
    pub fn upload_schedule(&self) -> UploadSchedule {
        UploadSchedule::new(
            self.homes
                .iter()
                .map(|(_, m)| {
                    let n = m.id().trim_start_matches('h').parse::<usize>().unwrap_or(0);
                    let minute = stream(self.seed, n, 3) % (5 * 60);
                    (m.id().to_string(), 3600 + 60 * minute as i64)
                })
                .collect(),
            self.clock,
        )
    }

    /// When the next reading is due (the next sampling instant).
    pub fn next_reading_at(&self) -> DateTime<FixedOffset> {
        self.clock.to_datetime(self.next_tick)
    }

    pub fn start(&self) -> DateTime<FixedOffset> {
        self.start
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The sampling interval.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval.unsigned_abs())
    }

    /// The number of households.
    pub fn households(&self) -> usize {
        self.homes.len()
    }
}

/// What one household did over the days simulated so far (see [`Fleet::tallies`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HouseholdTally {
    /// Days planned.
    pub days: u64,
    /// Toilet flushes.
    pub flushes: u64,
    /// Afternoons out (not counting whole days out or trips).
    pub outings: u64,
    /// Days with visitors.
    pub visitor_days: u64,
}

/// The seed of random stream `which` of household `n` (SplitMix64 mixing, so
/// neighbouring households get unrelated streams).
fn stream(seed: u64, n: usize, which: u64) -> u64 {
    let mut z = seed
        ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ which.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-05T00:07:00+08:00").unwrap()
    }

    #[test]
    fn readings_are_aligned_to_the_interval_from_the_first_instant_after_the_start() {
        let mut fleet = Fleet::new(2, 1, start(), Duration::from_secs(900), vec![]);
        assert_eq!(
            fleet.next_reading_at().to_rfc3339(),
            "2026-01-05T00:15:00+08:00"
        );
        let r = fleet.advance(DateTime::parse_from_rfc3339("2026-01-05T01:00:00+08:00").unwrap());
        let ts: Vec<String> = r
            .iter()
            .map(|r| format!("{} {}", r.ts.format("%H:%M"), r.meter_id))
            .collect();
        assert_eq!(
            ts,
            [
                "00:15 h0001",
                "00:15 h0002",
                "00:30 h0001",
                "00:30 h0002",
                "00:45 h0001",
                "00:45 h0002",
                "01:00 h0001",
                "01:00 h0002"
            ]
        );
        assert!(
            fleet
                .advance(DateTime::parse_from_rfc3339("2026-01-05T01:14:59+08:00").unwrap())
                .is_empty()
        );
    }

    #[test]
    fn ids_sort_as_strings_beyond_ten_thousand_households() {
        let fleet = Fleet::new(10_001, 1, start(), Duration::from_secs(900), vec![]);
        let ids = fleet.meter_ids();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ids.len(), 10_001);
        assert!(ids.contains(&"h10000".to_string()));
    }

    #[test]
    fn scenarios_for_households_that_do_not_exist_are_ignored() {
        let at = start();
        let fleet = Fleet::new(
            2,
            1,
            start(),
            Duration::from_secs(900),
            vec![Scenario::Collapse { household: 3, at }],
        );
        assert!(fleet.truth().is_empty());
    }

    #[test]
    fn household_streams_differ_between_neighbours_and_seeds() {
        assert_ne!(stream(1, 1, 0), stream(1, 2, 0));
        assert_ne!(stream(1, 1, 0), stream(1, 1, 1));
        assert_ne!(stream(1, 1, 0), stream(2, 1, 0));
    }

    #[test]
    fn a_weekend_share_makes_weekend_mornings_later_and_a_zero_share_changes_nothing() {
        // 2026-01-05 is a Monday: two weeks, Saturdays 10th and 17th.
        let run = |share: f64| {
            let mut fleet = Fleet::new(8, 3, start(), Duration::from_secs(900), vec![])
                .with_weekend_share(share);
            fleet.advance(start() + chrono::Duration::days(14))
        };
        let plain = {
            let mut fleet = Fleet::new(8, 3, start(), Duration::from_secs(900), vec![]);
            fleet.advance(start() + chrono::Duration::days(14))
        };
        assert_eq!(run(0.0), plain);
        // The first use after 04:00 on each day, per meter: later at weekends.
        let first_use = |readings: &[SimReading], weekend: bool| {
            let mut last: std::collections::HashMap<&str, f64> = Default::default();
            let mut firsts: std::collections::HashMap<(&str, i64), i64> = Default::default();
            for r in readings {
                let local = r.ts.naive_local();
                let day = local
                    .date()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp()
                    / DAY;
                let minute = i64::from(
                    chrono::Timelike::hour(&local) * 60 + chrono::Timelike::minute(&local),
                );
                let used = last
                    .insert(&r.meter_id, r.total_l)
                    .is_some_and(|p| r.total_l > p);
                let is_weekend = matches!((day + 3).rem_euclid(7), 5 | 6);
                if used && minute >= 4 * 60 && is_weekend == weekend {
                    firsts.entry((&r.meter_id, day)).or_insert(minute);
                }
            }
            firsts.values().sum::<i64>() as f64 / firsts.len() as f64
        };
        let all = run(1.0);
        let (weekday, weekend) = (first_use(&all, false), first_use(&all, true));
        assert!(weekend > weekday + 45.0, "{weekday} {weekend}");
        let (weekday, weekend) = (first_use(&plain, false), first_use(&plain, true));
        assert!((weekend - weekday).abs() < 30.0, "{weekday} {weekend}");
    }
}
