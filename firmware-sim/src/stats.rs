//! Statistics of a household's water use from hourly volumes, computed the
//! same way for simulated and real meters so they can be compared: daily
//! volume, quiet nights, the longest daytime gaps, quiet afternoons.
//!
//! Days count only when all 24 hours are known. "Night" is the hours
//! starting 02:00, 03:00 and 04:00; "daytime" 07:00–22:00; a "quiet
//! afternoon" is a day with at least two consecutive zero-use hours between
//! 13:00 and 19:00 (a proxy for going out that real data allows; a person at
//! home can be quiet too).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, Timelike};

use crate::reading::SimReading;

/// One household's statistics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HourlyStats {
    /// Litres on each complete day.
    pub daily_l: Vec<f64>,
    /// Night hours (02–05) seen, and how many had no use.
    pub night_hours: u64,
    pub night_zero_hours: u64,
    /// Longest run of zero-use hours between 07:00 and 22:00, per complete day.
    pub day_gap_h: Vec<f64>,
    /// Complete days with a quiet afternoon.
    pub quiet_afternoons: u64,
    /// All hours seen, and how many had no use.
    pub hours: u64,
    pub zero_hours: u64,
}

impl HourlyStats {
    /// From `(local hour start, litres)` pairs, in any order; hours may be missing.
    pub fn from_hourly(hours: &[(NaiveDateTime, f64)]) -> HourlyStats {
        let mut days: BTreeMap<NaiveDate, [Option<f64>; 24]> = BTreeMap::new();
        let mut s = HourlyStats::default();
        for &(at, l) in hours {
            days.entry(at.date()).or_insert([None; 24])[at.hour() as usize] = Some(l);
            s.hours += 1;
            s.zero_hours += u64::from(l <= 0.0);
            if (2..5).contains(&at.hour()) {
                s.night_hours += 1;
                s.night_zero_hours += u64::from(l <= 0.0);
            }
        }
        for day in days.values() {
            if day.iter().any(Option::is_none) {
                continue;
            }
            let l: Vec<f64> = day.iter().map(|v| v.unwrap_or(0.0)).collect();
            s.daily_l.push(l.iter().sum());
            s.day_gap_h.push(longest_zero_run(&l[7..22]) as f64);
            if longest_zero_run(&l[13..19]) >= 2 {
                s.quiet_afternoons += 1;
            }
        }
        s
    }

    /// Complete days.
    pub fn days(&self) -> usize {
        self.daily_l.len()
    }

    /// Share of night hours (02–05) without use.
    pub fn night_zero_share(&self) -> f64 {
        ratio(self.night_zero_hours, self.night_hours)
    }

    /// Quiet afternoons per week.
    pub fn quiet_afternoons_per_week(&self) -> f64 {
        ratio(self.quiet_afternoons, self.days() as u64) * 7.0
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

fn longest_zero_run(hours: &[f64]) -> usize {
    let (mut best, mut run) = (0, 0);
    for &l in hours {
        run = if l <= 0.0 { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// The `p`-quantile (0–1) of `values` by linear interpolation; NaN when empty.
pub fn quantile(values: &[f64], p: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = p.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Pooled statistics of several households.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub households: usize,
    pub days: usize,
    /// Daily volume over all household-days, litres: median, 5th and 95th percentile.
    pub daily_median_l: f64,
    pub daily_p5_l: f64,
    pub daily_p95_l: f64,
    /// Share of household-days within 60–180 L.
    pub days_60_180: f64,
    /// Share of all hours without use.
    pub zero_hour_share: f64,
    /// Share of night hours (02–05) without use.
    pub night_zero_share: f64,
    /// Lowest household's night zero-use share.
    pub night_zero_share_min: f64,
    /// Longest daytime gap per day, hours: median and 90th percentile.
    pub day_gap_median_h: f64,
    pub day_gap_p90_h: f64,
    /// Quiet afternoons per week: median over households, and the range.
    pub quiet_afternoons_median: f64,
    pub quiet_afternoons_min: f64,
    pub quiet_afternoons_max: f64,
}

impl Summary {
    pub fn of(all: &[HourlyStats]) -> Summary {
        let daily: Vec<f64> = all.iter().flat_map(|s| s.daily_l.iter().copied()).collect();
        let gaps: Vec<f64> = all
            .iter()
            .flat_map(|s| s.day_gap_h.iter().copied())
            .collect();
        let sum = |f: fn(&HourlyStats) -> u64| all.iter().map(f).sum::<u64>();
        let quiet: Vec<f64> = all
            .iter()
            .filter(|s| s.days() > 0)
            .map(HourlyStats::quiet_afternoons_per_week)
            .collect();
        let nights: Vec<f64> = all.iter().map(HourlyStats::night_zero_share).collect();
        Summary {
            households: all.len(),
            days: daily.len(),
            daily_median_l: quantile(&daily, 0.5),
            daily_p5_l: quantile(&daily, 0.05),
            daily_p95_l: quantile(&daily, 0.95),
            days_60_180: daily.iter().filter(|v| (60.0..=180.0).contains(*v)).count() as f64
                / daily.len().max(1) as f64,
            zero_hour_share: ratio(sum(|s| s.zero_hours), sum(|s| s.hours)),
            night_zero_share: ratio(sum(|s| s.night_zero_hours), sum(|s| s.night_hours)),
            night_zero_share_min: quantile(&nights, 0.0),
            day_gap_median_h: quantile(&gaps, 0.5),
            day_gap_p90_h: quantile(&gaps, 0.9),
            quiet_afternoons_median: quantile(&quiet, 0.5),
            quiet_afternoons_min: quantile(&quiet, 0.0),
            quiet_afternoons_max: quantile(&quiet, 1.0),
        }
    }
}

/// Hourly use per meter from readings (hourly or finer, in time order per
/// meter): the rise of the register between consecutive readings, credited
/// to the local hour the earlier one falls in. Rises across a gap of more
/// than an hour, and falls (a reset), are left out.
pub fn hourly_use_of(readings: &[SimReading]) -> BTreeMap<String, Vec<(NaiveDateTime, f64)>> {
    let mut last: BTreeMap<&str, &SimReading> = BTreeMap::new();
    let mut hours: BTreeMap<String, BTreeMap<NaiveDateTime, f64>> = BTreeMap::new();
    for r in readings {
        if let Some(prev) = last.insert(&r.meter_id, r) {
            let span = (r.ts - prev.ts).num_seconds();
            let rise = r.total_l - prev.total_l;
            if span <= 0 || span > 3600 || rise < 0.0 {
                continue;
            }
            let local = prev.ts.naive_local();
            let hour = local
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .unwrap_or(local);
            *hours
                .entry(r.meter_id.clone())
                .or_default()
                .entry(hour)
                .or_default() += rise;
        }
    }
    hours
        .into_iter()
        .map(|(id, h)| (id, h.into_iter().collect()))
        .collect()
}

/// A Markdown table of the summary, one row per statistic.
pub fn stats_table(s: &Summary) -> String {
    format!(
        "| statistic | value |\n|---|---|\n\
         | households × complete days | {} × {:.0} |\n\
         | daily volume, median (p5–p95) | {:.0} L ({:.0}–{:.0}) |\n\
         | household-days within 60–180 L | {:.0} % |\n\
         | zero-use hours, all day | {:.0} % |\n\
         | zero-use hours 02–05 (lowest household) | {:.0} % ({:.0} %) |\n\
         | longest daytime gap 07–22, median (p90) | {:.0} h ({:.0} h) |\n\
         | quiet afternoons (≥ 2 h zero 13–19) per week, median (range) | {:.1} ({:.1}–{:.1}) |\n",
        s.households,
        s.days as f64 / s.households.max(1) as f64,
        s.daily_median_l,
        s.daily_p5_l,
        s.daily_p95_l,
        s.days_60_180 * 100.0,
        s.zero_hour_share * 100.0,
        s.night_zero_share * 100.0,
        s.night_zero_share_min * 100.0,
        s.day_gap_median_h,
        s.day_gap_p90_h,
        s.quiet_afternoons_median,
        s.quiet_afternoons_min,
        s.quiet_afternoons_max,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn a_day_counts_only_when_complete_and_gaps_are_measured_in_daytime() {
        let mut hours: Vec<(NaiveDateTime, f64)> = (0..24)
            .map(|h| (hour(5, h), if (9..14).contains(&h) { 0.0 } else { 5.0 }))
            .collect();
        hours.push((hour(6, 3), 0.0));
        let s = HourlyStats::from_hourly(&hours);
        assert_eq!(s.daily_l, [95.0]);
        assert_eq!(s.day_gap_h, [5.0]);
        assert_eq!((s.night_hours, s.night_zero_hours), (4, 1));
        assert_eq!(s.quiet_afternoons, 0, "only 13:00 is quiet");
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[0.0, 10.0], 0.9), 9.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
