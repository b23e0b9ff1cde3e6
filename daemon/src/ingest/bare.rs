//! A bare number as the payload (Home Assistant style: the register, with the
//! unit set in config). It carries no time: the reading is stamped on arrival.

use chrono::{DateTime, Utc};
use waterwatch_rules::Reading;

use super::native::{Parsed, check_total};
use super::reject::Reject;
use super::units::Unit;
use crate::zone::Zone;

pub fn parse(
    meter_id: &str,
    payload: &[u8],
    now: DateTime<Utc>,
    unit: Unit,
    zone: Zone,
) -> Result<Parsed, Reject> {
    let text = std::str::from_utf8(payload)
        .map_err(|_| Reject::Malformed("the payload is not text".into()))?
        .trim();
    let value: f64 = text.parse().map_err(|_| {
        Reject::Malformed(format!(
            "`{}` is not a number",
            text.chars().take(40).collect::<String>()
        ))
    })?;
    let total_l = unit.litres(value);
    check_total(total_l)?;
    // Whole seconds, like every other format.
    let ts = zone.local(DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now));
    Ok(Parsed {
        readings: vec![Reading {
            meter_id: meter_id.to_owned(),
            ts,
            total_l,
            flow_lpm: None,
            battery_pct: None,
            rssi_dbm: None,
            status: Vec::new(),
        }],
        rejected: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_in_cubic_metres_is_stamped_on_arrival() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00.250Z")
            .unwrap()
            .to_utc();
        let parsed = parse("m1", b" 123.456\n", now, Unit::CubicMetre, Zone::default()).unwrap();
        assert!((parsed.readings[0].total_l - 123_456.0).abs() < 1e-6);
        assert_eq!(
            parsed.readings[0].ts.to_rfc3339(),
            "2026-11-24T12:00:00+00:00"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let now = Utc::now();
        for payload in [&b"unavailable"[..], b"", b"-5", b"\xff\xfe"] {
            assert!(
                parse("m1", payload, now, Unit::Litre, Zone::default()).is_err(),
                "{payload:?}"
            );
        }
    }
}
