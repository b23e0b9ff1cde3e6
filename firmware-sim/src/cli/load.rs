//! `meter-sim load`: load driven against a broker, and what it acknowledged.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::FixedOffset;
use clap::Args;
use meter_sim::{DEFAULT_TOPIC_PREFIX, Format, LoadOptions, run_load};

use super::parse::parse_speed;

#[derive(Args)]
pub(super) struct LoadArgs {
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

pub(super) async fn load(args: LoadArgs) -> anyhow::Result<()> {
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
