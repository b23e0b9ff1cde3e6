//! `waterwatch backtest --rules NEW.toml [--since 30d]`: the stored readings
//! replayed through the running rules and a candidate, and which alerts the
//! change would add or remove, per household and rule — so ops tune with
//! evidence instead of hope.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use waterwatch_rules::{AlertEvent, Engine, RuleSet, Transition};

use crate::replay::EventTime;
use crate::store::{self, Store, StoreError};

/// Two alerts of one rule for one household count as the same alert when
/// they fire within this long of each other.
const SAME_ALERT_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, Default)]
pub struct Report {
    pub readings: u64,
    /// (household, rule) → (fired with the running rules, fired with the new rules).
    pub counts: BTreeMap<(String, String), (u64, u64)>,
    /// Alerts only the new rules raise.
    pub added: Vec<AlertEvent>,
    /// Alerts only the running rules raise.
    pub removed: Vec<AlertEvent>,
}

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "backtest over {} stored readings", self.readings);
        let _ = writeln!(
            out,
            "{:<16} {:<16} {:>8} {:>8}",
            "household", "rule", "running", "new"
        );
        for ((household, rule), (old, new)) in &self.counts {
            let marker = if old == new { "" } else { "  *" };
            let _ = writeln!(out, "{household:<16} {rule:<16} {old:>8} {new:>8}{marker}");
        }
        for (label, list) in [("added", &self.added), ("removed", &self.removed)] {
            let _ = writeln!(out, "{} alerts {label}:", list.len());
            for e in list {
                let _ = writeln!(
                    out,
                    "  {} {} {}: {}",
                    e.ts.to_rfc3339(),
                    e.household,
                    e.rule,
                    e.summary
                );
            }
        }
        out
    }
}

pub async fn run(
    store: &Store,
    running: RuleSet,
    candidate: RuleSet,
    since: DateTime<Utc>,
) -> Result<Report, StoreError> {
    let mut old = EventTime::new(Engine::new(running));
    let mut new = EventTime::new(Engine::new(candidate));
    let meters = store::registry::meters(store.pool()).await?;
    let mut handovers: Vec<Handover> = Vec::new();
    for m in &meters {
        for engine in [old.engine_mut(), new.engine_mut()] {
            engine.set_household(m.id.clone(), m.household_id.clone());
        }
        if let Some(by) = &m.replaced_by {
            handovers.push(Handover {
                old: m.id.clone(),
                new: by.clone(),
                at_ms: m.retired_ms,
            });
        }
    }
    let mut retired = HashSet::new();
    let mut report = Report::default();
    let (mut old_fired, mut new_fired) = (Vec::new(), Vec::new());
    let mut after = None;
    loop {
        let page = store::ingest::readings_page(
            store.pool(),
            since.timestamp_millis(),
            after.take(),
            10_000,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.ts.timestamp_millis(), last.meter_id.clone()));
        for reading in &page {
            report.readings += 1;
            let ts_ms = reading.ts.timestamp_millis();
            if handovers.iter().any(|h| h.due(reading, ts_ms)) {
                let (due, rest) = std::mem::take(&mut handovers)
                    .into_iter()
                    .partition(|h| h.due(reading, ts_ms));
                handovers = rest;
                for h in due {
                    for engine in [old.engine_mut(), new.engine_mut()] {
                        engine.replace_meter(&h.old, &h.new, reading.ts);
                    }
                    retired.insert(h.old);
                }
            }
            if retired.contains(&reading.meter_id) {
                // Stamped after the swap: the daemon refused it.
                continue;
            }
            old_fired.extend(
                old.feed(reading)
                    .into_iter()
                    .filter(|e| e.event == Transition::Fired),
            );
            new_fired.extend(
                new.feed(reading)
                    .into_iter()
                    .filter(|e| e.event == Transition::Fired),
            );
        }
    }
    for e in &old_fired {
        report
            .counts
            .entry((e.household.clone(), e.rule.clone()))
            .or_default()
            .0 += 1;
    }
    for e in &new_fired {
        report
            .counts
            .entry((e.household.clone(), e.rule.clone()))
            .or_default()
            .1 += 1;
    }
    report.added = unmatched(&new_fired, &old_fired);
    report.removed = unmatched(&old_fired, &new_fired);
    Ok(report)
}

/// A meter replaced by another, handed over as the daemon did: when it
/// retired the old meter (`at_ms`), or, not retired yet, at the new meter's
/// first reading.
struct Handover {
    old: String,
    new: String,
    at_ms: Option<i64>,
}

impl Handover {
    fn due(&self, reading: &waterwatch_rules::Reading, ts_ms: i64) -> bool {
        match self.at_ms {
            Some(at) => ts_ms >= at,
            None => reading.meter_id == self.new,
        }
    }
}

/// Alerts in `these` with no alert of the same household and rule near them in `those`.
fn unmatched(these: &[AlertEvent], those: &[AlertEvent]) -> Vec<AlertEvent> {
    these
        .iter()
        .filter(|e| {
            !those.iter().any(|o| {
                o.household == e.household
                    && o.rule == e.rule
                    && (o.ts.timestamp_millis() - e.ts.timestamp_millis()).abs() <= SAME_ALERT_MS
            })
        })
        .cloned()
        .collect()
}
