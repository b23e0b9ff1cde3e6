//! The processor: the one task that owns the rules engine and writes to the
//! store. Each batch of messages becomes one transaction — readings, engine
//! state, cases and outbox entries together — and only after it commits are
//! the messages acknowledged to the broker. A crash at any point either loses
//! the whole transaction (the broker redelivers) or keeps all of it (the
//! redelivered readings are recognised as already stored).
//!
//! Beside it: `process/reassure.rs` (the daily reassurance) and
//! `process/failures.rs` (notifications that failed for good: audit,
//! escalation, ops alert), both inside the same transactions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use sqlx::AnyConnection;
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use waterwatch_rules::{AlertEvent, Engine, MeterState, Reading, RuleSet, Transition};

use crate::case::{self, Case, Effect, Input, NotifyReason, Reason, Role, Route};
use crate::clock::Clock;
use crate::config::UnknownMeters;
use crate::ingest::Reject;
use crate::ingest::adapter::Router;
use crate::ingest::mqtt::{AckQueue, Acker, Delivery};
use crate::ingest::native::TimeWindow;
use crate::links::{Claim, LinkAction, Signer};
use crate::metrics::Metrics;
use crate::notify::contacts::{self, ContactConfig};
use crate::notify::template::{self, Templates};
use crate::notify::{Message, payload};
use crate::store::dashboard::StateSummary;
use crate::store::ingest::SavedState;
use crate::store::{self, Store, StoreError};
use crate::suppress;

mod failures;
mod reassure;
mod task;

pub use task::{Inlets, run};

use reassure::{REASSURANCE_FRESH, Use};

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

/// What a person does to a case.
#[derive(Debug, Clone)]
pub enum Action {
    Acknowledge {
        by: String,
        note: Option<String>,
    },
    Close {
        by: String,
        reason: Reason,
        note: Option<String>,
    },
    ResidentOk,
}

/// What came of an action.
#[derive(Debug, Clone)]
pub enum ActionOutcome {
    Done(Case),
    /// Nothing changed (e.g. a second acknowledgement).
    Unchanged(Case),
    AlreadyClosed(Case),
    NoSuchCase,
}

/// An action sent to the processor, with where to answer.
#[derive(Debug)]
pub struct Command {
    pub case_id: i64,
    pub action: Action,
    pub reply: tokio::sync::oneshot::Sender<Result<ActionOutcome, String>>,
}

/// Consent withdrawn (`monitoring: false`) or given again, with where to
/// answer: what was purged, or `None` for an unknown household.
#[derive(Debug)]
pub struct ConsentCommand {
    pub household: String,
    pub monitoring: bool,
    pub reply: tokio::sync::oneshot::Sender<Result<Option<store::purge::Purged>, String>>,
}

/// The template for each reason a case notifies.
fn template_reason(reason: NotifyReason) -> template::Reason {
    match reason {
        NotifyReason::ResidentCheck => template::Reason::ResidentCheck,
        NotifyReason::CaseOpened => template::Reason::CaseOpened,
        NotifyReason::Escalated => template::Reason::Escalated,
        NotifyReason::Reminder => template::Reason::Reminder,
        NotifyReason::SeverityRaised => template::Reason::SeverityRaised,
        NotifyReason::Acknowledged => template::Reason::Acknowledged,
        NotifyReason::VisitOverdue => template::Reason::VisitOverdue,
        NotifyReason::AllClear => template::Reason::AllClear,
        NotifyReason::Closed => template::Reason::Closed,
    }
}

/// What fills a template for this case.
fn template_values(case: &Case, case_id: i64) -> template::Values {
    let summary = match &case.closed {
        Some(closure) => closure.reason.as_str().replace('_', " "),
        None => case
            .alerts
            .iter()
            .rev()
            .find(|a| a.resolved.is_none())
            .or(case.alerts.last())
            .map(|a| a.summary.clone())
            .unwrap_or_default(),
    };
    template::Values {
        household: case.household.clone(),
        name: case.household.clone(),
        summary,
        since: case.opened.format("%H:%M UTC").to_string(),
        // Signed acknowledgement links come with the dashboard; until then
        // the case number is what a person quotes.
        link: format!("case #{case_id}"),
        by: case
            .acknowledged
            .as_ref()
            .map(|a| a.by.clone())
            .or_else(|| case.closed.as_ref().and_then(|c| c.by.clone()))
            .unwrap_or_default(),
    }
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
        };
        processor.reload().await?;
        Ok(processor)
    }

    /// Where committed alert events are broadcast (the demo prints them).
    pub fn event_sender(&self) -> broadcast::Sender<AlertEvent> {
        self.events.clone()
    }

    pub fn replace_rules(&mut self, rules: RuleSet) {
        self.engine.replace_rules(rules);
    }

    /// Throw away in-memory state and load it again from the store (after a
    /// failed transaction, memory may be ahead of the database).
    async fn reload(&mut self) -> Result<(), StoreError> {
        let rules = self.engine.rules().clone();
        let mut engine = Engine::new(rules);
        let mut households = HashMap::new();
        for row in store::ingest::meters(self.store.pool()).await? {
            engine.set_household(&row.id, &row.household_id);
            if let Some(json) = &row.engine_state {
                let state: MeterState =
                    serde_json::from_str(json).map_err(|e| StoreError::BadState {
                        meter: row.id.clone(),
                        detail: e.to_string(),
                    })?;
                engine.restore_meter(&row.id, state);
            }
            households.insert(row.id, row.household_id);
        }
        self.engine = engine;
        self.households = households;
        self.reassured.clear();
        let mut conn = self.store.pool().acquire().await?;
        self.withdrawn = store::purge::withdrawn(&mut conn)
            .await?
            .into_iter()
            .collect();
        Ok(())
    }

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
        let mut touched: BTreeMap<String, i64> = BTreeMap::new();
        let mut events = Vec::new();
        let wants_reassurance = self
            .settings
            .contacts
            .iter()
            .any(|c| c.reassurance_from().is_some());
        let mut uses = Vec::new();
        for delivery in deliveries {
            let readings = match self.parse(delivery, now) {
                Ok((readings, rejected)) => {
                    for why in rejected {
                        self.dead_letter(&mut tx, delivery, &why, now_ms).await?;
                    }
                    readings
                }
                Err(why) => {
                    self.dead_letter(&mut tx, delivery, &why, now_ms).await?;
                    continue;
                }
            };
            for reading in readings {
                if !self.households.contains_key(&reading.meter_id) {
                    if self.settings.unknown_meters == UnknownMeters::Reject {
                        let why = Reject::UnknownMeter(reading.meter_id.clone());
                        self.dead_letter(&mut tx, delivery, &why, now_ms).await?;
                        continue;
                    }
                    // A new meter is its own household until the registry says otherwise.
                    store::ingest::register_meter(
                        &mut tx,
                        &reading.meter_id,
                        &reading.meter_id,
                        now_ms,
                    )
                    .await?;
                    self.engine
                        .set_household(&reading.meter_id, &reading.meter_id);
                    self.households
                        .insert(reading.meter_id.clone(), reading.meter_id.clone());
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
                if !store::ingest::insert_reading(&mut tx, &reading, now_ms).await? {
                    self.metrics.readings_duplicate.inc();
                    continue;
                }
                self.metrics.readings_ingested.inc();
                let lag = (now - reading.ts.with_timezone(&Utc))
                    .num_milliseconds()
                    .max(0);
                self.metrics.ingest_lag_seconds.observe(lag as f64 / 1000.0);
                let judged_at = now.with_timezone(reading.ts.offset());
                let outcome = self.engine.observe(&reading, judged_at);
                for note in &outcome.notes {
                    self.metrics.note(note.as_str());
                }
                events.extend(outcome.events);
                if wants_reassurance
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
        }
        for (meter, newest) in &touched {
            self.save_state(&mut tx, meter, Some((now_ms, *newest)))
                .await?;
        }
        let mut notified = self.apply_events(&mut tx, &events, now).await?;
        if !uses.is_empty() {
            notified += self.reassure(&mut tx, &uses, &events, now).await?;
        }
        tx.commit().await?;
        self.after_commit(events, notified);
        Ok(())
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
            for meter in &meters {
                self.save_state(&mut tx, meter, None).await?;
            }
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

    async fn save_state(
        &self,
        conn: &mut AnyConnection,
        meter: &str,
        heard: Option<(i64, i64)>,
    ) -> Result<(), StoreError> {
        let Some(state) = self.engine.meter_state(meter) else {
            return Ok(());
        };
        let json = serde_json::to_string(&state).map_err(|e| StoreError::BadState {
            meter: meter.to_owned(),
            detail: e.to_string(),
        })?;
        let saved = SavedState {
            json: &json,
            summary: StateSummary::of(&state),
        };
        match heard {
            Some((seen_ms, newest_reading_ms)) => {
                store::ingest::save_meter(conn, meter, seen_ms, newest_reading_ms, saved).await
            }
            None => store::ingest::save_engine_state(conn, meter, saved).await,
        }
    }

    /// Run each event through the case lifecycle and queue its notifications.
    /// Returns how many notifications were queued.
    async fn apply_events(
        &self,
        conn: &mut AnyConnection,
        events: &[AlertEvent],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut queued = 0;
        let mut suppressions = None;
        for event in events {
            if event.event == Transition::Fired {
                // Read only when something fires: firing is rare.
                if suppressions.is_none() {
                    suppressions = Some(store::suppressions::current(conn, now).await?);
                }
                let grid = self
                    .settings
                    .grids
                    .get(&event.household)
                    .map(String::as_str);
                let active = suppressions.as_deref().unwrap_or_default();
                if let Some(by) =
                    suppress::covering(active, &event.household, grid, event.kind, now)
                {
                    store::suppressions::hold(conn, event, now).await?;
                    self.metrics
                        .suppressed(if by.away { "away" } else { "silence" });
                    tracing::info!(
                        household = %event.household,
                        rule = %event.rule,
                        "held back ({}: {}) until {}",
                        if by.away { "away" } else { "silenced" },
                        by.reason,
                        by.ends
                    );
                    continue;
                }
            } else if store::suppressions::release(conn, event).await? {
                // It fired and ended while suppressed: nobody needs to hear of it.
                continue;
            }
            let open = store::cases::open_case(conn, &event.household).await?;
            queued += self
                .apply(conn, open, Input::Alert(event), Some(event), now)
                .await?
                .0;
        }
        Ok(queued)
    }

    /// Alerts held back by a suppression that has ended and still active:
    /// they open (or join) a case now.
    async fn release_held(
        &self,
        conn: &mut AnyConnection,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let held = store::suppressions::held(conn).await?;
        if held.is_empty() {
            return Ok(0);
        }
        let suppressions = store::suppressions::current(conn, now).await?;
        let mut queued = 0;
        for event in held {
            let grid = self
                .settings
                .grids
                .get(&event.household)
                .map(String::as_str);
            if suppress::covering(&suppressions, &event.household, grid, event.kind, now).is_some()
            {
                continue;
            }
            store::suppressions::release(conn, &event).await?;
            let open = store::cases::open_case(conn, &event.household).await?;
            queued += self
                .apply(conn, open, Input::Alert(&event), Some(&event), now)
                .await?
                .0;
        }
        Ok(queued)
    }

    /// Step one case with one input, store the result and queue its
    /// notifications. Returns (notifications queued, the case afterwards).
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        case: Option<Case>,
        input: Input<'_>,
        cause: Option<&AlertEvent>,
        now: DateTime<Utc>,
    ) -> Result<(usize, Option<Case>), StoreError> {
        let (next, effects) = case::step(case.as_ref(), input, &self.settings.routes, now);
        let Some(mut next) = next else {
            return Ok((0, case));
        };
        let case_id = store::cases::save(conn, &next).await?;
        next.id = Some(case_id);
        let mut queued = 0;
        for effect in effects {
            match effect {
                Effect::Audit(kind, detail) => {
                    store::cases::audit(conn, case_id, now, kind, &detail).await?;
                }
                Effect::Notify { reason, roles } => {
                    queued += self
                        .queue_notices(conn, &next, case_id, reason, &roles, cause, now)
                        .await?;
                }
            }
        }
        Ok((queued, Some(next)))
    }

    /// Queue one notification: to every broadcast channel, and to every
    /// contact of the household with one of `roles` over each of their
    /// channels (held until the end of their quiet hours unless critical).
    #[allow(clippy::too_many_arguments)]
    async fn queue_notices(
        &self,
        conn: &mut AnyConnection,
        case: &Case,
        case_id: i64,
        reason: NotifyReason,
        roles: &[Role],
        cause: Option<&AlertEvent>,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let body = payload::case_notification(case_id, case, reason, roles, cause, now);
        // What makes this notification unique within its case.
        let nth = match reason {
            NotifyReason::CaseOpened | NotifyReason::Escalated => {
                case.progress.steps_done.to_string()
            }
            NotifyReason::Reminder => case.progress.reminders.to_string(),
            NotifyReason::SeverityRaised => cause
                .map(|c| format!("{}-{}", c.rule, c.ts.timestamp_millis()))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let subject = format!("waterwatch: {} {}", case.household, reason.as_str());
        let text = payload::text(case, reason);
        let now_ms = now.timestamp_millis();
        let mut outgoing: Vec<(String, String, Message, i64)> = Vec::new();
        for channel in &self.settings.channels {
            let message = Message {
                to: None,
                subject: subject.clone(),
                text: text.clone(),
                body: body.clone(),
            };
            outgoing.push((
                format!("case-{case_id}-{}-{nth}-{channel}", reason.as_str()),
                channel.clone(),
                message,
                now_ms,
            ));
        }
        let grid = self.settings.grids.get(&case.household).map(String::as_str);
        let values = template_values(case, case_id);
        for contact in
            contacts::for_household(&self.settings.contacts, &case.household, grid, roles)
        {
            let not_before = contact.not_before(case.severity(), now).timestamp_millis();
            let mut values = values.clone();
            values.since = case
                .opened
                .with_timezone(&contact.offset())
                .format("%H:%M")
                .to_string();
            if let Some((signer, valid_for)) = &self.settings.links {
                let action = if contact.role == Role::Resident {
                    LinkAction::ResidentOk
                } else {
                    LinkAction::Acknowledge
                };
                let expires = now + chrono::Duration::from_std(*valid_for).unwrap_or_default();
                values.link = signer.link(&Claim {
                    case_id,
                    action,
                    who: contact.name.clone(),
                    expires: expires.timestamp(),
                });
            }
            let (subject, text) =
                self.settings
                    .templates
                    .render(template_reason(reason), contact.language, &values);
            for reach in &contact.reach {
                let message = Message {
                    to: reach.to.clone(),
                    subject: subject.clone(),
                    text: text.clone(),
                    body: body.clone(),
                };
                let key = format!(
                    "case-{case_id}-{}-{nth}-{}-{}-{}",
                    reason.as_str(),
                    reach.channel,
                    contact.name,
                    reach.to.as_deref().unwrap_or("")
                );
                outgoing.push((key, reach.channel.clone(), message, not_before));
            }
        }
        let mut queued = 0;
        for (key, channel, message, not_before) in outgoing {
            let payload = serde_json::to_string(&message).unwrap_or_default();
            if store::outbox::enqueue(
                conn,
                &key,
                &channel,
                Some(case_id),
                &payload,
                now_ms,
                not_before,
            )
            .await?
            {
                queued += 1;
                let to = message
                    .to
                    .as_deref()
                    .map(crate::notify::mask)
                    .unwrap_or_default();
                store::cases::audit(
                    conn,
                    case_id,
                    now,
                    "notification_queued",
                    &format!(
                        "{} for {} via {channel} {to}",
                        reason.as_str(),
                        roles_text(roles)
                    ),
                )
                .await?;
            }
        }
        Ok(queued)
    }

    /// Escalation that is due: steps, reminders, visit deadlines.
    pub async fn escalate(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await?;
        let mut queued = self.release_held(&mut tx, now).await?;
        queued += self.handle_failures(&mut tx, now).await?;
        for case in store::cases::open_cases(&mut tx).await? {
            queued += self
                .apply(&mut tx, Some(case), Input::Tick, None, now)
                .await?
                .0;
        }
        tx.commit().await?;
        if queued > 0 {
            self.outbox_wake.notify_waiters();
        }
        Ok(())
    }

    /// Consent withdrawn (purge everything about the household and refuse
    /// its readings from now on) or given again. `None` for an unknown
    /// household.
    pub async fn set_consent(
        &mut self,
        household: &str,
        monitoring: bool,
    ) -> Result<Option<store::purge::Purged>, StoreError> {
        let now_ms = self.clock.now().timestamp_millis();
        let mut tx = self.store.pool().begin().await?;
        let known = sqlx::query("SELECT id FROM households WHERE id = $1")
            .bind(household)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !known {
            return Ok(None);
        }
        let purged = if monitoring {
            store::purge::resume(&mut tx, household).await?;
            store::purge::Purged::default()
        } else {
            store::purge::withdraw(&mut tx, household, now_ms).await?
        };
        tx.commit().await?;
        // What the engine learned about the household's meters goes too.
        self.reload().await?;
        tracing::info!(household, monitoring, "consent recorded");
        Ok(Some(purged))
    }

    /// A person's action on a case (acknowledge, close, "I'm OK").
    pub async fn act(
        &mut self,
        case_id: i64,
        action: &Action,
    ) -> Result<ActionOutcome, StoreError> {
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await?;
        let Some(case) = store::cases::by_id(&mut tx, case_id).await? else {
            return Ok(ActionOutcome::NoSuchCase);
        };
        if !case.is_open() {
            return Ok(ActionOutcome::AlreadyClosed(case));
        }
        let input = match action {
            Action::Acknowledge { by, note } => Input::Acknowledge {
                by,
                note: note.as_deref(),
            },
            Action::Close { by, reason, note } => Input::Close {
                by,
                reason: *reason,
                note: note.as_deref(),
            },
            Action::ResidentOk => Input::ResidentOk,
        };
        let (next, _) = case::step(Some(&case), input.clone(), &self.settings.routes, now);
        if next.is_none() {
            return Ok(ActionOutcome::Unchanged(case));
        }
        let (queued, after) = self
            .apply(&mut tx, Some(case.clone()), input, None, now)
            .await?;
        tx.commit().await?;
        if queued > 0 {
            self.outbox_wake.notify_waiters();
        }
        Ok(ActionOutcome::Done(after.unwrap_or(case)))
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
