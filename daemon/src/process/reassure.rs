//! The daily reassurance, decided in the processor's transaction: the
//! readings that show the morning's first water, checked against open
//! cases and away mode, become outbox entries (see `notify::reassurance`).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;
use waterwatch_rules::AlertEvent;

use super::Processor;
use crate::notify::reassurance;
use crate::store::outbox::{NewEntry, Purpose};
use crate::store::{self, StoreError};

/// A reading that may show the day's first water, for the reassurance.
#[derive(Debug, Clone)]
pub(super) struct Use {
    pub(super) household: String,
    pub(super) meter: String,
    pub(super) ts: DateTime<Utc>,
    pub(super) total_l: f64,
}

/// Readings older than this when they arrive earn no reassurance: it would
/// come too late to reassure anyone.
pub(super) const REASSURANCE_FRESH: chrono::Duration = chrono::Duration::hours(2);

impl Processor {
    /// The daily reassurance for the first water of the morning, to the
    /// contacts who asked; none while a case is open or the household is
    /// away (or an alert came in the same batch). Returns how many queued.
    pub(super) async fn reassure(
        &mut self,
        conn: &mut AnyConnection,
        uses: &[Use],
        events: &[AlertEvent],
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let now_ms = now.timestamp_millis();
        let mut queued = 0;
        for used in uses {
            let grid = self.settings.grids.get(&used.household).map(String::as_str);
            let due: Vec<_> =
                reassurance::due(&self.settings.contacts, &used.household, grid, used.ts)
                    .into_iter()
                    .filter(|d| {
                        !self.reassured.contains(&(
                            used.household.clone(),
                            d.contact.name.clone(),
                            d.day,
                        ))
                    })
                    .collect();
            if due.is_empty() {
                continue;
            }
            let previous =
                store::ingest::previous_total(conn, &used.meter, used.ts.timestamp_millis())
                    .await?;
            if previous.is_none_or(|p| used.total_l <= p) {
                continue;
            }
            let away = store::suppressions::current(conn, now)
                .await?
                .iter()
                .any(|s| {
                    s.away && s.active(now) && s.household.as_deref() == Some(&used.household)
                });
            let held = away
                || events.iter().any(|e| e.household == used.household)
                || store::cases::open_case(conn, &used.household)
                    .await?
                    .is_some();
            let mut outgoing = Vec::new();
            let mut settled = Vec::new();
            for d in &due {
                settled.push((used.household.clone(), d.contact.name.clone(), d.day));
                if !held {
                    outgoing.extend(reassurance::messages(
                        d,
                        &used.household,
                        self.settings.names.get(&used.household).map(String::as_str),
                        &self.settings.templates,
                        now,
                    ));
                }
            }
            if held {
                tracing::info!(household = %used.household, "no reassurance today: a case is open or the household is away");
            }
            for out in outgoing {
                let payload = serde_json::to_string(&out.message).unwrap_or_default();
                let entry = NewEntry {
                    idempotency_key: &out.key,
                    channel: &out.channel,
                    case_id: None,
                    payload: &payload,
                    purpose: Purpose::Reassurance,
                    not_before_ms: out.not_before.timestamp_millis(),
                };
                if store::outbox::insert(conn, &entry, now_ms).await? {
                    queued += 1;
                    tracing::info!(household = %used.household, channel = %out.channel, "reassurance queued: first water at {}", used.ts);
                }
            }
            self.reassured.extend(settled);
        }
        Ok(queued)
    }
}
