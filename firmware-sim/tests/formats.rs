//! Each payload format read back as its consumer would: field names, types,
//! number and time shapes, topics.

mod common;

use common::readings;
use meter_sim::{BareUnit, Format, encode};
use serde_json::Value;

#[test]
fn wmbusmeters_telegrams_are_flat_with_three_decimal_cubic_metres_and_utc_times() {
    for r in readings(2, 1, 1, &["fault:2@+6h,flag=LEAK"]) {
        let msgs = encode(&r, Format::Wmbusmeters, "waterwatch");
        assert_eq!(msgs.len(), 1);
        let (topic, payload) = &msgs[0];
        assert_eq!(topic, &format!("wmbusmeters/{}", r.meter_id));
        let v: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(v["_"], "telegram");
        assert_eq!(v["media"], "water");
        assert_eq!(v["meter"], "iperl");
        assert_eq!(v["id"], r.meter_id.as_str(), "id is the serial as a string");
        assert!(v["name"].is_string());
        let total = v["total_m3"].as_f64().expect("total_m3 is a number");
        assert_eq!((total * 1000.0).round(), r.total_l);
        let raw = payload
            .split("\"total_m3\":")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        assert_eq!(
            raw.split('.').nth(1).map(str::len),
            Some(3),
            "{raw} has 3 decimals"
        );
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 20, "{ts}");
        assert_eq!(chrono::DateTime::parse_from_rfc3339(ts).unwrap(), r.ts);
        assert!(v["flow_m3h"].is_number());
        assert!(v["battery_y"].is_number());
        assert!(
            v["rssi_dbm"]
                .as_i64()
                .is_some_and(|d| (-95..=-60).contains(&d))
        );
        let status = v["status"].as_str().unwrap();
        if r.status.is_empty() {
            assert_eq!(status, "OK");
        } else {
            assert_eq!(status, r.status.join(" "));
        }
    }
}

#[test]
fn ai_on_the_edge_sends_string_values_with_a_compact_offset_and_per_field_topics() {
    for r in readings(1, 1, 1, &[]).iter().take(20) {
        let msgs = encode(r, Format::AiOnTheEdge, "waterwatch");
        let topics: Vec<&str> = msgs.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            topics,
            [
                "watermeter/h0001/json",
                "watermeter/h0001/value",
                "watermeter/h0001/timestamp"
            ]
        );
        let v: Value = serde_json::from_str(&msgs[0].1).unwrap();
        let obj = v.as_object().unwrap();
        for key in ["value", "raw", "pre", "error", "rate", "timestamp"] {
            assert!(obj[key].is_string(), "{key} is not a string: {}", obj[key]);
        }
        assert!(obj.values().all(Value::is_string));
        assert_eq!(v["error"], "no error");
        let value: f64 = v["value"].as_str().unwrap().parse().unwrap();
        assert_eq!((value * 1000.0).round(), r.total_l);
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.ends_with("+0800"), "{ts}");
        assert_eq!(
            chrono::DateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%S%z").unwrap(),
            r.ts
        );
        assert_eq!(msgs[1].1, v["value"].as_str().unwrap());
        assert_eq!(msgs[2].1, ts);
    }
}

#[test]
fn a_bare_number_is_the_register_in_the_configured_unit() {
    let r = &readings(1, 1, 1, &[])[5];
    let litres = encode(
        r,
        Format::Bare {
            unit: BareUnit::Litres,
        },
        "x",
    );
    assert_eq!(litres[0].0, "homeassistant/h0001/total");
    assert_eq!(litres[0].1.parse::<f64>().unwrap(), r.total_l);
    let m3 = encode(
        r,
        Format::Bare {
            unit: BareUnit::CubicMetres,
        },
        "x",
    );
    assert_eq!(
        (m3[0].1.parse::<f64>().unwrap() * 1000.0).round(),
        r.total_l
    );
}

#[test]
fn native_formats_go_to_the_prefixed_reading_topic() {
    let r = &readings(1, 1, 1, &[])[0];
    let single = encode(r, Format::Native, "waterwatch/north");
    assert_eq!(
        single,
        [(
            "waterwatch/north/meters/h0001/reading".to_string(),
            r.to_native_json()
        )]
    );
    let batch = encode(r, Format::NativeBatch, "waterwatch");
    let v: Value = serde_json::from_str(&batch[0].1).unwrap();
    assert_eq!(v["readings"].as_array().unwrap().len(), 1);
}
