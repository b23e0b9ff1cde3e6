//! `meter-sim generate`: a dataset written to a directory.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, FixedOffset, TimeZone};
use clap::Args;
use meter_sim::write_dataset_with_faults;

use super::fleet::{FleetArgs, build_fleet};
use super::parse::parse_start;

#[derive(Args)]
pub(super) struct GenerateArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Days to simulate.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Simulation start, RFC 3339 [default: 2026-01-05T00:00:00 in --utc-offset].
    #[arg(long, value_parser = parse_start)]
    start: Option<DateTime<FixedOffset>>,
    /// Output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
}

pub(super) fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let start = match args.start {
        Some(start) => start,
        None => args
            .fleet
            .utc_offset
            .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
            .single()
            .context("default start")?,
    };
    let end = start + chrono::Duration::days(i64::from(args.days));
    let fleet_args = &args.fleet;
    let mut fleet = build_fleet(fleet_args, start)?;
    let began = Instant::now();
    let summary = write_dataset_with_faults(&mut fleet, end, &args.out, &fleet_args.faults)?;
    let secs = began.elapsed().as_secs_f64();
    eprintln!(
        "meter-sim: wrote {} readings of {} households over {} days ({} to {}) to {} and {} in {:.2} s ({:.1} M readings/s)",
        summary.readings,
        fleet_args.households,
        args.days,
        start.to_rfc3339(),
        end.to_rfc3339(),
        summary.readings_path.display(),
        summary.truth_path.display(),
        secs,
        summary.readings as f64 / secs.max(1e-9) / 1e6,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn command_lines_parse_into_fleet_settings() {
        let cli = Cli::try_parse_from([
            "meter-sim",
            "generate",
            "--households",
            "5",
            "--days",
            "2",
            "--interval",
            "1h",
            "--utc-offset",
            "-05:30",
            "--scenario",
            "collapse:3@+2h",
            "--scenario",
            "tap:1@+1h,lpm=9",
            "--out",
            "/tmp/x",
        ])
        .unwrap();
        let Command::Generate(args) = cli.command else {
            panic!("not generate")
        };
        assert_eq!(args.fleet.interval, Duration::from_secs(3600));
        assert_eq!(args.fleet.utc_offset.local_minus_utc(), -(5 * 3600 + 1800));
        assert_eq!(args.fleet.scenarios.len(), 2);
    }

    #[test]
    fn a_scenario_for_a_missing_household_is_an_error_naming_it() {
        let cli = Cli::try_parse_from([
            "meter-sim",
            "generate",
            "--households",
            "2",
            "--scenario",
            "burst:3@+1h",
            "--out",
            "x",
        ])
        .unwrap();
        let Command::Generate(args) = cli.command else {
            panic!("not generate")
        };
        let start = DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap();
        let e = build_fleet(&args.fleet, start).err().unwrap().to_string();
        assert_eq!(
            e,
            "--scenario burst:3@+1h: household 3 does not exist; there are 2 (numbered from 1)"
        );
    }
}
