//! The statistics of `meter-sim stats`, computed on the DAIAD hourly
//! extract of single-person and elderly households (real meters, Spain), for
//! `docs/simulator.md`. The data is not in the repository (CC-BY-SA 4.0,
//! "DAIAD project"); pass its path:
//!
//! ```text
//! cargo run -p meter-sim --example daiad_stats -- /work/shared/data/daiad/daiad_swmA_single_and_elderly_hourly.csv
//! ```
//!
//! Each row's `diff_l` is the use since the previous row (about an hour
//! earlier, at a per-meter minute); it is credited to the hour its midpoint
//! falls in. Rows more than 90 min after the previous one, negative
//! differences and more than 2 000 L in an hour are left out as faults.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime, Timelike};
use meter_sim::{HourlyStats, Summary, quantile, stats_table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: daiad_stats PATH/daiad_swmA_single_and_elderly_hourly.csv")?;
    let text = std::fs::read_to_string(&path)?;
    let mut rows: BTreeMap<(String, String), Vec<(NaiveDateTime, f64)>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(';').collect();
        if f.len() < 5 {
            continue;
        }
        let Ok(at) = NaiveDateTime::parse_from_str(f[2], "%d/%m/%Y %H:%M:%S") else {
            continue;
        };
        let Ok(total) = f[3].trim().parse::<f64>() else {
            continue;
        };
        rows.entry((f[0].to_string(), f[1].to_string()))
            .or_default()
            .push((at, total));
    }
    let mut all = Vec::new();
    let mut singles = Vec::new();
    println!(
        "household      days  median_l  p5_l  p95_l  night_zero  gap_med_h  gap_p90_h  quiet_aft/wk"
    );
    for ((key, household), mut r) in rows {
        r.sort_by_key(|x| x.0);
        let mut hours: BTreeMap<NaiveDateTime, f64> = BTreeMap::new();
        for w in r.windows(2) {
            let (span, diff) = (w[1].0 - w[0].0, w[1].1 - w[0].1);
            if span > Duration::minutes(90)
                || span <= Duration::zero()
                || !(0.0..=2000.0).contains(&diff)
            {
                continue;
            }
            let mid = w[0].0 + span / 2;
            let hour = mid
                .with_minute(0)
                .and_then(|t| t.with_second(0))
                .unwrap_or(mid);
            *hours.entry(hour).or_default() += diff;
        }
        let hours: Vec<(NaiveDateTime, f64)> = hours.into_iter().collect();
        let s = HourlyStats::from_hourly(&hours);
        println!(
            "{:5} {:6} {:6} {:9.0} {:5.0} {:6.0} {:10.0}% {:10.0} {:10.0} {:13.1}",
            &key[..5],
            household,
            s.days(),
            quantile(&s.daily_l, 0.5),
            quantile(&s.daily_l, 0.05),
            quantile(&s.daily_l, 0.95),
            s.night_zero_share() * 100.0,
            quantile(&s.day_gap_h, 0.5),
            quantile(&s.day_gap_h, 0.9),
            s.quiet_afternoons_per_week(),
        );
        if household.starts_with("1p") {
            singles.push(s.clone());
        }
        all.push(s);
    }
    println!(
        "\nAll {} households:\n{}",
        all.len(),
        stats_table(&Summary::of(&all))
    );
    println!(
        "Single-person households only ({}):\n{}",
        singles.len(),
        stats_table(&Summary::of(&singles))
    );
    Ok(())
}
