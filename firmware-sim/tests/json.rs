//! The JSON the simulator emits, read back as a consumer would.

mod common;

use common::{TempDir, readings, start};
use meter_sim::{
    Fleet, READINGS_FILE, Scenario, TRUTH_FILE, TruthFile, native_batch_json, write_dataset,
};
use serde_json::Value;

#[test]
fn a_single_reading_parses_back_with_every_documented_field() {
    for r in readings(3, 1, 1, &["fault:2@+6h"]) {
        let v: Value = serde_json::from_str(&r.to_native_json()).unwrap();
        let obj = v.as_object().unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6, "{keys:?}");
        assert_eq!(v["meter_id"], r.meter_id.as_str());
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(v["ts"].as_str().unwrap()).unwrap(),
            r.ts
        );
        assert!(v["ts"].as_str().unwrap().ends_with("+08:00"));
        assert_eq!(
            v["total_l"].as_u64().map(|t| t as f64),
            Some(r.total_l),
            "total_l is not an integer"
        );
        assert_eq!(v["flow_lpm"].as_f64(), r.flow_lpm);
        assert_eq!(v["battery_pct"].as_f64(), r.battery_pct);
        let status: Vec<String> = serde_json::from_value(v["status"].clone()).unwrap();
        assert_eq!(status, r.status);
    }
}

#[test]
fn a_batch_parses_back_with_one_meter_id_and_its_readings_in_order() {
    let all = readings(2, 1, 1, &[]);
    let mine: Vec<_> = all
        .into_iter()
        .filter(|r| r.meter_id == "h0002")
        .take(24)
        .collect();
    let v: Value = serde_json::from_str(&native_batch_json("h0002", &mine)).unwrap();
    assert_eq!(v["meter_id"], "h0002");
    let items = v["readings"].as_array().unwrap();
    assert_eq!(items.len(), 24);
    for (item, r) in items.iter().zip(&mine) {
        assert!(item.get("meter_id").is_none());
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(item["ts"].as_str().unwrap()).unwrap(),
            r.ts
        );
        assert_eq!(item["total_l"].as_f64(), Some(r.total_l));
    }
}

#[test]
fn a_dataset_holds_sorted_native_lines_for_every_meter_and_interval_and_its_truth() {
    let dir = TempDir::new();
    let scenario = Scenario::parse("collapse:2@+1d", start()).unwrap();
    let mut fleet = Fleet::new(3, 1, start(), common::QUARTER_HOUR, vec![scenario]);
    let end = start() + chrono::Duration::days(2);
    let summary = write_dataset(&mut fleet, end, dir.path()).unwrap();
    assert_eq!(summary.readings, 3 * 2 * 96, "readings cover [start, end)");

    let text = std::fs::read_to_string(dir.path().join(READINGS_FILE)).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3 * 2 * 96);
    let key = |v: &Value| {
        let ts = chrono::DateTime::parse_from_rfc3339(v["ts"].as_str().unwrap()).unwrap();
        (ts, v["meter_id"].as_str().unwrap().to_string())
    };
    assert!(lines.windows(2).all(|w| key(&w[0]) < key(&w[1])));
    assert_eq!(lines[0]["ts"], "2026-01-05T00:00:00+08:00");
    assert_eq!(lines.last().unwrap()["ts"], "2026-01-06T23:45:00+08:00");

    let truth: TruthFile =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(TRUTH_FILE)).unwrap())
            .unwrap();
    assert_eq!(
        (truth.seed, truth.households, truth.interval_s),
        (1, 3, 900)
    );
    assert_eq!((truth.start, truth.end), (start(), end));
    assert_eq!(truth.events.len(), 1);
    assert_eq!(truth.events[0].household, "h0002");
    assert_eq!(
        truth.events[0].start.to_rfc3339(),
        "2026-01-06T00:00:00+08:00"
    );
}
