//! The options `generate` and `run` share, and the fleet built from them.

use std::time::Duration;

use anyhow::bail;
use chrono::{DateTime, FixedOffset};
use clap::Args;
use meter_sim::{DeliveryFault, Fleet, Scenario, ScenarioSpec};

use super::parse::{parse_interval, parse_offset};

/// Options shared by both commands.
#[derive(Args)]
pub(super) struct FleetArgs {
    /// Number of households (meters h0001, h0002, …).
    #[arg(long, default_value_t = 10)]
    pub(super) households: usize,
    /// Reading interval (whole seconds, e.g. 15m, 1h, 30s).
    #[arg(long, default_value = "15m", value_parser = parse_interval)]
    pub(super) interval: Duration,
    /// Random seed; the same seed gives the same households.
    #[arg(long, default_value_t = 1)]
    pub(super) seed: u64,
    /// UTC offset of the households' clocks (ignored by `generate` when --start is given).
    #[arg(long, default_value = "+08:00", value_parser = parse_offset, allow_hyphen_values = true)]
    pub(super) utc_offset: FixedOffset,
    /// Something that goes wrong: KIND:HOUSEHOLD@WHEN[,KEY=VALUE]…, e.g. collapse:3@+2h,
    /// tap:7@2026-01-10T09:30:00+08:00,lpm=8, burst:1@+3d, silent:4@+5h, fault:2@+1d,flag=LEAK,
    /// absence:2@+3d,days=4, toilet:5@+1d,lpm=0.5, decline:6@+7d,weeks=6,to=0.4, reset:1@+2d,
    /// skew:3@+1d,minutes=7, battery:4@+1d,days=120 (see docs/simulator.md).
    /// WHEN is RFC 3339 or +DURATION after the start. Repeatable.
    #[arg(long = "scenario", value_name = "SCENARIO")]
    pub(super) scenarios: Vec<ScenarioSpec>,
    /// A delivery fault on what is published or written: KIND[:RATE] with KIND
    /// drop, duplicate, reorder or late (RATE a share, default 0.01; late 0.05).
    /// Never changes the ground truth. Repeatable.
    #[arg(long = "fault", value_name = "FAULT")]
    pub(super) faults: Vec<DeliveryFault>,
}

/// The fleet, after checking the scenarios against it.
pub(super) fn build_fleet(args: &FleetArgs, start: DateTime<FixedOffset>) -> anyhow::Result<Fleet> {
    if args.households == 0 {
        bail!("--households must be at least 1");
    }
    let mut scenarios: Vec<Scenario> = Vec::with_capacity(args.scenarios.len());
    for spec in &args.scenarios {
        if spec.household() > args.households {
            bail!(
                "--scenario {}: household {} does not exist; there are {} (numbered from 1)",
                spec.text(),
                spec.household(),
                args.households
            );
        }
        scenarios.push(spec.resolve(start)?);
    }
    Ok(Fleet::new(
        args.households,
        args.seed,
        start,
        args.interval,
        scenarios,
    ))
}
