//! A simulated meter reading and its native JSON forms (single and batch), as
//! described under "Readings over MQTT" in the design.

use chrono::{DateTime, FixedOffset};

use crate::json::{push_float, push_number, push_str, push_ts};

/// One reading from a simulated meter.
#[derive(Clone, Debug, PartialEq)]
pub struct SimReading {
    pub meter_id: String,
    /// When the meter took the reading.
    pub ts: DateTime<FixedOffset>,
    /// Cumulative register, litres.
    pub total_l: f64,
    /// Instantaneous flow at `ts`, L/min.
    pub flow_lpm: Option<f64>,
    /// Battery charge, percent.
    pub battery_pct: Option<f64>,
    /// Flags the meter raises, as in wmbusmeters (`LEAK`, `BURST`, …).
    pub status: Vec<String>,
}

impl SimReading {
    /// The native single-reading JSON, e.g.
    /// `{"meter_id":"h0001","ts":"2026-11-24T08:15:00+08:00","total_l":123456,"flow_lpm":0.0,"battery_pct":87,"status":[]}`.
    /// Absent optional fields are left out.
    pub fn to_native_json(&self) -> String {
        let mut out = Vec::with_capacity(128);
        self.write_native_json(&mut out);
        // Only valid UTF-8 is ever written.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends [`SimReading::to_native_json`]'s text to `out` (no newline),
    /// for writers that reuse one buffer.
    pub fn write_native_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"meter_id\":");
        push_str(out, &self.meter_id);
        out.push(b',');
        self.write_fields(out);
        out.push(b'}');
    }

    /// Everything but the meter id, without braces.
    fn write_fields(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\"ts\":\"");
        push_ts(out, &self.ts);
        out.extend_from_slice(b"\",\"total_l\":");
        push_number(out, self.total_l);
        if let Some(flow) = self.flow_lpm {
            out.extend_from_slice(b",\"flow_lpm\":");
            push_float(out, flow);
        }
        if let Some(battery) = self.battery_pct {
            out.extend_from_slice(b",\"battery_pct\":");
            push_number(out, battery);
        }
        out.extend_from_slice(b",\"status\":[");
        for (i, flag) in self.status.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str(out, flag);
        }
        out.push(b']');
    }
}

/// The native batch JSON of several readings of one meter, e.g.
/// `{"meter_id":"m-0001","readings":[{"ts":"…","total_l":123400,…},…]}`; each
/// element carries the same fields as a single reading except the meter id.
pub fn native_batch_json(meter_id: &str, readings: &[SimReading]) -> String {
    let mut out = Vec::with_capacity(32 + readings.len() * 100);
    out.extend_from_slice(b"{\"meter_id\":");
    push_str(&mut out, meter_id);
    out.extend_from_slice(b",\"readings\":[");
    for (i, r) in readings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        r.write_fields(&mut out);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(total_l: f64, status: &[&str]) -> SimReading {
        SimReading {
            meter_id: "h0001".into(),
            ts: DateTime::parse_from_rfc3339("2026-11-24T08:15:00+08:00").unwrap(),
            total_l,
            flow_lpm: Some(0.0),
            battery_pct: Some(87.0),
            status: status.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_single_reading_matches_the_documented_example_byte_for_byte() {
        assert_eq!(
            reading(123456.0, &[]).to_native_json(),
            r#"{"meter_id":"h0001","ts":"2026-11-24T08:15:00+08:00","total_l":123456,"flow_lpm":0.0,"battery_pct":87,"status":[]}"#
        );
    }

    #[test]
    fn optional_fields_are_left_out_and_flags_listed() {
        let mut r = reading(10.0, &["LEAK", "LOW_BATTERY"]);
        r.flow_lpm = None;
        r.battery_pct = None;
        assert_eq!(
            r.to_native_json(),
            r#"{"meter_id":"h0001","ts":"2026-11-24T08:15:00+08:00","total_l":10,"status":["LEAK","LOW_BATTERY"]}"#
        );
    }

    #[test]
    fn a_batch_lists_readings_without_repeating_the_meter_id() {
        let json = native_batch_json("m-0001", &[reading(123400.0, &[]), reading(123456.0, &[])]);
        assert!(json.starts_with(r#"{"meter_id":"m-0001","readings":[{"ts":"2026-11-24T08:15:00+08:00","total_l":123400,"#));
        assert_eq!(json.matches("meter_id").count(), 1);
        assert!(json.ends_with(r#""status":[]}]}"#));
    }
}
