//! Hand-rolled JSON writing for the hot path: timestamps, numbers and strings
//! appended to a byte buffer without going through `core::fmt`.
//!
//! Design: `generate` writes millions of lines; formatting each field through
//! chrono and `format!` would dominate the run time. Everything here falls
//! back to the general (slower) formatter for values outside the fast path.

use std::io::Write as _;

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike};

/// Appends `ts` as RFC 3339 with whole seconds and a numeric offset.
pub(crate) fn push_ts(out: &mut Vec<u8>, ts: &DateTime<FixedOffset>) {
    let local = ts.naive_local();
    let year = local.year();
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(ts.to_rfc3339_opts(SecondsFormat::Secs, false).as_bytes());
        return;
    }
    push_digits(out, year as u32, 4);
    out.push(b'-');
    push_digits(out, local.month(), 2);
    out.push(b'-');
    push_digits(out, local.day(), 2);
    out.push(b'T');
    push_digits(out, local.hour(), 2);
    out.push(b':');
    push_digits(out, local.minute(), 2);
    out.push(b':');
    push_digits(out, local.second(), 2);
    let offset = ts.offset().local_minus_utc();
    out.push(if offset < 0 { b'-' } else { b'+' });
    let minutes = offset.unsigned_abs() / 60;
    push_digits(out, minutes / 60, 2);
    out.push(b':');
    push_digits(out, minutes % 60, 2);
}

/// Appends `v` zero-padded to `width` digits.
fn push_digits(out: &mut Vec<u8>, mut v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    while v > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends a non-negative integer.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Largest magnitude printed through the integer fast path (exact in f64).
const EXACT: f64 = 9.0e15;

/// Appends `v` as an integer when it is whole (`123456`), otherwise as the
/// shortest decimal that reads back to it; non-finite values become `null`.
pub(crate) fn push_number(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
    } else if v.fract() == 0.0 && v.abs() < EXACT {
        if v < 0.0 {
            out.push(b'-');
        }
        push_u64(out, v.abs() as u64);
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// Appends `v` as a float that always shows a decimal point (`0.0`, `6.5`),
/// as serde_json does; non-finite values become `null`.
pub(crate) fn push_float(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let cents = (v * 100.0).round();
    if cents.abs() < EXACT && cents / 100.0 == v {
        if cents < 0.0 {
            out.push(b'-');
        }
        let cents = cents.abs() as u64;
        push_u64(out, cents / 100);
        out.push(b'.');
        let frac = cents % 100;
        if frac.is_multiple_of(10) {
            push_u64(out, frac / 10);
        } else {
            push_digits(out, frac as u32, 2);
        }
    } else {
        let _ = write!(out, "{v:?}");
    }
}

/// Appends `s` as a JSON string.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    let plain = s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamps_have_whole_seconds_and_a_numeric_offset() {
        for text in [
            "2026-11-24T08:15:00+08:00",
            "2026-01-01T00:00:05+00:00",
            "1999-12-31T23:59:59-05:30",
        ] {
            let ts = DateTime::parse_from_rfc3339(text).unwrap();
            assert_eq!(with(|o| push_ts(o, &ts)), text);
        }
    }

    #[test]
    fn whole_numbers_print_as_integers_and_others_as_shortest_decimals() {
        assert_eq!(with(|o| push_number(o, 123456.0)), "123456");
        assert_eq!(with(|o| push_number(o, 0.0)), "0");
        assert_eq!(with(|o| push_number(o, -3.0)), "-3");
        assert_eq!(with(|o| push_number(o, 87.5)), "87.5");
        assert_eq!(with(|o| push_number(o, f64::NAN)), "null");
    }

    #[test]
    fn floats_always_show_a_decimal_point_like_serde_json() {
        for v in [0.0, 6.5, 6.45, 40.0, 0.01, 1234.56, 0.1 + 0.2, 1e-9, 2.675] {
            let ours = with(|o| push_float(o, v));
            assert_eq!(ours, serde_json::to_string(&v).unwrap(), "for {v}");
        }
    }

    #[test]
    fn strings_are_escaped_only_when_needed() {
        assert_eq!(with(|o| push_str(o, "h0001")), "\"h0001\"");
        assert_eq!(with(|o| push_str(o, "a\"b\\c\n")), r#""a\"b\\c\n""#);
    }
}
