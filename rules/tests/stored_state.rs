//! A meter's stored state across versions: JSON written by an older engine
//! (count arrays, alert texts kept) still loads and continues with the same
//! decisions and texts as the same state in today's smaller form.

use chrono::{DateTime, Duration};
use waterwatch_rules::{AlertEvent, Engine, MeterState, Reading, RuleSet};

/// The largest state of the detection benchmark's 60-day run (a burst
/// household with five alerts firing), as the engine wrote it before counts
/// became compact text and before alert texts left the state.
const OLD: &str = include_str!("states/written-by-0.1-array-counts.json");
const METER: &str = "h-burst";

/// The burst runs on for 30 min, stops, then 14 h with no use, then a wash.
fn continuation() -> Vec<Reading> {
    let start = DateTime::parse_from_rfc3339("2026-03-06T00:00:00+08:00").unwrap();
    let mut total = 466_722.0;
    let mut out = Vec::new();
    for i in 1..=60 {
        if i <= 2 {
            total += 600.0;
        }
        if i == 58 {
            total += 12.0;
        }
        out.push(Reading {
            meter_id: METER.into(),
            ts: start + Duration::minutes(15 * i),
            total_l: total,
            flow_lpm: None,
            battery_pct: None,
            rssi_dbm: None,
            status: Vec::new(),
        });
    }
    out
}

fn continue_from(state: MeterState) -> Vec<AlertEvent> {
    let mut engine = Engine::new(RuleSet::default_rules());
    engine.restore_meter(METER, state);
    let mut events = Vec::new();
    for r in continuation() {
        events.extend(engine.observe(&r, r.ts).events);
        events.extend(engine.tick(r.ts));
    }
    events
}

fn story(events: &[AlertEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e.ts.format("%d %H:%M"),
                e.rule,
                e.event.as_str(),
                e.summary
            )
        })
        .collect()
}

#[test]
fn state_written_by_the_older_engine_loads_and_decides_as_before() {
    let old: MeterState = serde_json::from_str(OLD).unwrap();
    assert_eq!(old.active_alerts().len(), 5);
    let events = continue_from(old.clone());
    // What the engine that wrote the state says from here (run on it).
    assert_eq!(
        story(&events),
        [
            "06 00:45 tap_running resolved No water used since 00:30 (15 min); the flow has stopped.",
            "06 00:45 running_toilet resolved No water used since 00:30 (15 min); the flow has stopped.",
            "06 00:45 burst resolved Flow down to 0 L/min over the 15 min up to 00:45.",
            "06 01:30 leak_trickle resolved No water used since 00:30 (1 h); the flow has stopped.",
            "06 01:30 unusual_volume resolved Flow down to 0 L/min over the 1 h up to 01:30.",
            "06 10:15 inactivity fired No water used since 00:30 (9 h 45 min). This household's mornings usually start by 09:15; still no water at 10:15.",
            "06 14:30 inactivity resolved Water used again between 14:15 and 14:30.",
        ]
    );
    let compact = serde_json::to_string(&old).unwrap();
    assert!(
        compact.len() + 1000 < OLD.trim_end().len(),
        "old {} B, now {} B: {compact}",
        OLD.trim_end().len(),
        compact.len()
    );
    let again: MeterState = serde_json::from_str(&compact).unwrap();
    assert_eq!(again, old);
    assert_eq!(story(&continue_from(again)), story(&events));
}
