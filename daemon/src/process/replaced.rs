//! Meters replaced by others in the same home (`replaced` in a household's
//! config), retired when the processor starts: each old meter's alerts
//! about itself (offline, faults) resolve, saying so; its alerts about the
//! household stay in their open case, which says they are watched no more
//! and waits for a person to close it; and the meter that took its place
//! takes over what the engine learned of the household.

use chrono::{DateTime, Utc};
use sqlx::AnyConnection;

use super::Processor;
use crate::store::{self, StoreError};

impl Processor {
    /// Retire the replaced meters not retired yet, each in a transaction
    /// of its own: the new meter's state, the old one's retirement and
    /// what its resolved alerts do to cases are stored together.
    pub(super) async fn retire_replaced(&mut self) -> Result<(), StoreError> {
        let mut conn = self.store.pool().acquire().await?;
        let pending = store::replaced::pending(&mut conn).await?;
        drop(conn);
        for (old, new) in pending {
            let now = self.clock.now();
            let days = self.engine.baseline_status(&old).map(|s| s.days_seen);
            let events = self.engine.replace_meter(
                &old,
                &new,
                now.with_timezone(&self.settings.display_offset),
            );
            let household = self.households.remove(&old);
            let result = async {
                let mut tx = self.store.pool().begin().await?;
                self.save_state(&mut tx, &new).await?;
                store::replaced::retire(&mut tx, &old, now.timestamp_millis()).await?;
                let notified = self.apply_events(&mut tx, &events, now).await?;
                if let Some(household) = &household {
                    note_unwatched(&mut tx, household, &old, &new, now).await?;
                }
                tx.commit().await?;
                Ok::<_, StoreError>(notified)
            }
            .await;
            match result {
                Ok(notified) => self.after_commit(events, notified),
                Err(e) => {
                    self.reload().await?;
                    return Err(e);
                }
            }
            let carried = self.engine.baseline_status(&new).map(|s| s.days_seen);
            tracing::info!(
                old = %old,
                new = %new,
                old_days = days.unwrap_or(0),
                new_days = carried.unwrap_or(0),
                "replaced meter retired; its successor watches the household"
            );
        }
        Ok(())
    }
}

/// The household's open case keeps `old`'s alerts about the household's
/// water use (a swap shows nobody is fine): its trail says that no water
/// will resolve them now, so a person must close it.
async fn note_unwatched(
    conn: &mut AnyConnection,
    household: &str,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(case) = store::cases::open_case(conn, household).await? else {
        return Ok(());
    };
    let Some(id) = case.id else {
        return Ok(());
    };
    for alert in case.active().filter(|a| a.meter_id == old) {
        let detail = format!(
            "{}: meter {old} was replaced by {new}; water on {new} does not end this \
             alert. Close the case once someone has checked on the household.",
            alert.rule
        );
        store::cases::audit(conn, id, now, "meter_replaced", &detail).await?;
    }
    Ok(())
}
