//! Parsers for option values; their errors say what to write instead.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};

pub(super) fn parse_interval(text: &str) -> Result<Duration, String> {
    let d =
        humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 15m, 1h, 30s)"))?;
    if d < Duration::from_secs(1) || d.subsec_nanos() != 0 {
        return Err("the interval must be a whole number of seconds, at least 1s".into());
    }
    if d > Duration::from_secs(86_400) {
        return Err("the interval must be at most a day".into());
    }
    Ok(d)
}

pub(super) fn parse_offset(text: &str) -> Result<FixedOffset, String> {
    let bad = || format!("{text:?} is not a UTC offset like +08:00 or -05:30");
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return Err(bad());
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

pub(super) fn parse_start(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{e} (write RFC 3339, e.g. 2026-01-05T00:00:00+08:00)"))
}

pub(super) fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{text:?} is not a positive number (1 is real time, 600 is ten simulated minutes a second)"
        )),
    }
}
