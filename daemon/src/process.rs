//! The processor: the one task that owns the rules engine and writes to the
//! store. Each batch of messages becomes one transaction — readings, engine
//! state, cases and outbox entries together — and only after it commits are
//! the messages acknowledged to the broker. A crash at any point either loses
//! the whole transaction (the broker redelivers) or keeps all of it (the
//! redelivered readings are recognised as already stored).
//!
//! The processor's parts, each an `impl Processor` of its own:
//! `process/ingest.rs` (a batch of messages into readings, engine state and
//! alert events; the clock's own evaluation), `process/cases.rs` (alert
//! events into cases and queued notifications), `process/commands.rs`
//! (people's actions, consent, due escalation), `process/reassure.rs` (the
//! daily reassurance), `process/failures.rs` (notifications that failed for
//! good: audit, escalation, ops alert), `process/replaced.rs` (meters
//! replaced by others, retired at start), all inside the same transactions;
//! and `process/task.rs`, the loop that feeds it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, NaiveDate};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use waterwatch_rules::{AlertEvent, Engine, RuleSet};

use crate::case::Route;
use crate::clock::Clock;
use crate::config::UnknownMeters;
use crate::ingest::adapter::Router;
use crate::ingest::mqtt::{AckQueue, Acker, Delivery};
use crate::ingest::native::TimeWindow;
use crate::links::Signer;
use crate::metrics::Metrics;
use crate::notify::contacts::ContactConfig;
use crate::notify::template::Templates;
use crate::store::{Store, StoreError};

mod cases;
mod commands;
mod failures;
mod ingest;
mod reassure;
mod replaced;
mod restore;
mod task;

pub use commands::{Action, ActionOutcome, Command, ConsentCommand};
pub use task::{Inlets, run};

/// What the processor needs to know beyond its collaborators.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Which format each topic carries.
    pub router: Router,
    pub unknown_meters: UnknownMeters,
    pub window: TimeWindow,
    pub max_payload_bytes: usize,
    pub dead_letters_kept: i64,
    /// Channels every case notification is queued for (webhooks).
    pub channels: Vec<String>,
    /// People, their roles and how to reach them.
    pub contacts: Vec<ContactConfig>,
    /// Household id → grid, for finding its grid worker and supervisor.
    pub grids: HashMap<String, String>,
    /// What people read, per language.
    pub templates: Templates,
    /// Signs the links in messages, and how long they work (none: no links).
    pub links: Option<(Signer, std::time::Duration)>,
    /// Offset used for events raised by the clock alone (meter_offline).
    pub display_offset: FixedOffset,
    /// Escalation routes for cases.
    pub routes: Vec<Route>,
    /// Household id → the resident's name (for the daily reassurance).
    pub names: HashMap<String, String>,
    /// Who hears of notifications that failed for good.
    pub ops: crate::config::OpsConfig,
}

pub struct Processor {
    engine: Engine,
    store: Store,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    /// meter id → household id, for every registered meter.
    households: HashMap<String, String>,
    outbox_wake: Arc<Notify>,
    events: broadcast::Sender<AlertEvent>,
    /// (household, contact, local day) whose reassurance is settled (sent
    /// or not due); saves looking again. The outbox's idempotency key is
    /// what guarantees one a day, across restarts too.
    reassured: HashSet<(String, String, NaiveDate)>,
    /// Households whose consent is withdrawn: their readings are refused.
    withdrawn: HashSet<String>,
    /// Replaced meters (old → the meter that took its place): their
    /// readings are refused.
    replaced: HashMap<String, String>,
}

impl Processor {
    /// Build the processor, restoring every meter's engine state from the store.
    pub async fn load(
        store: Store,
        rules: RuleSet,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        outbox_wake: Arc<Notify>,
    ) -> Result<Self, StoreError> {
        let (events, _) = broadcast::channel(1024);
        let mut processor = Self {
            engine: Engine::new(rules),
            store,
            metrics,
            clock,
            settings,
            households: HashMap::new(),
            outbox_wake,
            events,
            reassured: HashSet::new(),
            withdrawn: HashSet::new(),
            replaced: HashMap::new(),
        };
        let started = std::time::Instant::now();
        processor.reload().await?;
        processor.retire_replaced().await?;
        tracing::info!(
            meters = processor.households.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "engine state restored"
        );
        Ok(processor)
    }

    /// Where committed alert events are broadcast (the demo prints them).
    pub fn event_sender(&self) -> broadcast::Sender<AlertEvent> {
        self.events.clone()
    }

    pub fn replace_rules(&mut self, rules: RuleSet) {
        self.engine.replace_rules(rules);
    }

    fn after_commit(&self, events: Vec<AlertEvent>, notified: usize) {
        if notified > 0 {
            self.outbox_wake.notify_waiters();
        }
        for event in events {
            self.metrics
                .alert(event.kind.as_str(), event.event.as_str());
            tracing::info!(
                household = %event.household,
                meter_id = %event.meter_id,
                rule = %event.rule,
                event = event.event.as_str(),
                severity = event.severity.as_str(),
                "{}",
                event.summary
            );
            let _ = self.events.send(event);
        }
    }
}
