//! `meter-sim stats`: statistics of the simulated households.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{FixedOffset, TimeZone};
use clap::Args;
use meter_sim::{Fleet, HourlyStats, Summary, hourly_use_of, stats_table};

use super::parse::parse_interval;

#[derive(Args)]
pub(super) struct StatsArgs {
    /// Number of households.
    #[arg(long, default_value_t = 200)]
    households: usize,
    /// Days to simulate.
    #[arg(long, default_value_t = 60)]
    days: u32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Reading interval (1h or a divisor of it).
    #[arg(long, default_value = "1h", value_parser = parse_interval)]
    interval: Duration,
    /// Print one line per household too.
    #[arg(long)]
    per_household: bool,
}

pub(super) fn stats(args: StatsArgs) -> anyhow::Result<()> {
    if args.households == 0 || args.days == 0 {
        bail!("--households and --days must be at least 1");
    }
    if 3600 % args.interval.as_secs() != 0 {
        bail!("--interval must divide an hour (e.g. 1h, 15m, 30s)");
    }
    let offset = FixedOffset::east_opt(8 * 3600).context("offset")?;
    let start = offset
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .context("start")?;
    let mut fleet = Fleet::new(args.households, args.seed, start, args.interval, vec![]);
    let readings = fleet.advance(start + chrono::Duration::days(i64::from(args.days)));
    let hourly = hourly_use_of(&readings);
    drop(readings);
    let tallies: std::collections::BTreeMap<String, meter_sim::HouseholdTally> =
        fleet.tallies().into_iter().collect();
    let away: std::collections::BTreeMap<String, usize> =
        fleet.truth().iter().fold(Default::default(), |mut m, t| {
            *m.entry(t.household.clone()).or_default() += 1;
            m
        });
    let mut all = Vec::new();
    if args.per_household {
        println!(
            "household  days  median_l  p5_l  p95_l  flushes/day  night_zero  gap_med_h  gap_p90_h  outings/wk  quiet_aft/wk  absences"
        );
    }
    let (mut flushes, mut outings, mut days) = (0u64, 0u64, 0u64);
    for (id, hours) in &hourly {
        let s = HourlyStats::from_hourly(hours);
        let t = tallies.get(id).copied().unwrap_or_default();
        flushes += t.flushes;
        outings += t.outings;
        days += t.days;
        if args.per_household {
            println!(
                "{id:9} {:5} {:9.0} {:5.0} {:6.0} {:12.1} {:10.0}% {:10.0} {:10.0} {:11.1} {:13.1} {:9}",
                s.days(),
                meter_sim::quantile(&s.daily_l, 0.5),
                meter_sim::quantile(&s.daily_l, 0.05),
                meter_sim::quantile(&s.daily_l, 0.95),
                t.flushes as f64 / t.days.max(1) as f64,
                s.night_zero_share() * 100.0,
                meter_sim::quantile(&s.day_gap_h, 0.5),
                meter_sim::quantile(&s.day_gap_h, 0.9),
                t.outings as f64 / t.days.max(1) as f64 * 7.0,
                s.quiet_afternoons_per_week(),
                away.get(id).copied().unwrap_or(0),
            );
        }
        all.push(s);
    }
    let summary = Summary::of(&all);
    println!(
        "{} households × {} days, seed {}, readings every {}:\n",
        args.households,
        args.days,
        args.seed,
        humantime::format_duration(args.interval)
    );
    print!("{}", stats_table(&summary));
    println!(
        "| flushes per day (model) | {:.1} |\n| afternoons out per week (model) | {:.1} |\n| trips and whole days out (truth) | {} |",
        flushes as f64 / days.max(1) as f64,
        outings as f64 / days.max(1) as f64 * 7.0,
        away.values().sum::<usize>(),
    );
    Ok(())
}
