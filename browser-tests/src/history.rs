//! Weeks of readings from simulated households (meter-sim's fleet), cut
//! into one native batch per meter per day, as meters that upload daily send
//! them: enough for the baselines to be learned and the charts drawn.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use meter_sim::{Fleet, Scenario, SimReading, encode_batch};

/// Readings per meter per batch: a day at one reading every 15 minutes.
const PER_BATCH: usize = 96;

/// `(topic, payload)` of every batch from `start` to `until`, oldest first.
pub fn daily_batches(
    households: usize,
    start: DateTime<FixedOffset>,
    until: DateTime<FixedOffset>,
    scenarios: Vec<Scenario>,
) -> Vec<(String, String)> {
    let mut fleet = Fleet::new(
        households,
        7,
        start,
        Duration::from_secs(15 * 60),
        scenarios,
    );
    let readings = fleet.advance(until);
    let mut per_meter: Vec<(String, Vec<SimReading>)> = fleet
        .meter_ids()
        .into_iter()
        .map(|id| (id, Vec::new()))
        .collect();
    for reading in readings {
        if let Some((_, list)) = per_meter.iter_mut().find(|(id, _)| *id == reading.meter_id) {
            list.push(reading);
        }
    }
    let mut batches: Vec<(DateTime<FixedOffset>, String, String)> = Vec::new();
    for (meter, list) in &per_meter {
        for chunk in list.chunks(PER_BATCH) {
            let (topic, payload) = encode_batch(meter, chunk, "waterwatch");
            batches.push((chunk[0].ts, topic, payload));
        }
    }
    batches.sort_by_key(|b| b.0);
    batches.into_iter().map(|(_, t, p)| (t, p)).collect()
}
