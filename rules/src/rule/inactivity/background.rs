//! A steady background flow — a dripping tap, a toilet that runs slowly —
//! moves the register every hour or two whether anyone is at home or not.
//! Taken as use, it ends every quiet stretch, and a collapse in a home with
//! a dripping tap would never be found (a 0.6 L/h drip moves a 1-litre
//! register every 100 minutes). Nothing else notices a drip that small:
//! `leak_trickle` needs use in every hour.
//!
//! So inactivity and the baseline are given the use *above* that
//! background. A person sleeps, so a home without a leak has three dry
//! hours in a row every day, and its background is zero: its use is passed
//! on unchanged. Where every three hours of the last day held water, the
//! background is the least any six hours held, per hour; half as much
//! again (a drip shows in whole litres) is credited as time passes, up to
//! [`CREDIT_MAX_L`], and use up to the credit is the background's. A person's use (a flush is 6 L) is more than the
//! credit can hold, so it still ends the stretch; a big leak (a running
//! toilet) is more too, and is the flow rules' to report.

use serde::{Deserialize, Serialize};

use crate::text::Language;

const HOUR_MS: i64 = 3_600_000;
/// Hours of use kept: a day.
const HOURS: usize = 24;
/// The kept hours move on this many at a time.
const STEP_HOURS: usize = 6;
/// Hours kept: a day and a step.
const KEPT: usize = HOURS + STEP_HOURS;
/// The quiet a person's day always holds: this many hours in a row.
const QUIET_HOURS: usize = 3;
/// The fastest flow taken for a drip, litres an hour.
const DRIP_MAX_LPH: f64 = 3.0;
/// The most background flow credited ahead of the register.
pub const CREDIT_MAX_L: f64 = 2.0;
/// The background is credited this much faster than measured: a drip
/// shows in whole register steps, so its measured rate runs low.
const CREDIT_FACTOR: f64 = 1.5;
/// An interval longer than this is not spread over hours (a data gap).
const LONGEST_INTERVAL_MS: i64 = QUIET_HOURS as i64 * HOUR_MS;

/// Per meter: the last day's use by hour, and the background credit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Background {
    /// The hour (ms since the epoch / 1 h) of `litres[0]`.
    #[serde(default, skip_serializing_if = "is_zero")]
    from_hour: i64,
    /// Decilitres used in each of the [`KEPT`] hours from `from_hour`
    /// (those not reached yet are 0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dl: Vec<u16>,
    /// The background flow, litres an hour (0: none).
    #[serde(default, skip_serializing_if = "is_zero_f")]
    rate_lph: f64,
    /// Background litres credited and not yet seen on the register.
    #[serde(default, skip_serializing_if = "is_zero_f")]
    credit_l: f64,
}

/// Of `litres` used over `hours`, what a person used, with a drip of
/// `drip_lph` set aside: the drip is credited (half as much again, up to
/// [`CREDIT_MAX_L`]) as time passes, and use within `credit_l` is the
/// drip's. The engine's rule, for anyone who reads a meter's raw register
/// (the dashboard's first water of the day).
pub fn person_share(credit_l: &mut f64, drip_lph: f64, hours: f64, litres: f64) -> f64 {
    *credit_l = (*credit_l + drip_lph * CREDIT_FACTOR * hours).min(CREDIT_MAX_L);
    let drip = litres.max(0.0).min(*credit_l);
    *credit_l -= drip;
    litres - drip
}

/// Litres (never negative here) in whole decilitres, rounded.
fn decilitres(litres: f64) -> u16 {
    (litres * 10.0 + 0.5) as u16
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_f(x: &f64) -> bool {
    *x == 0.0
}

impl Background {
    /// `litres` used over `[start, end)` (ms): what of it was a person's.
    #[inline]
    pub fn person_litres(&mut self, start: i64, end: i64, litres: f64) -> f64 {
        self.record(start, end, litres);
        if self.rate_lph == 0.0 {
            return litres;
        }
        self.absorb(start, end, litres)
    }

    #[cold]
    fn absorb(&mut self, start: i64, end: i64, litres: f64) -> f64 {
        let hours = (end - start).max(0) as f64 / HOUR_MS as f64;
        person_share(&mut self.credit_l, self.rate_lph, hours, litres)
    }

    /// A span whose use is unknown (a data gap, a reset): what is known
    /// starts again.
    pub fn unknown(&mut self) {
        *self = Background::default();
    }

    /// What an inactivity alert adds when a drip is set aside: the
    /// register moved though nobody used water (empty without a drip).
    pub fn note(&self, lang: Language) -> String {
        if self.rate_lph == 0.0 {
            return String::new();
        }
        let rate = format!("{:.1}", self.rate_lph);
        match lang {
            Language::En => format!(
                " A steady drip of about {rate} L an hour is not counted as use (the meter moves with it)."
            ),
            Language::ZhCn => format!("约每小时{rate}升的持续滴漏不计为用水（水表会随之走字）。"),
        }
    }

    /// The background flow now, litres an hour (0: none).
    pub fn rate_lph(&self) -> f64 {
        self.rate_lph
    }

    /// Adds `[start, end)`'s litres to its hours (spread evenly); an
    /// interval too long to place is a gap.
    #[inline]
    fn record(&mut self, start: i64, end: i64, litres: f64) {
        let last = (end - 1).div_euclid(HOUR_MS);
        if last >= self.from_hour + KEPT as i64
            || start < self.from_hour * HOUR_MS
            || end - start > LONGEST_INTERVAL_MS
            || self.dl.len() != KEPT
        {
            self.make_room(start, end, last);
        }
        if litres > 0.0 {
            let i = (last - self.from_hour) as usize;
            if start >= last * HOUR_MS
                && let Some(dl) = self.dl.get_mut(i)
            {
                // Most intervals lie within one hour.
                *dl = dl.saturating_add(decilitres(litres));
            } else {
                self.spread(start, end, litres);
            }
        }
    }

    /// Spreads an interval over the hours it covers.
    #[cold]
    fn spread(&mut self, start: i64, end: i64, litres: f64) {
        let span = (end - start).max(1) as f64;
        let mut t = start;
        while t < end {
            let hour = t.div_euclid(HOUR_MS);
            let until = ((hour + 1) * HOUR_MS).min(end);
            let share = litres * (until - t) as f64 / span;
            if let Some(dl) = usize::try_from(hour - self.from_hour)
                .ok()
                .and_then(|i| self.dl.get_mut(i))
            {
                *dl = dl.saturating_add(decilitres(share));
            }
            t = until;
        }
    }

    /// Moves the kept hours on to hold `last`, working out the background
    /// from the day that passed; starts again after a gap.
    #[cold]
    fn make_room(&mut self, start: i64, end: i64, last: i64) {
        let first = start.div_euclid(HOUR_MS);
        if end - start > LONGEST_INTERVAL_MS || end < start {
            self.unknown();
            return;
        }
        if self.dl.len() != KEPT || first < self.from_hour {
            // Nothing known before this interval (or it came out of order).
            *self = Background {
                from_hour: first,
                dl: vec![0; KEPT],
                ..Background::default()
            };
        }
        let over = last - (self.from_hour + KEPT as i64) + 1;
        if over > 0 {
            // Design: the hours move on `STEP_HOURS` at a time, so the
            // background is worked out four times a day, not every hour.
            self.rate_lph = self.rate_from_day();
            let step = (over as usize).next_multiple_of(STEP_HOURS);
            if step >= KEPT {
                // A whole day and more passed: nothing of it is known.
                *self = Background {
                    from_hour: first,
                    dl: vec![0; KEPT],
                    ..Background::default()
                };
                return;
            }
            self.dl.drain(..step);
            self.dl.resize(KEPT, 0);
            self.from_hour += step as i64;
        }
    }

    /// The background of the kept day, litres an hour: none if any
    /// [`QUIET_HOURS`] in a row were dry (a person sleeps); else the six
    /// hours that held least are its measure (long enough for a drip's
    /// whole-litre steps to average out) — if water showed in at least
    /// half of them, as a drip's does and a person's night visits to the
    /// bathroom do not. 0 unless the whole day is known.
    fn rate_from_day(&self) -> f64 {
        // The day before the hours about to be dropped: all of it known.
        let Some(day) = self.dl.get(KEPT - HOURS..) else {
            return 0.0;
        };
        let sum = |w: &[u16]| w.iter().map(|&d| u32::from(d)).sum::<u32>();
        if day.windows(QUIET_HOURS).any(|w| sum(w) == 0) {
            return 0.0;
        }
        let Some(quietest) = day.windows(2 * QUIET_HOURS).min_by_key(|w| sum(w)) else {
            return 0.0;
        };
        let wet = quietest.iter().filter(|&&d| d > 0).count();
        let rate = f64::from(sum(quietest)) / 10.0 / quietest.len() as f64;
        // A bigger flow is no drip: the flow rules report it, and crediting
        // it would hide a person's small uses as well.
        if 2 * wet < quietest.len() || rate > DRIP_MAX_LPH {
            0.0
        } else {
            rate
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    /// Feeds 15-minute readings of a register that a drip of `lph` moves
    /// in whole litres, plus a person's `uses` (minute, litres), for `days`;
    /// returns the person litres seen in each interval.
    fn feed(lph: f64, days: i64, uses: &[(i64, f64)]) -> (Background, Vec<f64>) {
        let mut b = Background::default();
        let register = |t: i64| {
            let drip = lph * t as f64 / HOUR_MS as f64;
            let used: f64 = uses
                .iter()
                .filter(|(m, _)| m * MIN < t)
                .map(|(_, l)| l)
                .sum();
            (drip + used).floor()
        };
        let mut seen = Vec::new();
        let mut t = 0;
        while t < days * 24 * 60 * MIN {
            let litres = register(t + 15 * MIN) - register(t);
            seen.push(b.person_litres(t, t + 15 * MIN, litres));
            t += 15 * MIN;
        }
        (b, seen)
    }

    #[test]
    fn a_home_without_a_drip_passes_every_litre_on() {
        // A flush at 07:00 and a litre at 13:00 every day, nothing at night.
        let uses: Vec<(i64, f64)> = (0..5)
            .flat_map(|d| [(d * 1440 + 420, 6.0), (d * 1440 + 780, 1.0)])
            .collect();
        let (b, seen) = feed(0.0, 5, &uses);
        assert_eq!(b.rate_lph(), 0.0);
        assert_eq!(seen.iter().sum::<f64>(), 35.0);
    }

    #[test]
    fn a_drip_is_credited_after_a_day_and_a_person_still_shows() {
        // 0.6 L an hour, and a flush at 07:00 on the third day.
        let (b, seen) = feed(0.6, 3, &[(2 * 1440 + 420, 6.0)]);
        assert!((0.3..=0.7).contains(&b.rate_lph()), "{}", b.rate_lph());
        assert!(b.note(Language::ZhCn).contains("升的持续滴漏不计为用水"));
        assert_eq!(Background::default().note(Language::En), "");
        // Once a day and a step are known (30 h), the drip's litres are
        // the background's.
        let day = 96;
        let second: f64 = seen[30 * 4..2 * day].iter().sum();
        assert!(second <= 1.0, "{second}");
        // The flush still shows (less the credit the drip had not used).
        let flush = seen[2 * day + 28];
        assert!(flush >= 4.0, "{flush}");
    }

    #[test]
    fn night_visits_to_the_bathroom_are_no_drip() {
        // Water every two and a half hours, day and night (no three dry
        // hours in a row): a flush each time, nothing between.
        let uses: Vec<(i64, f64)> = (0..4 * 1440 / 150).map(|k| (k * 150, 6.0)).collect();
        let (b, seen) = feed(0.0, 4, &uses);
        assert_eq!(b.rate_lph(), 0.0);
        assert_eq!(seen.iter().sum::<f64>(), 6.0 * uses.len() as f64);
        // And a running toilet (30 L an hour) is not taken for one either.
        let (b, _) = feed(30.0, 3, &[]);
        assert_eq!(b.rate_lph(), 0.0);
    }

    #[test]
    fn a_gap_forgets_the_day() {
        let (mut b, _) = feed(0.6, 2, &[]);
        assert!(b.rate_lph() > 0.0);
        b.person_litres(2 * 24 * HOUR_MS, 2 * 24 * HOUR_MS + 6 * HOUR_MS, 4.0);
        assert_eq!(b, Background::default());
    }
}
