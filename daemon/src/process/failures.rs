//! Notifications the outbox gave up on for good, acted on in the
//! processor's transaction: the case's audit trail, its next escalation
//! step, and an ops alert (see `notify::ops`).

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::Processor;
use crate::case::Input;
use crate::notify::{Message, ops};
use crate::store::outbox::{NewEntry, Purpose};
use crate::store::{self, StoreError};

impl Processor {
    /// Notifications the outbox gave up on for good: each is recorded in its
    /// case's audit trail, moves the case on to its next escalation step
    /// (when nobody has acknowledged yet) and is raised to ops. A failed ops
    /// alert is only logged and counted. Returns how many queued.
    pub(super) async fn handle_failures(
        &self,
        conn: &mut AnyConnection,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let now_ms = now.timestamp_millis();
        let mut queued = 0;
        for failure in store::outbox::failures(conn, 100).await? {
            store::outbox::failure_handled(conn, failure.id).await?;
            let to = serde_json::from_str::<Message>(&failure.payload)
                .ok()
                .and_then(|m| m.to)
                .map(|t| crate::notify::mask(&t))
                .unwrap_or_default();
            if failure.purpose == Purpose::Ops {
                self.metrics.ops_alert("ops_delivery_failed");
                tracing::error!(channel = %failure.channel, key = %failure.idempotency_key, "an ops alert could not be delivered: {}", failure.error);
                continue;
            }
            let mut household = None;
            let mut escalated = false;
            if let Some(case_id) = failure.case_id {
                store::cases::audit(
                    conn,
                    case_id,
                    now,
                    "delivery_failed",
                    &format!(
                        "via {} {to}: {} (after {} attempts)",
                        failure.channel, failure.error, failure.attempts
                    ),
                )
                .await?;
                if let Some(case) = store::cases::by_id(conn, case_id).await? {
                    household = Some(case.household.clone());
                    let before = case.progress.steps_done;
                    if case.is_open() && failure.purpose == Purpose::Case {
                        let (n, after) = self
                            .apply(conn, Some(case), Input::DeliveryFailed, None, now)
                            .await?;
                        queued += n;
                        escalated = after.is_some_and(|c| c.progress.steps_done > before);
                    }
                }
            }
            self.metrics.ops_alert("delivery_failed");
            tracing::error!(
                channel = %failure.channel,
                case = ?failure.case_id,
                household = household.as_deref().unwrap_or(""),
                escalated,
                "a notification failed for good: {}",
                failure.error
            );
            let told = ops::delivery_failed(
                &self.settings.ops.reach,
                self.settings.ops.language,
                &ops::DeliveryFailure {
                    outbox_id: failure.id,
                    channel: &failure.channel,
                    to: &to,
                    error: &failure.error,
                    purpose: failure.purpose.as_str(),
                    case_id: failure.case_id,
                    household: household.as_deref(),
                    escalated,
                },
                now,
            );
            for (key, channel, message) in told {
                let payload = serde_json::to_string(&message).unwrap_or_default();
                let entry = NewEntry {
                    idempotency_key: &key,
                    channel: &channel,
                    case_id: failure.case_id,
                    payload: &payload,
                    purpose: Purpose::Ops,
                    not_before_ms: now_ms,
                };
                if store::outbox::insert(conn, &entry, now_ms).await? {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }
}
