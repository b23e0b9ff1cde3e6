//! The ingest path: a batch of messages parsed, its readings stored and
//! judged by the engine, the engine state saved, all in one transaction;
//! and the evaluation the clock alone triggers (meter_offline).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use waterwatch_rules::Reading;

use super::Processor;
use super::reassure::{REASSURANCE_FRESH, Use};
use crate::config::UnknownMeters;
use crate::ingest::Reject;
use crate::ingest::mqtt::Delivery;
use crate::store::dashboard::StateSummary;
use crate::store::ingest::{HeardMeter, SavedState};
use crate::store::{self, StoreError};

impl Processor {
    /// Store and judge one batch of messages in a single transaction.
    pub async fn handle(&mut self, deliveries: &[Delivery]) -> Result<(), StoreError> {
        let now = self.clock.now();
        let result = self.handle_in_transaction(deliveries, now).await;
        if result.is_err() {
            self.reload().await?;
        }
        result
    }

    async fn handle_in_transaction(
        &mut self,
        deliveries: &[Delivery],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now_ms = now.timestamp_millis();
        let mut tx = self.store.pool().begin().await?;
        let (readings, new_meters) = self.admit(&mut tx, deliveries, now_ms, now).await?;
        store::ingest::register_meters(&mut tx, &new_meters, now_ms).await?;
        let is_new = store::ingest::insert_readings(&mut tx, &readings, now_ms).await?;
        let mut touched: BTreeMap<String, i64> = BTreeMap::new();
        let mut events = Vec::new();
        let wants_reassurance = self
            .settings
            .contacts
            .iter()
            .any(|c| c.reassurance_from().is_some());
        let mut uses = Vec::new();
        for (reading, is_new) in readings.iter().zip(is_new) {
            if !is_new {
                self.metrics.readings_duplicate.inc();
                continue;
            }
            self.metrics.readings_ingested.inc();
            let lag = (now - reading.ts.with_timezone(&Utc))
                .num_milliseconds()
                .max(0);
            self.metrics.ingest_lag_seconds.observe(lag as f64 / 1000.0);
            let judged_at = now.with_timezone(reading.ts.offset());
            let outcome = self.engine.observe(reading, judged_at);
            for note in &outcome.notes {
                self.metrics.note(note.as_str());
            }
            events.extend(outcome.events);
            if wants_reassurance
                && outcome.person_used
                && now - reading.ts.with_timezone(&Utc) <= REASSURANCE_FRESH
                && let Some(household) = self.households.get(&reading.meter_id)
            {
                uses.push(Use {
                    household: household.clone(),
                    meter: reading.meter_id.clone(),
                    ts: reading.ts.with_timezone(&Utc),
                    total_l: reading.total_l,
                });
            }
            let newest = touched.entry(reading.meter_id.clone()).or_insert(i64::MIN);
            *newest = (*newest).max(reading.ts.timestamp_millis());
        }
        self.save_heard(&mut tx, &touched, now_ms).await?;
        let mut notified = self.apply_events(&mut tx, &events, now).await?;
        if !uses.is_empty() {
            notified += self.reassure(&mut tx, &uses, &events, now).await?;
        }
        tx.commit().await?;
        self.after_commit(events, notified);
        Ok(())
    }

    /// The readings of a batch that may be stored, in order, and the meters
    /// first heard of in it (already known to the engine, to be registered
    /// in the store). Rejected messages and readings are dead-lettered here.
    async fn admit(
        &mut self,
        conn: &mut AnyConnection,
        deliveries: &[Delivery],
        now_ms: i64,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Reading>, Vec<String>), StoreError> {
        let mut admitted = Vec::new();
        let mut new_meters = Vec::new();
        for delivery in deliveries {
            let readings = match self.parse(delivery, now) {
                Ok((readings, rejected)) => {
                    for why in rejected {
                        self.dead_letter(conn, delivery, &why, now_ms).await?;
                    }
                    readings
                }
                Err(why) => {
                    self.dead_letter(conn, delivery, &why, now_ms).await?;
                    continue;
                }
            };
            for reading in readings {
                if let Some(by) = self.replaced.get(&reading.meter_id) {
                    let why = Reject::ReplacedMeter {
                        meter: reading.meter_id.clone(),
                        by: by.clone(),
                    };
                    self.dead_letter(conn, delivery, &why, now_ms).await?;
                    continue;
                }
                if !self.households.contains_key(&reading.meter_id) {
                    if self.settings.unknown_meters == UnknownMeters::Reject {
                        let why = Reject::UnknownMeter(reading.meter_id.clone());
                        self.dead_letter(conn, delivery, &why, now_ms).await?;
                        continue;
                    }
                    // A new meter is its own household until the registry says otherwise.
                    self.engine
                        .set_household(&reading.meter_id, &reading.meter_id);
                    self.households
                        .insert(reading.meter_id.clone(), reading.meter_id.clone());
                    new_meters.push(reading.meter_id.clone());
                    tracing::info!(meter_id = %reading.meter_id, "registered a new meter");
                }
                if let Some(household) = self.households.get(&reading.meter_id)
                    && self.withdrawn.contains(household)
                {
                    // Counted, never kept: not even as a dead letter.
                    let why = Reject::ConsentWithdrawn(reading.meter_id.clone());
                    self.metrics.rejected(why.reason());
                    log_rejection(&delivery.topic, &why);
                    continue;
                }
                admitted.push(reading);
            }
        }
        Ok((admitted, new_meters))
    }

    /// Evaluate the rules that depend on time alone (meter_offline).
    pub async fn tick(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let events = self
            .engine
            .tick(now.with_timezone(&self.settings.display_offset));
        if events.is_empty() {
            return Ok(());
        }
        let result = async {
            let mut tx = self.store.pool().begin().await?;
            let meters: std::collections::BTreeSet<String> =
                events.iter().map(|e| e.meter_id.clone()).collect();
            self.save_states(&mut tx, meters.iter().map(String::as_str))
                .await?;
            let notified = self.apply_events(&mut tx, &events, now).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(notified)
        }
        .await;
        match result {
            Ok(notified) => {
                self.after_commit(events, notified);
                Ok(())
            }
            Err(e) => {
                self.reload().await?;
                Err(e)
            }
        }
    }

    fn parse(
        &self,
        delivery: &Delivery,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Reading>, Vec<Reject>), Reject> {
        if delivery.payload.len() > self.settings.max_payload_bytes {
            return Err(Reject::Oversized {
                bytes: delivery.payload.len(),
                limit: self.settings.max_payload_bytes,
            });
        }
        let mut parsed = self.settings.router.parse(
            &delivery.topic,
            &delivery.payload,
            now,
            self.settings.window,
        )?;
        // A batch may come in any order; the engine wants time order.
        parsed.readings.sort_by_key(|r| r.ts);
        let rejected = parsed.rejected.into_iter().map(|(_, why)| why).collect();
        Ok((parsed.readings, rejected))
    }

    async fn dead_letter(
        &self,
        conn: &mut AnyConnection,
        delivery: &Delivery,
        why: &Reject,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.metrics.rejected(why.reason());
        log_rejection(&delivery.topic, why);
        store::ingest::dead_letter(
            conn,
            now_ms,
            &delivery.topic,
            why.reason(),
            &why.to_string(),
            &delivery.payload,
            self.settings.dead_letters_kept,
        )
        .await
    }

    /// Save the engine state of the meters heard from in a batch, with the
    /// time of each one's newest reading.
    async fn save_heard(
        &self,
        conn: &mut AnyConnection,
        touched: &BTreeMap<String, i64>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut states = Vec::with_capacity(touched.len());
        for (meter, newest) in touched {
            if let Some((json, summary)) = self.state_of(meter)? {
                states.push((meter, *newest, json, summary));
            }
        }
        let heard: Vec<HeardMeter> = states
            .iter()
            .map(|(meter, newest, json, summary)| HeardMeter {
                id: meter,
                last_seen_ms: now_ms,
                newest_reading_ms: *newest,
                state: SavedState {
                    json,
                    summary: *summary,
                },
            })
            .collect();
        store::ingest::save_meters(conn, &heard).await
    }

    /// Save the engine state of a meter after an evaluation without a
    /// reading (the clock's, or a resident confirmed fine).
    pub(super) async fn save_state(
        &self,
        conn: &mut AnyConnection,
        meter: &str,
    ) -> Result<(), StoreError> {
        self.save_states(conn, [meter]).await
    }

    /// [`Processor::save_state`] for many meters, a statement's worth at a
    /// time (encoded as they are written: a first start stores 100,000).
    pub(super) async fn save_states<'a>(
        &self,
        conn: &mut AnyConnection,
        meters: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
        let mut meters = meters.into_iter().peekable();
        while meters.peek().is_some() {
            let mut encoded = Vec::new();
            for meter in meters.by_ref().take(store::ingest::ROWS_PER_STATEMENT) {
                if let Some((json, summary)) = self.state_of(meter)? {
                    encoded.push((meter, json, summary));
                }
            }
            let saved: Vec<(&str, SavedState)> = encoded
                .iter()
                .map(|(meter, json, summary)| {
                    let state = SavedState {
                        json,
                        summary: *summary,
                    };
                    (*meter, state)
                })
                .collect();
            store::ingest::save_engine_states(conn, &saved).await?;
        }
        Ok(())
    }

    /// The engine's state of a meter as stored: JSON and its summary.
    fn state_of(&self, meter: &str) -> Result<Option<(String, StateSummary)>, StoreError> {
        self.engine
            .state(meter)
            .map(|state| store::ingest::encode_state(meter, state))
            .transpose()
    }
}

/// Rejections are logged at most once a second per process; the count is in
/// `/metrics` and every one is in the dead-letter table.
fn log_rejection(topic: &str, why: &Reject) {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = Utc::now().timestamp();
    if LAST.swap(now, Ordering::Relaxed) != now {
        tracing::warn!(topic, reason = why.reason(), "rejected: {why}");
    }
}
