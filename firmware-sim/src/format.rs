//! The payloads real meter software sends, written from a [`SimReading`]:
//! waterwatch's native JSON (single or batch), wmbusmeters' flat JSON,
//! AI-on-the-edge-device's string-valued JSON and per-field topics, and a
//! bare number (Home Assistant style). See `/work/shared/FORMATS.md` and
//! `docs/simulator.md`.
//!
//! | format           | topic                                   | payload |
//! |------------------|-----------------------------------------|---------|
//! | `native`         | `{prefix}/meters/{id}/reading`          | one reading |
//! | `native-batch`   | `{prefix}/meters/{id}/reading`          | `{"meter_id":…,"readings":[…]}` |
//! | `wmbusmeters`    | `wmbusmeters/{id}`                      | flat telegram JSON |
//! | `ai-on-the-edge` | `watermeter/{id}/json`, `…/value`, `…/timestamp` | string-valued JSON; the value; the time |
//! | `bare`           | `homeassistant/{id}/total`              | the register as a number (L or m³) |

use std::fmt;
use std::str::FromStr;

use chrono::Utc;

use crate::publish::reading_topic;
use crate::reading::{SimReading, native_batch_json};

/// Driver name wmbusmeters would report for our meters (Sensus iPERL).
pub const WMBUS_DRIVER: &str = "iperl";
/// AI-on-the-edge-device's main topic.
pub const AI_ON_THE_EDGE_MAIN: &str = "watermeter";
/// Years a full battery lasts, for wmbusmeters' `battery_y`.
const BATTERY_YEARS: f64 = 15.0;

/// The unit of a bare-number register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BareUnit {
    /// Litres: `123456`.
    Litres,
    /// Cubic metres with three decimals: `123.456`.
    CubicMetres,
}

/// A payload format; see the module documentation for topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// waterwatch's native single-reading JSON.
    Native,
    /// waterwatch's native batch JSON (one reading per batch from
    /// [`encode`]; use [`encode_batch`] for several).
    NativeBatch,
    /// wmbusmeters' flat JSON per telegram.
    Wmbusmeters,
    /// AI-on-the-edge-device: `…/json` plus `…/value` and `…/timestamp`.
    AiOnTheEdge,
    /// A bare number, Home Assistant style.
    Bare { unit: BareUnit },
}

/// `native`, `native-batch`, `wmbusmeters`, `ai-on-the-edge`, `bare` (litres),
/// `bare:L`, `bare:m3`.
impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        Ok(match text.trim() {
            "native" => Format::Native,
            "native-batch" => Format::NativeBatch,
            "wmbusmeters" => Format::Wmbusmeters,
            "ai-on-the-edge" => Format::AiOnTheEdge,
            "bare" | "bare:L" | "bare:l" => Format::Bare {
                unit: BareUnit::Litres,
            },
            "bare:m3" | "bare:m³" => Format::Bare {
                unit: BareUnit::CubicMetres,
            },
            other => {
                return Err(format!(
                    "unknown format {other:?}; expected native, native-batch, wmbusmeters, \
                     ai-on-the-edge, bare:L or bare:m3"
                ));
            }
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Native => "native",
            Format::NativeBatch => "native-batch",
            Format::Wmbusmeters => "wmbusmeters",
            Format::AiOnTheEdge => "ai-on-the-edge",
            Format::Bare {
                unit: BareUnit::Litres,
            } => "bare:L",
            Format::Bare {
                unit: BareUnit::CubicMetres,
            } => "bare:m3",
        })
    }
}

/// The messages (topic, payload) one reading becomes in `format`; `prefix`
/// is the native topic prefix (e.g. `waterwatch`), unused by the others.
pub fn encode(reading: &SimReading, format: Format, prefix: &str) -> Vec<(String, String)> {
    let id = &reading.meter_id;
    match format {
        Format::Native => vec![(reading_topic(prefix, id), reading.to_native_json())],
        Format::NativeBatch => vec![encode_batch(id, std::slice::from_ref(reading), prefix)],
        Format::Wmbusmeters => vec![(format!("wmbusmeters/{id}"), wmbusmeters_json(reading))],
        Format::AiOnTheEdge => {
            let main = format!("{AI_ON_THE_EDGE_MAIN}/{id}");
            let (json, value, timestamp) = ai_on_the_edge(reading);
            vec![
                (format!("{main}/json"), json),
                (format!("{main}/value"), value),
                (format!("{main}/timestamp"), timestamp),
            ]
        }
        Format::Bare { unit } => vec![(format!("homeassistant/{id}/total"), bare(reading, unit))],
    }
}

/// Several readings of one meter as one native batch message.
pub fn encode_batch(meter_id: &str, readings: &[SimReading], prefix: &str) -> (String, String) {
    (
        reading_topic(prefix, meter_id),
        native_batch_json(meter_id, readings),
    )
}

/// Whole litres as cubic metres with exactly three decimals (`123.456`).
fn m3(litres: f64) -> String {
    let l = litres.max(0.0).round() as u64;
    format!("{}.{:03}", l / 1000, l % 1000)
}

/// The wmbusmeters telegram JSON, e.g.
/// `{"_":"telegram","media":"water","meter":"iperl","name":"h0001","id":"h0001",
/// "total_m3":123.456,"flow_m3h":0.000,"status":"OK","battery_y":12.9,
/// "rssi_dbm":-71,"timestamp":"2026-11-24T00:15:00Z"}`.
pub fn wmbusmeters_json(r: &SimReading) -> String {
    let id = serde_json::to_string(&r.meter_id).unwrap_or_else(|_| "\"\"".into());
    let mut out = format!(
        r#"{{"_":"telegram","media":"water","meter":"{WMBUS_DRIVER}","name":{id},"id":{id},"total_m3":{}"#,
        m3(r.total_l)
    );
    if let Some(flow) = r.flow_lpm {
        let m3h = (flow * 0.06 * 1000.0).round().max(0.0) as u64;
        out.push_str(&format!(r#","flow_m3h":{}.{:03}"#, m3h / 1000, m3h % 1000));
    }
    let status = if r.status.is_empty() {
        "OK".to_string()
    } else {
        r.status.join(" ")
    };
    out.push_str(&format!(
        r#","status":{}"#,
        serde_json::to_string(&status).unwrap_or_default()
    ));
    if let Some(pct) = r.battery_pct {
        let years = (pct / 100.0 * BATTERY_YEARS * 10.0).round() / 10.0;
        out.push_str(&format!(r#","battery_y":{years:?}"#));
    }
    out.push_str(&format!(
        r#","rssi_dbm":{},"timestamp":"{}"}}"#,
        rssi(&r.meter_id),
        r.ts.with_timezone(&Utc).format("%Y-%m-%dT%H:%M:%SZ")
    ));
    out
}

/// A steady signal strength per meter, −60 to −94 dBm.
fn rssi(id: &str) -> i64 {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    -60 - (h % 35) as i64
}

/// AI-on-the-edge-device's `json` payload, `value` and `timestamp`: every
/// JSON value a string, m³, rate in m³ per minute, local time with a
/// `+hhmm` offset.
fn ai_on_the_edge(r: &SimReading) -> (String, String, String) {
    let value = m3(r.total_l);
    let rate = format!("{:.6}", r.flow_lpm.unwrap_or(0.0) / 1000.0);
    let timestamp = r.ts.format("%Y-%m-%dT%H:%M:%S%z").to_string();
    let json = serde_json::json!({
        "value": value,
        "raw": format!("{value:0>9}"),
        "pre": value,
        "error": "no error",
        "rate": rate,
        "timestamp": timestamp,
    })
    .to_string();
    (json, value, timestamp)
}

fn bare(r: &SimReading, unit: BareUnit) -> String {
    match unit {
        BareUnit::Litres => format!("{}", r.total_l.max(0.0).round() as u64),
        BareUnit::CubicMetres => m3(r.total_l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn reading() -> SimReading {
        SimReading {
            meter_id: "h0001".into(),
            ts: DateTime::parse_from_rfc3339("2026-11-24T08:15:00+08:00").unwrap(),
            total_l: 123_400.0,
            flow_lpm: Some(6.5),
            battery_pct: Some(87.0),
            status: vec![],
        }
    }

    #[test]
    fn every_format_name_reads_back_to_itself() {
        for f in [
            Format::Native,
            Format::NativeBatch,
            Format::Wmbusmeters,
            Format::AiOnTheEdge,
            Format::Bare {
                unit: BareUnit::Litres,
            },
            Format::Bare {
                unit: BareUnit::CubicMetres,
            },
        ] {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert!(
            "json"
                .parse::<Format>()
                .unwrap_err()
                .contains("wmbusmeters")
        );
    }

    #[test]
    fn wmbusmeters_writes_three_decimals_utc_and_ok() {
        let json = wmbusmeters_json(&reading());
        assert!(
            json.contains(r#""total_m3":123.400,"flow_m3h":0.390,"status":"OK""#),
            "{json}"
        );
        assert!(
            json.ends_with(r#""timestamp":"2026-11-24T00:15:00Z"}"#),
            "{json}"
        );
    }

    #[test]
    fn topics_follow_each_formats_convention() {
        let topics = |f| -> Vec<String> {
            encode(&reading(), f, "waterwatch")
                .into_iter()
                .map(|(t, _)| t)
                .collect()
        };
        assert_eq!(topics(Format::Native), ["waterwatch/meters/h0001/reading"]);
        assert_eq!(topics(Format::Wmbusmeters), ["wmbusmeters/h0001"]);
        assert_eq!(
            topics(Format::AiOnTheEdge),
            [
                "watermeter/h0001/json",
                "watermeter/h0001/value",
                "watermeter/h0001/timestamp"
            ]
        );
        assert_eq!(
            topics(Format::Bare {
                unit: BareUnit::Litres
            }),
            ["homeassistant/h0001/total"]
        );
        let bare_m3 = encode(
            &reading(),
            Format::Bare {
                unit: BareUnit::CubicMetres,
            },
            "x",
        );
        assert_eq!(bare_m3[0].1, "123.400");
    }
}
