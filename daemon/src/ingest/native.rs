//! The native payload: one reading or a batch, JSON, as DESIGN.md specifies.
//!
//! ```json
//! {"meter_id":"m-0001","ts":"2026-11-24T08:15:00+08:00","total_l":123456,"flow_lpm":0.0,"battery_pct":87,"status":[]}
//! {"meter_id":"m-0001","readings":[{"ts":"…","total_l":123400},{"ts":"…","total_l":123456}]}
//! ```

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use waterwatch_rules::{Reading, Timestamp};

use super::reject::Reject;

/// Largest register a water meter can show (99,999,999 L is the top of an
/// 8-digit m³ register with 3 decimals); anything larger is garbage.
pub const MAX_TOTAL_L: f64 = 1.0e11;

/// What is acceptable about a reading's time, relative to now.
#[derive(Debug, Clone, Copy)]
pub struct TimeWindow {
    pub max_future: chrono::Duration,
    pub max_age: chrono::Duration,
}

impl TimeWindow {
    /// Refuse a reading time too far ahead of `now` or too far behind it.
    pub fn check(&self, ts: &Timestamp, now: DateTime<Utc>) -> Result<(), Reject> {
        let utc = ts.with_timezone(&Utc);
        let shown = || waterwatch_rules::event::ts_secs::format(ts);
        if now
            .checked_add_signed(self.max_future)
            .is_some_and(|latest| utc > latest)
        {
            return Err(Reject::FromTheFuture(shown()));
        }
        if now
            .checked_sub_signed(self.max_age)
            .is_some_and(|earliest| utc < earliest)
        {
            return Err(Reject::TooOld(shown()));
        }
        Ok(())
    }

    /// Accept any time (replay of recorded data).
    pub fn unbounded() -> Self {
        Self {
            max_future: chrono::Duration::days(365 * 1000),
            max_age: chrono::Duration::days(365 * 1000),
        }
    }
}

impl Default for TimeWindow {
    fn default() -> Self {
        Self {
            max_future: chrono::Duration::minutes(10),
            max_age: chrono::Duration::days(31),
        }
    }
}

/// The payload as a JSON object, or why it is not one.
pub(crate) fn json_object(payload: &[u8]) -> Result<Map<String, Value>, Reject> {
    match serde_json::from_slice(payload) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Reject::Malformed("expected a JSON object".into())),
        Err(e) => Err(Reject::Malformed(e.to_string())),
    }
}

/// Refuse a register below zero or beyond any meter's range.
pub fn check_total(total_l: f64) -> Result<(), Reject> {
    if total_l.is_finite() && (0.0..=MAX_TOTAL_L).contains(&total_l) {
        Ok(())
    } else {
        Err(Reject::BadTotal(total_l))
    }
}

/// The readings one message carried, and the ones in it that were refused.
#[derive(Debug, Default)]
pub struct Parsed {
    pub readings: Vec<Reading>,
    /// Per-reading rejections inside an otherwise good batch: (index, why).
    pub rejected: Vec<(usize, Reject)>,
}

/// Parse a native payload. `topic_meter` is the meter id taken from the topic,
/// when the topic carries one; it must agree with the payload.
pub fn parse(
    topic_meter: Option<&str>,
    payload: &[u8],
    now: DateTime<Utc>,
    window: TimeWindow,
) -> Result<Parsed, Reject> {
    let object = json_object(payload)?;
    let meter_id = match object.get("meter_id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
        Some(Value::String(_)) => {
            return Err(Reject::WrongType {
                field: "meter_id",
                detail: "must not be empty".into(),
            });
        }
        Some(other) => {
            return Err(Reject::WrongType {
                field: "meter_id",
                detail: format!("expected a string, got {}", type_name(other)),
            });
        }
        None => match topic_meter {
            Some(id) => id.to_owned(),
            None => return Err(Reject::MissingField("meter_id")),
        },
    };
    if let Some(topic) = topic_meter
        && topic != meter_id
    {
        return Err(Reject::TopicMismatch {
            topic: topic.to_owned(),
            payload: meter_id,
        });
    }

    match object.get("readings") {
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(Reject::WrongType {
                    field: "readings",
                    detail: "the batch is empty".into(),
                });
            }
            let mut parsed = Parsed::default();
            for (index, item) in items.iter().enumerate() {
                let reading = match item {
                    Value::Object(fields) => reading(&meter_id, fields, now, window),
                    other => Err(Reject::WrongType {
                        field: "readings",
                        detail: format!("item {index} is {}, not an object", type_name(other)),
                    }),
                };
                match reading {
                    Ok(r) => parsed.readings.push(r),
                    Err(why) => parsed.rejected.push((index, why)),
                }
            }
            Ok(parsed)
        }
        Some(other) => Err(Reject::WrongType {
            field: "readings",
            detail: format!("expected an array, got {}", type_name(other)),
        }),
        None => Ok(Parsed {
            readings: vec![reading(&meter_id, &object, now, window)?],
            rejected: Vec::new(),
        }),
    }
}

fn reading(
    meter_id: &str,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
    window: TimeWindow,
) -> Result<Reading, Reject> {
    let ts_text = match fields.get("ts") {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(Reject::WrongType {
                field: "ts",
                detail: format!("expected an RFC 3339 string, got {}", type_name(other)),
            });
        }
        None => return Err(Reject::MissingField("ts")),
    };
    let ts = DateTime::parse_from_rfc3339(ts_text).map_err(|e| Reject::WrongType {
        field: "ts",
        detail: format!("`{ts_text}` is not RFC 3339 with an offset ({e})"),
    })?;
    window.check(&ts, now)?;

    let total_l = match (number(fields, "total_l")?, number(fields, "total_m3")?) {
        (Some(litres), _) => litres,
        (None, Some(m3)) => m3 * 1000.0,
        (None, None) => return Err(Reject::MissingField("total_l")),
    };
    check_total(total_l)?;
    let flow_lpm = number(fields, "flow_lpm")?;
    let battery_pct = number(fields, "battery_pct")?;
    let rssi_dbm = number(fields, "rssi_dbm")?;
    let status = match fields.get("status") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(flags)) => flags
            .iter()
            .filter_map(|f| f.as_str())
            .map(|f| f.trim().to_ascii_uppercase())
            .filter(|f| !f.is_empty())
            .collect(),
        Some(Value::String(flags)) => flags
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect(),
        Some(other) => {
            return Err(Reject::WrongType {
                field: "status",
                detail: format!("expected a list of flags, got {}", type_name(other)),
            });
        }
    };
    Ok(Reading {
        meter_id: meter_id.to_owned(),
        ts,
        total_l,
        flow_lpm,
        battery_pct,
        rssi_dbm,
        status,
    })
}

pub(crate) fn number(
    fields: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<f64>, Reject> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(Reject::WrongType {
                field,
                detail: "not a finite number".into(),
            }),
        },
        Some(other) => Err(Reject::WrongType {
            field,
            detail: format!("expected a number, got {}", type_name(other)),
        }),
    }
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    fn parse_str(topic: Option<&str>, text: &str) -> Result<Parsed, Reject> {
        parse(topic, text.as_bytes(), now(), TimeWindow::default())
    }

    #[test]
    fn a_single_reading_keeps_every_optional_field() {
        let parsed = parse_str(
            Some("m-0001"),
            r#"{"meter_id":"m-0001","ts":"2026-11-24T08:15:00+08:00","total_l":123456,"flow_lpm":0.5,"battery_pct":87,"status":["leak"]}"#,
        )
        .unwrap();
        let r = &parsed.readings[0];
        assert_eq!(r.meter_id, "m-0001");
        assert_eq!(r.total_l, 123456.0);
        assert_eq!(r.flow_lpm, Some(0.5));
        assert_eq!(r.battery_pct, Some(87.0));
        assert_eq!(r.status, vec!["LEAK".to_string()]);
        assert_eq!(r.ts.offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn total_in_cubic_metres_is_converted_to_litres() {
        let parsed = parse_str(
            None,
            r#"{"meter_id":"m1","ts":"2026-11-24T08:15:00Z","total_m3":123.456}"#,
        )
        .unwrap();
        assert!((parsed.readings[0].total_l - 123456.0).abs() < 1e-6);
    }

    #[test]
    fn a_batch_yields_every_reading_and_names_the_bad_ones() {
        let parsed = parse_str(
            Some("m1"),
            r#"{"meter_id":"m1","readings":[{"ts":"2026-11-24T08:00:00+08:00","total_l":10},{"ts":"yesterday","total_l":11},{"ts":"2026-11-24T09:00:00+08:00","total_l":12}]}"#,
        )
        .unwrap();
        assert_eq!(parsed.readings.len(), 2);
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].0, 1);
        assert_eq!(parsed.rejected[0].1.reason(), "wrong_type");
    }

    #[test]
    fn each_kind_of_bad_input_gets_its_own_reason() {
        let cases = [
            ("not json", "malformed"),
            ("[1,2]", "malformed"),
            (
                r#"{"ts":"2026-11-24T08:00:00Z","total_l":1}"#,
                "missing_field",
            ),
            (r#"{"meter_id":"m1","total_l":1}"#, "missing_field"),
            (
                r#"{"meter_id":"m1","ts":"2026-11-24T08:00:00Z"}"#,
                "missing_field",
            ),
            (
                r#"{"meter_id":"m1","ts":"2026-11-24T08:00:00Z","total_l":"12"}"#,
                "wrong_type",
            ),
            (
                r#"{"meter_id":7,"ts":"2026-11-24T08:00:00Z","total_l":12}"#,
                "wrong_type",
            ),
            (
                r#"{"meter_id":"m1","ts":"2026-11-24 08:00","total_l":12}"#,
                "wrong_type",
            ),
            (
                r#"{"meter_id":"m1","ts":"2026-11-24T08:00:00Z","total_l":-5}"#,
                "bad_total",
            ),
            (
                r#"{"meter_id":"m1","ts":"2026-11-24T08:00:00Z","total_l":1e300}"#,
                "bad_total",
            ),
            (
                r#"{"meter_id":"m1","ts":"2027-11-24T08:00:00Z","total_l":1}"#,
                "future_timestamp",
            ),
            (
                r#"{"meter_id":"m1","ts":"2020-11-24T08:00:00Z","total_l":1}"#,
                "old_timestamp",
            ),
            (r#"{"meter_id":"m1","readings":[]}"#, "wrong_type"),
            (r#"{"meter_id":"m1","readings":{}}"#, "wrong_type"),
        ];
        for (payload, reason) in cases {
            let result = parse_str(None, payload);
            match result {
                Err(why) => assert_eq!(why.reason(), reason, "{payload}: {why}"),
                Ok(p) => panic!("{payload} was accepted: {p:?}"),
            }
        }
    }

    #[test]
    fn a_payload_for_another_meter_than_the_topic_is_refused() {
        let why = parse_str(
            Some("m2"),
            r#"{"meter_id":"m1","ts":"2026-11-24T08:00:00Z","total_l":1}"#,
        )
        .unwrap_err();
        assert_eq!(why.reason(), "topic_mismatch");
        assert!(why.to_string().contains("m2"));
    }
}
