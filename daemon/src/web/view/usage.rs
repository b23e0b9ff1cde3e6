//! A household's hourly water use over the last days against its usual
//! band, from its meters' stored readings.

use super::{DAY_MS, HOUR_MS};
use crate::store::dashboard::Sample;

/// Hourly use and the usual band for each hour of the last `days` days.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageSeries {
    /// Local midnight (as UTC ms) of the first day shown.
    pub start_ms: i64,
    pub utc_offset_s: i64,
    /// Litres per hour; `None` where no reading covers the hour.
    pub hours: Vec<Option<f64>>,
    /// Per hour of day: the 10th and 90th percentile of use over the weeks
    /// before; `None` where those weeks say nothing.
    pub band: [Option<(f64, f64)>; 24],
}

/// Spans longer than this between readings are not spread over the hours:
/// when in them the water was used cannot be known.
const LONGEST_SPREAD_MS: i64 = 6 * HOUR_MS;
/// A delta above this is a counter glitch, not use.
const LARGEST_PLAUSIBLE_L_PER_HOUR: f64 = 2_000.0;

/// `samples` (all of a household's meters, each in time order) turned into
/// hourly use for the `days` days ending today, and the usual band from the
/// `band_days` before them.
pub fn usage_series(meters: &[Vec<Sample>], now_ms: i64, days: i64, band_days: i64) -> UsageSeries {
    let offset_s = meters
        .iter()
        .filter_map(|s| s.last())
        .map(|s| s.utc_offset_s)
        .next()
        .unwrap_or(0);
    let local = now_ms + offset_s * 1000;
    let today = local - local.rem_euclid(DAY_MS) - offset_s * 1000;
    let start_ms = today - (days - 1) * DAY_MS;
    let band_start = start_ms - band_days * DAY_MS;
    let total_hours = ((days + band_days) * 24) as usize;
    let mut litres = vec![0.0f64; total_hours];
    let mut covered = vec![false; total_hours];
    for samples in meters {
        for pair in samples.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let span = b.ts_ms - a.ts_ms;
            let delta = b.total_l - a.total_l;
            let hours = span as f64 / HOUR_MS as f64;
            if span <= 0
                || span > LONGEST_SPREAD_MS
                || delta < 0.0
                || delta > LARGEST_PLAUSIBLE_L_PER_HOUR * hours.max(1.0)
            {
                continue;
            }
            spread(
                &mut litres,
                &mut covered,
                band_start,
                a.ts_ms,
                b.ts_ms,
                delta,
            );
        }
    }
    let at = |i: usize| covered[i].then_some(litres[i]);
    let band_hours = (band_days * 24) as usize;
    let hours = (band_hours..total_hours).map(at).collect();
    let mut band = [None; 24];
    for (h, slot) in band.iter_mut().enumerate() {
        let mut values: Vec<f64> = (0..band_days as usize)
            .filter_map(|d| at(d * 24 + h))
            .collect();
        if values.len() >= 3 {
            values.sort_by(f64::total_cmp);
            *slot = Some((quantile(&values, 0.1), quantile(&values, 0.9)));
        }
    }
    UsageSeries {
        start_ms,
        utc_offset_s: offset_s,
        hours,
        band,
    }
}

/// Spread `litres` used between `from` and `to` evenly over the hours they
/// overlap (hours counted from `origin`).
fn spread(out: &mut [f64], covered: &mut [bool], origin: i64, from: i64, to: i64, litres: f64) {
    let span = (to - from) as f64;
    let mut t = from;
    while t < to {
        let index = (t - origin).div_euclid(HOUR_MS);
        let hour_end = origin + (index + 1) * HOUR_MS;
        let end = hour_end.min(to);
        if index >= 0
            && let Some(slot) = out.get_mut(index as usize)
        {
            *slot += litres * (end - t) as f64 / span;
            covered[index as usize] = true;
        }
        t = end;
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    let w = position - low as f64;
    sorted[low] * (1.0 - w) + sorted[high] * w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ts_ms: i64, total_l: f64) -> Sample {
        Sample {
            ts_ms,
            total_l,
            utc_offset_s: 0,
        }
    }

    #[test]
    fn use_is_spread_over_the_hours_between_readings_and_glitches_are_skipped() {
        let day = 40 * DAY_MS;
        let now = day + 12 * HOUR_MS;
        let samples = vec![
            sample(day + 6 * HOUR_MS, 100.0),
            // 30 L over 07:00-08:00 and 08:00-09:00 (two hours, a 2 h span).
            sample(day + 8 * HOUR_MS, 130.0),
            // A counter reset: no use shown for 08:00-09:00.
            sample(day + 9 * HOUR_MS, 5.0),
            // A 10 h gap: unknown, not zero.
            sample(day + 19 * HOUR_MS, 50.0),
        ];
        let series = usage_series(&[samples], now, 1, 0);
        assert_eq!(series.start_ms, day);
        assert_eq!(series.hours.len(), 24);
        assert_eq!(series.hours[6], Some(15.0));
        assert_eq!(series.hours[7], Some(15.0));
        assert_eq!(series.hours[8], None);
        assert_eq!(series.hours[12], None);
    }

    #[test]
    fn the_band_needs_three_days_of_an_hour() {
        let mut samples = Vec::new();
        for d in 0..5 {
            let day = (30 + d) * DAY_MS;
            samples.push(sample(day + 7 * HOUR_MS, d as f64 * 100.0));
            samples.push(sample(
                day + 8 * HOUR_MS,
                d as f64 * 100.0 + 10.0 + d as f64,
            ));
        }
        let series = usage_series(&[samples], 35 * DAY_MS + HOUR_MS, 1, 5);
        let (low, high) = series.band[7].unwrap();
        assert!(low >= 10.0 && high <= 14.0 && low < high, "{low} {high}");
        assert_eq!(series.band[9], None);
    }
}
