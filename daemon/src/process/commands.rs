//! What people ask of the processor: act on a case (acknowledge, close,
//! "I'm OK"), record consent withdrawn or given again; and the escalation
//! that falls due with time.

use waterwatch_rules::AlertEvent;

use super::Processor;
use crate::case::{self, Case, Input, Reason};
use crate::store::{self, StoreError};

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

impl Processor {
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
        // What the engine learned about the household's meters goes too;
        // given again, its meters are expected from now.
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
        // A case water use closed on its own still takes a person's reason
        // for a day (what they found there).
        let outcome = matches!(action, Action::Close { .. }) && case.takes_outcome(now);
        if !case.is_open() && !outcome {
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
        let (mut queued, after) = self
            .apply(&mut tx, Some(case.clone()), input, None, now)
            .await?;
        let meters = self.meters_of(&case.household);
        let events: Vec<AlertEvent> = match Finding::of(action) {
            None => {
                tx.commit().await?;
                self.after_commit(Vec::new(), queued);
                return Ok(ActionOutcome::Done(after.unwrap_or(case)));
            }
            // Someone saw the resident fine just now: the quiet is measured
            // again from now, so the alert can fire again if it goes on.
            Some(Finding::Fine) => {
                let at = now.with_timezone(&self.settings.display_offset);
                meters
                    .iter()
                    .flat_map(|meter| self.engine.confirm_fine(meter, at))
                    .collect()
            }
            // The resident was in need: the quiet of the incident must not
            // make the next one look usual.
            Some(Finding::Incident) => {
                for meter in &meters {
                    self.engine.confirm_incident(meter);
                }
                Vec::new()
            }
            // Water was running unattended: the run must not make the next
            // leak look usual.
            Some(Finding::Leak) => {
                for meter in &meters {
                    self.engine.confirm_leak(meter);
                }
                Vec::new()
            }
        };
        let result = async {
            for meter in &meters {
                self.save_state(&mut tx, meter).await?;
            }
            queued += self.apply_events(&mut tx, &events, now).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await;
        match result {
            Ok(()) => {
                self.after_commit(events, queued);
                Ok(ActionOutcome::Done(after.unwrap_or(case)))
            }
            Err(e) => {
                // The engine moved on without the store: back to what is stored.
                self.reload().await?;
                Err(e)
            }
        }
    }

    /// The household's meters the engine knows (a meter without a
    /// household is its own).
    fn meters_of(&self, household: &str) -> Vec<String> {
        self.engine
            .meters()
            .filter(|m| self.households.get(*m).map_or(*m, String::as_str) == household)
            .map(str::to_owned)
            .collect()
    }
}

/// Whether the action means the resident was seen (or answered) fine just
/// now: "I'm OK", or a case closed as fine, a late riser or a false alarm.
/// What a person's action says about the resident, for the engine.
enum Finding {
    /// Seen fine (or answered "I'm OK").
    Fine,
    /// Found in need: an emergency or a hospital stay.
    Incident,
    /// Water found running: a leak, a running toilet, a tap left open.
    Leak,
}

impl Finding {
    fn of(action: &Action) -> Option<Finding> {
        match action {
            Action::ResidentOk
            | Action::Close {
                reason: Reason::Fine | Reason::LateRiser | Reason::FalseAlarm,
                ..
            } => Some(Finding::Fine),
            Action::Close {
                reason: Reason::Emergency | Reason::Hospital,
                ..
            } => Some(Finding::Incident),
            Action::Close {
                reason: Reason::Leak,
                ..
            } => Some(Finding::Leak),
            _ => None,
        }
    }
}
