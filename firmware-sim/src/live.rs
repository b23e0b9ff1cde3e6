//! Live publishing on an accelerated clock: the simulated clock starts at the
//! fleet's start when [`run_live`] is called and runs `speed` times faster
//! than real time; each interval's readings are published as the simulated
//! clock passes them.

use std::future::Future;

use chrono::{DateTime, FixedOffset};
use tokio::time::{Duration, Instant};

use crate::delivery::{Delivery, DeliveryFault};
use crate::fleet::Fleet;
use crate::format::{Format, encode_batch};
use crate::publish::{PublishError, Publisher};
use crate::reading::SimReading;
use crate::upload::{Batch, Batcher};

/// How a live run publishes.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveOptions {
    /// Payload format of single readings.
    pub format: Format,
    /// Hold readings back and publish each meter's once a day at its
    /// upload time ([`Fleet::upload_schedule`]), as native batch JSON.
    pub daily_batches: bool,
    /// Delivery faults applied to what is published.
    pub faults: Vec<DeliveryFault>,
}

impl Default for LiveOptions {
    fn default() -> LiveOptions {
        LiveOptions {
            format: Format::Native,
            daily_batches: false,
            faults: Vec::new(),
        }
    }
}

/// Progress of a live run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiveProgress {
    /// Readings handed to the publisher so far.
    pub readings: u64,
    /// The simulated time of the latest readings published.
    pub sim_time: DateTime<FixedOffset>,
}

/// Publishes `fleet`'s readings through `publisher` as the accelerated clock
/// passes them, until `shutdown` completes; calls `on_tick` after each batch.
/// `speed` must be positive (1.0 is real time). Does not flush: call
/// [`Publisher::close`] afterwards to wait for the broker's acknowledgements.
pub async fn run_live(
    fleet: &mut Fleet,
    publisher: &mut Publisher,
    speed: f64,
    shutdown: impl Future<Output = ()>,
    on_tick: impl FnMut(&LiveProgress),
) -> Result<LiveProgress, PublishError> {
    run_live_with(
        fleet,
        publisher,
        speed,
        &LiveOptions::default(),
        shutdown,
        on_tick,
    )
    .await
}

/// As [`run_live`], publishing as `options` say. `readings` in the progress
/// counts readings taken (published or still held for a batch).
pub async fn run_live_with(
    fleet: &mut Fleet,
    publisher: &mut Publisher,
    speed: f64,
    options: &LiveOptions,
    shutdown: impl Future<Output = ()>,
    mut on_tick: impl FnMut(&LiveProgress),
) -> Result<LiveProgress, PublishError> {
    let mut singles: Delivery<SimReading> = Delivery::new(&options.faults, fleet.seed());
    let mut batches: Delivery<Batch> = Delivery::new(&options.faults, fleet.seed());
    let mut batcher = options
        .daily_batches
        .then(|| Batcher::new(fleet.upload_schedule()));
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    let wall_start = Instant::now();
    let sim_start = fleet.start();
    let mut progress = LiveProgress {
        readings: 0,
        sim_time: sim_start,
    };
    tokio::pin!(shutdown);
    loop {
        let due = fleet.next_reading_at();
        let sim_wait = (due - sim_start).to_std().unwrap_or_default();
        let deadline = wall_start + Duration::from_secs_f64(sim_wait.as_secs_f64() / speed);
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep_until(deadline) => {}
        }
        // Catch up on every interval passed if publishing fell behind.
        let elapsed = wall_start.elapsed().as_secs_f64() * speed;
        let now = chrono::Duration::from_std(Duration::from_secs_f64(elapsed))
            .ok()
            .and_then(|d| sim_start.checked_add_signed(d))
            .map_or(due, |now| now.max(due));
        let batch = fleet.advance(now);
        progress.readings += batch.len() as u64;
        progress.sim_time = batch.last().map_or(due, |r| r.ts);
        let mut messages = Vec::new();
        if let Some(batcher) = &mut batcher {
            batcher.push(batch);
            for b in batcher.due(now) {
                let at = b.upload_at;
                batches.send(b, at);
            }
            for b in batches.arrived(now) {
                messages.push(encode_batch(&b.meter_id, &b.readings, publisher.prefix()));
            }
        } else {
            for r in batch {
                let ts = r.ts;
                singles.send(r, ts);
            }
            for r in singles.arrived(now) {
                messages.extend(crate::format::encode(
                    &r,
                    options.format,
                    publisher.prefix(),
                ));
            }
        }
        let send_all = async {
            for (topic, payload) in messages {
                publisher.send_message(topic, payload).await?;
            }
            Ok::<(), PublishError>(())
        };
        tokio::select! {
            _ = &mut shutdown => break,
            sent = send_all => sent?,
        }
        on_tick(&progress);
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>(_: &T) {}

    #[test]
    fn a_fleet_and_a_live_run_can_move_between_threads() {
        fn check(fleet: &mut Fleet, publisher: &mut Publisher) {
            is_send(&run_live(
                fleet,
                publisher,
                1.0,
                std::future::pending::<()>(),
                |_| {},
            ));
        }
        let _: fn(&mut Fleet, &mut Publisher) = check;
        let start = DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap();
        is_send(&Fleet::new(1, 1, start, Duration::from_secs(900), vec![]));
    }
}
