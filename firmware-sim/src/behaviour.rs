//! What one elderly person living alone does with water: habits drawn once per
//! household from the seed, and each day's water uses drawn from those habits.
//!
//! A water use is a [`WaterEvent`]: a start, an end and a constant rate. The
//! numbers follow published end-use studies, scaled to one older person:
//!
//! - SIMDEUM (Blokker, Vreeburg & van Dijk, "Simulating residential water
//!   demand with a stochastic end-use model", J. Water Resour. Plann. Manage.
//!   136(1), 2010) and its Python port pysimdeum (KWR Water Research,
//!   `pysimdeum/data/NL/end_uses/*.toml`): a *senior* flushes the toilet
//!   7.2 times a day (Poisson), showers on 69 % of days for a mean of 6.5 min,
//!   and a cistern (6 or 9 L) refills slowly at ~0.04 L/s, over 2.4–3.6 min;
//!   kitchen taps are ~10 short uses a day (≈15 s, up to 10 L/min) peaking
//!   around meals, bathroom taps ~4 a day; a one-person household runs the
//!   washing machine 0.32 times a day at ~50 L.
//! - Residential End Uses of Water, Version 2 (DeOreo et al., Water Research
//!   Foundation, 2016): per-capita indoor use of ~140 L/day split mainly into
//!   toilets, showers, faucets and clothes washers, with faucet uses of a few
//!   litres and shower flow rates of 6–10 L/min.
//!
//! The result: households average 90–155 L a day (≈118 L overall); single
//! days range ~65–180 L (5th–95th percentile), with shower and laundry days on
//! top. Each day has one or two night flushes, a morning and an evening
//! routine that shift ±30 min day to day, meals, and sometimes an afternoon
//! out with no water use at all.
//!
//! Life around the routine — what makes fixed-threshold inactivity alarms
//! fire falsely in the real programmes (Sakaki, Japan: 68 % of its
//! 2.3 false alarms per person-month were no-use cases: late rising, hospital,
//! nights away) — is drawn per household too: how often the person goes out
//! in the afternoon (a habit: some most days, some hardly ever), whole days
//! out, trips away of several days, days with visitors, and late mornings.
//! These frequencies are *our assumptions*, not taken from the end-use
//! studies above (which model a day at home); `docs/simulator.md` compares
//! the result with real single-person homes (DAIAD, Spain).

use rand::Rng;

use crate::clock::{DAY, HOUR, MINUTE};

/// What a water use is; kept for tests and for future behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Use {
    Flush,
    BathroomTap,
    KitchenTap,
    Shower,
    Laundry,
    /// Extra kitchen and toilet use while visitors are in.
    Visitors,
    /// A tap nobody closes (scenario).
    TapLeftOpen,
    /// A toilet valve that never closes: a slow trickle (scenario).
    RunningToilet,
    /// A burst pipe (scenario).
    Burst,
}

impl Use {
    /// Whether a person does this (and so stops doing it when they collapse);
    /// a running tap or a burst pipe goes on regardless.
    pub(crate) fn is_personal(self) -> bool {
        !matches!(self, Use::TapLeftOpen | Use::Burst | Use::RunningToilet)
    }
}

/// One water use: flow at `lpm` litres per minute from `start` to `end`
/// (local seconds; `end` is [`i64::MAX`] for a flow that never stops).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WaterEvent {
    pub start: i64,
    pub end: i64,
    pub lpm: f64,
    pub kind: Use,
}

impl WaterEvent {
    /// A use of `litres` at about `lpm`, lasting whole seconds (at least one);
    /// the rate is adjusted so the volume is exact.
    pub(crate) fn of_volume(start: i64, litres: f64, lpm: f64, kind: Use) -> WaterEvent {
        let secs = (litres / lpm * 60.0).round().max(1.0) as i64;
        WaterEvent {
            start,
            end: start + secs,
            lpm: litres * 60.0 / secs as f64,
            kind,
        }
    }

    /// A flow that starts at `start` and never stops.
    pub(crate) fn open_ended(start: i64, lpm: f64, kind: Use) -> WaterEvent {
        WaterEvent {
            start,
            end: i64::MAX,
            lpm,
            kind,
        }
    }

    /// Litres delivered between `start` and `t`.
    pub(crate) fn litres_until(&self, t: i64) -> f64 {
        if t <= self.start {
            return 0.0;
        }
        (t.min(self.end) - self.start) as f64 * self.lpm / 60.0
    }

    /// Total litres (infinite for an open-ended flow).
    pub(crate) fn litres(&self) -> f64 {
        if self.end == i64::MAX {
            f64::INFINITY
        } else {
            self.litres_until(self.end)
        }
    }
}

/// One person's habits, fixed for the whole simulation.
#[derive(Clone, Debug)]
pub(crate) struct Habits {
    /// Usual wake time, seconds after local midnight.
    pub wake: i64,
    /// Usual bedtime, seconds after local midnight.
    pub bed: i64,
    /// Mean flushes a day, night ones included.
    flushes_per_day: f64,
    /// Chance of a second night flush.
    second_night_flush: f64,
    /// Cistern volume, litres.
    cistern_l: f64,
    /// Cistern refill rate, L/min.
    refill_lpm: f64,
    /// Chance of a shower on a given day.
    shower_chance: f64,
    /// Shower head flow, L/min.
    shower_lpm: f64,
    /// Showers in the evening rather than the morning.
    evening_shower: bool,
    /// Usual tap flow, L/min.
    tap_lpm: f64,
    /// Usual lunch time, seconds after local midnight.
    lunch: i64,
    /// Usual dinner time, seconds after local midnight.
    dinner: i64,
    /// Chance of a laundry load on a given day.
    laundry_chance: f64,
    /// Chance of an afternoon out on a given day (a habit: 0.03–0.85).
    pub outing_chance: f64,
    /// Chance of a whole day out (leaving after breakfast, back for dinner).
    pub day_out_chance: f64,
    /// Chance, on a day at home, of leaving for a trip of several days.
    pub trip_chance: f64,
    /// Chance of visitors on a given day.
    visitor_chance: f64,
    /// Chance of a late morning (waking 1–2.5 h late).
    late_rise_chance: f64,
    /// How much later this person gets up on Saturdays and Sundays,
    /// seconds: 0 unless the fleet gives a share of households a weekly
    /// rhythm ([`Fleet::with_weekend_share`](crate::Fleet::with_weekend_share)).
    pub weekend_lie_in: i64,
}

impl Habits {
    pub(crate) fn draw(rng: &mut impl Rng) -> Habits {
        Habits {
            wake: rng.random_range(6 * HOUR + 30 * MINUTE..=8 * HOUR),
            bed: rng.random_range(21 * HOUR + 30 * MINUTE..=23 * HOUR),
            flushes_per_day: rng.random_range(6.0..7.5),
            second_night_flush: rng.random_range(0.2..0.6),
            // A modern 6 L cistern or an older 7.5–9 L one.
            cistern_l: if rng.random_bool(0.5) {
                rng.random_range(6.0..6.5)
            } else {
                rng.random_range(7.5..9.0)
            },
            refill_lpm: rng.random_range(2.5..4.0),
            shower_chance: rng.random_range(0.55..0.8),
            shower_lpm: rng.random_range(6.0..10.0),
            evening_shower: rng.random_bool(0.4),
            tap_lpm: rng.random_range(4.0..8.0),
            lunch: rng.random_range(11 * HOUR + 30 * MINUTE..=12 * HOUR + 30 * MINUTE),
            dinner: rng.random_range(17 * HOUR + 30 * MINUTE..=18 * HOUR + 30 * MINUTE),
            laundry_chance: rng.random_range(1.5..3.0) / 7.0,
            // Three kinds of people: homebodies, some afternoons, most afternoons.
            outing_chance: match rng.random_range(0..10) {
                0..3 => rng.random_range(0.03..0.15),
                3..7 => rng.random_range(0.15..0.45),
                _ => rng.random_range(0.55..0.85),
            },
            // About 0.2–1.2 whole days out a month.
            day_out_chance: rng.random_range(0.007..0.04),
            // Two in five never travel; the others leave every ~1–6 months.
            trip_chance: if rng.random_bool(0.4) {
                0.0
            } else {
                rng.random_range(1.0 / 180.0..1.0 / 30.0)
            },
            visitor_chance: rng.random_range(0.03..0.15),
            late_rise_chance: rng.random_range(0.03..0.15),
            // Not drawn: a fleet without a weekend share draws exactly as before.
            weekend_lie_in: 0,
        }
    }
}

/// Whether the local day starting at `day` (local seconds; 1970-01-01 was a
/// Thursday) is a Saturday or Sunday.
pub(crate) fn is_weekend(day: i64) -> bool {
    matches!((day.div_euclid(DAY) + 3).rem_euclid(7), 5 | 6)
}

/// How a scenario bends one day's routine (a slow decline in health).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Vigour {
    /// Share of the day's personal uses that still happen (1 = all).
    pub uses: f64,
    /// How much shorter the waking day is, seconds (split between a later
    /// rising and an earlier bedtime).
    pub shorter_day: i64,
}

impl Vigour {
    pub(crate) const FULL: Vigour = Vigour {
        uses: 1.0,
        shorter_day: 0,
    };
}

/// What a planned day looked like, for the household's own bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DayOutline {
    /// Waking up, local seconds.
    pub wake: i64,
    /// Going to bed, local seconds.
    pub bed: i64,
    /// An afternoon out: `[from, until)`, local seconds.
    pub outing: Option<(i64, i64)>,
    /// Visitors came.
    pub visitors: bool,
}

/// Appends the water uses of the day starting at `day` (local midnight, in
/// local seconds) to `out`: from waking on that day until waking the next,
/// night flushes included. Every use starts after `day` and before the next
/// day's earliest possible wake-up.
pub(crate) fn plan_day(
    h: &Habits,
    rng: &mut impl Rng,
    day: i64,
    vigour: Vigour,
    out: &mut Vec<WaterEvent>,
) -> DayOutline {
    let first = out.len();
    let mut wake = day + h.wake + rng.random_range(-30 * MINUTE..=30 * MINUTE);
    if is_weekend(day) {
        wake += h.weekend_lie_in;
    }
    if rng.random_bool(h.late_rise_chance) {
        wake += rng.random_range(HOUR..=5 * HOUR / 2);
    }
    let bed = day + h.bed + rng.random_range(-30 * MINUTE..=30 * MINUTE);
    let wake = wake + vigour.shorter_day / 2;
    let bed = bed - vigour.shorter_day / 2;
    let mut plan = Planner { h, out };

    // Morning: the toilet, a wash, breakfast.
    plan.flush(wake + rng.random_range(MINUTE..10 * MINUTE), rng);
    plan.bathroom_tap(
        wake + rng.random_range(5 * MINUTE..20 * MINUTE),
        1.0,
        2.5,
        rng,
    );
    plan.meal(wake + rng.random_range(20 * MINUTE..50 * MINUTE), rng);
    // Lunch and dinner, each a cluster of kitchen-tap uses.
    plan.meal(
        day + h.lunch + rng.random_range(-20 * MINUTE..=20 * MINUTE),
        rng,
    );
    plan.meal(
        day + h.dinner + rng.random_range(-20 * MINUTE..=20 * MINUTE),
        rng,
    );

    // The rest of the day's flushes, spread over the waking hours.
    let night_flushes = 1 + usize::from(rng.random_bool(h.second_night_flush));
    let day_flushes = (h.flushes_per_day - night_flushes as f64 - 1.0 + rng.random_range(-1.0..1.0))
        .round()
        .max(1.0) as usize;
    for _ in 0..day_flushes {
        let at = rng.random_range(wake + 30 * MINUTE..bed - 10 * MINUTE);
        plan.flush(at, rng);
        if rng.random_bool(0.5) {
            plan.bathroom_tap(at + rng.random_range(20..60), 0.5, 1.5, rng);
        }
    }

    if rng.random_bool(h.shower_chance) {
        let at = if h.evening_shower {
            bed - rng.random_range(40 * MINUTE..90 * MINUTE)
        } else {
            wake + rng.random_range(15 * MINUTE..60 * MINUTE)
        };
        // Right-skewed around 6.5 min, as pysimdeum's chi-square for seniors.
        let minutes = (6.2 * normal(rng, 0.0, 0.22).exp()).clamp(3.5, 12.0);
        let lpm = h.shower_lpm * rng.random_range(0.9..1.1);
        plan.out
            .push(WaterEvent::of_volume(at, minutes * lpm, lpm, Use::Shower));
    } else {
        // No shower: a basin wash or foot soak instead.
        plan.bathroom_tap(
            bed - rng.random_range(30 * MINUTE..60 * MINUTE),
            8.0,
            15.0,
            rng,
        );
    }

    if rng.random_bool(h.laundry_chance) {
        // A washing machine takes ~50 L over an hour in four fills.
        let mut at = day + rng.random_range(9 * HOUR..16 * HOUR);
        let litres: f64 = rng.random_range(40.0..55.0);
        for _ in 0..4 {
            plan.out.push(WaterEvent::of_volume(
                at,
                litres / 4.0,
                rng.random_range(8.0..12.0),
                Use::Laundry,
            ));
            at += rng.random_range(12 * MINUTE..20 * MINUTE);
        }
    }

    // Evening wash, then the night's flushes while the household sleeps.
    plan.bathroom_tap(
        bed - rng.random_range(5 * MINUTE..20 * MINUTE),
        1.0,
        2.5,
        rng,
    );
    let night_end = day + DAY + h.wake - 45 * MINUTE;
    for _ in 0..night_flushes {
        let at = rng.random_range(bed + 30 * MINUTE..night_end);
        plan.flush(at, rng);
    }

    // Visitors: tea, a bigger meal and its washing-up, more flushes.
    let visitors = rng.random_bool(h.visitor_chance);
    if visitors {
        let mut plan = Planner { h, out };
        let at = day + rng.random_range(10 * HOUR..16 * HOUR);
        for _ in 0..rng.random_range(3..=5) {
            let litres = rng.random_range(1.0..4.0);
            plan.out.push(WaterEvent::of_volume(
                at + rng.random_range(0..3 * HOUR),
                litres,
                h.tap_lpm,
                Use::Visitors,
            ));
        }
        for _ in 0..rng.random_range(1..=3) {
            plan.flush(at + rng.random_range(0..4 * HOUR), rng);
        }
    }

    // An afternoon out (1.5–4 h): nothing runs while nobody is home.
    let mut outing = None;
    if rng.random_bool(h.outing_chance) {
        let from = day + rng.random_range(13 * HOUR..15 * HOUR + 30 * MINUTE);
        let until = from + rng.random_range(3 * HOUR / 2..=7 * HOUR / 2);
        remove_between(out, first, from, until);
        outing = Some((from, until));
    }

    // A weaker person does less: some uses simply do not happen.
    if vigour.uses < 1.0 {
        let keep = vigour.uses.clamp(0.0, 1.0);
        let mut i = first;
        while i < out.len() {
            if rng.random_bool(keep) {
                i += 1;
            } else {
                out.swap_remove(i);
            }
        }
    }
    DayOutline {
        wake,
        bed,
        outing,
        visitors,
    }
}

/// Removes the uses from index `first` on that start in `[from, until)`.
pub(crate) fn remove_between(out: &mut Vec<WaterEvent>, first: usize, from: i64, until: i64) {
    let mut i = first;
    while i < out.len() {
        if (from..until).contains(&out[i].start) {
            out.swap_remove(i);
        } else {
            i += 1;
        }
    }
}

/// Adds the common uses to a day's plan.
struct Planner<'a> {
    h: &'a Habits,
    out: &'a mut Vec<WaterEvent>,
}

impl Planner<'_> {
    fn flush(&mut self, at: i64, rng: &mut impl Rng) {
        let litres = self.h.cistern_l * rng.random_range(0.95..1.05);
        self.out.push(WaterEvent::of_volume(
            at,
            litres,
            self.h.refill_lpm,
            Use::Flush,
        ));
    }

    fn bathroom_tap(&mut self, at: i64, min_l: f64, max_l: f64, rng: &mut impl Rng) {
        let litres = rng.random_range(min_l..max_l);
        self.out.push(WaterEvent::of_volume(
            at,
            litres,
            self.h.tap_lpm * 0.7,
            Use::BathroomTap,
        ));
    }

    /// Two to four kitchen-tap uses of 0.5–5 L (mostly small) within ~40 min.
    fn meal(&mut self, at: i64, rng: &mut impl Rng) {
        for _ in 0..rng.random_range(2..=4) {
            let u: f64 = rng.random();
            let litres = 0.5 + 4.5 * u * u * u;
            let start = at + rng.random_range(0..40 * MINUTE);
            let lpm = self.h.tap_lpm * rng.random_range(0.8..1.2);
            self.out
                .push(WaterEvent::of_volume(start, litres, lpm, Use::KitchenTap));
        }
    }
}

/// A normally distributed draw (Box–Muller).
fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn days(seed: u64, n: i64) -> (Habits, Vec<Vec<WaterEvent>>) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let habits = Habits::draw(&mut rng);
        let days = (0..n)
            .map(|d| {
                let mut out = Vec::new();
                plan_day(&habits, &mut rng, d * DAY, Vigour::FULL, &mut out);
                out
            })
            .collect();
        (habits, days)
    }

    #[test]
    fn a_fixed_volume_use_delivers_exactly_that_volume() {
        let ev = WaterEvent::of_volume(100, 7.3, 2.5, Use::Flush);
        assert!((ev.litres() - 7.3).abs() < 1e-9);
        assert_eq!(ev.litres_until(100), 0.0);
        assert!(ev.litres_until(ev.start + 60) < 7.3);
    }

    #[test]
    fn an_open_ended_flow_grows_linearly_forever() {
        let ev = WaterEvent::open_ended(0, 6.0, Use::TapLeftOpen);
        assert_eq!(ev.litres_until(600), 60.0);
        assert!(ev.litres().is_infinite());
        assert!(!ev.kind.is_personal());
    }

    #[test]
    fn every_use_of_a_day_starts_within_that_day_before_the_next_wake_up() {
        for seed in 0..50 {
            let (habits, days) = days(seed, 7);
            let earliest_wake = habits.wake - 30 * MINUTE;
            for (d, events) in days.iter().enumerate() {
                let day = d as i64 * DAY;
                for ev in events {
                    assert!(ev.start > day, "{ev:?} starts before its day");
                    assert!(
                        ev.start < day + DAY + earliest_wake,
                        "{ev:?} runs into the next morning"
                    );
                    assert!(ev.end > ev.start);
                }
            }
        }
    }

    #[test]
    fn a_person_flushes_about_seven_times_a_day_with_one_or_two_at_night() {
        let (_, all) = days(7, 60);
        let flushes: usize = all
            .iter()
            .flatten()
            .filter(|e| e.kind == Use::Flush)
            .count();
        let per_day = flushes as f64 / 60.0;
        assert!((5.0..=9.0).contains(&per_day), "{per_day} flushes a day");
        for (d, events) in all.iter().enumerate() {
            let night = (d as i64 + 1) * DAY;
            let at_night = events
                .iter()
                .filter(|e| e.start >= night && e.start < night + 5 * HOUR)
                .count();
            assert!(
                at_night <= 2,
                "{at_night} flushes after midnight on day {d}"
            );
        }
    }
}
