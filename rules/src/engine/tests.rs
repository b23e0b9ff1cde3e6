use chrono::{DateTime, Duration};

use super::*;
use crate::event::Transition;

fn t(minutes: i64) -> Timestamp {
    DateTime::parse_from_rfc3339("2026-11-24T00:00:00+08:00").unwrap() + Duration::minutes(minutes)
}

fn reading(meter: &str, minutes: i64, total_l: f64, status: &[&str]) -> Reading {
    Reading {
        meter_id: meter.into(),
        ts: t(minutes),
        total_l,
        flow_lpm: None,
        battery_pct: None,
        rssi_dbm: None,
        status: status.iter().map(|s| s.to_string()).collect(),
    }
}

fn rules(text: &str) -> RuleSet {
    RuleSet::parse("test.toml", text).unwrap()
}

const QUIET_1H: &str =
    "[[rule]]\nname = \"quiet\"\nkind = \"inactivity\"\nseverity = \"critical\"\nafter = \"1h\"\n";
const FAULT: &str = "[[rule]]\nname = \"fault\"\nkind = \"meter_fault\"\nseverity = \"warning\"\nflags = [\"LEAK\", \"LOW_BATTERY\"]\n";

/// `(rule, fired?)` of each event.
fn transitions(events: &[AlertEvent]) -> Vec<(&str, Transition)> {
    events.iter().map(|e| (e.rule.as_str(), e.event)).collect()
}

/// Feeds `(minute, litres, status)` readings, each observed at its own time.
fn feed(engine: &mut Engine, meter: &str, readings: &[(i64, f64, &[&str])]) -> Vec<AlertEvent> {
    readings
        .iter()
        .flat_map(|&(m, l, s)| engine.observe(&reading(meter, m, l, s), t(m)).events)
        .collect()
}

#[test]
fn an_alert_fires_once_however_long_its_condition_holds() {
    let mut engine = Engine::new(rules(QUIET_1H));
    let quiet = (0..=300)
        .step_by(15)
        .map(|m| (m, 10.0, &[][..]))
        .collect::<Vec<_>>();
    let events = feed(&mut engine, "m", &quiet);
    assert_eq!(transitions(&events), [("quiet", Transition::Fired)]);
    assert_eq!(events[0].ts, t(60));
    let events = feed(
        &mut engine,
        "m",
        &[(315, 12.0, &[]), (330, 14.0, &[]), (345, 14.0, &[])],
    );
    assert_eq!(transitions(&events), [("quiet", Transition::Resolved)]);
    assert!(engine.active_alerts("m").is_empty());
}

#[test]
fn events_carry_now_and_the_household() {
    let mut engine = Engine::new(rules(FAULT));
    engine.set_household("m", "h0001");
    let outcome = engine.observe(&reading("m", 0, 10.0, &["leak"]), t(7));
    assert_eq!(outcome.events.len(), 1);
    let event = &outcome.events[0];
    assert_eq!(
        (event.ts, event.household.as_str(), event.meter_id.as_str()),
        (t(7), "h0001", "m")
    );
    assert_eq!(
        (event.kind, event.severity),
        (Kind::MeterFault, Severity::Warning)
    );
    assert_eq!(event.summary, "The meter reports LEAK.");
    let events = engine
        .observe(&reading("m2", 0, 10.0, &["LOW_BATTERY"]), t(8))
        .events;
    assert_eq!(
        events[0].household, "m2",
        "a meter is its own household by default"
    );
}

#[test]
fn a_fault_stays_one_alert_while_its_flags_change_and_resolves_without_them() {
    let mut engine = Engine::new(rules(FAULT));
    let events = feed(
        &mut engine,
        "m",
        &[
            (0, 1.0, &["LEAK"]),
            (15, 1.0, &["LEAK", "LOW_BATTERY"]),
            (30, 1.0, &["DRY"]),
            (45, 1.0, &[]),
        ],
    );
    assert_eq!(
        transitions(&events),
        [
            ("fault", Transition::Fired),
            ("fault", Transition::Resolved)
        ]
    );
    assert_eq!(events[1].ts, t(30));
}

#[test]
fn disabled_rules_never_fire() {
    let text = QUIET_1H.replace("after = \"1h\"", "after = \"1h\"\nenabled = false");
    let mut engine = Engine::new(rules(&text));
    let events = feed(&mut engine, "m", &[(0, 1.0, &[]), (120, 1.0, &[])]);
    assert!(events.is_empty());
}

#[test]
fn ticks_never_raise_inactivity_for_a_silent_meter() {
    let mut engine = Engine::new(rules(QUIET_1H));
    feed(&mut engine, "m", &[(0, 1.0, &[]), (15, 1.0, &[])]);
    let events = (1..100)
        .flat_map(|h| engine.tick(t(h * 60)))
        .collect::<Vec<_>>();
    assert!(events.is_empty(), "{events:?}");
}

#[test]
fn replacing_the_rules_keeps_what_was_learned_and_withdraws_removed_alerts() {
    let mut engine = Engine::new(rules(&format!("{QUIET_1H}{FAULT}")));
    let events = feed(
        &mut engine,
        "m",
        &[(0, 1.0, &["LEAK"]), (45, 1.0, &["LEAK"])],
    );
    assert_eq!(transitions(&events), [("fault", Transition::Fired)]);

    // The fault rule is removed; the quiet clock keeps running across the swap.
    engine.replace_rules(rules(QUIET_1H));
    let events = engine.tick(t(50));
    assert_eq!(transitions(&events), [("fault", Transition::Resolved)]);
    assert!(
        events[0]
            .summary
            .starts_with("Withdrawn: the rule \"fault\"")
    );
    let events = feed(&mut engine, "m", &[(60, 1.0, &["LEAK"])]);
    assert_eq!(transitions(&events), [("quiet", Transition::Fired)]);

    // In the household's language.
    engine.set_household_language("m", Language::ZhCn);
    engine.replace_rules(rules(FAULT));
    let events = engine.tick(t(61));
    assert_eq!(transitions(&events), [("quiet", Transition::Resolved)]);
    assert!(
        events[0]
            .summary
            .starts_with("已撤销：规则文件中的规则“quiet”")
    );
}

#[test]
fn a_rule_whose_kind_changes_starts_afresh() {
    let mut engine = Engine::new(rules(FAULT));
    feed(&mut engine, "m", &[(0, 1.0, &["LEAK"])]);
    engine.replace_rules(rules(&QUIET_1H.replace("\"quiet\"", "\"fault\"")));
    let events = feed(&mut engine, "m", &[(61, 1.0, &["LEAK"])]);
    assert_eq!(
        events.iter().map(|e| (e.kind, e.event)).collect::<Vec<_>>(),
        [
            (Kind::MeterFault, Transition::Resolved),
            (Kind::Inactivity, Transition::Fired)
        ]
    );
}

#[test]
fn meters_are_listed_and_their_state_can_be_moved_to_another_engine() {
    let mut engine = Engine::new(rules(QUIET_1H));
    feed(&mut engine, "b", &[(0, 1.0, &[])]);
    feed(&mut engine, "a", &[(0, 1.0, &[]), (30, 1.0, &[])]);
    assert_eq!(engine.meters().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(engine.meter_state("zz"), None);
    // After the last (as a start restores them, in id order) or between.
    let mut listed = Engine::new(rules(QUIET_1H));
    listed.reserve(4);
    for id in ["b", "d", "a", "c", "e"] {
        feed(&mut listed, id, &[(0, 1.0, &[])]);
    }
    assert_eq!(
        listed.meters().collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
    );

    let mut other = Engine::new(rules(QUIET_1H));
    let state = engine.meter_state("a").unwrap();
    assert_eq!(state.quiet_ms(), Some(30 * 60_000));
    other.restore_meter("a", state);
    let a = feed(&mut engine, "a", &[(60, 1.0, &[])]);
    let b = feed(&mut other, "a", &[(60, 1.0, &[])]);
    assert_eq!(a, b);
    assert_eq!(transitions(&b), [("quiet", Transition::Fired)]);
    assert_eq!(other.active_alerts("a")[0].since, t(60));
}

#[test]
fn notes_come_back_with_the_outcome() {
    let mut engine = Engine::new(rules(QUIET_1H));
    feed(&mut engine, "m", &[(0, 100.0, &[]), (15, 101.0, &[])]);
    let duplicate = engine.observe(&reading("m", 15, 101.0, &[]), t(16));
    let late = engine.observe(&reading("m", 5, 100.0, &[]), t(16));
    let jitter = engine.observe(&reading("m", 30, 99.0, &[]), t(30));
    let future = engine.observe(&reading("m", 24 * 60, 99.0, &[]), t(31));
    assert_eq!(
        [duplicate.notes, late.notes, jitter.notes, future.notes],
        [
            [Note::Duplicate],
            [Note::OutOfOrder],
            [Note::NegativeDelta],
            [Note::Future]
        ]
    );
    let next = engine.observe(&reading("m", 45, 99.0, &[]), t(45));
    assert!(
        next.notes.is_empty(),
        "a reading from the future blocks nothing"
    );
}

#[test]
fn an_engine_can_move_between_and_be_shared_by_threads() {
    // The daemon keeps the engine in a task on a multi-threaded runtime.
    fn shareable<T: Send + Sync>() {}
    shareable::<Engine>();
    shareable::<MeterState>();
}

#[test]
fn similar_meter_ids_spread_over_the_table() {
    use std::hash::{Hash, Hasher};
    let bucket = |id: &str| {
        let mut h = id_hash::IdHasher::default();
        id.hash(&mut h);
        h.finish() & 1023
    };
    for id in [|i| format!("h{i:04}"), |i| format!("mtr-{i:04}")] {
        let buckets: std::collections::HashSet<u64> = (0..1000).map(|i| bucket(&id(i))).collect();
        // Random hashes would fill about 630 of 1024 buckets.
        assert!(
            buckets.len() > 550,
            "{} buckets for {}",
            buckets.len(),
            id(0)
        );
    }
}
