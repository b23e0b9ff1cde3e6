//! The shapes real meter software sends, as the simulator writes them, read
//! back by the daemon's adapters: every format yields the same reading.

mod common;

use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use common::formats::{FORMATS, adapters, message};
use meter_sim::{Fleet, Format, Scenario};
use waterwatch::ingest::adapter::Router;
use waterwatch::ingest::native::TimeWindow;

fn start() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-01-05T06:00:00+08:00").expect("time")
}

#[test]
fn every_simulated_format_reads_back_as_the_same_reading() {
    let scenarios = vec![Scenario::MeterFault {
        household: 2,
        at: start() + chrono::Duration::hours(2),
        flag: "LEAK".into(),
    }];
    let mut fleet = Fleet::new(3, 5, start(), Duration::from_secs(15 * 60), scenarios);
    let readings = fleet.advance(start() + chrono::Duration::hours(4));
    assert!(readings.len() > 30);
    let router = Router::new("waterwatch", &adapters());
    let now: DateTime<Utc> = (start() + chrono::Duration::hours(5)).to_utc();
    let window = TimeWindow::default();

    for reading in &readings {
        for format in FORMATS {
            let (topic, payload) = message(reading, format);
            let parsed = router
                .parse(&topic, payload.as_bytes(), now, window)
                .unwrap_or_else(|why| panic!("{format:?} {topic}: {why}\n{payload}"));
            assert_eq!(parsed.readings.len(), 1, "{format:?}");
            let got = &parsed.readings[0];
            assert_eq!(got.meter_id, reading.meter_id, "{format:?}");
            assert!(
                (got.total_l - reading.total_l).abs() < 0.5,
                "{format:?}: {got:?} vs {reading:?}"
            );
            if matches!(format, Format::Bare { .. }) {
                // A bare number carries no time: stamped on arrival.
                assert_eq!(got.ts.timestamp(), now.timestamp());
                continue;
            }
            assert_eq!(got.ts, reading.ts, "{format:?}");
            if matches!(
                format,
                Format::Native | Format::NativeBatch | Format::Wmbusmeters
            ) {
                let flags: Vec<String> = reading
                    .status
                    .iter()
                    .filter(|f| *f != "OK")
                    .cloned()
                    .collect();
                assert_eq!(got.status, flags, "{format:?}");
            }
        }
    }
    assert!(
        readings
            .iter()
            .any(|r| r.status.iter().any(|f| f == "LEAK")),
        "the fault scenario should have flagged some readings"
    );
}
