//! Restoring the engine from the store: at start, and after a failed
//! transaction (memory may then be ahead of the database).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use tokio::task::{JoinError, JoinHandle};
use waterwatch_rules::{Engine, MeterState};

use super::Processor;
use crate::store::registry::{MeterPages, MeterRow};
use crate::store::{self, StoreError};

/// A page of meters, each with its stored state parsed (taken out of the row).
type Parsed = Vec<(MeterRow, Option<MeterState>)>;

impl Processor {
    /// Throw away in-memory state and load it again from the store. A
    /// listed meter never heard from is expected from now, and that wait
    /// stored.
    // Design: parsing the stored states is most of a start (100,000 of them
    // took 1.8 s on one core), so each page is parsed on the blocking pool
    // in two halves at once, while the next page is read and the one
    // before is put into the engine.
    pub(super) async fn reload(&mut self) -> Result<(), StoreError> {
        let mut conn = self.store.pool().acquire().await?;
        self.withdrawn = store::purge::withdrawn(&mut conn)
            .await?
            .into_iter()
            .collect();
        drop(conn);
        let mut restoring = Restoring {
            engine: Engine::new(self.engine.rules().clone()),
            households: HashMap::new(),
            replaced: HashMap::new(),
            unstored: Vec::new(),
        };
        let meters = store::registry::meter_count(self.store.pool()).await?;
        restoring.engine.reserve(meters);
        let now = self
            .clock
            .now()
            .with_timezone(&self.settings.display_offset);
        let mut pages = MeterPages::read(self.store.pool().clone());
        let mut parsing: Option<Parsing> = None;
        loop {
            let next = pages.next().await?.map(Parsing::start);
            if let Some(page) = parsing.take() {
                for (row, state) in page.done().await? {
                    restoring.add(row, state, &self.withdrawn, now);
                }
            }
            match next {
                Some(page) => parsing = Some(page),
                None => break,
            }
        }
        let Restoring {
            mut engine,
            households,
            replaced,
            unstored,
        } = restoring;
        engine.shrink_to_fit();
        self.engine = engine;
        self.households = households;
        self.replaced = replaced;
        self.reassured.clear();
        self.store_expected(&unstored).await
    }

    /// Store the state of the meters `reload` began to expect, so the wait
    /// for a meter never heard from survives a restart.
    async fn store_expected(&mut self, meters: &[String]) -> Result<(), StoreError> {
        if meters.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.pool().begin().await?;
        self.save_states(&mut tx, meters.iter().map(String::as_str))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What [`Processor::reload`] builds, a meter at a time.
struct Restoring {
    engine: Engine,
    /// meter id → household id, for every watched meter.
    households: HashMap<String, String>,
    /// Replaced meter → the meter that took its place.
    replaced: HashMap<String, String>,
    /// Meters never heard from, now expected: their waits are to be stored.
    unstored: Vec<String>,
}

impl Restoring {
    fn add(
        &mut self,
        row: MeterRow,
        state: Option<MeterState>,
        withdrawn: &HashSet<String>,
        now: DateTime<FixedOffset>,
    ) {
        if let Some(by) = row.replaced_by {
            self.replaced.insert(row.id.clone(), by);
            if row.retired_ms.is_some() {
                return;
            }
        }
        self.engine.set_household(&row.id, &row.household_id);
        match state {
            Some(state) => self.engine.restore_meter(&row.id, state),
            // Listed but never heard from (a mistyped id, a meter not
            // connected): expected from now (the wait is then stored with
            // its state), so its silence draws meter_offline.
            None if !withdrawn.contains(&row.household_id) => {
                self.engine.expect_meter(&row.id, now);
                self.unstored.push(row.id.clone());
            }
            None => {}
        }
        self.households.insert(row.id, row.household_id);
    }
}

/// A page's stored states being parsed on the blocking pool, in two halves
/// at once.
struct Parsing {
    first: JoinHandle<Result<Parsed, StoreError>>,
    second: JoinHandle<Result<Parsed, StoreError>>,
}

impl Parsing {
    fn start(mut rows: Vec<MeterRow>) -> Parsing {
        let second = rows.split_off(rows.len() / 2);
        Parsing {
            first: tokio::task::spawn_blocking(move || parse_states(rows)),
            second: tokio::task::spawn_blocking(move || parse_states(second)),
        }
    }

    async fn done(self) -> Result<Parsed, StoreError> {
        let mut page = joined(self.first.await)?;
        page.extend(joined(self.second.await)?);
        Ok(page)
    }
}

fn joined<T>(result: Result<T, JoinError>) -> T {
    result.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

fn parse_states(rows: Vec<MeterRow>) -> Result<Parsed, StoreError> {
    rows.into_iter()
        .map(|mut row| {
            let state = match row.engine_state.take() {
                Some(json) => {
                    Some(
                        serde_json::from_str(&json).map_err(|e| StoreError::BadState {
                            meter: row.id.clone(),
                            detail: e.to_string(),
                        })?,
                    )
                }
                None => None,
            };
            Ok((row, state))
        })
        .collect()
}
