//! Load generation: many meters publishing at a fixed total message rate
//! for a fixed time, over several MQTT connections with QoS 1 and a bounded
//! in-flight window each, then a report of what the broker acknowledged.
//!
//! Design: the readings are synthetic (each meter's register creeps up),
//! not the household model — at 100 k meters the model would cost more than
//! the publishing being measured, and load tests need volume, not realism.

use std::time::{Duration, Instant};

use chrono::{FixedOffset, Utc};

use crate::format::{Format, encode, encode_batch};
use crate::publish::{PublishError, Publisher};
use crate::reading::SimReading;
use crate::scenario::household_id;

/// What to send, where, how fast and for how long.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// `mqtt://host:port`.
    pub broker: String,
    /// Native topic prefix.
    pub prefix: String,
    /// Distinct meters (`h0001` …), spread over the connections.
    pub meters: usize,
    /// Target messages per second, all connections together.
    pub rate: f64,
    /// Sending stops after this long.
    pub duration: Duration,
    pub format: Format,
    /// MQTT connections.
    pub connections: usize,
    /// Unacknowledged messages allowed per connection.
    pub inflight: u16,
    /// Offset the readings are stamped in.
    pub utc_offset: FixedOffset,
}

/// What a load run achieved.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadReport {
    /// Messages handed to the MQTT clients.
    pub sent: u64,
    /// Messages the broker acknowledged (PubAck).
    pub acked: u64,
    /// Time spent sending.
    pub sending: Duration,
    /// From the first message to the last acknowledgement (or the wait's end).
    pub total: Duration,
}

impl LoadReport {
    /// Acknowledged messages per second over the whole run.
    pub fn acked_per_second(&self) -> f64 {
        self.acked as f64 / self.total.as_secs_f64().max(1e-9)
    }

    /// Sent messages per second while sending.
    pub fn sent_per_second(&self) -> f64 {
        self.sent as f64 / self.sending.as_secs_f64().max(1e-9)
    }
}

/// How often each connection tops up to its target rate.
const TICK: Duration = Duration::from_millis(5);
/// How long to wait for the last acknowledgements.
const DRAIN: Duration = Duration::from_secs(15);

/// Connects every connection first (failing if any cannot), then sends at
/// `rate` for `duration`, then waits for the acknowledgements.
pub async fn run_load(opts: &LoadOptions) -> Result<LoadReport, PublishError> {
    let connections = opts.connections.clamp(1, opts.meters.max(1));
    let mut publishers = Vec::with_capacity(connections);
    for _ in 0..connections {
        publishers
            .push(Publisher::connect_with_window(&opts.broker, &opts.prefix, opts.inflight).await?);
    }
    let began = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for (c, publisher) in publishers.into_iter().enumerate() {
        let meters: Vec<usize> = (1..=opts.meters).filter(|n| n % connections == c).collect();
        let rate = opts.rate / connections as f64;
        let opts = opts.clone();
        tasks.push(tokio::spawn(async move {
            drive(publisher, meters, rate, &opts, began).await
        }));
    }
    let mut report = LoadReport {
        sent: 0,
        acked: 0,
        sending: Duration::ZERO,
        total: Duration::ZERO,
    };
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok((sent, acked, sending))) => {
                report.sent += sent;
                report.acked += acked;
                report.sending = report.sending.max(sending);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(PublishError::Stopped {
                    broker: opts.broker.clone(),
                    reason: e.to_string(),
                });
            }
        }
    }
    report.total = began.elapsed();
    match first_error {
        Some(e) if report.sent == 0 => Err(e),
        _ => Ok(report),
    }
}

/// One connection's share: returns (sent, acked, time spent sending).
async fn drive(
    mut publisher: Publisher,
    meters: Vec<usize>,
    rate: f64,
    opts: &LoadOptions,
    began: Instant,
) -> Result<(u64, u64, Duration), PublishError> {
    let ids: Vec<String> = meters.iter().map(|&n| household_id(n)).collect();
    let mut totals: Vec<f64> = meters
        .iter()
        .map(|&n| 10_000.0 + (n * 37 % 5000) as f64)
        .collect();
    let mut next = 0usize;
    let mut sent = 0u64;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !ids.is_empty() {
        ticker.tick().await;
        let elapsed = began.elapsed();
        if elapsed >= opts.duration {
            break;
        }
        let due = (elapsed.as_secs_f64() * rate) as u64;
        let ts = Utc::now().with_timezone(&opts.utc_offset);
        let ts = ts - chrono::Duration::nanoseconds(i64::from(ts.timestamp_subsec_nanos()));
        while sent < due {
            let i = next % ids.len();
            next += 1;
            if next.is_multiple_of(7) {
                totals[i] += 3.0;
            }
            let reading = SimReading {
                meter_id: ids[i].clone(),
                ts,
                total_l: totals[i],
                flow_lpm: Some(0.0),
                battery_pct: Some(90.0),
                status: Vec::new(),
            };
            let messages = match opts.format {
                Format::NativeBatch => vec![encode_batch(&ids[i], &[reading], &opts.prefix)],
                format => encode(&reading, format, &opts.prefix),
            };
            for (topic, payload) in messages {
                publisher.send_message(topic, payload).await?;
                sent += 1;
            }
        }
    }
    let sending = began.elapsed().min(opts.duration);
    match publisher.close(DRAIN).await {
        Ok(stats) => Ok((stats.sent, stats.acked, sending)),
        Err(PublishError::NotAcknowledged { stats, .. }) => Ok((stats.sent, stats.acked, sending)),
        Err(e) => Err(e),
    }
}
