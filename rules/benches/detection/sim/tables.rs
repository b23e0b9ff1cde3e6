//! The simulated households' results as Markdown tables.

use std::time::Duration;

use super::{HORIZON_MS, Row};
use crate::score::{DAY_MS, HOUR_MS, hm, pct, quantile};

pub(super) fn print_tables(label: &str, rows: &[Row], readings: usize, interval: Duration) {
    let first = &rows[0];
    let interval_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
    println!(
        "## Simulated households, {label} readings ({readings} readings; {} day and {} night collapses at home, {} more while the person was away, not scored; {} silent meters, {} taps, {} bursts, {} running toilets, {} declines)\n",
        first.day.0.len(),
        first.night.0.len(),
        first.collapses_away,
        first.silent_detected.0.len(),
        first.tap.0.len(),
        first.burst.0.len(),
        first.toilet.0.len(),
        first.decline.0.len()
    );
    println!(
        "| detector | day collapse detected ≤ 12 h | day median delay | day p90 | night collapse ≤ 12 h | night median delay | night median past usual rising | false inactivity / household-month (after day 15) | same, days out counted (only trips excused) | same, whole run | alerts while away: trips / days out (not counted) | inactivity on a silent meter |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.3} ({}) | {:.3} ({}) | {:.3} ({}) | {} / {} | {} |",
            r.name,
            pct(r.day.within(12 * HOUR_MS), r.day.0.len()),
            hm(quantile(&r.day.0, 0.5)),
            hm(quantile(&r.day.0, 0.9)),
            pct(r.night.within(12 * HOUR_MS), r.night.0.len()),
            hm(quantile(&r.night.0, 0.5)),
            hm(quantile(&r.night_past_rising, 0.5)),
            r.false_alarms as f64 / r.months.max(1e-9),
            r.false_alarms,
            r.false_with_days_out as f64 / r.months_with_days_out.max(1e-9),
            r.false_with_days_out,
            r.false_alarms_all as f64 / r.months_all.max(1e-9),
            r.false_alarms_all,
            r.during_trips,
            r.during_days_out,
            r.offline_confusions,
        );
    }
    println!(
        "\nSilent meter → meter_offline (every detector): {} (median {}).\n",
        pct(
            first.silent_detected.within(HORIZON_MS),
            first.silent_detected.0.len()
        ),
        hm(quantile(&first.silent_detected.0, 0.5)),
    );
    println!(
        "Flows, volumes and declines ({} taps at 6 L/min, {} running toilets at 0.5 L/min, {} bursts at 40 L/min, {} declines to 40 % over four weeks; delays from the start):\n",
        first.tap.0.len(),
        first.toilet.0.len(),
        first.burst.0.len(),
        first.decline.0.len()
    );
    println!(
        "| detector | tap ≤ 2 h | tap median / p90 | toilet ≤ 2 h | toilet median / p90 | burst ≤ {} | burst median | decline detected | decline median / p90 | false continuous_flow / hh-month | false spike / hh-month | false usage_drop / hh-month |",
        hm(Some(interval_ms))
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    // The oracle judges inactivity alone; the two-stage runs' flows are the
    // shipped rules' (the "learned" row).
    let inactivity_only =
        |r: &&Row| r.name.starts_with("hindsight") || r.name.starts_with("two stages");
    for r in rows.iter().filter(|r| !inactivity_only(r)) {
        let per_month = |n: usize| format!("{:.3} ({n})", n as f64 / r.months.max(1e-9));
        let days = |ms: Option<i64>| match ms {
            None => "—".to_owned(),
            Some(i64::MAX) => "not reached".to_owned(),
            Some(ms) => format!("{:.1} d", ms as f64 / DAY_MS as f64),
        };
        println!(
            "| {} | {} | {} / {} | {} | {} / {} | {} | {} | {} | {} / {} | {} | {} | {} |",
            r.name,
            pct(r.tap.within(2 * HOUR_MS), r.tap.0.len()),
            hm(quantile(&r.tap.0, 0.5)),
            hm(quantile(&r.tap.0, 0.9)),
            pct(r.toilet.within(2 * HOUR_MS), r.toilet.0.len()),
            hm(quantile(&r.toilet.0, 0.5)),
            hm(quantile(&r.toilet.0, 0.9)),
            pct(r.burst.within(interval_ms), r.burst.0.len()),
            hm(quantile(&r.burst.0, 0.5)),
            pct(r.decline.within(i64::MAX - 1), r.decline.0.len()),
            days(quantile(&r.decline.0, 0.5)),
            days(quantile(&r.decline.0, 0.9)),
            per_month(r.false_flow),
            per_month(r.false_spike),
            per_month(r.false_drop),
        );
    }
    println!();
}
