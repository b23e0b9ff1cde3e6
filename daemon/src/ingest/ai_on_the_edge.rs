//! AI-on-the-edge-device: an ESP32 camera reading an analogue meter. Its
//! `<main>/json` (or `<main>/<number>/json`) payload is an object whose
//! values are all strings; old firmware sent bare numbers.
//!
//! ```json
//! {"value":"123.4567","raw":"00123.4567","pre":"123.4567","error":"no error",
//!  "rate":"0.0012","timestamp":"2026-11-24T08:15:00+0800"}
//! ```
//! `value` is empty when the device could not read the meter; `error` then
//! says why (`Neg. Rate - Read: …`, `Rate too high - Read: …`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use waterwatch_rules::Reading;

use super::native::{Parsed, TimeWindow, check_total, json_object, type_name};
use super::reject::Reject;
use super::units::Unit;

pub fn parse(
    meter_id: &str,
    payload: &[u8],
    now: DateTime<Utc>,
    window: TimeWindow,
    unit: Unit,
) -> Result<Parsed, Reject> {
    let fields = json_object(payload)?;
    let error = text(&fields, "error").unwrap_or_default();
    let value = match number_or_text(&fields, "value")? {
        Some(v) => v,
        None if !error.is_empty() && error != "no error" => {
            return Err(Reject::DeviceError(error));
        }
        None => return Err(Reject::MissingField("value")),
    };
    if !error.is_empty() && error != "no error" {
        return Err(Reject::DeviceError(error));
    }
    let stamp = text(&fields, "timestamp").ok_or(Reject::MissingField("timestamp"))?;
    let ts =
        DateTime::parse_from_str(&stamp, "%Y-%m-%dT%H:%M:%S%z").map_err(|e| Reject::WrongType {
            field: "timestamp",
            detail: format!("`{stamp}` is not like 2026-11-24T08:15:00+0800 ({e})"),
        })?;
    window.check(&ts, now)?;
    let total_l = unit.litres(value);
    check_total(total_l)?;
    let flow_lpm = number_or_text(&fields, "rate")?.map(|rate| unit.litres(rate));
    Ok(Parsed {
        readings: vec![Reading {
            meter_id: meter_id.to_owned(),
            ts,
            total_l,
            flow_lpm,
            battery_pct: None,
            rssi_dbm: None,
            status: Vec::new(),
        }],
        rejected: Vec::new(),
    })
}

fn text(fields: &Map<String, Value>, field: &str) -> Option<String> {
    match fields.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// A number written as a string (current firmware) or as a number (old firmware).
fn number_or_text(fields: &Map<String, Value>, field: &'static str) -> Result<Option<f64>, Reject> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        // "NaN" and "inf" parse as floats, but are no reading.
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(Reject::WrongType {
                field,
                detail: format!("`{s}` is not a number"),
            }),
        },
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(Reject::WrongType {
            field,
            detail: format!("expected a number in a string, got {}", type_name(other)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn parse_str(text: &str) -> Result<Parsed, Reject> {
        parse(
            "kitchen",
            text.as_bytes(),
            now(),
            TimeWindow::default(),
            Unit::CubicMetre,
        )
    }

    #[test]
    fn string_values_and_a_compact_offset_become_a_reading() {
        let parsed = parse_str(
            r#"{"value":"123.4567","raw":"00123.4567","pre":"123.4567","error":"no error","rate":"0.0012","timestamp":"2026-11-24T08:15:00+0800"}"#,
        )
        .unwrap();
        let r = &parsed.readings[0];
        assert_eq!(r.meter_id, "kitchen");
        assert!((r.total_l - 123_456.7).abs() < 1e-6);
        assert!((r.flow_lpm.unwrap() - 1.2).abs() < 1e-9);
        assert_eq!(r.ts.offset().local_minus_utc(), 8 * 3600);
    }

    #[test]
    fn old_firmware_numbers_are_accepted() {
        let parsed =
            parse_str(r#"{"value":12.5,"rate":0,"timestamp":"2026-11-24T08:15:00+0800"}"#).unwrap();
        assert_eq!(parsed.readings[0].total_l, 12_500.0);
    }

    #[test]
    fn a_failed_reading_is_refused_with_the_device_error() {
        let why = parse_str(
            r#"{"value":"","error":"Neg. Rate - Read: 123.40 - Pre: 123.45","timestamp":"2026-11-24T08:15:00+0800"}"#,
        )
        .unwrap_err();
        assert_eq!(why.reason(), "device_error");
        assert!(why.to_string().contains("Neg. Rate"));
    }

    #[test]
    fn malformed_json_from_old_firmware_is_refused() {
        assert_eq!(
            parse_str(r#"{"value":"1.0","#).unwrap_err().reason(),
            "malformed"
        );
    }

    #[test]
    fn a_rate_of_nan_or_infinity_is_refused_not_read() {
        for rate in ["NaN", "inf", "-Infinity"] {
            let payload = format!(
                r#"{{"value":"12.5","rate":"{rate}","timestamp":"2026-11-24T08:15:00+0800"}}"#
            );
            let why = parse_str(&payload).unwrap_err();
            assert_eq!(why.reason(), "wrong_type", "{rate}");
            assert!(why.to_string().contains("is not a number"), "{why}");
        }
    }
}
