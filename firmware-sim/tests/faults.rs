//! Delivery faults change what is written, never the readings taken nor the
//! ground truth; everything stays deterministic for a seed.

mod common;

use std::collections::HashMap;

use common::{QUARTER_HOUR, TempDir, start};
use meter_sim::{DeliveryFault, Fleet, Scenario, TruthFile, write_dataset_with_faults};

fn write(dir: &TempDir, name: &str, faults: &[DeliveryFault]) -> (Vec<String>, TruthFile) {
    let out = dir.path().join(name);
    let scenarios = vec![Scenario::parse("collapse:2@+2d", start()).unwrap()];
    let mut fleet = Fleet::new(5, 11, start(), QUARTER_HOUR, scenarios);
    write_dataset_with_faults(
        &mut fleet,
        start() + chrono::Duration::days(4),
        &out,
        faults,
    )
    .unwrap();
    let lines = std::fs::read_to_string(out.join("readings.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let truth =
        serde_json::from_str(&std::fs::read_to_string(out.join("truth.json")).unwrap()).unwrap();
    (lines, truth)
}

#[test]
fn dropped_readings_are_missing_and_duplicated_ones_present_twice_with_the_truth_unchanged() {
    let dir = TempDir::new();
    let (clean, clean_truth) = write(&dir, "clean", &[]);
    let (dropped, drop_truth) = write(&dir, "drop", &[DeliveryFault::Drop(0.05)]);
    let (doubled, dup_truth) = write(&dir, "dup", &[DeliveryFault::Duplicate(0.05)]);
    assert_eq!(clean.len(), 5 * 4 * 96);
    let missing = clean.len() - dropped.len();
    assert!(
        (40..=160).contains(&missing),
        "{missing} dropped of {}",
        clean.len()
    );
    assert!(dropped.iter().all(|l| clean.contains(l)));
    let mut counts: HashMap<&String, usize> = HashMap::new();
    for l in &doubled {
        *counts.entry(l).or_default() += 1;
    }
    let twice = counts.values().filter(|c| **c == 2).count();
    assert!((40..=160).contains(&twice), "{twice} duplicated");
    assert_eq!(counts.len(), clean.len(), "a duplicate lost a reading");
    assert_eq!(clean_truth.events, drop_truth.events);
    assert_eq!(clean_truth.events, dup_truth.events);
    assert_eq!(drop_truth.delivery_faults, ["drop:0.05"]);
}

#[test]
fn reordered_and_late_readings_arrive_out_of_time_order_but_all_arrive() {
    let dir = TempDir::new();
    let (clean, _) = write(&dir, "clean", &[]);
    let (late, _) = write(
        &dir,
        "late",
        &[DeliveryFault::Reorder(0.05), DeliveryFault::Late(0.02)],
    );
    assert_eq!(late.len(), clean.len());
    let mut sorted = late.clone();
    sorted.sort_by_key(|l| clean.iter().position(|c| c == l));
    assert_eq!(sorted, clean);
    let ts = |l: &String| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["ts"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let backwards = late.windows(2).filter(|w| ts(&w[1]) < ts(&w[0])).count();
    assert!(backwards >= 20, "only {backwards} readings out of order");
}

#[test]
fn the_same_seed_and_faults_write_the_same_bytes_and_truth() {
    let dir = TempDir::new();
    let faults = [
        DeliveryFault::Drop(0.02),
        DeliveryFault::Duplicate(0.02),
        DeliveryFault::Late(0.02),
    ];
    let a = write(&dir, "a", &faults);
    let b = write(&dir, "b", &faults);
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
}
