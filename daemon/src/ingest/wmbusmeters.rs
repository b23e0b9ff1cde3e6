//! wmbusmeters: one flat JSON object per wireless M-Bus telegram, usually
//! published by a shell hook (`mosquitto_pub -t wmbusmeters/$METER_ID -m "$METER_JSON"`).
//!
//! ```json
//! {"_":"telegram","media":"water","meter":"iperl","name":"kitchen","id":"12345678",
//!  "total_m3":123.456,"flow_m3h":0.012,"status":"OK","timestamp":"2026-11-24T00:15:00Z"}
//! ```
//! Fields end in their unit; `status` is a space-separated list of flags
//! (`OK`, `LEAK`, `BURST`, `TAMPER`, `LOW_BATTERY`, …); the deprecated
//! `current_status` is read when `status` is absent.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use waterwatch_rules::Reading;

use super::native::{Parsed, TimeWindow, check_total, json_object, number, type_name};
use super::reject::Reject;
use crate::zone::Zone;

pub fn parse(
    topic_meter: Option<&str>,
    payload: &[u8],
    now: DateTime<Utc>,
    window: TimeWindow,
    zone: Zone,
) -> Result<Parsed, Reject> {
    let fields = json_object(payload)?;
    let id = match fields.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(Reject::WrongType {
                field: "id",
                detail: format!(
                    "expected the meter serial as a string, got {}",
                    type_name(other)
                ),
            });
        }
        None => match topic_meter {
            Some(id) => id.to_owned(),
            None => return Err(Reject::MissingField("id")),
        },
    };
    let stamp = match fields.get("timestamp") {
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(Reject::WrongType {
                field: "timestamp",
                detail: format!("expected an ISO-8601 string, got {}", type_name(other)),
            });
        }
        None => return Err(Reject::MissingField("timestamp")),
    };
    let utc = DateTime::parse_from_rfc3339(stamp)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            // Older releases wrote "2026-11-24 00:15:00" (UTC).
            NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc())
        })
        .map_err(|e| Reject::WrongType {
            field: "timestamp",
            detail: format!("`{stamp}` is not an ISO-8601 UTC time ({e})"),
        })?;
    let ts = zone.local(utc);
    window.check(&ts, now)?;
    let total_l = match number(&fields, "total_m3")? {
        Some(m3) => m3 * 1000.0,
        None => return Err(Reject::MissingField("total_m3")),
    };
    check_total(total_l)?;
    let flow_lpm = number(&fields, "flow_m3h")?.map(|m3h| m3h * 1000.0 / 60.0);
    let rssi_dbm = number(&fields, "rssi_dbm")?;
    let flags = match fields
        .get("status")
        .or_else(|| fields.get("current_status"))
    {
        Some(Value::String(text)) => text
            .split_whitespace()
            .map(str::to_ascii_uppercase)
            .filter(|flag| flag != "OK")
            .collect(),
        _ => Vec::new(),
    };
    Ok(Parsed {
        readings: vec![Reading {
            meter_id: id,
            ts,
            total_l,
            flow_lpm,
            battery_pct: None,
            rssi_dbm,
            status: flags,
        }],
        rejected: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn parse_in(text: &str, zone: Zone) -> Result<Parsed, Reject> {
        let window = TimeWindow {
            max_age: chrono::Duration::days(400),
            ..TimeWindow::default()
        };
        parse(Some("12345678"), text.as_bytes(), now(), window, zone)
    }

    fn parse_str(text: &str) -> Result<Parsed, Reject> {
        parse_in(
            text,
            Zone::from_fields(Some("+08:00"), None).unwrap().unwrap(),
        )
    }

    #[test]
    fn a_named_zone_stamps_summer_and_winter_telegrams_with_their_own_offsets() {
        let berlin = Zone::from_fields(None, Some("Europe/Berlin"))
            .unwrap()
            .unwrap();
        let telegram = |ts: &str| {
            let text = format!(
                r#"{{"_":"telegram","media":"water","meter":"iperl","name":"k","id":"12345678","total_m3":1.5,"timestamp":"{ts}"}}"#
            );
            parse_in(&text, berlin).unwrap().readings[0].ts.to_rfc3339()
        };
        assert_eq!(
            telegram("2026-07-01T05:00:00Z"),
            "2026-07-01T07:00:00+02:00"
        );
        assert_eq!(
            telegram("2026-11-24T06:00:00Z"),
            "2026-11-24T07:00:00+01:00"
        );
    }

    #[test]
    fn a_telegram_becomes_a_reading_in_litres_with_its_flags() {
        let parsed = parse_str(
            r#"{"_":"telegram","media":"water","meter":"iperl","name":"kitchen","id":"12345678","total_m3":123.456,"flow_m3h":0.6,"status":"LEAK TAMPER","rssi_dbm":-71,"timestamp":"2026-11-24T00:15:00Z"}"#,
        )
        .unwrap();
        let r = &parsed.readings[0];
        assert_eq!(r.meter_id, "12345678");
        assert!((r.total_l - 123_456.0).abs() < 1e-6);
        assert!((r.flow_lpm.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(r.status, vec!["LEAK".to_string(), "TAMPER".to_string()]);
        assert_eq!(r.rssi_dbm, Some(-71.0));
        assert_eq!(r.ts.to_rfc3339(), "2026-11-24T08:15:00+08:00");
    }

    #[test]
    fn ok_is_not_a_flag_and_old_zero_padding_is_fine() {
        let parsed = parse_str(
            r#"{"id":"1","total_m3":0.000,"status":"OK","timestamp":"2026-11-24 00:15:00"}"#,
        )
        .unwrap();
        assert!(parsed.readings[0].status.is_empty());
        assert_eq!(parsed.readings[0].total_l, 0.0);
    }

    #[test]
    fn a_telegram_without_a_register_is_refused() {
        let why = parse_str(r#"{"id":"1","timestamp":"2026-11-24T00:15:00Z"}"#).unwrap_err();
        assert_eq!(why.reason(), "missing_field");
        assert!(why.to_string().contains("total_m3"));
    }
}
