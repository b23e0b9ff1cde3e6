//! `meter-sim run`: the fleet published live to a broker on an accelerated
//! clock until Ctrl-C.

use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::Utc;
use clap::Args;
use meter_sim::{DEFAULT_TOPIC_PREFIX, Format, LiveOptions, Publisher, run_live_with};

use super::fleet::{FleetArgs, build_fleet};
use super::parse::parse_speed;

#[derive(Args)]
pub(super) struct RunArgs {
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

pub(super) async fn run(args: RunArgs) -> anyhow::Result<()> {
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
