//! Daily batch uploads (NB-IoT style): a meter stores its readings and sends
//! them once a day at its own time of day. [`UploadSchedule`] says when each
//! meter uploads; [`Batcher`] holds readings back until their upload.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveTime};

use crate::clock::{Clock, DAY, day_start};
use crate::reading::SimReading;

/// Each meter's upload time of day, from [`crate::Fleet::upload_schedule`].
#[derive(Clone, Debug)]
pub struct UploadSchedule {
    /// Meter id → seconds after local midnight.
    times: BTreeMap<String, i64>,
    clock: Clock,
}

impl UploadSchedule {
    pub(crate) fn new(times: BTreeMap<String, i64>, clock: Clock) -> UploadSchedule {
        UploadSchedule { times, clock }
    }

    /// The local time of day `meter_id` uploads, if it is in the fleet.
    pub fn upload_time(&self, meter_id: &str) -> Option<NaiveTime> {
        let secs = *self.times.get(meter_id)?;
        NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(secs).ok()?, 0)
    }

    /// The first upload of `meter_id` at or after `t`: when a reading taken
    /// at `t` arrives.
    pub fn next_upload(
        &self,
        meter_id: &str,
        t: DateTime<FixedOffset>,
    ) -> Option<DateTime<FixedOffset>> {
        let secs = *self.times.get(meter_id)?;
        let local = self.clock.to_local(t);
        let mut at = day_start(local) + secs;
        if at < local {
            at += DAY;
        }
        Some(self.clock.to_datetime(at))
    }

    /// Every meter id with its upload time of day, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, NaiveTime)> + '_ {
        self.times
            .keys()
            .filter_map(|id| self.upload_time(id).map(|t| (id.as_str(), t)))
    }
}

/// One meter's readings uploaded together.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub meter_id: String,
    /// When the meter uploads it.
    pub upload_at: DateTime<FixedOffset>,
    /// In time order.
    pub readings: Vec<SimReading>,
}

/// Holds readings until their meter's daily upload.
#[derive(Clone, Debug)]
pub struct Batcher {
    schedule: UploadSchedule,
    /// Meter id → (next upload, readings held).
    held: BTreeMap<String, (DateTime<FixedOffset>, Vec<SimReading>)>,
}

impl Batcher {
    pub fn new(schedule: UploadSchedule) -> Batcher {
        Batcher {
            schedule,
            held: BTreeMap::new(),
        }
    }

    /// Holds `readings` (in time order) for their meters' next uploads;
    /// readings of meters not in the schedule are dropped.
    pub fn push(&mut self, readings: impl IntoIterator<Item = SimReading>) {
        for r in readings {
            if let Some(entry) = self.held.get_mut(&r.meter_id) {
                entry.1.push(r);
                continue;
            }
            if let Some(at) = self.schedule.next_upload(&r.meter_id, r.ts) {
                self.held.insert(r.meter_id.clone(), (at, vec![r]));
            }
        }
    }

    /// The batches uploaded up to `now`, by upload time then meter id. A
    /// batch holds the readings taken up to its upload; later ones wait for
    /// the next day's.
    pub fn due(&mut self, now: DateTime<FixedOffset>) -> Vec<Batch> {
        let mut out = Vec::new();
        for (id, (at, held)) in &mut self.held {
            while *at <= now && !held.is_empty() {
                let cut = held.partition_point(|r| r.ts <= *at);
                if cut > 0 {
                    out.push(Batch {
                        meter_id: id.clone(),
                        upload_at: *at,
                        readings: held.drain(..cut).collect(),
                    });
                }
                *at += chrono::Duration::seconds(DAY);
            }
        }
        self.held.retain(|_, (_, held)| !held.is_empty());
        out.sort_by(|a, b| (a.upload_at, &a.meter_id).cmp(&(b.upload_at, &b.meter_id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fleet;
    use std::time::Duration;

    #[test]
    fn each_meter_uploads_yesterdays_readings_once_a_day_at_its_own_time() {
        let start = DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap();
        let mut fleet = Fleet::new(3, 1, start, Duration::from_secs(3600), vec![]);
        let schedule = fleet.upload_schedule();
        let times: Vec<NaiveTime> = schedule.iter().map(|(_, t)| t).collect();
        assert_eq!(times.len(), 3);
        assert!(times.iter().all(|t| (1..6).contains(&t.hour_of_day())));
        let mut batcher = Batcher::new(schedule.clone());
        batcher.push(fleet.advance(start + chrono::Duration::days(3)));
        let batches = batcher.due(start + chrono::Duration::days(3));
        // Three uploads each (days 1–3 in the early morning), the last one
        // holding about 24 hourly readings.
        assert_eq!(batches.len(), 9);
        for b in &batches {
            assert_eq!(
                b.upload_at.time(),
                schedule.upload_time(&b.meter_id).unwrap()
            );
            assert!(
                b.readings
                    .iter()
                    .all(|r| r.ts <= b.upload_at && r.meter_id == b.meter_id)
            );
        }
        assert!(batches[8].readings.len() == 24);
        assert!(batches.windows(2).all(|w| w[0].upload_at <= w[1].upload_at));
    }

    trait HourOfDay {
        fn hour_of_day(&self) -> u32;
    }
    impl HourOfDay for NaiveTime {
        fn hour_of_day(&self) -> u32 {
            chrono::Timelike::hour(self)
        }
    }
}
