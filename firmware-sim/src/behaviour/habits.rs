//! One person's habits, drawn once per household from the seed.

use rand::Rng;

use crate::clock::{HOUR, MINUTE};

/// One person's habits, fixed for the whole simulation.
#[derive(Clone, Debug)]
pub(crate) struct Habits {
    /// Usual wake time, seconds after local midnight.
    pub wake: i64,
    /// Usual bedtime, seconds after local midnight.
    pub bed: i64,
    /// Mean flushes a day, night ones included.
    pub(super) flushes_per_day: f64,
    /// Chance of a second night flush.
    pub(super) second_night_flush: f64,
    /// Cistern volume, litres.
    pub(super) cistern_l: f64,
    /// Cistern refill rate, L/min.
    pub(super) refill_lpm: f64,
    /// Chance of a shower on a given day.
    pub(super) shower_chance: f64,
    /// Shower head flow, L/min.
    pub(super) shower_lpm: f64,
    /// Showers in the evening rather than the morning.
    pub(super) evening_shower: bool,
    /// Usual tap flow, L/min.
    pub(super) tap_lpm: f64,
    /// Usual lunch time, seconds after local midnight.
    pub(super) lunch: i64,
    /// Usual dinner time, seconds after local midnight.
    pub(super) dinner: i64,
    /// Chance of a laundry load on a given day.
    pub(super) laundry_chance: f64,
    /// Chance of an afternoon out on a given day (a habit: 0.03–0.85).
    pub outing_chance: f64,
    /// Chance of a whole day out (leaving after breakfast, back for dinner).
    pub day_out_chance: f64,
    /// Chance, on a day at home, of leaving for a trip of several days.
    pub trip_chance: f64,
    /// Chance of visitors on a given day.
    pub(super) visitor_chance: f64,
    /// Chance of a late morning (waking 1–2.5 h late).
    pub(super) late_rise_chance: f64,
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
