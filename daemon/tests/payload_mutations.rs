//! Bad input gets a clear error and changes nothing else: real payloads of
//! every format the daemon reads, mutated at random (cut short, bytes
//! changed, numbers made absurd, fields made the wrong type, invalid
//! UTF-8), must each be refused with a reason or read as sane readings —
//! never a panic, never a reading with an impossible register, time or id.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::formats::{FORMATS, adapters, message};
use meter_sim::Fleet;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use waterwatch::ingest::adapter::Router;
use waterwatch::ingest::native::TimeWindow;

/// What a mutation puts in place of a number or a string.
const ODD: [&str; 18] = [
    "1e400",
    "-1",
    "-0",
    "NaN",
    "\"NaN\"",
    "Infinity",
    "null",
    "[]",
    "{}",
    "\"\"",
    "99999999999999999999999",
    "0.000000001",
    "\"12,5\"",
    "true",
    "\"2026-02-30T25:61:00Z\"",
    "\"\u{0}\"",
    "\"m\\u0000x\"",
    "\"m\\nx\"",
];

/// `payload` changed in one random way.
fn mutate(rng: &mut SmallRng, payload: &[u8]) -> Vec<u8> {
    let mut bytes = payload.to_vec();
    match rng.random_range(0..6) {
        0 => bytes.truncate(rng.random_range(0..=bytes.len())),
        1 if !bytes.is_empty() => {
            let at = rng.random_range(0..bytes.len());
            bytes[at] = rng.random_range(0x20..0x7f);
        }
        2 if !bytes.is_empty() => {
            // Invalid UTF-8 somewhere.
            let at = rng.random_range(0..bytes.len());
            bytes.insert(at, 0xff);
        }
        3 => {
            // A number (or quoted value) replaced by something odd.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let starts: Vec<usize> = text
                .char_indices()
                .filter(|(_, c)| *c == ':')
                .map(|(i, _)| i + 1)
                .collect();
            if let Some(&from) = starts.get(rng.random_range(0..starts.len().max(1))) {
                let to = text[from..]
                    .find([',', '}', ']'])
                    .map_or(text.len(), |n| from + n);
                let odd = ODD[rng.random_range(0..ODD.len())];
                bytes = format!("{}{}{}", &text[..from], odd, &text[to..]).into_bytes();
            }
        }
        4 => {
            // The whole payload doubled or wrapped.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            bytes = match rng.random_range(0..3) {
                0 => format!("{text}{text}"),
                1 => format!("[{text}]"),
                _ => format!("{{\"readings\":[{text},{text}]}}"),
            }
            .into_bytes();
        }
        _ => {
            // A random key dropped.
            let text = String::from_utf8_lossy(&bytes).into_owned();
            for key in [
                "\"ts\"",
                "\"total_l\"",
                "\"total_m3\"",
                "\"meter_id\"",
                "\"id\"",
                "\"timestamp\"",
                "\"value\"",
            ] {
                if text.contains(key) && rng.random_bool(0.5) {
                    bytes = text.replacen(key, "\"other\"", 1).into_bytes();
                    break;
                }
            }
        }
    }
    bytes
}

#[test]
fn mutated_payloads_are_refused_with_a_reason_or_read_as_sane_readings() {
    let start = DateTime::parse_from_rfc3339("2026-01-05T06:00:00+08:00").expect("time");
    let mut fleet = Fleet::new(3, 11, start, Duration::from_secs(15 * 60), vec![]);
    let readings = fleet.advance(start + chrono::Duration::hours(3));
    let router = Router::new("waterwatch", &adapters());
    let now: DateTime<Utc> = (start + chrono::Duration::hours(4)).to_utc();
    let window = TimeWindow::default();
    let mut rng = SmallRng::seed_from_u64(7);
    let (mut refused, mut read) = (0, 0);
    for i in 0..6000 {
        let reading = &readings[i % readings.len()];
        let format = FORMATS[rng.random_range(0..FORMATS.len())];
        let (topic, payload) = message(reading, format);
        let mutated = mutate(&mut rng, payload.as_bytes());
        let shown = String::from_utf8_lossy(&mutated);
        match router.parse(&topic, &mutated, now, window) {
            Err(why) => {
                assert!(!why.to_string().is_empty(), "{topic}: {shown}");
                refused += 1;
            }
            Ok(parsed) => {
                for r in &parsed.readings {
                    let at = r.ts.with_timezone(&Utc);
                    assert!(
                        r.total_l.is_finite() && r.total_l >= 0.0,
                        "{format:?} {topic}: register {} from {shown}",
                        r.total_l
                    );
                    assert!(
                        at <= now + window.max_future && at >= now - window.max_age,
                        "{format:?} {topic}: time {} from {shown}",
                        r.ts
                    );
                    assert!(
                        !r.meter_id.trim().is_empty()
                            && r.meter_id.chars().count() <= 128
                            && !r.meter_id.chars().any(char::is_control),
                        "{format:?} {topic}: meter id {:?} from {shown}",
                        r.meter_id
                    );
                    assert!(
                        r.flow_lpm.is_none_or(f64::is_finite)
                            && r.battery_pct.is_none_or(f64::is_finite),
                        "{format:?} {topic}: {r:?} from {shown}"
                    );
                }
                for (_, why) in &parsed.rejected {
                    assert!(!why.to_string().is_empty());
                }
                read += 1;
            }
        }
    }
    // Both outcomes happen: the mutations are neither all harmless nor all fatal.
    assert!(
        refused > 1000 && read > 1000,
        "refused {refused}, read {read}"
    );
}
