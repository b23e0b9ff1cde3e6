//! One day's water uses, drawn from a person's habits: [`plan_day`].

use rand::Rng;

use super::{Habits, Use, WaterEvent};
use crate::clock::{DAY, HOUR, MINUTE};

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
