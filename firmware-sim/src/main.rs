//! `meter-sim`: writes simulated datasets to files, or publishes simulated
//! meters live to an MQTT broker on an accelerated clock.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use clap::{Args, Parser, Subcommand};
use meter_sim::{
    DEFAULT_TOPIC_PREFIX, DeliveryFault, Fleet, Format, HourlyStats, LiveOptions, LoadOptions,
    Publisher, Scenario, ScenarioSpec, Summary, hourly_use_of, run_live_with, run_load,
    stats_table, write_dataset_with_faults,
};

#[derive(Parser)]
#[command(
    name = "meter-sim",
    version,
    about = "Simulated elderly households and their smart water meters."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a dataset: DIR/readings.jsonl (native JSON lines sorted by ts) and DIR/truth.json.
    Generate(GenerateArgs),
    /// Publish readings live to an MQTT broker, on a clock running SPEED times real time, until Ctrl-C.
    Run(RunArgs),
    /// Print statistics of the simulated households (daily volume, quiet nights, gaps, outings).
    Stats(StatsArgs),
    /// Drive load: METERS meters publishing RATE messages/s for DURATION, then report what was acknowledged.
    Load(LoadArgs),
}

/// Options shared by both commands.
#[derive(Args)]
struct FleetArgs {
    /// Number of households (meters h0001, h0002, …).
    #[arg(long, default_value_t = 10)]
    households: usize,
    /// Reading interval (whole seconds, e.g. 15m, 1h, 30s).
    #[arg(long, default_value = "15m", value_parser = parse_interval)]
    interval: Duration,
    /// Random seed; the same seed gives the same households.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// UTC offset of the households' clocks (ignored by `generate` when --start is given).
    #[arg(long, default_value = "+08:00", value_parser = parse_offset, allow_hyphen_values = true)]
    utc_offset: FixedOffset,
    /// Something that goes wrong: KIND:HOUSEHOLD@WHEN[,KEY=VALUE]…, e.g. collapse:3@+2h,
    /// tap:7@2026-01-10T09:30:00+08:00,lpm=8, burst:1@+3d, silent:4@+5h, fault:2@+1d,flag=LEAK,
    /// absence:2@+3d,days=4, toilet:5@+1d,lpm=0.5, decline:6@+7d,weeks=6,to=0.4, reset:1@+2d,
    /// skew:3@+1d,minutes=7, battery:4@+1d,days=120 (see docs/simulator.md).
    /// WHEN is RFC 3339 or +DURATION after the start. Repeatable.
    #[arg(long = "scenario", value_name = "SCENARIO")]
    scenarios: Vec<ScenarioSpec>,
    /// A delivery fault on what is published or written: KIND[:RATE] with KIND
    /// drop, duplicate, reorder or late (RATE a share, default 0.01; late 0.05).
    /// Never changes the ground truth. Repeatable.
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<DeliveryFault>,
}

#[derive(Args)]
struct GenerateArgs {
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

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// MQTT broker.
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    broker: String,
    /// Topic prefix: readings go to PREFIX/meters/METER_ID/reading.
    #[arg(long, default_value = DEFAULT_TOPIC_PREFIX)]
    topic_prefix: String,
    /// How many times faster than real time the simulated clock runs.
    #[arg(long, default_value_t = 600.0, value_parser = parse_speed)]
    speed: f64,
    /// Payload format: native, wmbusmeters, ai-on-the-edge, bare:L, bare:m3
    /// (topics in docs/simulator.md).
    #[arg(long, default_value = "native")]
    format: Format,
    /// Upload each meter's readings once a day at its own time as native batch JSON (NB-IoT style).
    #[arg(long)]
    daily_batches: bool,
}

#[derive(Args)]
struct StatsArgs {
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

#[derive(Args)]
struct LoadArgs {
    /// MQTT broker.
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    broker: String,
    /// Number of distinct meters.
    #[arg(long, default_value_t = 100_000)]
    meters: usize,
    /// Target messages per second, all connections together.
    #[arg(long, default_value_t = 50_000.0, value_parser = parse_speed)]
    rate: f64,
    /// How long to send; the run then waits for acknowledgements and stops.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Payload format: native, native-batch, wmbusmeters, ai-on-the-edge, bare:L, bare:m3.
    #[arg(long, default_value = "native")]
    format: Format,
    /// Topic prefix for native formats.
    #[arg(long, default_value = DEFAULT_TOPIC_PREFIX)]
    topic_prefix: String,
    /// MQTT connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Unacknowledged QoS 1 messages allowed per connection.
    #[arg(long, default_value_t = 1000)]
    inflight: u16,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate(args) => generate(args),
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run(args))
        }
        Command::Stats(args) => stats(args),
        Command::Load(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(load(args))
        }
    }
}

fn stats(args: StatsArgs) -> anyhow::Result<()> {
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

async fn load(args: LoadArgs) -> anyhow::Result<()> {
    if args.meters == 0 {
        bail!("--meters must be at least 1");
    }
    let opts = LoadOptions {
        broker: args.broker.clone(),
        prefix: args.topic_prefix,
        meters: args.meters,
        rate: args.rate,
        duration: args.duration,
        format: args.format,
        connections: args.connections.max(1),
        inflight: args.inflight.max(1),
        utc_offset: FixedOffset::east_opt(8 * 3600).context("offset")?,
    };
    eprintln!(
        "meter-sim: load on {}: {} meters, {} messages/s target, {} format, {} connections × {} in flight, for {}",
        args.broker,
        args.meters,
        args.rate,
        args.format,
        opts.connections,
        opts.inflight,
        humantime::format_duration(args.duration),
    );
    let report = run_load(&opts).await?;
    println!(
        "sent {} acked {} in {:.2} s: {:.0} messages/s sent, {:.0} messages/s acknowledged",
        report.sent,
        report.acked,
        report.total.as_secs_f64(),
        report.sent_per_second(),
        report.acked_per_second(),
    );
    if report.acked < report.sent {
        bail!(
            "the broker acknowledged only {} of {} messages",
            report.acked,
            report.sent
        );
    }
    Ok(())
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
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

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let now = Utc::now().with_timezone(&args.fleet.utc_offset);
    let start = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    if args.daily_batches && args.format != Format::Native {
        bail!("--daily-batches publishes native batch JSON; leave --format at native");
    }
    let mut fleet = build_fleet(&args.fleet, start)?;
    let mut publisher = Publisher::connect(&args.broker, &args.topic_prefix).await?;
    let options = LiveOptions {
        format: args.format,
        daily_batches: args.daily_batches,
        faults: args.fleet.faults.clone(),
    };
    eprintln!(
        "meter-sim: publishing {} households to {} as {}{} (native prefix {}), every {} simulated, at {}× real time from {}; Ctrl-C stops",
        args.fleet.households,
        args.broker,
        args.format,
        if args.daily_batches {
            " in daily batches"
        } else {
            ""
        },
        args.topic_prefix,
        humantime::format_duration(args.fleet.interval),
        args.speed,
        start.to_rfc3339(),
    );
    let mut last_report = Instant::now();
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let progress = run_live_with(
        &mut fleet,
        &mut publisher,
        args.speed,
        &options,
        shutdown,
        |p| {
            if last_report.elapsed() >= Duration::from_secs(10) {
                eprintln!(
                    "meter-sim: simulated time {}, {} readings published",
                    p.sim_time.to_rfc3339(),
                    p.readings
                );
                last_report = Instant::now();
            }
        },
    )
    .await?;
    eprintln!("meter-sim: stopping; waiting for the broker to acknowledge everything sent");
    let stats = publisher.close(Duration::from_secs(10)).await?;
    eprintln!(
        "meter-sim: published {} readings up to simulated time {}; the broker acknowledged {}",
        stats.sent,
        progress.sim_time.to_rfc3339(),
        stats.acked
    );
    Ok(())
}

/// The fleet, after checking the scenarios against it.
fn build_fleet(args: &FleetArgs, start: DateTime<FixedOffset>) -> anyhow::Result<Fleet> {
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

fn parse_interval(text: &str) -> Result<Duration, String> {
    let d =
        humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 15m, 1h, 30s)"))?;
    if d < Duration::from_secs(1) || d.subsec_nanos() != 0 {
        return Err("the interval must be a whole number of seconds, at least 1s".into());
    }
    if d > Duration::from_secs(86_400) {
        return Err("the interval must be at most a day".into());
    }
    Ok(d)
}

fn parse_offset(text: &str) -> Result<FixedOffset, String> {
    let bad = || format!("{text:?} is not a UTC offset like +08:00 or -05:30");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

fn parse_start(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{e} (write RFC 3339, e.g. 2026-01-05T00:00:00+08:00)"))
}

fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{text:?} is not a positive number (1 is real time, 600 is ten simulated minutes a second)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn bad_values_are_refused_at_parse_time() {
        for args in [
            ["meter-sim", "generate", "--out", "x", "--interval", "500ms"],
            [
                "meter-sim",
                "generate",
                "--out",
                "x",
                "--scenario",
                "collapse:3",
            ],
            ["meter-sim", "generate", "--out", "x", "--utc-offset", "8"],
            ["meter-sim", "run", "--speed", "0", "--seed", "1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
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
